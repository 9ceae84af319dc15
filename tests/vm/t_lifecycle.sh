# azbuse-run among other processes: --run CMD serves, runs CMD against the
# device ($AZBUSE_DEV and $1), then removes it and exits with CMD's status;
# --daemon returns only once the device serves, with --pidfile naming the
# server; systemd's readiness protocol (READY=1 once serving, STOPPING=1);
# a device path that cannot be written is an error that leaves no device;
# azbusectl remove --all.
source "$(dirname "$0")/lib.sh"
azb_load

ndev() { "$AZBUSECTL" list --json | grep -c '"id"' || true; }
[ "$(ndev)" = 0 ] || fail "devices left by an earlier test: $("$AZBUSECTL" list)"

# --run: the command sees a served device; its status is ours.
out=$("$AZBUSE_RUN" -e mem -s 64M --run 'test -b "$AZBUSE_DEV" && test "$1" = "$AZBUSE_DEV" &&
	dd if=/dev/zero of="$1" bs=4k count=256 oflag=direct status=none && echo wrote' 2>"$AZB_WORK/run.err") ||
	fail "--run with a command that succeeds: exit $?, $(cat "$AZB_WORK/run.err")"
[[ $out == /dev/azbuse*wrote ]] || fail "--run output: '$out'"
[ "$(ndev)" = 0 ] || fail "--run left a device: $("$AZBUSECTL" list)"
rc=0
"$AZBUSE_RUN" -e mem -s 64M --run 'exit 7' >/dev/null 2>&1 || rc=$?
[ "$rc" = 7 ] || fail "--run 'exit 7' exited $rc"
rc=0
"$AZBUSE_RUN" -e mem -s 64M --run 'kill -TERM $$' >/dev/null 2>&1 || rc=$?
[ "$rc" = 143 ] || fail "--run with a command killed by SIGTERM exited $rc, not 143"
[ "$(ndev)" = 0 ] || fail "--run left a device"
note "--run: the command's status (0, 7, 143), no device left"

# --daemon: back once serving, the pid file names the server.
t0=$(date +%s)
dev=$("$AZBUSE_RUN" -e mem -s 64M -q 2 --daemon --pidfile "$AZB_WORK/pid") ||
	fail "--daemon failed"
[ -b "$dev" ] || fail "--daemon printed '$dev', not a device"
pid=$(cat "$AZB_WORK/pid")
AZB_PIDS+=("$pid")
kill -0 "$pid" || fail "the pid file names no process"
id=${dev#/dev/azbuse}
[ "$(cat "/sys/block/azbuse$id/azbuse/state")" = serving ] || fail "--daemon returned before serving"
[ "$(cat "/sys/block/azbuse$id/azbuse/pid")" = "$pid" ] || fail "the serving pid is not the pid file's"
dd if=/dev/zero of="$dev" bs=4k count=16 oflag=direct status=none || fail "I/O on the daemon's device"
kill -TERM "$pid"
azb_wait_exit "$pid" 20 || fail "the daemon did not stop on SIGTERM"
[ ! -e "$AZB_WORK/pid" ] || fail "the pid file outlived the daemon"
[ ! -e "$dev" ] || fail "the daemon left $dev"
rc=0
"$AZBUSE_RUN" -e odirect --daemon /nonexistent >/dev/null 2>"$AZB_WORK/d.err" || rc=$?
[ "$rc" = 1 ] && [ -s "$AZB_WORK/d.err" ] || fail "a daemon that cannot serve: exit $rc, '$(cat "$AZB_WORK/d.err")'"
note "--daemon: returned in $(( $(date +%s) - t0 )) s serving, pid file right; a failing one exits 1 with its reason"

# sd_notify: READY=1 once serving, STOPPING=1 on the way out.
python3 - "$AZBUSE_RUN" <<'EOF' || fail "systemd notification"
import os, socket, subprocess, sys, time
path = "/tmp/azb-notify.sock"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(30)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen([sys.argv[1], "-e", "mem", "-s", "64M"], env=env,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
msg = s.recv(4096).decode()
dev = p.stdout.readline().strip()
if "READY=1" not in msg or ("STATUS=Serving " + dev) not in msg:
    sys.exit("first notification: %r (device %s)" % (msg, dev))
if open("/sys/block/%s/azbuse/state" % os.path.basename(dev)).read().strip() != "serving":
    sys.exit("READY=1 before the device serves")
p.terminate()
msg = s.recv(4096).decode()
if "STOPPING=1" not in msg:
    sys.exit("second notification: %r" % msg)
if p.wait(30) != 0:
    sys.exit("exit status %d" % p.returncode)
EOF
note "NOTIFY_SOCKET: READY=1 with the device once serving, STOPPING=1 on SIGTERM"

# A path nobody can read: an error, and no device left behind.
rc=0
"$AZBUSE_RUN" -e mem -s 64M >/dev/full 2>"$AZB_WORK/full.err" || rc=$?
[ "$rc" = 1 ] || fail "stdout on /dev/full: exit $rc"
grep -q "cannot write the device path" "$AZB_WORK/full.err" || fail "no message: $(cat "$AZB_WORK/full.err")"
[ "$(ndev)" = 0 ] || fail "a device was left after the write error"
rc=0
"$AZBUSECTL" features >/dev/full 2>"$AZB_WORK/full.err" || rc=$?
[ "$rc" = 1 ] && grep -q "cannot write to standard output" "$AZB_WORK/full.err" ||
	fail "azbusectl features >/dev/full: exit $rc, '$(cat "$AZB_WORK/full.err")'"
note "stdout write errors: exit 1 (azbuse-run removes its device)"

# remove --all, with servers and without.
"$AZBUSECTL" add 3 -s 16M >/dev/null && "$AZBUSECTL" add 4 -s 16M >/dev/null || fail "add"
azb_serve "$AZB_WORK/s" --dev 4 --engine mem
rc=0
"$AZBUSECTL" remove --all 3 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "remove --all with an id: exit $rc"
"$AZBUSECTL" remove --all || fail "remove --all"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "the server of a removed device did not exit"
[ "$(ndev)" = 0 ] || fail "remove --all left: $("$AZBUSECTL" list)"
"$AZBUSECTL" remove --all || fail "remove --all with no device"
note "remove --all removed every device; its server exited"
