# The pollers' scheduling policy (--sched): by default SCHED_BATCH, so a
# woken poller does not preempt the thread that queued the request, while
# the process's own threads keep their policy; a policy set with chrt
# (idle, real-time) is kept, and --sched inherit keeps the normal one.
# What is checked is the kernel's view (/proc/PID/task/TID/stat), and fio
# verifies the data through a batch-policy server.
source "$(dirname "$0")/lib.sh"
azb_load
real_run=$AZBUSE_RUN

# policy PID TID: the thread's scheduling policy (0 normal, 1 FIFO, 3
# batch, 5 idle): field 41 of stat, the 39th after the ")" that ends comm.
policy() {
	sed 's/.*) //' /proc/"$1"/task/"$2"/stat | awk '{print $39}'
}

# check LABEL WANT_POLLERS WANT_MAIN [chrt ARGS --] AZBUSE-RUN ARGS...:
# serves a device (under chrt when asked) and checks each poller's policy
# and the main thread's.
check() {
	local label=$1 want=$2 want_main=$3 tid q n=0 got
	shift 3
	AZBUSE_RUN=$real_run
	if [ "${1:-}" = chrt ]; then
		# azb_serve runs one program: a wrapper puts chrt in front.
		printf '#!/bin/sh\nexec chrt %s "%s" "$@"\n' "$2 $3" "$real_run" \
			>"$AZB_WORK/chrt-run"
		chmod +x "$AZB_WORK/chrt-run"
		AZBUSE_RUN=$AZB_WORK/chrt-run
		shift 4
	fi
	azb_serve "$AZB_WORK/run.$label" -q 2 -e mem -s 64M -vv "$@"
	AZBUSE_RUN=$real_run
	azb_pollers "$AZB_RUN_PID" >"$AZB_WORK/pollers"
	while read -r tid q; do
		n=$((n + 1))
		got=$(policy "$AZB_RUN_PID" "$tid")
		[ "$got" = "$want" ] ||
			fail "$label: queue $q poller has policy $got, want $want"
	done <"$AZB_WORK/pollers"
	[ "$n" = 2 ] || fail "$label: $n pollers, want 2"
	got=$(policy "$AZB_RUN_PID" "$AZB_RUN_PID")
	[ "$got" = "$want_main" ] ||
		fail "$label: the main thread has policy $got, want $want_main"
}

check default 3 0
grep -q "poller on CPUs .*, SCHED_BATCH" "$AZB_WORK/run.default.err" ||
	fail "-vv does not say the pollers run SCHED_BATCH: $(cat "$AZB_WORK/run.default.err")"
fio --name=sched --filename="$AZB_DEV" --ioengine=io_uring --direct=1 \
	--rw=randwrite --bs=4k --iodepth=32 --numjobs=2 --size=16M --offset_increment=16M \
	--verify=crc32c --output="$AZB_WORK/fio" >/dev/null 2>&1 ||
	fail "fio verify through batch pollers: $(tail -n 5 "$AZB_WORK/fio")"
azb_stop "$AZB_WORK/run.default"
note "default: pollers SCHED_BATCH, the main thread normal, fio verify clean"

check inherit 0 0 --sched inherit
azb_stop "$AZB_WORK/run.inherit"
note "--sched inherit: pollers keep the normal policy"

check idle 5 5 chrt -i 0 --
azb_stop "$AZB_WORK/run.idle"
note "under chrt -i: pollers keep SCHED_IDLE"

check fifo 1 1 chrt -f 1 --
azb_stop "$AZB_WORK/run.fifo"
note "under chrt -f: pollers keep SCHED_FIFO"

if "$real_run" -e mem -s 64M --sched fifo >"$AZB_WORK/bad" 2>&1; then
	fail "--sched fifo was accepted"
fi
grep -q "is not batch or inherit" "$AZB_WORK/bad" || fail "--sched fifo: $(cat "$AZB_WORK/bad")"
note "a bad --sched is refused"
