# A failing target gives the submitter the target's error, never success
# and never a hang: ENOSPC from a full file system, EIO past the end of a
# file that shrank, EIO from a dm "error" device.  The server keeps serving.
source "$(dirname "$0")/lib.sh"
azb_load
modprobe ext4 2>/dev/null || true
dm=azbod-err-$$
od_cleanup() {
	[ -e /dev/mapper/"$dm" ] && DM_DISABLE_UDEV=1 dmsetup remove "$dm" 2>/dev/null
	true
}
trap 'azb_cleanup; od_cleanup' EXIT

# fio_err NAME FIO_ARGS...: runs fio (60 s at most), prints its error code.
fio_err() {
	local name=$1
	shift
	timeout -k 5 60 fio --name="$name" --ioengine=libaio --direct=1 \
		--output-format=terse --terse-version=3 "$@" >"$AZB_WORK/fio.$name" 2>&1
	[ $? -lt 124 ] || fail "fio $name hung: $(tail -n 5 "$AZB_WORK/fio.$name")"
	awk -F';' '/^3;/ {print $5; exit}' "$AZB_WORK/fio.$name"
}

# A 64 MiB sparse file on a 16 MiB file system: writes run out of space.
mnt=$(azb_ext4 16)
truncate -s 64M "$mnt/backing"
azb_serve "$AZB_WORK/run" -q 1 --engine odirect "$mnt/backing"
err=$(fio_err full --filename="$AZB_DEV" --rw=write --bs=1M --size=48M --iodepth=8)
note "writing 48 MiB into 16 MiB: fio error ${err:-none}"
[ "$err" = 28 ] || fail "fio error '$err', want 28 (ENOSPC): $(tail -n 5 "$AZB_WORK/fio.full")"
# What fitted reads back, and the server still serves.
err=$(fio_err after --filename="$AZB_DEV" --rw=read --bs=64k --size=4M)
[ "$err" = 0 ] || fail "read after ENOSPC: fio error '$err'"
kill -0 "$AZB_RUN_PID" || fail "azbuse-run died: $(cat "$AZB_WORK/run.err")"

# The file shrinks under the server: reads past its new end fail with EIO.
truncate -s 32M "$mnt/backing"
err=$(fio_err short --filename="$AZB_DEV" --rw=read --bs=64k --offset=40M --size=1M)
note "reading past the file's end: fio error ${err:-none}"
[ "$err" = 5 ] || fail "fio error '$err', want 5 (EIO)"
azb_stop "$AZB_WORK/run"
grep 'served' "$AZB_WORK/run.err" | sed 's/^/  /'

# A device that fails every request (dm "error" target).
if ! modprobe dm_mod 2>/dev/null || ! command -v dmsetup >/dev/null; then
	note "no device-mapper here: dm-error part skipped"
	azb_no_d_state
	exit 0
fi
DM_DISABLE_UDEV=1 dmsetup create "$dm" --table "0 65536 error" ||
	fail "dmsetup create failed"
azb_serve "$AZB_WORK/run2" -q 1 --engine odirect /dev/mapper/"$dm"
err=$(fio_err dmread --filename="$AZB_DEV" --rw=randread --bs=4k --size=1M --iodepth=4)
note "reading a dm-error device: fio error ${err:-none}"
[ "$err" = 5 ] || fail "fio error '$err', want 5 (EIO)"
err=$(fio_err dmwrite --filename="$AZB_DEV" --rw=randwrite --bs=4k --size=1M --iodepth=4)
note "writing a dm-error device: fio error ${err:-none}"
[ "$err" = 5 ] || fail "fio error '$err', want 5 (EIO)"
azb_no_d_state
azb_stop "$AZB_WORK/run2"
grep 'served' "$AZB_WORK/run2.err" | sed 's/^/  /'
