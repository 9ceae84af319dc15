# A recovery device holds I/O only after a runtime that had attached dies.
# A runtime that fails before attaching (a bad engine option), or any
# opener of the char device that attaches nothing, leaves the device idle:
# a read then fails at once, not after the grace time.
source "$(dirname "$0")/lib.sh"
azb_load
dev=$("$AZBUSECTL" add 9 -s 16M -q 1 --recovery --grace 120) || fail "add"
truncate -s 16M "$AZB_WORK/backing"
timeout 30 "$AZBUSE_RUN" --dev 9 --engine odirect -o no-such-option=1 \
	"$AZB_WORK/backing" >/dev/null 2>"$AZB_WORK/err" &&
	fail "azbuse-run accepted a bad engine option"
note "azbuse-run: $(head -n 1 "$AZB_WORK/err")"
# An opener that attaches nothing.
exec 3<>/dev/azbusec9 || fail "open /dev/azbusec9"
exec 3>&-
state=$("$AZBUSECTL" info 9 --json | grep -o '"state": *"[a-z]*"')
case "$state" in *idle*) ;; *) fail "device not idle after an opener that never attached: $state" ;; esac
start=$(date +%s.%N)
timeout 60 dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null &&
	fail "a read with no runtime succeeded"
secs=$(echo "$(date +%s.%N) - $start" | bc)
note "the read failed after ${secs}s"
awk -v s="$secs" 'BEGIN {exit !(s < 10)}' || fail "the read was held ${secs}s"
"$AZBUSECTL" remove 9 || fail "remove"
