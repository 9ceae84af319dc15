# Data integrity: fio crc32c verify over the mem engine, 2 queues, block
# sizes 512 B .. 256 KiB, then a clean stop that removes the device.
source "$(dirname "$0")/lib.sh"
azb_load
azb_serve "$AZB_WORK/run" -q 2 -d 64 --engine mem -s 256M

fio --name=verify --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randwrite --bsrange=512-256k --iodepth=32 --numjobs=2 \
	--size=128M --offset_increment=128M --io_size=48M \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting \
	--output-format=terse --terse-version=3 >"$AZB_WORK/fio" 2>&1 ||
	fail "fio verify failed: $(tail -n 20 "$AZB_WORK/fio")"
# terse v3: field 5 is the error code.
err=$(awk -F';' '/^3;/ {print $5; exit}' "$AZB_WORK/fio")
[ "$err" = 0 ] || fail "fio error $err"
# Field 6 is KiB read: the verify pass must have read the data back.
rkb=$(awk -F';' '/^3;/ {print $6; exit}' "$AZB_WORK/fio")
[ "${rkb:-0}" -gt 0 ] || fail "fio read nothing back: no verify pass"
note "verified ${rkb} KiB"

# Both hardware queues carried I/O.
for q in /sys/block/"$(basename "$AZB_DEV")"/mq/*; do
	n=$(awk '{s+=$1} END {print s+0}' "$q"/cpu*/completed 2>/dev/null || echo 0)
	note "$(basename "$q"): completed $n"
done

azb_stop "$AZB_WORK/run"
sleep 0.2
[ ! -e "$AZB_DEV" ] || fail "$AZB_DEV left behind after stop"
note "fio verify passed; device removed on SIGINT"
