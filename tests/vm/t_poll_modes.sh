# Polling modes on the real kernel.  Busy: receiving requests costs no
# system call and each batch of completions one (the runtime's counters
# against fio's I/O count, and strace on the poller thread: nothing but
# COMMIT ioctls, and sched_yield on passes that found nothing); a busy
# poller uses its CPU even when idle.  Adaptive and
# sleep: an idle poller uses next to no CPU.  --spin-us sets how long an
# adaptive poller spins after the last request before it sleeps.
source "$(dirname "$0")/lib.sh"
azb_load

stop_run() {
	kill -INT "$AZB_RUN_PID"
	azb_wait_exit "$AZB_RUN_PID" 20 || fail "azbuse-run did not stop"
	wait "$AZB_RUN_PID" || fail "azbuse-run failed: $(cat "$1.err")"
}

# ticks PID TID SECONDS: CPU ticks (1/100 s) the thread uses meanwhile.
ticks() {
	local a b
	a=$(azb_cpu_ticks "$1" "$2")
	sleep "$3"
	b=$(azb_cpu_ticks "$1" "$2")
	echo $((b - a))
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
busy_ticks=$(ticks "$AZB_RUN_PID" "$tid" 2)
stop_run "$out"
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
[ "$busy_ticks" -ge 100 ] || fail "an idle busy poller used only $busy_ticks ticks in 2 s"
note "idle busy poller: $busy_ticks ticks of CPU in 2 s"

# --- adaptive and sleep: an idle poller costs ~0 CPU ----------------------
for mode in adaptive sleep; do
	out=$AZB_WORK/$mode
	azb_serve "$out" -q 1 -e null -s 1G --poll "$mode" --stats-json --stats 3600
	read -r tid _ <<<"$(azb_pollers "$AZB_RUN_PID")"
	burst
	sleep 0.5
	t=$(ticks "$AZB_RUN_PID" "$tid" 3)
	stop_run "$out"
	waits=$(grep '"final": true' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["queues"][0]["commit_waits"])')
	[ "$waits" -gt 0 ] || fail "$mode poller never slept in COMMIT"
	[ "$t" -le 5 ] || fail "idle $mode poller used $t ticks of CPU in 3 s"
	note "idle $mode poller: $t ticks of CPU in 3 s, $waits sleeps in COMMIT"
done

# --- --spin-us: a 1 s spin costs about 1 s of CPU, then sleeps -------------
out=$AZB_WORK/spin
azb_serve "$out" -q 1 -e null -s 1G --poll adaptive --spin-us 1000000
read -r tid _ <<<"$(azb_pollers "$AZB_RUN_PID")"
burst
t=$(ticks "$AZB_RUN_PID" "$tid" 3)
stop_run "$out"
[ "$t" -ge 40 ] && [ "$t" -le 200 ] ||
	fail "--spin-us 1000000: $t ticks of CPU in the 3 s after the last request"
note "--spin-us 1000000: $t ticks of CPU in the 3 s after the last request"
