# stripe over 2 and then 3 memory-backed null_blk devices: fio crc32c
# verify (512 B .. 1 MiB, 2 queues, QD 32), every read and write
# redirected, and each member holds exactly its chunks (chunk c of the
# device is chunk c / N of member c % N).  Bad command lines are refused.
source "$(dirname "$0")/lib.sh"
azb_load
grep -q '^null_blk ' /proc/modules && skip "null_blk is loaded already"
modprobe null_blk nr_devices=3 gb=1 bs=512 memory_backed=1 ||
	skip "no null_blk module"
nb_cleanup() {
	grep -q '^null_blk ' /proc/modules && rmmod null_blk 2>/dev/null
	true
}
trap 'azb_cleanup; nb_cleanup' EXIT
for i in 0 1 2; do
	azb_wait_for /dev/nullb$i 5 || fail "/dev/nullb$i did not appear"
done

refused() {	# refused WHY ARGS...: azbuse-run must fail at once
	local why=$1
	shift
	timeout 20 "$AZBUSE_RUN" "$@" >/dev/null 2>"$AZB_WORK/bad" &&
		fail "azbuse-run $* started ($why)"
	grep -q "stripe engine" "$AZB_WORK/bad" ||
		fail "azbuse-run $* ($why): no reason given: $(cat "$AZB_WORK/bad")"
}
refused "one member" --engine stripe /dev/nullb0
refused "chunk 4K" --engine stripe -o chunk=4K /dev/nullb0,/dev/nullb1
refused "chunk not a power of two" --engine stripe -o chunk=96K /dev/nullb0,/dev/nullb1
refused "unknown option" --engine stripe -o stride=4 /dev/nullb0,/dev/nullb1

# layout DEV CHUNK_BYTES MEMBER...: each chunk of DEV is where RAID-0 puts it.
layout() {
	python3 - "$@" <<'PY'
import os, sys
dev, chunk, members = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
n = len(members)
size = os.path.getsize(dev) if not dev.startswith('/dev/') else \
	int(open('/sys/block/%s/size' % os.path.basename(dev)).read()) * 512
fd = os.open(dev, os.O_RDONLY)
mfd = [os.open(m, os.O_RDONLY) for m in members]
bad = 0
for c in range(size // chunk):
	a = os.pread(fd, chunk, c * chunk)
	b = os.pread(mfd[c % n], chunk, (c // n) * chunk)
	if a != b:
		bad += 1
		if bad <= 3:
			print('chunk %d differs from %s at %d' % (c, members[c % n], (c // n) * chunk))
print('%d chunks checked, %d differ' % (size // chunk, bad))
sys.exit(1 if bad else 0)
PY
}

run_stripe() {	# run_stripe CHUNK_BYTES MEMBER...
	local chunk=$1 list
	shift
	list=$(IFS=,; echo "$*")
	azb_serve "$AZB_WORK/run$#" -q 2 -d 32 -s 192M --max-io 1M \
		--engine stripe -o chunk=$((chunk / 1024))K "$list"
	fio --name=verify --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
		--rw=randwrite --bssplit=512/10:4k/30:64k/30:256k/20:1m/10 \
		--iodepth=32 --numjobs=2 --size=96M --offset_increment=96M \
		--io_size=32M --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--group_reporting --output-format=terse --terse-version=3 \
		>"$AZB_WORK/fio" 2>&1 || fail "$# members: fio verify failed: $(tail -n 20 "$AZB_WORK/fio")"
	[ "$(awk -F';' '/^3;/ {print $5; exit}' "$AZB_WORK/fio")" = 0 ] ||
		fail "$# members: fio reported an error"
	note "$# members, chunk $chunk: verified $(awk -F';' '/^3;/ {print $6; exit}' "$AZB_WORK/fio") KiB"
	sync "$AZB_DEV"
	layout "$AZB_DEV" "$chunk" "$@" >"$AZB_WORK/layout" 2>&1 ||
		fail "$# members: $(cat "$AZB_WORK/layout")"
	note "$(tail -n 1 "$AZB_WORK/layout")"
	azb_stop "$AZB_WORK/run$#"
	grep 'served' "$AZB_WORK/run$#.err" | sed 's/^/  /'
	grep -q ' [1-9][0-9]* redirected$' "$AZB_WORK/run$#.err" ||
		fail "nothing redirected: $(grep served "$AZB_WORK/run$#.err")"
}
run_stripe $((64 << 10)) /dev/nullb0 /dev/nullb1
run_stripe $((128 << 10)) /dev/nullb0 /dev/nullb1 /dev/nullb2
