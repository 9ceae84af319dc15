# Poll queues (azbuse-run --poll-queues): polled I/O (fio io_uring
# hipri=1, IORING_SETUP_IOPOLL) verifies clean on a device with a poll
# queue and on one without (never EOPNOTSUPP, which 6.12's block layer
# answers for a device without one); on the poll queue the submitters
# reap most completions themselves (the runtime's "polled" count) and
# ordinary I/O never lands there; a poll queue whose runtime is killed
# with polled I/O in flight fails that I/O promptly, nobody spins.
source "$(dirname "$0")/lib.sh"
azb_load

# verify_polled DEV WHAT: fio hipri=1 crc32c verify, mixed sizes, QD 8.
verify_polled() {
	fio --name=hipri --filename="$1" --ioengine=io_uring --hipri=1 \
		--direct=1 --rw=randwrite --bssplit=4k/50:16k/25:128k/25 \
		--iodepth=8 --size=64M --io_size=16M --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --output-format=terse \
		--terse-version=3 >"$AZB_WORK/fio" 2>&1 ||
		fail "$2: fio hipri=1 verify failed: $(tail -n 20 "$AZB_WORK/fio")"
	[ "$(awk -F';' '/^3;/ {print $5; exit}' "$AZB_WORK/fio")" = 0 ] ||
		fail "$2: fio reported an error"
	note "$2: polled verify of $(awk -F';' '/^3;/ {print $6; exit}' "$AZB_WORK/fio") KiB passed"
}

# last_stats OUT: the final --stats-json line of an azbuse-run.
last_stats() { grep '"final": true' "$1" | tail -n 1; }

# 1. One poll queue beside two ordinary ones.
out=$AZB_WORK/run1
azb_serve "$out" -q 2 --poll-queues 1 -d 32 --engine mem -s 256M --stats-json --stats 3600
name=$(basename "$AZB_DEV")
id=${name#azbuse}
"$AZBUSECTL" info "$id" --json | grep -q '"poll_queues": 1' ||
	fail "info does not show the poll queue: $("$AZBUSECTL" info "$id" --json)"
"$AZBUSECTL" list | grep -qE "^$id +/dev/$name +[^ ]+ +[0-9]+ +2 +1 " ||
	fail "list does not show 2 queues and 1 poll queue: $("$AZBUSECTL" list)"
[ "$(cat /sys/block/"$name"/queue/io_poll)" = 1 ] ||
	fail "the block layer does not see a pollable queue"
verify_polled "$AZB_DEV" "1 poll queue"
fio --name=qd1 --filename="$AZB_DEV" --ioengine=io_uring --hipri=1 --direct=1 \
	--rw=randread --bs=4k --iodepth=1 --size=64M --number_ios=4000 \
	>"$AZB_WORK/fio.qd1" 2>&1 || fail "fio hipri QD 1: $(tail -5 "$AZB_WORK/fio.qd1")"
fio --name=plain --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randread --bs=4k --iodepth=8 --size=64M --number_ios=4000 \
	>"$AZB_WORK/fio.plain" 2>&1 || fail "fio libaio: $(tail -5 "$AZB_WORK/fio.plain")"
azb_stop "$out"
last_stats "$out" | python3 -c '
import json, sys
qs = json.load(sys.stdin)["queues"]
poll = [q for q in qs if q["poll"]]
plain = [q for q in qs if not q["poll"]]
assert len(qs) == 3 and len(poll) == 1 and poll[0]["qid"] == 2, qs
p = poll[0]
ios = sum(p["ios"].values())
reads = sum(q["ios"]["read"] for q in plain)
print("poll queue: %d I/Os, %d reaped by submitters, %d commits; other queues: %d reads"
      % (ios, p["polled"], p["commits"], reads))
# fio hipri: the verify (16 MiB written and read back, about 860 I/Os)
# and 4000 QD 1 reads.
assert ios >= 4500, "polled I/O did not go to the poll queue"
assert p["polled"] * 2 > ios, "submitters reaped too few of the poll queue completions"
assert p["commits"] * 4 < ios, "the poll queue poller committed nearly every batch"
# libaio: 4000 reads, all on the ordinary queues.
assert reads >= 4000, "ordinary reads missing from the ordinary queues"
' >"$AZB_WORK/check" 2>&1 || fail "$(cat "$AZB_WORK/check")"
note "$(cat "$AZB_WORK/check")"

# 2. No poll queue: polled I/O is served as ordinary I/O.
azb_serve "$AZB_WORK/run2" -q 2 -d 32 --engine mem -s 256M
"$AZBUSECTL" info "${AZB_DEV#/dev/azbuse}" --json | grep -q '"poll_queues": 0' ||
	fail "a device without poll queues reports some"
verify_polled "$AZB_DEV" "no poll queue"
azb_stop "$AZB_WORK/run2"

# 2b. Two poll queues on a guest of two CPUs: each poll queue's poller
# runs off the CPU that submits to it (blk-mq maps one CPU to each).
if [ "$(nproc)" = 2 ]; then
	out=$AZB_WORK/run2b
	azb_serve "$out" -q 2 --poll-queues 2 --engine null -s 64M --stats-json
	name=$(basename "$AZB_DEV")
	for ((i = 0; i < 50; i++)); do grep -q '^{' "$out" && break; sleep 0.1; done
	azb_reported_cpus "$out" >"$AZB_WORK/places"
	for q in 2 3; do
		kernel=$(tr -d ' ' </sys/block/"$name"/mq/$q/cpu_list)
		runs=$(awk -v q=$q '$1 == q {print $2}' "$AZB_WORK/places")
		note "poll queue $q: submitted from CPU $kernel, its poller on CPUs $runs"
		[ "$runs" = $((1 - kernel)) ] ||
			fail "poll queue $q's poller may run on CPUs $runs, want the other one than its submitting CPU $kernel"
	done
	azb_stop "$out"
fi

# 3. The runtime of a poll queue dies with polled I/O in flight.
dev=$("$AZBUSECTL" add 7 -s 64M -q 1 --poll-queues 1 -d 16) || fail "add 7"
"$AZB_HOSTILE" stall 7 >"$AZB_WORK/stall" 2>&1 &
stall=$!
AZB_PIDS+=("$stall")
for i in $(seq 50); do grep -q stalling "$AZB_WORK/stall" && break; sleep 0.1; done
grep -q stalling "$AZB_WORK/stall" || fail "stall runtime did not attach: $(cat "$AZB_WORK/stall")"
fio --name=stuck --filename="$dev" --ioengine=io_uring --hipri=1 --direct=1 \
	--rw=randread --bs=4k --iodepth=4 --size=16M --number_ios=64 \
	>"$AZB_WORK/fio.stuck" 2>&1 &
fio_pid=$!
AZB_PIDS+=("$fio_pid")
for i in $(seq 100); do
	[ "$(awk '{print $1 + $2}' /sys/block/azbuse7/inflight)" -gt 0 ] && break
	sleep 0.1
done
[ "$(awk '{print $1 + $2}' /sys/block/azbuse7/inflight)" -gt 0 ] ||
	fail "no polled I/O in flight on the stalled device"
{ kill -KILL "$stall"; wait "$stall" || true; } 2>/dev/null
start=$(date +%s)
azb_wait_exit "$fio_pid" 30 || fail "the polling submitter still waits 30 s after its runtime died"
note "polled I/O failed $(( $(date +%s) - start )) s after the runtime died"
wait "$fio_pid" && fail "polled I/O succeeded with its runtime dead"
azb_no_d_state
"$AZBUSECTL" remove 7 || fail "remove 7"
rmmod azbuse || fail "rmmod"
