# Engines in Rust (bindings/rust): fio crc32c verify through the ramdisk
# example on 2 queues, mixed sizes, with flushes, then discards that read
# back as zeros; the same verify through the faulty example completing
# every request from a thread of its queue (deferred, Pending handles); a
# panicking engine fails only the requests that panic; SIGKILL of the Rust
# server under load ends as that of the C server does; the rustnull plugin
# served by azbuse-run; the filedisk example's redirects.
source "$(dirname "$0")/lib.sh"
RUST=$AZB_TOP/build/rust/release/examples
[ -x "$RUST/ramdisk" ] ||
	skip "the Rust examples are not built (no cargo; bash ci/deps.sh installs it, then make)"
azb_load

verify() {	# LABEL: fio crc32c verify on $AZB_DEV, 2 jobs, flushes
	fio --name=verify --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
		--rw=randwrite --bsrange=512-256k --iodepth=32 --numjobs=2 \
		--size=96M --offset_increment=96M --io_size=32M --fsync=16 \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting \
		--output-format=terse --terse-version=3 >"$AZB_WORK/fio" 2>&1 ||
		fail "$1: fio verify failed: $(tail -n 20 "$AZB_WORK/fio")"
	local err rkb
	err=$(awk -F';' '/^3;/ {print $5; exit}' "$AZB_WORK/fio")
	rkb=$(awk -F';' '/^3;/ {print $6; exit}' "$AZB_WORK/fio")
	[ "$err" = 0 ] || fail "$1: fio error $err"
	[ "${rkb:-0}" -gt 0 ] || fail "$1: fio read nothing back: no verify pass"
	note "$1: verified $rkb KiB"
}

stop_server() {	# NAME: of the server's output files
	kill -INT "$AZB_RUN_PID"
	azb_wait_exit "$AZB_RUN_PID" 20 || fail "$1 did not exit on SIGINT"
	wait "$AZB_RUN_PID" || fail "$1 exited with an error: $(cat "$AZB_WORK/$1.err")"
	sleep 0.2
	[ ! -e "$AZB_DEV" ] || fail "$1 left $AZB_DEV behind"
}

# 1. ramdisk: verify, queues used, discard reads back zeros.
AZBUSE_RUN=$RUST/ramdisk azb_serve "$AZB_WORK/ramdisk" -q 2 -d 64 -s 256M
[ "$(head -n 1 "$AZB_WORK/ramdisk")" = "$AZB_DEV" ] || fail "ramdisk: first line is not the device"
info=$("$AZBUSECTL" info "${AZB_DEV#/dev/azbuse}" --json)
[[ $info == *'"queues": 2,'* ]] || fail "ramdisk: not a 2-queue device: $info"
verify ramdisk
head -c 1048576 /dev/urandom > "$AZB_WORK/pattern"
dd if="$AZB_WORK/pattern" of="$AZB_DEV" bs=64k seek=64 oflag=direct status=none
blkdiscard -o $((4 << 20)) -l $((512 << 10)) "$AZB_DEV" || fail "ramdisk: blkdiscard failed"
dd if="$AZB_DEV" of="$AZB_WORK/back" bs=64k skip=64 count=16 iflag=direct status=none
cmp -s -n $((512 << 10)) "$AZB_WORK/back" /dev/zero || fail "ramdisk: a discarded range does not read as zeros"
cmp -s -i $((512 << 10)) "$AZB_WORK/back" "$AZB_WORK/pattern" || fail "ramdisk: data past the discard changed"
stop_server ramdisk
note "ramdisk: discard zeroed its range only; device removed on SIGINT"

# 2. Deferred completion from other threads.
AZBUSE_RUN=$RUST/faulty azb_serve "$AZB_WORK/faulty" -q 2 -d 64 -s 256M --defer
verify "faulty --defer"
stop_server faulty

# 3. A panic fails its own requests only (deferred and not).
for mode in "" --defer; do
	AZBUSE_RUN=$RUST/faulty azb_serve "$AZB_WORK/faulty" -q 2 -s 64M --panic-at 1M $mode
	dd if="$AZB_DEV" of=/dev/null bs=4k skip=256 count=1 iflag=direct status=none 2>/dev/null &&
		fail "faulty $mode: a read that panicked succeeded"
	dd if=/dev/zero of="$AZB_DEV" bs=4k seek=256 count=1 oflag=direct status=none ||
		fail "faulty $mode: a write beside the panic failed"
	for blk in 0 255 257 4096; do
		dd if="$AZB_DEV" of=/dev/null bs=4k skip=$blk count=1 iflag=direct status=none ||
			fail "faulty $mode: read of block $blk failed after a panic"
	done
	kill -0 "$AZB_RUN_PID" || fail "faulty $mode: the server died of the panic"
	grep -q "panicked" "$AZB_WORK/faulty.err" || fail "faulty $mode: the panic was not reported"
	stop_server faulty
	note "faulty ${mode:-(at once)}: a panic failed its read only, reported: $(grep -m1 panicked "$AZB_WORK/faulty.err")"
done

# 4. SIGKILL under load: the Rust server ends as the C one does.
killed() {	# LABEL: kill the server under fio; print the device's state after
	fio --name=load --filename="$AZB_DEV" --ioengine=libaio --direct=1 --rw=randrw \
		--bs=4k --iodepth=32 --numjobs=2 --time_based --runtime=60 \
		>"$AZB_WORK/fio" 2>&1 &
	local fio_pid=$! id state
	sleep 3
	kill -KILL "$AZB_RUN_PID"
	azb_wait_exit "$fio_pid" 20 || fail "$1: fio still running 20 s after the kill"
	wait "$fio_pid" && fail "$1: fio reported success after its server died"
	azb_no_d_state
	id=${AZB_DEV#/dev/azbuse}
	state=$("$AZBUSECTL" info "$id" --json 2>/dev/null | grep -o '"state": *"[a-z]*"' || echo gone)
	"$AZBUSECTL" remove "$id" 2>/dev/null || true
	azb_wait_exit "$AZB_RUN_PID" 5 || true
	[ ! -e "$AZB_DEV" ] || fail "$1: $AZB_DEV cannot be removed after the kill"
	echo "$state"
}
AZBUSE_RUN=$RUST/ramdisk azb_serve "$AZB_WORK/rk" -q 2 -s 128M
rust_state=$(killed "rust ramdisk")
azb_serve "$AZB_WORK/ck" -q 2 -s 128M --engine mem
c_state=$(killed "C mem")
[ "$rust_state" = "$c_state" ] || fail "after SIGKILL: Rust server leaves $rust_state, C server $c_state"
note "SIGKILL under load: fio ended with errors, no D state, device $rust_state then removed, as with the C server"

# 5. The Rust null engine as a plugin of azbuse-run.
[ -f "$AZB_TOP/build/rust/engines/rustnull.so" ] || fail "rustnull.so not built"
AZBUSE_ENGINE_PATH=$AZB_TOP/build/rust/engines azb_serve "$AZB_WORK/rn" -q 2 -s 1G --engine rustnull
fio --name=r --filename="$AZB_DEV" --ioengine=libaio --direct=1 --rw=randread --bs=4k \
	--iodepth=16 --numjobs=2 --size=64M --group_reporting --output-format=terse \
	--terse-version=3 >"$AZB_WORK/fio" 2>&1 || fail "rustnull: fio failed: $(tail -n 5 "$AZB_WORK/fio")"
stop_server rn
note "azbuse-run --engine rustnull served fio"

# 6. Redirects from Rust: filedisk answers every READ and WRITE with where
# its bytes are on a RAM disk, and the kernel moves the data.
modprobe brd rd_nr=1 rd_size=131072 2>/dev/null && azb_wait_for /dev/ram0 5 ||
	fail "no brd (a RAM disk) for the redirect part"
AZBUSE_RUN=$RUST/filedisk azb_serve "$AZB_WORK/fd" -q 2 -d 64 /dev/ram0
verify filedisk
stop_server fd
redirected=$(sed -n 's/.* \([0-9]*\) redirected$/\1/p' "$AZB_WORK/fd.err")
[ "${redirected:-0}" -gt 0 ] || fail "filedisk: nothing was redirected: $(cat "$AZB_WORK/fd.err")"
rmmod brd 2>/dev/null || true
note "filedisk: fio verify passed with $redirected requests redirected to /dev/ram0"
