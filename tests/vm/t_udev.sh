# udev and readiness: with systemd-udevd running and packaging/60-azbuse.rules,
# an unserved azbuse disk is SYSTEMD_READY=0; served, it gets blkid's
# properties and /dev/disk/by-uuid, by-label and by-id links (mkfs on it
# makes them, through the rule's watch); its server killed, it is not ready
# again and the links go.  sysfs (azbuse/state, pid, label, serial) follows
# serve / kill / recover, with a change uevent (AZBUSE_STATE=) each time;
# SET_LABEL refuses what it must.
source "$(dirname "$0")/lib.sh"
udevd=/lib/systemd/systemd-udevd
[ -x "$udevd" ] || skip "no $udevd"
command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4"
azb_load
[ -e /sys/module/azbuse ] && "$AZBUSECTL" features | grep -q label ||
	fail "the module does not report the label feature"

# udevd with the system's rules and this tree's (/run/udev/rules.d first).
# The guest's root looks like a chroot to udevadm, which then ignores
# settle and control: the test waits for what it expects instead, and
# stops udevd itself.
mkdir -p /run/udev/rules.d
cp "$AZB_TOP/packaging/60-azbuse.rules" /run/udev/rules.d/
"$udevd" --daemon --resolve-names=never || fail "systemd-udevd did not start"
stop_udevd() {
	pkill -x systemd-udevd
	for _ in $(seq 50); do pgrep -x systemd-udevd >/dev/null || return 0; sleep 0.1; done
}
trap 'rc=$?; stop_udevd; (exit $rc); azb_cleanup' EXIT
# The kernel's uevents, straight from netlink.
python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
s.bind((0, 1))
print("listening", flush=True)
while True:
    print(s.recv(65536).replace(b"\0", b" ").decode(errors="replace"), flush=True)
' >"$AZB_WORK/uevents" 2>&1 &
AZB_PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$AZB_WORK/uevents" && break; sleep 0.1; done

prop() {	# DEV NAME: a udev property, or ""
	udevadm info --query=property --name="$1" | sed -n "s/^$2=//p"
}
sysfs() { cat "/sys/block/azbuse$1/azbuse/$2"; }
# wait_until WHAT CMD...: CMD succeeds within 20 s (udev works behind us).
wait_until() {
	local what=$1 i
	shift
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "$what"
}
prop_is() { [ "$(prop "$1" "$2")" = "$3" ]; }
link_is() { [ "$(readlink -f "$1")" = "$2" ]; }

dev=$("$AZBUSECTL" add 7 -s 64M -q 2) || fail "add 7"
[ "$(sysfs 7 state)" = unserved ] || fail "a new device is $(sysfs 7 state), not unserved"
wait_until "an unserved disk is not SYSTEMD_READY=0" prop_is "$dev" SYSTEMD_READY 0

azb_serve "$AZB_WORK/r1" --dev 7 --engine mem --serial t-disk.1
[ "$(sysfs 7 state)" = serving ] || fail "served, the device is $(sysfs 7 state)"
[ "$(sysfs 7 pid)" = "$AZB_RUN_PID" ] || fail "sysfs pid $(sysfs 7 pid), server $AZB_RUN_PID"
[ "$(sysfs 7 label)" = mem ] || fail "label '$(sysfs 7 label)', not 'mem'"
[ "$(sysfs 7 serial)" = t-disk.1 ] || fail "serial '$(sysfs 7 serial)'"
wait_until "a served disk is still SYSTEMD_READY=$(prop "$dev" SYSTEMD_READY)" prop_is "$dev" SYSTEMD_READY ""
wait_until "no /dev/disk/by-id/azbuse-t-disk.1 -> $dev" link_is /dev/disk/by-id/azbuse-t-disk.1 "$dev"
list=$("$AZBUSECTL" list)
[[ $list == *"/dev/azbuse7"*" mem"* ]] || fail "azbusectl list does not show the engine: $list"

uuid=3f1c0a52-6a8e-4b0c-9a55-0d3f2b7e9c11
mkfs.ext4 -q -F -U "$uuid" -L azbtest "$dev" || fail "mkfs.ext4"
wait_until "blkid's ID_FS_TYPE is '$(prop "$dev" ID_FS_TYPE)'" prop_is "$dev" ID_FS_TYPE ext4
wait_until "no /dev/disk/by-uuid/$uuid -> $dev" link_is "/dev/disk/by-uuid/$uuid" "$dev"
wait_until "no /dev/disk/by-label/azbtest -> $dev" link_is /dev/disk/by-label/azbtest "$dev"
note "served: by-uuid, by-label and by-id links; azbusectl list shows the engine"

kill -KILL "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 10 || fail "the killed server did not exit"
[ "$(sysfs 7 state)" = unserved ] || fail "after the kill: $(sysfs 7 state)"
[ "$(sysfs 7 pid)" = 0 ] && [ -z "$(sysfs 7 label)" ] || fail "pid/label left after the kill"
wait_until "after the kill the disk is not SYSTEMD_READY=0" prop_is "$dev" SYSTEMD_READY 0
wait_until "the by-uuid link outlived the server" test ! -e "/dev/disk/by-uuid/$uuid"
grep -q "AZBUSE_STATE=serving" "$AZB_WORK/uevents" && grep -q "AZBUSE_STATE=unserved" "$AZB_WORK/uevents" ||
	fail "no change uevents with AZBUSE_STATE: $(grep AZBUSE "$AZB_WORK/uevents")"
note "killed: unserved, SYSTEMD_READY=0, links gone, change uevents seen"
"$AZBUSECTL" remove 7

# Recovery: the state says so, and a new server serves it again.
dev=$("$AZBUSECTL" add 8 -s 64M --recovery --grace 60) || fail "add 8 --recovery"
azb_serve "$AZB_WORK/r2" --dev 8 --engine mem
kill -KILL "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 10 || fail "the killed server did not exit"
[ "$(sysfs 8 state)" = recovering ] || fail "a recovery device without its server is $(sysfs 8 state)"
azb_serve "$AZB_WORK/r3" --dev 8 --engine mem
[ "$(sysfs 8 state)" = serving ] || fail "recovered: $(sysfs 8 state)"
grep -q "AZBUSE_STATE=recovering" "$AZB_WORK/uevents" || fail "no recovering uevent"
kill -TERM "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "the server did not stop"
note "recovery: recovering, then serving again"

# SET_LABEL checks what it is given; a label lasts while its opener does.
python3 - "$AZB_TOP/include/uapi/linux/azbuse.h" <<'EOF' || fail "SET_LABEL checks"
import fcntl, os, struct, sys
size = 4 + 4 + 128 + 64 + 16
cmd = (1 << 30) | (size << 16) | (0xAB << 8) | 0x96	# _IOW(0xAB, 0x96, size)
def req(label, serial, sz=size, flags=0):
    return struct.pack("=II128s64s16s", sz, flags, label, serial, b"\0" * 16)
fd = os.open("/dev/azbusec8", os.O_RDWR)
bad = [req(b"x\x01y", b""), req(b"a" * 128, b""), req(b"ok", b"a/b"),
       req(b"ok", b""), req(b"ok", b"", flags=1)]
bad[3] = struct.pack("=II128s64s16s", size - 8, 0, b"ok", b"", b"\0" * 16)
for i, b in enumerate(bad):
    try:
        fcntl.ioctl(fd, cmd, b)
        sys.exit("bad label %d was taken" % i)
    except OSError as e:
        if e.errno != 22:
            sys.exit("bad label %d: errno %d, not EINVAL" % (i, e.errno))
fcntl.ioctl(fd, cmd, req(b"python test", b"py-1"))
got = open("/sys/block/azbuse8/azbuse/label").read().strip()
if got != "python test":
    sys.exit("label reads '%s'" % got)
os.close(fd)
if open("/sys/block/azbuse8/azbuse/label").read().strip():
    sys.exit("the label outlived its opener")
EOF
note "SET_LABEL: control characters, no NUL, a '/' in the serial, a wrong size, flags: EINVAL"
