# Redirects in flight when the runtime dies or the device goes away.
# odirect serves a dm-delay device that holds every read and write 300 ms,
# so a request spends its life (300 ms, against microseconds in the
# runtime) in the kernel's own I/O to the target: the device's inflight
# count at each event is, to within a request or two, the redirects in
# flight (dm does not count its own in /sys/block/dm-N/inflight).
#  1. kill -9 of the runtime under fio: fio ends, the device's inflight
#     count drains to 0, nothing is left in D state;
#  2. a --recovery device: kill -9 under fio verify, then a new runtime:
#     fio verifies clean;
#  3. azbusectl remove under fio: remove returns, fio and the runtime end.
# Then the module unloads (no file or request leaked).
source "$(dirname "$0")/lib.sh"
azb_load
grep -q '^null_blk ' /proc/modules && skip "null_blk is loaded already"
modprobe null_blk nr_devices=1 gb=1 bs=512 memory_backed=1 ||
	skip "no null_blk module"
modprobe dm-delay 2>/dev/null || skip "no dm-delay module"
dm=azbdelay$$
rd_cleanup() {
	[ -e /dev/mapper/$dm ] && DM_DISABLE_UDEV=1 dmsetup remove $dm 2>/dev/null
	grep -q '^null_blk ' /proc/modules && rmmod null_blk 2>/dev/null
	true
}
trap 'azb_cleanup; rd_cleanup' EXIT
azb_wait_for /dev/nullb0 5 || fail "/dev/nullb0 did not appear"
DM_DISABLE_UDEV=1 dmsetup create $dm --table "0 $((256 * 2048)) delay /dev/nullb0 0 300" ||
	fail "dmsetup create delay"
target=/dev/mapper/$dm

# inflight_of NAME: requests the disk has in flight (reads + writes).
inflight_of() { awk '{print $1 + $2}' /sys/block/"$1"/inflight; }

# load DEV SECONDS [fio options]: fio random I/O in the background.
load() {
	local dev=$1 secs=$2
	shift 2
	fio --name=load --filename="$dev" --ioengine=libaio --direct=1 \
		--rw=randrw --bsrange=4k-256k --iodepth=16 --time_based \
		--runtime="$secs" "$@" >"$AZB_WORK/fio" 2>&1 &
	fio_pid=$!
}

# wait_inflight NAME: until NAME has 8 requests in flight (10 s).
wait_inflight() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(inflight_of "$1")" -ge 8 ] && return 0
		sleep 0.1
	done
	fail "$1: only $(inflight_of "$1") requests in flight under load"
}

# 1. The runtime killed with redirects in flight, no recovery.
azb_serve "$AZB_WORK/run1" -q 2 -d 32 -s 128M --engine odirect "$target"
name=$(basename "$AZB_DEV")
load "$AZB_DEV" 60
wait_inflight "$name"
note "kill -9 with $(inflight_of "$name") requests in flight"
kill -KILL "$AZB_RUN_PID"
azb_wait_exit "$fio_pid" 60 || fail "fio still running 60 s after the runtime died"
for ((i = 0; i < 100; i++)); do
	[ "$(inflight_of "$name")" = 0 ] && break
	sleep 0.1
done
[ "$(inflight_of "$name")" = 0 ] || fail "$name still has $(inflight_of "$name") requests in flight"
azb_no_d_state
dev=/dev/$name
"$AZBUSECTL" remove "${name#azbuse}" || fail "remove after kill"

# 2. Recovery: the redirects in flight finish, the held requests go to the
# next runtime, and fio verifies clean.
dev=$("$AZBUSECTL" add 8 -s 128M -q 2 --recovery --grace 60) || fail "add --recovery"
azb_serve "$AZB_WORK/run2" --dev 8 --engine odirect "$target"
fio --name=verify --filename="$dev" --ioengine=libaio --direct=1 \
	--rw=randwrite --bsrange=4k-128k --iodepth=16 --numjobs=2 --size=32M \
	--offset_increment=64M --verify=crc32c --verify_fatal=1 \
	--group_reporting >"$AZB_WORK/fio" 2>&1 &
fio_pid=$!
wait_inflight azbuse8
note "recovery: kill -9 with $(inflight_of azbuse8) requests in flight"
kill -KILL "$AZB_RUN_PID"
sleep 1
kill -0 "$fio_pid" || fail "fio ended while the device was held: $(tail -5 "$AZB_WORK/fio")"
azb_serve "$AZB_WORK/run3" --dev 8 --engine odirect "$target"
azb_wait_exit "$fio_pid" 300 || fail "fio did not finish after recovery"
wait "$fio_pid" || fail "fio failed across the restart: $(tail -20 "$AZB_WORK/fio")"
grep -q 'err= 0' "$AZB_WORK/fio" || fail "fio errors: $(grep err= "$AZB_WORK/fio")"
note "fio verify passed across kill -9 and restart"

# 3. REMOVE with redirects in flight: it drains them and returns.
load "$dev" 120
wait_inflight azbuse8
note "remove with $(inflight_of azbuse8) requests in flight"
timeout 120 "$AZBUSECTL" remove 8 || fail "remove under load failed or hung"
azb_wait_exit "$fio_pid" 60 || fail "fio still running after remove"
azb_wait_exit "$AZB_RUN_PID" 30 || fail "the runtime did not see the device go"
azb_no_d_state
[ ! -e /sys/block/azbuse8 ] || fail "azbuse8 still exists after remove"
rmmod azbuse || fail "rmmod after redirects in flight"
