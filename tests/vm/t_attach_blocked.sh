# An attach whose arena pages cannot be had yet (a userfaultfd holds them
# back) stalls nobody else: queue 0 keeps serving I/O and the control
# device answers while queue 1's attach waits.  On a recovery device held
# after its runtime died, the grace period still ends the hold meanwhile.
source "$(dirname "$0")/lib.sh"
azb_load
"$AZBUSECTL" add 3 -s 16M -q 2 -d 16 >/dev/null || fail "add"
timeout -k 5 120 "$AZB_HOSTILE" uffdattach 3 >"$AZB_WORK/u" 2>&1 ||
	fail "live device: $(cat "$AZB_WORK/u")"
note "live: $(grep 'queue 0 served' "$AZB_WORK/u")"
"$AZBUSECTL" remove 3 || fail "remove"

# Recovery: the runtime is killed, the device holds I/O for 3 s; a new
# runtime attaches queue 0 and blocks in queue 1's attach.  The hold still
# ends on time, and queue 0 then serves the read it held.
"$AZBUSECTL" add 3 -s 16M -q 2 -d 16 --recovery --grace 3 >/dev/null || fail "add --recovery"
azb_serve "$AZB_WORK/run" --dev 3 --engine mem
kill -KILL "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "the runtime did not die"
timeout -k 5 120 "$AZB_HOSTILE" uffdattach 3 >"$AZB_WORK/u2" 2>&1 ||
	fail "recovering device: $(cat "$AZB_WORK/u2")"
note "recovering: $(grep 'queue 0 served' "$AZB_WORK/u2")"
"$AZBUSECTL" remove 3 || fail "remove"
azb_no_d_state
rmmod azbuse || fail "rmmod"
