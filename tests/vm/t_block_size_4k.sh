# A 4096-byte-sector device refuses 512-byte direct I/O and takes 4 KiB.
source "$(dirname "$0")/lib.sh"
azb_load
azb_serve "$AZB_WORK/run" -q 1 --engine mem -s 64M -b 4096

[ "$(blockdev --getss "$AZB_DEV")" = 4096 ] || fail "logical block size"
if dd if=/dev/zero of="$AZB_DEV" bs=512 count=1 oflag=direct 2>"$AZB_WORK/dd"; then
	fail "a 512-byte direct write succeeded"
fi
grep -q 'Invalid argument' "$AZB_WORK/dd" || fail "512 B write: $(cat "$AZB_WORK/dd")"
if dd if="$AZB_DEV" of=/dev/null bs=512 count=1 iflag=direct 2>/dev/null; then
	fail "a 512-byte direct read succeeded"
fi
head -c 8192 /dev/urandom >"$AZB_WORK/data"
dd if="$AZB_WORK/data" of="$AZB_DEV" bs=4096 count=2 oflag=direct 2>/dev/null ||
	fail "4 KiB direct write failed"
dd if="$AZB_DEV" of="$AZB_WORK/back" bs=4096 count=2 iflag=direct 2>/dev/null ||
	fail "4 KiB direct read failed"
cmp "$AZB_WORK/data" "$AZB_WORK/back" || fail "data read back differs"
note "512 B refused, 4 KiB round-trips"
