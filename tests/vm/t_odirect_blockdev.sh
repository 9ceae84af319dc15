# odirect over a block device (memory-backed null_blk with discard): fio
# crc32c verify (512 B .. 1 MiB, redirected: the kernel does the I/O on
# the request's pages), the device's bytes equal the target's, blkdiscard and
# blkdiscard -z reach the target, and a device in use is refused.
source "$(dirname "$0")/lib.sh"
azb_load
grep -q '^null_blk ' /proc/modules && skip "null_blk is loaded already"
modprobe null_blk nr_devices=1 gb=1 bs=512 memory_backed=1 discard=1 ||
	skip "no null_blk module"
nb_cleanup() {
	grep -q '^null_blk ' /proc/modules && rmmod null_blk 2>/dev/null
	true
}
trap 'azb_cleanup; nb_cleanup' EXIT
azb_wait_for /dev/nullb0 5 || fail "/dev/nullb0 did not appear"
MiB=$((1 << 20))

azb_serve "$AZB_WORK/run" -q 2 -d 32 -s 128M --max-io 1M --engine odirect /dev/nullb0
q=/sys/block/$(basename "$AZB_DEV")/queue
note "block $(cat $q/logical_block_size) discard_max_bytes $(cat $q/discard_max_bytes) write_zeroes_max_bytes $(cat $q/write_zeroes_max_bytes)"
[ "$(cat $q/discard_max_bytes)" -gt 0 ] || fail "null_blk discards, the device does not"

# In use: a second server of the same device is refused.
"$AZBUSE_RUN" --engine odirect /dev/nullb0 >/dev/null 2>"$AZB_WORK/second" &&
	fail "a second server of /dev/nullb0 started"
grep -q 'in use' "$AZB_WORK/second" || fail "second server: $(cat "$AZB_WORK/second")"

fio --name=verify --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randwrite --bssplit=512/20:4k/40:64k/25:256k/10:1m/5 --iodepth=32 \
	--numjobs=2 --size=64M --offset_increment=64M --io_size=24M \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting \
	--output-format=terse --terse-version=3 >"$AZB_WORK/fio" 2>&1 ||
	fail "fio verify failed: $(tail -n 20 "$AZB_WORK/fio")"
err=$(awk -F';' '/^3;/ {print $5; exit}' "$AZB_WORK/fio")
[ "$err" = 0 ] || fail "fio error $err"
note "verified $(awk -F';' '/^3;/ {print $6; exit}' "$AZB_WORK/fio") KiB"

sum() {	# sum DEV OFFSET_MIB LEN_MIB
	dd if="$1" bs=1M skip="$2" count="$3" iflag=direct status=none |
		md5sum | cut -d' ' -f1
}
[ "$(sum "$AZB_DEV" 0 128)" = "$(sum /dev/nullb0 0 128)" ] ||
	fail "the device and /dev/nullb0 differ"
zeros=$(head -c $((4 * MiB)) /dev/zero | md5sum | cut -d' ' -f1)
[ "$(sum /dev/nullb0 8 4)" != "$zeros" ] || fail "no data written at 8M"

blkdiscard -o $((8 * MiB)) -l $((4 * MiB)) "$AZB_DEV" || fail "blkdiscard failed"
[ "$(sum /dev/nullb0 8 4)" = "$zeros" ] || fail "discard did not reach /dev/nullb0"
[ "$(sum "$AZB_DEV" 8 4)" = "$zeros" ] || fail "discarded range does not read as zeros"
blkdiscard -z -o $((16 * MiB)) -l $((4 * MiB)) "$AZB_DEV" || fail "blkdiscard -z failed"
[ "$(sum /dev/nullb0 16 4)" = "$zeros" ] || fail "zero-out did not reach /dev/nullb0"
[ "$(sum "$AZB_DEV" 20 4)" != "$zeros" ] || fail "zero-out went past its range"
[ "$(sum "$AZB_DEV" 0 128)" = "$(sum /dev/nullb0 0 128)" ] ||
	fail "the device and /dev/nullb0 differ after discard"

azb_stop "$AZB_WORK/run"
grep 'served' "$AZB_WORK/run.err" | sed 's/^/  /'
grep -q 'discard [1-9]' "$AZB_WORK/run.err" || fail "the runtime counted no discard"
grep -q ' [1-9][0-9]* redirected$' "$AZB_WORK/run.err" ||
	fail "no read or write was redirected: $(grep served "$AZB_WORK/run.err")"
