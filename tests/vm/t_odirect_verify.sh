# odirect over a file on ext4: fio crc32c verify with block sizes 512 B ..
# 1 MiB on 2 queues at QD 32, then the backing file, read directly, holds
# exactly what the device holds.
source "$(dirname "$0")/lib.sh"
azb_load
modprobe ext4 2>/dev/null || true
mnt=$(azb_ext4 320)
truncate -s 256M "$mnt/backing"
azb_serve "$AZB_WORK/run" -q 2 -d 64 --max-io 1M --engine odirect "$mnt/backing"
name=$(basename "$AZB_DEV")
[ "$(cat /sys/block/"$name"/size)" = $((256 * 2048)) ] ||
	fail "device has $(cat /sys/block/"$name"/size) sectors, want the file's $((256 * 2048))"

fio --name=verify --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randwrite --bssplit=512/10:4k/30:64k/30:256k/20:1m/10 \
	--iodepth=32 --numjobs=2 --size=128M --offset_increment=128M --io_size=40M \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting \
	--output-format=terse --terse-version=3 >"$AZB_WORK/fio" 2>&1 ||
	fail "fio verify failed: $(tail -n 20 "$AZB_WORK/fio")"
# terse v3: field 5 is the error code, field 6 KiB read (the verify pass).
err=$(awk -F';' '/^3;/ {print $5; exit}' "$AZB_WORK/fio")
[ "$err" = 0 ] || fail "fio error $err"
rkb=$(awk -F';' '/^3;/ {print $6; exit}' "$AZB_WORK/fio")
[ "${rkb:-0}" -gt 0 ] || fail "fio read nothing back: no verify pass"
note "verified ${rkb} KiB"

# The device through azbuse, then the file directly: the same bytes.
dev_sum=$(md5sum <"$AZB_DEV" | cut -d' ' -f1)
kill -INT "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "azbuse-run did not exit on SIGINT"
wait "$AZB_RUN_PID" || fail "azbuse-run exited with an error: $(cat "$AZB_WORK/run.err")"
file_sum=$(md5sum <"$mnt/backing" | cut -d' ' -f1)
[ "$dev_sum" = "$file_sum" ] ||
	fail "device md5 $dev_sum, backing file md5 $file_sum"
note "device and backing file both md5 $dev_sum"
grep 'served' "$AZB_WORK/run.err" | sed 's/^/  /'
