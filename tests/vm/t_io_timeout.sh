# A runtime that never completes: each request fails with EIO at the
# device's timeout, nothing hangs.
source "$(dirname "$0")/lib.sh"
azb_load
dev=$("$AZBUSECTL" add 6 -s 16M -q 1 --timeout 2) || fail "add"
"$AZB_HOSTILE" stall 6 >"$AZB_WORK/stall" 2>&1 &
AZB_PIDS+=($!)
for i in $(seq 50); do grep -q stalling "$AZB_WORK/stall" && break; sleep 0.1; done
grep -q stalling "$AZB_WORK/stall" || fail "stall runtime did not attach: $(cat "$AZB_WORK/stall")"
start=$(date +%s.%N)
if dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct 2>"$AZB_WORK/dd"; then
	fail "a read the runtime never completed succeeded"
fi
secs=$(echo "$(date +%s.%N) - $start" | bc)
grep -q 'Input/output error' "$AZB_WORK/dd" || fail "dd said: $(cat "$AZB_WORK/dd")"
note "read failed with EIO after ${secs}s (timeout 2s)"
awk -v s="$secs" 'BEGIN {exit !(s >= 1.5 && s < 15)}' ||
	fail "EIO after ${secs}s, expected about 2s"
azb_no_d_state
