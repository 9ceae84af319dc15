# Stale completions (answers again for requests already ended, old
# generations) committed after every batch while the I/O scheduler is
# switched under load and then while the device is removed: each refused
# with EINVAL, no request ended twice, nothing freed under the kernel.
source "$(dirname "$0")/lib.sh"
azb_load
for round in 1 2; do
	dev=$("$AZBUSECTL" add 5 -s 32M -q 1 -d 32) || fail "add"
	"$AZB_HOSTILE" stale 5 >"$AZB_WORK/stale" 2>&1 &
	pid=$!
	AZB_PIDS+=("$pid")
	for i in $(seq 100); do grep -q serving "$AZB_WORK/stale" && break; sleep 0.1; done
	fio --name=load --filename="$dev" --ioengine=libaio --direct=1 \
		--rw=randrw --bsrange=4k-64k --iodepth=32 --time_based \
		--runtime=$((round == 1 ? 8 : 60)) >"$AZB_WORK/fio" 2>&1 &
	fio_pid=$!
	sched=/sys/block/azbuse5/queue/scheduler
	for i in $(seq 10); do
		for s in mq-deadline none; do
			echo "$s" >"$sched" || fail "switching the scheduler to $s"
			sleep 0.2
		done
	done
	echo mq-deadline >"$sched"
	kill -0 "$fio_pid" || fail "fio stopped during scheduler switches: $(tail -5 "$AZB_WORK/fio")"
	if [ $round = 1 ]; then
		azb_wait_exit "$fio_pid" 120 || fail "fio did not finish"
		wait "$fio_pid" || fail "fio under stale completions: $(tail -8 "$AZB_WORK/fio")"
	fi
	# Round 2: removed with fio still running and the server answering.
	"$AZBUSECTL" remove 5 || fail "remove"
	azb_wait_exit "$fio_pid" 30 || fail "fio still running after remove"
	azb_wait_exit "$pid" 30 || fail "the server did not see the device go"
	wait "$pid" || fail "round $round: $(cat "$AZB_WORK/stale")"
	note "round $round: $(tail -n 2 "$AZB_WORK/stale" | head -n 1)"
	azb_no_d_state
done
rmmod azbuse || fail "rmmod"
