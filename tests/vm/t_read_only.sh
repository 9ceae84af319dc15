# A read-only device refuses writes and serves reads.
source "$(dirname "$0")/lib.sh"
azb_load
azb_serve "$AZB_WORK/run" -q 1 --engine mem -s 64M --ro

[ "$(blockdev --getro "$AZB_DEV")" = 1 ] || fail "device not read-only"
if dd if=/dev/zero of="$AZB_DEV" bs=4096 count=1 oflag=direct 2>"$AZB_WORK/dd"; then
	fail "a write to a read-only device succeeded"
fi
note "write refused: $(tail -n 1 "$AZB_WORK/dd")"
dd if="$AZB_DEV" of="$AZB_WORK/r" bs=4096 count=4 iflag=direct 2>/dev/null ||
	fail "read failed"
cmp -n 16384 "$AZB_WORK/r" /dev/zero || fail "unwritten read-only device is not zeros"

# The same with a device added read-only and served later.
dev=$("$AZBUSECTL" add 7 -s 16M --ro) || fail "add --ro failed"
azb_serve "$AZB_WORK/run7" --dev 7 --engine mem
[ "$AZB_DEV" = "$dev" ] || fail "served $AZB_DEV, added $dev"
if dd if=/dev/zero of="$dev" bs=4096 count=1 oflag=direct 2>/dev/null; then
	fail "a write to read-only $dev succeeded"
fi
note "read-only devices refuse writes"
