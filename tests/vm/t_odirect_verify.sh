# odirect over a file on ext4: fio crc32c verify with block sizes 512 B ..
# 1 MiB on 2 queues at QD 32, redirected (the kernel does the file I/O on
# the request's pages), then the backing file, read directly, holds exactly
# what the device holds; then the same file served with -o copy (data
# through the runtime's arena) reads the same and redirects nothing.
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
azb_stop "$AZB_WORK/run"
file_sum=$(md5sum <"$mnt/backing" | cut -d' ' -f1)
[ "$dev_sum" = "$file_sum" ] ||
	fail "device md5 $dev_sum, backing file md5 $file_sum"
note "device and backing file both md5 $dev_sum"
grep 'served' "$AZB_WORK/run.err" | sed 's/^/  /'
redirected=$(sed -n 's/.*served .* \([0-9]*\) redirected$/\1/p' "$AZB_WORK/run.err")
reads=$(sed -n 's/.*served read \([0-9]*\) write.*/\1/p' "$AZB_WORK/run.err")
writes=$(sed -n 's/.*served read [0-9]* write \([0-9]*\) .*/\1/p' "$AZB_WORK/run.err")
[ -n "$redirected" ] && [ "$redirected" -gt 0 ] ||
	fail "nothing was redirected: $(grep served "$AZB_WORK/run.err")"
[ "$redirected" = $((reads + writes)) ] ||
	fail "$redirected of $((reads + writes)) reads and writes redirected"

# The copy path over the same file: same bytes, nothing redirected.
azb_serve "$AZB_WORK/run2" -q 2 -d 64 --max-io 1M --engine odirect -o copy "$mnt/backing"
copy_sum=$(md5sum <"$AZB_DEV" | cut -d' ' -f1)
[ "$copy_sum" = "$file_sum" ] || fail "with -o copy the device reads md5 $copy_sum, the file $file_sum"
fio --name=copy --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randwrite --bssplit=4k/50:64k/50 --iodepth=16 --size=64M \
	--io_size=8M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output-format=terse --terse-version=3 >"$AZB_WORK/fio2" 2>&1 ||
	fail "fio verify with -o copy failed: $(tail -n 20 "$AZB_WORK/fio2")"
azb_stop "$AZB_WORK/run2"
grep 'served' "$AZB_WORK/run2.err" | sed 's/^/  /'
grep -q ' 0 redirected$' "$AZB_WORK/run2.err" ||
	fail "-o copy redirected: $(grep served "$AZB_WORK/run2.err")"
