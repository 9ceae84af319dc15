# vm: -m 3G
# The rbd engine against a real single-node Ceph cluster in the guest
# (ci/ceph/cluster: ceph-mon and a memstore ceph-osd on 127.0.0.1), 2
# queues: fio crc32c verify through the device; write-zeroes and a discard
# of whole objects read back as zeroes; the image exported by Ceph's own
# tool equals the device byte for byte; with the OSD stopped, I/O waits
# (the default) and completes once it is back, or fails with op_timeout
# and works again once it is back; the image resized under the device:
# the device follows.
# timeout: 900
source "$(dirname "$0")/lib.sh"
command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null &&
	command -v rbd >/dev/null || skip "Ceph is not installed (bash ci/deps.sh)"
# Not under $AZB_WORK: azb_cleanup removes that before the cluster stops.
ceph=$(mktemp -d /tmp/azbceph.XXXXXX)
rbd_cleanup() {
	local rc=$?
	azb_cleanup
	"$AZB_TOP"/ci/ceph/cluster stop "$ceph" >/dev/null 2>&1
	[ $rc = 0 ] || tail -n 20 "$ceph"/log/*.log >&2 2>/dev/null
	rm -rf "$ceph"
	return $rc
}
trap rbd_cleanup EXIT

mb=128
conf=$("$AZB_TOP"/ci/ceph/cluster start "$ceph" --image rbd/img --size $mb) ||
	fail "the Ceph cluster did not start"
export "${conf?}"
note "cluster up ($conf)"
azb_load

azb_serve "$AZB_WORK/run" -q 2 -d 64 --engine rbd rbd/img
[ "$(blockdev --getsize64 "$AZB_DEV")" = $((mb << 20)) ] ||
	fail "size $(blockdev --getsize64 "$AZB_DEV"), image $mb MiB"
q=/sys/block/$(basename "$AZB_DEV")/queue
[ "$(cat $q/discard_max_bytes)" -gt 0 ] || fail "no discard advertised"
[ "$(cat $q/write_zeroes_max_bytes)" -gt 0 ] || fail "no write-zeroes advertised"

fio --name=verify --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randwrite --bsrange=4k-128k --iodepth=16 --numjobs=2 \
	--size=32M --offset_increment=32M --verify=crc32c --verify_fatal=1 \
	--randseed=11 --group_reporting >"$AZB_WORK/fio" 2>&1 ||
	fail "fio verify failed: $(tail -n 20 "$AZB_WORK/fio")"
grep -q 'err= 0' "$AZB_WORK/fio" || fail "fio errors: $(grep err= "$AZB_WORK/fio")"
note "fio verify through rbd: passed"

# Zeroes: write-zeroes of 1 MiB, then a discard of one whole 4 MiB object
# (librbd removes it), both on data written first.
dd if=/dev/urandom of="$AZB_DEV" bs=1M count=8 seek=96 oflag=direct status=none ||
	fail "dd failed"
blkdiscard -z -o $((97 << 20)) -l $((1 << 20)) "$AZB_DEV" || fail "blkdiscard -z failed"
blkdiscard -o $((100 << 20)) -l $((4 << 20)) "$AZB_DEV" || fail "blkdiscard failed"
dd if="$AZB_DEV" bs=1M skip=97 count=1 iflag=direct status=none |
	cmp -s -n $((1 << 20)) - /dev/zero || fail "zeroed range is not zeroes"
dd if="$AZB_DEV" bs=1M skip=100 count=4 iflag=direct status=none |
	cmp -s -n $((4 << 20)) - /dev/zero || fail "discarded object is not zeroes"
dd if="$AZB_DEV" bs=1M skip=96 count=1 iflag=direct status=none |
	cmp -s -n $((1 << 20)) - /dev/zero && fail "data before the zeroed range is gone"
sync "$AZB_DEV" 2>/dev/null || blockdev --flushbufs "$AZB_DEV"
dev_sum=$(dd if="$AZB_DEV" bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1)
azb_stop "$AZB_WORK/run" 30
img_sum=$(rbd export rbd/img - 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$dev_sum" = "$img_sum" ] ||
	fail "rbd export of the image differs from the device ($img_sum vs $dev_sum)"
note "write-zeroes and discard read back as zeroes; rbd export equals the device"

# OSD down, default: I/O waits for it (the device timeout is longer than
# the OSD's restart), then completes.
azb_serve "$AZB_WORK/run2" -q 2 --timeout 300 --engine rbd rbd/img
"$AZB_TOP"/ci/ceph/cluster osd-stop "$ceph" || fail "osd-stop failed"
dd if=/dev/urandom of="$AZB_WORK/blk" bs=64k count=1 status=none
dd if="$AZB_WORK/blk" of="$AZB_DEV" bs=64k seek=10 oflag=direct,sync status=none &
dd_pid=$!
sleep 3
kill -0 "$dd_pid" 2>/dev/null || fail "a write with the OSD down ended at once"
"$AZB_TOP"/ci/ceph/cluster osd-start "$ceph" || fail "osd-start failed"
azb_wait_exit "$dd_pid" 120 || fail "the write did not complete once the OSD was back"
wait "$dd_pid" || fail "the write waiting for the OSD failed"
dd if="$AZB_DEV" bs=64k skip=10 count=1 iflag=direct status=none |
	cmp -s - "$AZB_WORK/blk" || fail "the write made while the OSD was down is not there"
note "with the OSD down, a write waited and completed once it was back"
azb_stop "$AZB_WORK/run2" 30

# OSD down with op_timeout=3: I/O fails with an error instead of waiting,
# and works again once the OSD is back.
azb_serve "$AZB_WORK/run3" -q 2 --engine rbd -o op_timeout=3 rbd/img
"$AZB_TOP"/ci/ceph/cluster osd-stop "$ceph" || fail "osd-stop failed"
start=$(date +%s)
dd if="$AZB_DEV" of=/dev/null bs=4k skip=100 count=1 iflag=direct status=none 2>"$AZB_WORK/dd.err" &&
	fail "a read with the OSD down and op_timeout=3 succeeded"
took=$(( $(date +%s) - start ))
[ $took -le 25 ] || fail "the failing read took $took s"
note "with op_timeout=3 and the OSD down, a read failed after $took s: $(head -n 1 "$AZB_WORK/dd.err")"
"$AZB_TOP"/ci/ceph/cluster osd-start "$ceph" || fail "osd-start failed"
dd if="$AZB_DEV" bs=64k skip=10 count=1 iflag=direct status=none |
	cmp -s - "$AZB_WORK/blk" || fail "reads do not work again once the OSD is back"
note "reads work again once the OSD is back"
azb_stop "$AZB_WORK/run3" 30

# The image is resized under a served device: the device follows.
resize_image() {	# resize_image MIB
	/usr/bin/python3 - "$1" <<'EOF' || fail "resizing the image to $1 MiB failed"
import os, sys, rados, rbd
with rados.Rados(conffile=os.environ["CEPH_CONF"]) as c:
    with c.open_ioctx("rbd") as io:
        with rbd.Image(io, "img") as img:
            img.resize(int(sys.argv[1]) << 20, allow_shrink=True)
EOF
}
wait_size() {	# wait_size MIB: the device has that size within 120 s
	local i
	for ((i = 0; i < 1200; i++)); do
		[ "$(blockdev --getsize64 "$AZB_DEV")" = $(($1 << 20)) ] && return 0
		sleep 0.1
	done
	fail "the device has $(blockdev --getsize64 "$AZB_DEV") bytes, the image $1 MiB"
}
azb_serve "$AZB_WORK/run4" -q 2 --engine rbd rbd/img
resize_image 160
wait_size 160
dd if="$AZB_WORK/blk" of="$AZB_DEV" bs=64k seek=$((150 << 4)) oflag=direct status=none ||
	fail "a write past the old end failed"
dd if="$AZB_DEV" bs=64k skip=$((150 << 4)) count=1 iflag=direct status=none |
	cmp -s - "$AZB_WORK/blk" || fail "the write past the old end did not read back"
resize_image 144
wait_size 144
# dd may also fail to skip there: either way no byte comes back.
n=$(dd if="$AZB_DEV" bs=64k skip=$((150 << 4)) count=1 iflag=direct status=none 2>/dev/null | wc -c || true)
[ "$n" = 0 ] || fail "a read past the new end returned $n bytes"
grep -q 'resized: the device now has' "$AZB_WORK/run4.err" ||
	fail "azbuse-run did not say it resized: $(cat "$AZB_WORK/run4.err")"
note "the image grew to 160 MiB and shrank to 144 MiB: the device followed"
azb_stop "$AZB_WORK/run4" 30
azb_no_d_state
