# The module loads, creates a root-only control node, answers FEATURES,
# unloads, and loads again.
source "$(dirname "$0")/lib.sh"

for round in 1 2; do
	azb_load
	[ -c /dev/azbusectl ] || fail "/dev/azbusectl is not a char device"
	mode=$(stat -c %a /dev/azbusectl)
	[ "$mode" = 600 ] || fail "/dev/azbusectl mode $mode, want 600"
	grep -q ' azbuse$' /proc/devices || fail "no block major in /proc/devices"
	"$AZBUSECTL" features >"$AZB_WORK/f" || fail "features failed"
	grep -qi 'abi' "$AZB_WORK/f" || fail "features output: $(cat "$AZB_WORK/f")"
	rmmod azbuse || fail "rmmod failed in round $round"
	[ ! -e /dev/azbusectl ] || fail "/dev/azbusectl still there after rmmod"
done
note "loaded and unloaded twice"
