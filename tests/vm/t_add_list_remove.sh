# azbusectl add/list/remove: ids, nodes, sizes, errors.
source "$(dirname "$0")/lib.sh"
azb_load

dev=$("$AZBUSECTL" add 1 -s 64M -q 2 -d 64) || fail "add 1 failed"
[ "$dev" = /dev/azbuse1 ] || fail "add 1 printed '$dev'"
azb_wait_for /dev/azbuse1 5 || fail "/dev/azbuse1 missing"
[ -b /dev/azbuse1 ] || fail "/dev/azbuse1 is not a block device"
[ -c /dev/azbusec1 ] || fail "/dev/azbusec1 is not a char device"
[ "$(blockdev --getsize64 /dev/azbuse1)" = $((64 << 20)) ] ||
	fail "size $(blockdev --getsize64 /dev/azbuse1)"
# From 6.11 the block layer fails polled I/O on a device without a poll
# queue, so one without a ring (it hands polled I/O to the default
# queues) comes along there.
want=2
[ "$(printf '%s\n' 6.11 "$(uname -r)" | sort -V | head -n 1)" = 6.11 ] && want=3
[ "$(ls /sys/block/azbuse1/mq | wc -l)" = $want ] ||
	fail "$(ls /sys/block/azbuse1/mq | wc -l) hardware queues, want $want"
[ "$(cat /sys/block/azbuse1/queue/nr_requests)" -le 64 ] ||
	fail "depth $(cat /sys/block/azbuse1/queue/nr_requests)"

if "$AZBUSECTL" add 1 -s 64M 2>"$AZB_WORK/err"; then
	fail "a second add 1 succeeded"
fi
grep -qi 'exist' "$AZB_WORK/err" || fail "add 1 twice said: $(cat "$AZB_WORK/err")"

other=$("$AZBUSECTL" add -s 1G -b 4096) || fail "add without id failed"
case "$other" in /dev/azbuse[0-9]*) ;; *) fail "add printed '$other'" ;; esac
[ "$other" != /dev/azbuse1 ] || fail "id 1 given twice"
azb_wait_for "$other" 5 || fail "$other missing"
[ "$(blockdev --getss "$other")" = 4096 ] || fail "logical block size"

"$AZBUSECTL" list >"$AZB_WORK/list" || fail "list failed"
grep -q azbuse1 "$AZB_WORK/list" || fail "list lacks azbuse1: $(cat "$AZB_WORK/list")"
"$AZBUSECTL" list --json >"$AZB_WORK/json" || fail "list --json failed"
python3 - "$AZB_WORK/json" <<'PY' || fail "list --json: $(cat "$AZB_WORK/json")"
import json, sys
devs = json.load(open(sys.argv[1]))
assert len(devs) == 2, devs
d1 = [d for d in devs if d["id"] == 1][0]
assert d1["size"] == 64 << 20 and d1["queues"] == 2, d1
PY

"$AZBUSECTL" remove 1 || fail "remove 1 failed"
"$AZBUSECTL" remove "$other" || fail "remove $other failed"
sleep 0.2
[ ! -e /dev/azbuse1 ] && [ ! -e /dev/azbusec1 ] || fail "nodes left after remove"
if "$AZBUSECTL" remove 1 2>/dev/null; then fail "removing a missing device succeeded"; fi
[ "$("$AZBUSECTL" list --json | tr -d ' \n')" = "[]" ] || fail "devices left"
for bad in "-s 0" "-s 1000" "-q 100000" "-d 0" "-b 1024x" "-b 2048 -s 3K"; do
	if "$AZBUSECTL" add $bad 2>/dev/null; then fail "add $bad succeeded"; fi
done
note "add/list/remove and bad parameters behave"
