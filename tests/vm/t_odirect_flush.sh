# A flush reaches the target: fsync on an odirect device over a file on
# ext4 is counted by the runtime and turns into an fdatasync, which ext4
# passes on as a flush of its own disk (a loop device, which counts them).
source "$(dirname "$0")/lib.sh"
azb_load
modprobe ext4 2>/dev/null || true
mnt=$(azb_ext4 100)
loop=$(basename "$(findmnt -no SOURCE "$mnt")")
[ -r /sys/block/"$loop"/stat ] || fail "no block device under $mnt: $loop"
truncate -s 32M "$mnt/backing"
azb_serve "$AZB_WORK/run" -q 1 --engine odirect "$mnt/backing"
q=/sys/block/$(basename "$AZB_DEV")/queue
[ "$(cat $q/write_cache)" = "write back" ] || fail "no volatile write cache advertised"
[ "$(cat $q/fua)" = 1 ] || fail "no FUA advertised"

# Field 16 of the stat file: flush requests completed.
flushes() { awk '{print $16}' /sys/block/"$loop"/stat; }
before=$(flushes)
fio --name=fsync --filename="$AZB_DEV" --ioengine=sync --rw=write --bs=4k \
	--size=1M --fsync=1 --direct=1 >"$AZB_WORK/fio" 2>&1 ||
	fail "fio fsync failed: $(tail -n 5 "$AZB_WORK/fio")"
sync "$AZB_DEV" || fail "sync of the device failed"
after=$(flushes)
note "$loop (under the file) completed $((after - before)) flushes"
azb_stop "$AZB_WORK/run"
served=$(grep -o 'flush [0-9]*' "$AZB_WORK/run.err" | awk '{print $2}')
note "the runtime served ${served:-0} flushes"
# 256 fsyncs and a sync; the block layer may merge flushes that overlap.
[ "${served:-0}" -ge 128 ] || fail "runtime saw ${served:-0} flushes, want >= 128"
[ $((after - before)) -ge $((served / 2)) ] ||
	fail "$served flushes served, but only $((after - before)) reached $loop"
