# Recovery: kill -9 the runtime under fio verify load on a recovery device,
# start a new one: the held requests are re-issued and fio verifies clean.
# fio is held to 100 I/Os per second per job (about 10 s of writes, then
# 10 s of reads), so the kill lands in the middle of it however fast the
# device is.
# Then: without a new runtime, held I/O fails with EIO after the grace time.
source "$(dirname "$0")/lib.sh"
azb_load
fs=$(azb_ext4 200)
truncate -s 128M "$fs/backing"
dev=$("$AZBUSECTL" add 8 -s 128M -q 2 --recovery --grace 60) || fail "add --recovery"
azb_serve "$AZB_WORK/run" --dev 8 --engine odirect "$fs/backing"
fio --name=verify --filename="$dev" --ioengine=libaio --direct=1 \
	--rw=randwrite --bsrange=4k-128k --iodepth=16 --numjobs=2 --size=64M \
	--offset_increment=64M --verify=crc32c --verify_fatal=1 --group_reporting \
	--rate_iops=100 >"$AZB_WORK/fio" 2>&1 &
fio_pid=$!
sleep 4
kill -KILL "$AZB_RUN_PID"
sleep 1
state=$("$AZBUSECTL" info 8 --json | grep -o '"state": *"[a-z]*"')
note "runtime killed: $state"
case "$state" in *recovering*) ;; *) fail "device not recovering: $state" ;; esac
kill -0 "$fio_pid" || fail "fio ended while the device was held: $(tail -5 "$AZB_WORK/fio")"
azb_serve "$AZB_WORK/run2" --dev 8 --engine odirect "$fs/backing"
azb_wait_exit "$fio_pid" 240 || fail "fio did not finish after recovery"
wait "$fio_pid" || fail "fio failed across the restart: $(tail -20 "$AZB_WORK/fio")"
grep -q 'err= 0' "$AZB_WORK/fio" || fail "fio errors: $(grep err= "$AZB_WORK/fio")"
note "fio verify passed across kill -9 and restart"

# No runtime comes back: held I/O fails once the grace time ends.
kill -TERM "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "second runtime did not stop"
"$AZBUSECTL" remove 8 || fail "remove 8"
dev=$("$AZBUSECTL" add 9 -s 16M -q 1 --recovery --grace 3) || fail "add 9"
azb_serve "$AZB_WORK/run3" --dev 9 --engine mem
kill -KILL "$AZB_RUN_PID"
sleep 0.5
start=$(date +%s.%N)
if dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null; then
	fail "a read with no runtime succeeded"
fi
secs=$(echo "$(date +%s.%N) - $start" | bc)
note "held read failed after ${secs}s (grace 3s)"
awk -v s="$secs" 'BEGIN {exit !(s >= 1.5 && s < 20)}' || fail "failed after ${secs}s"
azb_no_d_state
