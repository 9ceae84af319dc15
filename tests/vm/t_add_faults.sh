# ADD failing at each step (the module's fail_add test hook: queue array,
# rings, disk) leaves nothing behind and crashes nothing; ADD and REMOVE
# of one id racing from two threads each get a sane answer; afterwards a
# device serves and verifies, and the module unloads.
source "$(dirname "$0")/lib.sh"
azb_load
hook=/sys/module/azbuse/parameters/fail_add
[ -w "$hook" ] || fail "no $hook"
for step in 1 2 4; do
	echo "$step" >"$hook"
	if "$AZBUSECTL" add 3 -s 16M -q 2 >/dev/null 2>"$AZB_WORK/err"; then
		echo 0 >"$hook"
		fail "ADD succeeded with step $step failing"
	fi
	echo 0 >"$hook"
	[ ! -e /dev/azbuse3 ] && [ ! -e /dev/azbusec3 ] ||
		fail "step $step: a failed ADD left device nodes"
	note "step $step: $(head -n 1 "$AZB_WORK/err")"
done
[ "$("$AZBUSECTL" list --json | tr -d ' \n')" = "[]" ] ||
	fail "failed ADDs left devices: $("$AZBUSECTL" list)"
"$AZB_HOSTILE" addrace 400 >"$AZB_WORK/race" 2>&1 || fail "$(cat "$AZB_WORK/race")"
note "$(tail -n 2 "$AZB_WORK/race" | head -n 1)"
azb_serve "$AZB_WORK/run" -s 32M -q 2 --engine mem
fio --name=v --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randwrite --bs=4k --iodepth=16 --size=8M --verify=crc32c \
	--verify_fatal=1 >"$AZB_WORK/fio" 2>&1 || fail "fio verify: $(tail -5 "$AZB_WORK/fio")"
kill -TERM "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "azbuse-run did not stop"
"$AZBUSECTL" remove 3 2>/dev/null || true
rmmod azbuse || fail "rmmod"
