# The embedding example (examples/, built through pkg-config against the
# shared libazbuse): fio verify on a device mirrored onto two files, both
# copies equal with correct checksums (checked by the example and, for a
# sample of blocks, independently here), then damage: a block bad in one
# copy reads correctly and is repaired, a block bad in both fails with EIO.
source "$(dirname "$0")/lib.sh"
XM=$AZB_TOP/build/examples/xmirror
[ -x "$XM" ] || fail "example not built: $XM (make examples)"
azb_load

bs=4096 size=$((64 << 20)) hdr=4096
a=$AZB_WORK/a.img b=$AZB_WORK/b.img

# xm_serve NAME ARGS...: starts the example, waits for its device (AZB_DEV).
xm_serve() {
	local out=$AZB_WORK/$1 i
	shift
	"$XM" "$@" >"$out" 2>"$out.err" &
	XM_PID=$!
	AZB_PIDS+=("$XM_PID")
	for ((i = 0; i < 300; i++)); do
		AZB_DEV=$(head -n 1 "$out" 2>/dev/null || true)
		[ -n "$AZB_DEV" ] && [ -b "$AZB_DEV" ] && return 0
		kill -0 "$XM_PID" 2>/dev/null || fail "xmirror $* exited: $(cat "$out.err")"
		sleep 0.1
	done
	fail "xmirror $* printed no device within 30 s: $(cat "$out.err")"
}

# xm_stop NAME: SIGINT, clean exit, device gone.
xm_stop() {
	kill -INT "$XM_PID"
	azb_wait_exit "$XM_PID" 20 || fail "xmirror did not exit on SIGINT"
	wait "$XM_PID" || fail "xmirror exited with an error: $(cat "$AZB_WORK/$1.err")"
	sleep 0.2
	[ ! -e "$AZB_DEV" ] || fail "$AZB_DEV left behind"
}

# corrupt FILE BLOCK: overwrites one data block with other bytes.
corrupt() {
	head -c "$bs" /dev/urandom | dd of="$1" bs="$bs" seek=$(( (hdr + $2 * bs) / bs )) \
		conv=notrunc status=none
}

ldd "$XM" | grep -q "libazbuse.so.0 => $AZB_TOP/build/lib/" ||
	fail "xmirror does not use the shared libazbuse of this build: $(ldd "$XM")"

xm_serve run1 -s "$size" -q 2 -d 32 "$a" "$b"
lbs=$(cat /sys/block/"$(basename "$AZB_DEV")"/queue/logical_block_size)
[ "$lbs" = "$bs" ] || fail "logical block size $lbs, the engine asked for $bs"
fua=$(cat /sys/block/"$(basename "$AZB_DEV")"/queue/fua 2>/dev/null || echo 0)
note "serving $AZB_DEV (fua $fua)"

fio --name=verify --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randwrite --bsrange=4k-128k --iodepth=16 --numjobs=2 \
	--size=32M --offset_increment=32M --io_size=12M --fdatasync=64 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting \
	--output-format=terse --terse-version=3 >"$AZB_WORK/fio" 2>&1 ||
	fail "fio verify failed: $(tail -n 20 "$AZB_WORK/fio")"
err=$(awk -F';' '/^3;/ {print $5; exit}' "$AZB_WORK/fio")
rkb=$(awk -F';' '/^3;/ {print $6; exit}' "$AZB_WORK/fio")
[ "$err" = 0 ] || fail "fio error $err"
[ "${rkb:-0}" -gt 0 ] || fail "fio read nothing back: no verify pass"
# O_DSYNC writes: FUA (or write + flush) through the engine.
dd if=/dev/urandom of="$AZB_DEV" bs=64k count=16 seek=100 oflag=direct,dsync status=none ||
	fail "O_DSYNC writes failed"
note "fio verified ${rkb} KiB"
xm_stop run1
grep -q "repaired 0 blocks" "$AZB_WORK/run1.err" ||
	fail "repairs without damage: $(cat "$AZB_WORK/run1.err")"

# The mirror's property: equal copies, each block matching its checksum.
"$XM" --check "$a" "$b" >"$AZB_WORK/check1" || fail "check after fio: $(cat "$AZB_WORK/check1")"
cmp --ignore-initial="$hdr" --bytes="$size" "$a" "$b" || fail "the copies differ"
python3 - "$a" "$size" "$bs" <<'EOF' || fail "checksums do not match the data"
import os, random, struct, sys
path, size, bs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hdr, align, mask = 4096, 65536, (1 << 64) - 1
sums_off = (hdr + size + align - 1) // align * align
with open(path, "rb") as f:
    nonzero = 0
    for blk in random.sample(range(size // bs), 48):
        f.seek(hdr + blk * bs)
        s = 0
        for (w,) in struct.iter_unpack("<Q", f.read(bs)):
            s = (((s << 1) | (s >> 63)) & mask) ^ w
        f.seek(sums_off + 8 * blk)
        (want,) = struct.unpack("<Q", f.read(8))
        if s != want:
            sys.exit(f"block {blk}: data sums to {s:#x}, table says {want:#x}")
        nonzero += s != 0
print(f"  48 blocks checked independently, {nonzero} written")
EOF
note "$(cat "$AZB_WORK/check1")"

# One copy damaged: reads are right and repair it.
head -c "$((hdr + size))" "$a" | tail -c "$size" >"$AZB_WORK/good"
corrupt "$a" 5
corrupt "$a" 777
corrupt "$b" 3000
"$XM" --check "$a" "$b" >"$AZB_WORK/check2" && fail "check missed the damage"
grep -q "2 bad in $a, 1 bad in $b, 3 differ" "$AZB_WORK/check2" ||
	fail "check reports: $(cat "$AZB_WORK/check2")"
xm_serve run2 -q 2 "$a" "$b"
dd if="$AZB_DEV" of="$AZB_WORK/read" bs=1M iflag=direct status=none ||
	fail "reading the device failed"
cmp "$AZB_WORK/read" "$AZB_WORK/good" || fail "the device does not read back the good data"
rm -f "$AZB_WORK/read"
xm_stop run2
grep -q "repaired 2 blocks" "$AZB_WORK/run2.err" ||
	fail "expected 2 repairs: $(cat "$AZB_WORK/run2.err")"
"$XM" --check "$a" "$b" >"$AZB_WORK/check3" || true
grep -q "0 bad in $a, 1 bad in $b, 1 differ" "$AZB_WORK/check3" ||
	fail "after repair: $(cat "$AZB_WORK/check3")"
note "2 damaged blocks of A read right and were repaired"

# Both copies damaged: that block fails, its neighbours do not.
corrupt "$a" 9
corrupt "$b" 9
xm_serve run3 -q 1 "$a" "$b"
dd if="$AZB_DEV" of=/dev/null bs="$bs" skip=9 count=1 iflag=direct status=none 2>/dev/null &&
	fail "a block damaged in both copies read without error"
dd if="$AZB_DEV" of=/dev/null bs="$bs" skip=10 count=1 iflag=direct status=none ||
	fail "the block next to the damaged one failed"
xm_stop run3
grep -q "damaged in both copies" "$AZB_WORK/run3.err" ||
	fail "no report of the double damage: $(cat "$AZB_WORK/run3.err")"
note "a block damaged in both copies fails with an I/O error"
