# odirect over a file on ext4: the device offers discard and write-zeroes;
# blkdiscard punches a hole in the file, blkdiscard -z (BLKZEROOUT: NOUNMAP)
# zeroes a range and keeps it allocated, a punch on the device (write-zeroes
# that may unmap) frees it; every range then reads as zeros, through the
# device and in the file.
source "$(dirname "$0")/lib.sh"
azb_load
modprobe ext4 2>/dev/null || true
mnt=$(azb_ext4 160)
f=$mnt/backing
MiB=$((1 << 20))
dd if=/dev/urandom of="$f" bs=1M count=64 status=none || fail "cannot fill $f"
sync
azb_serve "$AZB_WORK/run" -q 1 --engine odirect "$f"
q=/sys/block/$(basename "$AZB_DEV")/queue
note "discard_max_bytes $(cat $q/discard_max_bytes) discard_granularity $(cat $q/discard_granularity) write_zeroes_max_bytes $(cat $q/write_zeroes_max_bytes)"
[ "$(cat $q/discard_max_bytes)" -gt 0 ] || fail "no discard advertised"
[ "$(cat $q/write_zeroes_max_bytes)" -gt 0 ] || fail "no write-zeroes advertised"
# ext4's block: space is freed in those.
[ "$(cat $q/discard_granularity)" = "$(stat -c %o "$f")" ] ||
	fail "discard granularity $(cat $q/discard_granularity), file system block $(stat -c %o "$f")"

alloc() { echo $(( $(stat -c %b "$f") * 512 )); }
# zeros OFFSET_MIB LEN_MIB: the range reads as zeros through the device and
# in the file.
zeros() {
	dd if="$AZB_DEV" bs=1M skip="$1" count="$2" iflag=direct status=none |
		cmp -s -n $(($2 * MiB)) - /dev/zero ||
		fail "device range ${1}M+${2}M is not zeros"
	dd if="$f" bs=1M skip="$1" count="$2" status=none |
		cmp -s -n $(($2 * MiB)) - /dev/zero ||
		fail "file range ${1}M+${2}M is not zeros"
}
# sum FILE OFFSET_MIB LEN_MIB [DDFLAG]
sum() {
	dd if="$1" bs=1M skip="$2" count="$3" ${4:+iflag=$4} status=none |
		md5sum | cut -d' ' -f1
}
# Data outside the ranges is untouched: the device equals the file there,
# and that is not zeros.
same() {
	[ "$(sum "$AZB_DEV" "$1" "$2" direct)" = "$(sum "$f" "$1" "$2")" ] ||
		fail "device and file differ in ${1}M+${2}M"
	[ "$(sum "$f" "$1" "$2")" != "$(head -c $(($2 * MiB)) /dev/zero | md5sum | cut -d' ' -f1)" ] ||
		fail "range ${1}M+${2}M is zeros: it should hold data"
}

a0=$(alloc)
blkdiscard -o $((8 * MiB)) -l $((16 * MiB)) "$AZB_DEV" || fail "blkdiscard failed"
a1=$(alloc)
note "discard 16M: allocated $((a0 / MiB))M -> $((a1 / MiB))M"
[ $((a0 - a1)) -ge $((15 * MiB)) ] || fail "blkdiscard freed $(((a0 - a1) / 1024)) KiB of 16 MiB"
zeros 8 16

blkdiscard -z -o $((32 * MiB)) -l $((8 * MiB)) "$AZB_DEV" || fail "blkdiscard -z failed"
a2=$(alloc)
note "zero-out 8M (NOUNMAP): allocated $((a1 / MiB))M -> $((a2 / MiB))M"
[ $((a1 - a2)) -lt $MiB ] || fail "blkdiscard -z freed $(((a1 - a2) / 1024)) KiB: NOUNMAP not honoured"
zeros 32 8
# A zero range leaves the blocks allocated, as unwritten extents.
filefrag -v -b4096 "$f" | awk -v s=$((32 * 256)) -v e=$((40 * 256)) '
	$1 ~ /^[0-9]+:$/ { a = $2; sub(/\.\./, "", a); b = $3; sub(/:/, "", b)
		if (a + 0 < e && b + 0 >= s && /unwritten/) u = 1 }
	END { exit !u }' ||
	fail "no unwritten extent in the zeroed range: $(filefrag -v -b4096 "$f")"

fallocate --punch-hole -o $((48 * MiB)) -l $((8 * MiB)) "$AZB_DEV" ||
	fail "punch on the device failed"
a3=$(alloc)
note "zero-out 8M that may unmap: allocated $((a2 / MiB))M -> $((a3 / MiB))M"
[ $((a2 - a3)) -ge $((7 * MiB)) ] || fail "write-zeroes without NOUNMAP freed $(((a2 - a3) / 1024)) KiB of 8 MiB"
zeros 48 8

same 0 8
same 24 8
same 40 8
same 56 8
azb_stop "$AZB_WORK/run"
grep 'served' "$AZB_WORK/run.err" | sed 's/^/  /'
grep -q 'discard [1-9]' "$AZB_WORK/run.err" || fail "the runtime counted no discard"
grep -q 'write-zeroes [1-9]' "$AZB_WORK/run.err" || fail "the runtime counted no write-zeroes"
