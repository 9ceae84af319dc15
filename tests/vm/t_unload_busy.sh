# Unloading with devices present: refused while a runtime serves one,
# cleans up idle devices, never oopses.
source "$(dirname "$0")/lib.sh"
azb_load
"$AZBUSECTL" add 3 -s 16M >/dev/null || fail "add 3"
azb_serve "$AZB_WORK/run" -q 2 --engine null -s 32M

if rmmod azbuse 2>/dev/null; then fail "rmmod succeeded while a runtime serves a device"; fi
kill -TERM "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "azbuse-run did not stop"
rmmod azbuse || fail "rmmod with an idle device failed"
[ ! -e /dev/azbuse3 ] || fail "/dev/azbuse3 left after rmmod"
azb_load
"$AZBUSECTL" add 3 -s 16M >/dev/null || fail "add 3 after reload"
note "busy unload refused, idle devices cleaned up"
