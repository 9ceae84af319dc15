# Polling modes on the real kernel.  Busy: receiving requests costs no
# system call and each batch of completions one (the runtime's counters
# against fio's I/O count, and strace on the poller thread: nothing but
# COMMIT ioctls, and sched_yield on passes that found nothing); a busy
# poller keeps running when idle.  Adaptive and sleep: an idle poller
# sleeps in COMMIT.  --spin-us sets how long an adaptive poller spins after
# the last request before it sleeps.  Judged by what the poller does (its
# counters, its scheduler state), never by how much CPU it got: the
# machine may be busy with something else.
source "$(dirname "$0")/lib.sh"
azb_load

# waits OUTFILE: the COMMIT sleeps of queue 0 in the last --stats-json line.
waits() {
	grep '^{' "$1" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["queues"][0]["commit_waits"])'
}

# burst: a few hundred reads, so the poller has served and gone idle.
burst() {
	fio --name=burst --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
		--rw=randread --bs=4k --iodepth=8 --io_size=1M >/dev/null 2>&1 ||
		fail "fio burst failed"
}

# --- busy: system calls per I/O -------------------------------------------
out=$AZB_WORK/busy
azb_serve "$out" -q 1 -d 32 -e null -s 1G --poll busy --stats-json --stats 3600
read -r tid _ <<<"$(azb_pollers "$AZB_RUN_PID")"
[ -n "$tid" ] || fail "no poller thread"
strace_pid=
if command -v strace >/dev/null; then
	strace -c -o "$AZB_WORK/strace" -p "$tid" 2>"$AZB_WORK/strace.err" &
	strace_pid=$!
	for _ in $(seq 50); do
		grep -q "^TracerPid:[[:space:]]*[1-9]" /proc/"$AZB_RUN_PID"/task/"$tid"/status && break
		sleep 0.1
	done
fi
fio --name=busy --filename="$AZB_DEV" --ioengine=io_uring --direct=1 \
	--rw=randread --bs=4k --iodepth=16 --io_size=16M --output-format=json \
	>"$AZB_WORK/fio.json" 2>"$AZB_WORK/fio.err" ||
	fail "fio failed: $(tail -n 5 "$AZB_WORK/fio.err")"
if [ -n "$strace_pid" ]; then
	kill -INT "$strace_pid"
	wait "$strace_pid" || true
fi
busy_states=$(azb_thread_states "$AZB_RUN_PID" "$tid" 10 2)
azb_stop "$out"
python3 - "$AZB_WORK/fio.json" "$out" "$AZB_WORK/strace" <<'PY' || exit 1
import json, os, sys

fio = json.load(open(sys.argv[1]))["jobs"][0]["read"]["total_ios"]
final = [json.loads(l) for l in open(sys.argv[2]) if '"final": true' in l]
if not final:
    print("FAIL: no final --stats-json line"); sys.exit(1)
q = final[-1]["queues"][0]
reads = q["ios"]["read"]
def fail(m):
    print("FAIL: " + m); sys.exit(1)
if not fio <= reads <= fio + 64:
    fail("runtime served %d reads, fio did %d" % (reads, fio))
if q["commit_waits"] or q["engine_waits"]:
    fail("busy poller slept: %d commit waits, %d engine waits"
         % (q["commit_waits"], q["engine_waits"]))
if q["commits"] != q["batches"] or q["commits"] > reads:
    fail("%d commits, %d with completions, for %d reads"
         % (q["commits"], q["batches"], reads))
takes = q["takes"] or 1
print("  busy: fio %d reads; runtime %d reads, %d COMMIT calls (%.3f per I/O, "
      "%.1f completions per call), 0 waits; %.1f requests per take, "
      "queue depth seen %.1f (max %d)"
      % (fio, reads, q["commits"], q["commits"] / reads, reads / q["commits"],
         reads / takes, q["qd_sum"] / takes, q["qd_max"]))
# strace on the poller thread: it made COMMIT ioctls and nothing else.
path = sys.argv[3]
if os.path.exists(path):
    calls = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[3].isdigit() and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    # An idle pass yields its CPU (to fio, here): sched_yield is no
    # receiving cost.
    if set(calls) - {"ioctl", "sched_yield"}:
        fail("busy poller made system calls other than COMMIT and "
             "sched_yield: %s" % calls)
    n = calls.get("ioctl", 0)
    if not 0 < n <= q["commits"]:
        fail("strace saw %d ioctls, the runtime counted %d commits" % (n, q["commits"]))
    print("  strace on the poller thread: %d ioctls (COMMIT) and %d "
          "sched_yield on idle passes, for %d reads"
          % (n, calls.get("sched_yield", 0), fio))
PY
# Idle for 2 s and never once asleep (the counters above: no waits).
[ "$busy_states" = RRRRRRRRRR ] ||
	fail "an idle busy poller was not running at every look: $busy_states"
note "idle busy poller: running at 10 of 10 looks in 2 s ($busy_states)"

# --- adaptive and sleep: an idle poller sleeps in COMMIT -----------------
# Its scheduler state: asleep at (nearly) every look while idle; the
# counters: it went to sleep in COMMIT, and stayed there (each sleep ends
# after at most 200 ms: tens of them in the window, not one per pass, which
# would be thousands).
for mode in adaptive sleep; do
	out=$AZB_WORK/$mode
	azb_serve "$out" -q 1 -e null -s 1G --poll "$mode" --stats-json --stats 1
	read -r tid _ <<<"$(azb_pollers "$AZB_RUN_PID")"
	burst
	sleep 0.5
	w0=$(waits "$out")
	states=$(azb_thread_states "$AZB_RUN_PID" "$tid" 10 3)
	sleep 1.5	# a stats line from after the looks
	w1=$(waits "$out")
	azb_stop "$out"
	total=$(grep '"final": true' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queues"][0]["commit_waits"])')
	[ "$total" -gt 0 ] || fail "$mode poller never slept in COMMIT"
	asleep=$(tr -cd S <<<"$states" | wc -c)
	[ "$asleep" -ge 9 ] || fail "idle $mode poller asleep at only $asleep of 10 looks: $states"
	[ $((w1 - w0)) -le 200 ] ||
		fail "idle $mode poller went to sleep $((w1 - w0)) times in about 5 s"
	note "idle $mode poller: asleep at $asleep of 10 looks ($states)," \
		"$((w1 - w0)) COMMIT sleeps in about 5 s"
done

# --- --spin-us: spins that long after the last request, then sleeps -------
# A 1 s spin (the most it takes).  One read, then the same process looks
# at the poller's scheduler state every 50 ms for 3 s: running for the
# first half second, asleep in the last second.  The spin is timed by the
# clock, so a slow machine changes neither.
out=$AZB_WORK/spin
azb_serve "$out" -q 1 -e null -s 1G --poll adaptive --spin-us 1000000
read -r tid _ <<<"$(azb_pollers "$AZB_RUN_PID")"
burst
sleep 2	# asleep again
states=$(python3 - "$AZB_DEV" "/proc/$AZB_RUN_PID/task/$tid/stat" <<'PY'
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
os.preadv(fd, [buf], 0)
out = ""
for i in range(60):
    out += open(sys.argv[2]).read().rsplit(")", 1)[1].split()[0]
    time.sleep(0.05)
print(out)
PY
) || fail "the read or the looks failed"
azb_stop "$out"
first=${states:0:10} last=${states:40:20}
[ "$(tr -cd R <<<"$first" | wc -c)" -ge 6 ] ||
	fail "--spin-us 1000000: not spinning in the half second after a read: $states"
[ "$(tr -cd S <<<"$last" | wc -c)" -ge 16 ] ||
	fail "--spin-us 1000000: still spinning 2 s after a read: $states"
note "--spin-us 1000000: every 50 ms after a read: $states"
