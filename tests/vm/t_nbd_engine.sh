# The nbd engine against a real NBD server (nbdkit memory over a unix
# socket, its log filter recording each command), 2 queues, one connection
# each: fio crc32c verify; the data is in the server (a second runtime
# reads it back); fsync reaches it as FLUSH, blkdiscard as TRIM,
# blkdiscard -z as WRITE_ZEROES without trim; the server killed under
# load and started again: fio goes on and succeeds; killed for good: fio
# fails once --reconnect runs out, and nothing hangs.  Then qemu-nbd as
# the server: fio verify, and its file equals the device.
# timeout: 600
source "$(dirname "$0")/lib.sh"
command -v nbdkit >/dev/null || skip "nbdkit is not installed (bash ci/deps.sh)"
command -v qemu-nbd >/dev/null || skip "qemu-nbd is not installed (bash ci/deps.sh)"
azb_load
sock=$AZB_WORK/nbd.sock log=$AZB_WORK/nbd.log
nbdkit -f -U "$sock" --filter=log memory 256M logfile="$log" &
srv=$!
AZB_PIDS+=("$srv")
azb_wait_for "$sock" 10 || fail "nbdkit did not start"
uri="nbd+unix:///?socket=$sock"

azb_serve "$AZB_WORK/run" -q 2 -d 64 --engine nbd "$uri"
[ "$(blockdev --getsize64 "$AZB_DEV")" = $((256 << 20)) ] ||
	fail "size $(blockdev --getsize64 "$AZB_DEV"), export 256 MiB"
conns=$(grep -c ' Connect export=' "$log")
# One to learn the export, then one per queue.
[ "$conns" = 3 ] || fail "$conns connections for 2 queues"
q=/sys/block/$(basename "$AZB_DEV")/queue
[ "$(cat $q/discard_max_bytes)" -gt 0 ] || fail "no discard advertised"
[ "$(cat $q/write_zeroes_max_bytes)" -gt 0 ] || fail "no write-zeroes advertised"

verify() {	# verify WRITE|READ: writes and checks, or only checks
	local mode=()
	[ "$1" = READ ] && mode=(--verify_only)
	fio --name=verify --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
		--rw=randwrite --bsrange=4k-128k --iodepth=16 --numjobs=2 \
		--size=64M --offset_increment=64M --verify=crc32c \
		--verify_fatal=1 --randseed=7 --group_reporting "${mode[@]}" \
		>"$AZB_WORK/fio" 2>&1 ||
		fail "fio verify ($1) failed: $(tail -n 20 "$AZB_WORK/fio")"
	grep -q 'err= 0' "$AZB_WORK/fio" || fail "fio errors: $(grep err= "$AZB_WORK/fio")"
}
verify WRITE
note "fio verify through nbd: passed"

# Flush, trim, zero reach the server.
flushes=$(grep -c ' Flush id=' "$log" || true)
dd if=/dev/urandom of="$AZB_DEV" bs=64k count=16 seek=3000 oflag=direct conv=fsync status=none ||
	fail "dd with fsync failed"
[ "$(grep -c ' Flush id=' "$log")" -gt "$flushes" ] || fail "fsync sent no NBD flush"
blkdiscard -o $((200 << 20)) -l $((1 << 20)) "$AZB_DEV" || fail "blkdiscard failed"
grep -q ' Trim id=.*offset=0xc800000' "$log" || fail "discard is not an NBD trim"
blkdiscard -z -o $((201 << 20)) -l $((1 << 20)) "$AZB_DEV" || fail "blkdiscard -z failed"
grep -q ' Zero id=.*offset=0xc900000.* trim=0' "$log" ||
	fail "zero-out (NOUNMAP) is not an NBD write-zeroes without trim"
dd if="$AZB_DEV" bs=1M skip=201 count=1 iflag=direct status=none |
	cmp -s -n $((1 << 20)) - /dev/zero || fail "zeroed range is not zeros"
note "flush, trim and write-zeroes reached the server"

# The data lives in the server: a new runtime reads it back.
azb_stop "$AZB_WORK/run"
azb_serve "$AZB_WORK/run2" -q 2 --engine nbd "$uri"
verify READ
note "a second runtime read the data back from the server"

# kill_under_load OUT SECONDS: fio randrw for SECONDS in the background
# (fio_pid, output in OUT); 2 s later the server is killed.
kill_under_load() {
	fio --name=load --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
		--rw=randrw --bs=4k --iodepth=16 --numjobs=2 --time_based \
		--runtime="$2" >"$1" 2>&1 &
	fio_pid=$!
	sleep 2
	kill -KILL "$srv"
	wait "$srv" 2>/dev/null || true
}

# The server dies under load and comes back (same socket): the queues
# reconnect, the held requests are sent again, fio ends without an error.
kill_under_load "$AZB_WORK/fio2" 8
sleep 1
rm -f "$sock"
nbdkit -f -U "$sock" memory 256M &
srv=$!
AZB_PIDS+=("$srv")
azb_wait_for "$sock" 10 || fail "nbdkit did not start again"
azb_wait_exit "$fio_pid" 60 || fail "fio still running 60 s after the server came back"
wait "$fio_pid" || fail "fio failed across the server's restart: $(tail -n 20 "$AZB_WORK/fio2")"
grep -q 'reconnected to' "$AZB_WORK/run2.err" || fail "the runtime did not say it reconnected"
note "server killed and restarted under fio: fio went on and succeeded"

# --reconnect 2 and the server gone for good: fio fails within seconds.
azb_stop "$AZB_WORK/run2"
azb_serve "$AZB_WORK/run3" -q 2 --engine nbd --reconnect 2 "$uri"
kill_under_load "$AZB_WORK/fio3" 60
start=$(date +%s)
azb_wait_exit "$fio_pid" 30 || fail "fio still running 30 s after the server died"
wait "$fio_pid" && fail "fio reported success after the server died"
note "server gone for good: fio failed $(( $(date +%s) - start )) s later (--reconnect 2)"
azb_no_d_state

# qemu-nbd as the server, over a raw file: fio verify, and the file holds
# exactly what the device held.  (run3's exit status is not checked: the
# server it served from is gone.)
kill -INT "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "azbuse-run did not stop"
img=$AZB_WORK/qemu-nbd.img qsock=$AZB_WORK/qemu-nbd.sock
truncate -s 256M "$img"
qemu-nbd -f raw -k "$qsock" --persistent --shared=4 "$img" 2>"$AZB_WORK/qemu-nbd.err" &
AZB_PIDS+=("$!")
azb_wait_for "$qsock" 20 || fail "qemu-nbd did not start: $(cat "$AZB_WORK/qemu-nbd.err")"
azb_serve "$AZB_WORK/run4" -q 1 --engine nbd "nbd+unix:///?socket=$qsock"
verify WRITE
dev_sum=$(dd if="$AZB_DEV" bs=1M iflag=direct status=none | sha256sum)
azb_stop "$AZB_WORK/run4"
[ "$(sha256sum < "$img")" = "$dev_sum" ] || fail "qemu-nbd's file differs from the device"
note "fio verify through qemu-nbd: passed; its file equals the device"
