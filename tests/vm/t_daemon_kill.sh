# The runtime killed under I/O: fio ends with errors promptly, nothing hangs,
# and the device can be served again.
source "$(dirname "$0")/lib.sh"
azb_load
dev=$("$AZBUSECTL" add 5 -s 128M -q 2) || fail "add 5"
azb_serve "$AZB_WORK/run" --dev 5 --engine mem

fio --name=load --filename="$dev" --ioengine=libaio --direct=1 --rw=randrw \
	--bs=4k --iodepth=32 --numjobs=2 --time_based --runtime=60 \
	>"$AZB_WORK/fio" 2>&1 &
fio_pid=$!
sleep 3
kill -KILL "$AZB_RUN_PID"
start=$(date +%s)
azb_wait_exit "$fio_pid" 20 || fail "fio still running 20 s after the kill"
wait "$fio_pid" && fail "fio reported success after its server died"
note "fio ended $(( $(date +%s) - start )) s after the kill"
azb_no_d_state

state=$("$AZBUSECTL" info 5 --json | grep -o '"state": *"[a-z]*"' || true)
note "after the kill: $state"
azb_serve "$AZB_WORK/run2" --dev 5 --engine mem
dd if=/dev/zero of="$dev" bs=4096 count=16 oflag=direct 2>/dev/null ||
	fail "I/O fails after a new runtime attached"
note "a new runtime serves the device again"
