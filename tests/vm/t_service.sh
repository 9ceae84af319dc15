# What azbuse@NAME.service runs, step by step as systemd would (the guest
# has no systemd): prepare creates the device from NAME.conf, run serves it;
# after a crash (kill -9) cleanup keeps the device, prepare finds it and run
# serves it again, and with recovery the I/O issued meanwhile completes;
# a clean stop (SIGTERM) then cleanup removes it.
source "$(dirname "$0")/lib.sh"
azb_load

export AZBUSE_CONF_DIR=$AZB_WORK/conf AZBUSECTL AZBUSE_RUN
svc=(bash "$AZB_TOP/packaging/azbuse-service.in")
mkdir "$AZBUSE_CONF_DIR"
cat >"$AZBUSE_CONF_DIR/t.conf" <<EOF
# a test device
DEVICE=6
SIZE=64M
ENGINE=mem
QUEUES=2
DEPTH=32
POLL=adaptive
RECOVERY=auto
GRACE=60
EOF
dev=/dev/azbuse6
recovery=no
"$AZBUSECTL" features | grep -q '^features:.*recovery' && recovery=yes

state() { "$AZBUSECTL" info 6 --json | grep -o '"state": *"[a-z]*"' | grep -o '[a-z]*"$' | tr -d '"'; }
# svc_run: ExecStart, in the background; waits until the device is live.
svc_run() {
	local i
	"${svc[@]}" run t >"$AZB_WORK/run.out" 2>"$AZB_WORK/run.err" &
	RUN_PID=$!
	AZB_PIDS+=("$RUN_PID")
	for ((i = 0; i < 300; i++)); do
		[ "$(state)" = live ] && return 0
		kill -0 "$RUN_PID" 2>/dev/null || fail "run exited: $(cat "$AZB_WORK/run.err")"
		sleep 0.1
	done
	fail "run did not serve $dev within 30 s"
}

out=$("${svc[@]}" prepare t) || fail "prepare: $out"
[ -b "$dev" ] || fail "prepare did not create $dev: $out"
flags=$("$AZBUSECTL" info 6 | sed -n 's/^flags: *//p')
note "prepare: $out (flags $flags)"
if [ $recovery = yes ]; then
	case $flags in *recovery*) ;; *) fail "RECOVERY=auto did not ask for recovery" ;; esac
fi
svc_run
dd if=/dev/urandom of="$dev" bs=64k count=16 oflag=direct status=none || fail "I/O on the served device"

# Crash: systemd's ExecStopPost sees a failure and keeps the device.
kill -KILL "$RUN_PID"
wait "$RUN_PID" 2>/dev/null || true
out=$(SERVICE_RESULT=signal "${svc[@]}" cleanup t) || fail "cleanup after a crash: $out"
[ -b "$dev" ] || fail "cleanup after a crash removed $dev"
note "after kill -9: state $(state); $out"
if [ $recovery = yes ]; then
	dd if=/dev/urandom of="$dev" bs=64k count=4 seek=32 oflag=direct status=none &
	held=$!
	AZB_PIDS+=("$held")
	sleep 1
	kill -0 "$held" 2>/dev/null || fail "a write while no daemon runs did not wait for it"
fi

# Restart: prepare finds the device, run serves it again.
out=$("${svc[@]}" prepare t) || fail "prepare on restart: $out"
case $out in *"exists, serving it again"*) ;; *) fail "prepare on restart: $out" ;; esac
svc_run
if [ $recovery = yes ]; then
	azb_wait_exit "$held" 30 || fail "the held write did not finish after the restart"
	wait "$held" || fail "the held write failed across the restart"
	note "a write issued during the restart completed"
fi
fio --name=v --filename="$dev" --ioengine=libaio --direct=1 --rw=randwrite \
	--bs=4k --iodepth=8 --size=16M --verify=crc32c --verify_fatal=1 \
	>"$AZB_WORK/fio" 2>&1 || fail "fio after the restart: $(tail -n 20 "$AZB_WORK/fio")"
note "served again after the restart: fio verify passed"

# systemctl stop: SIGTERM, a clean exit, and cleanup removes the device.
kill -TERM "$RUN_PID"
azb_wait_exit "$RUN_PID" 20 || fail "run did not stop on SIGTERM"
wait "$RUN_PID" || fail "run exited with an error on SIGTERM: $(cat "$AZB_WORK/run.err")"
SERVICE_RESULT=success "${svc[@]}" cleanup t || fail "cleanup after a clean stop"
sleep 0.2
[ ! -e "$dev" ] || fail "cleanup after a clean stop left $dev"
note "clean stop removed $dev"
