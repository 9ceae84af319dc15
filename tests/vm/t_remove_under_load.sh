# 20 cycles of add, serve, fio, remove while fio runs: fio ends with
# errors, the runtime exits, nothing hangs; then the module unloads and
# the kernel's memory use is back where it started: its objects to within
# 2 MiB, its pages to within 64 MiB (less than 20 cycles of a leaked 16 MiB
# arena; the measure itself moves by 15 MiB).
# timeout: 1200
source "$(dirname "$0")/lib.sh"
azb_load
sync; echo 3 >/proc/sys/vm/drop_caches
before=$(azb_kernel_mem_kb) objs_before=$(azb_kernel_objs_kb)
for cycle in $(seq 20); do
	dev=$("$AZBUSECTL" add 2 -s 64M -q 2 -d 32) || fail "cycle $cycle: add"
	azb_serve "$AZB_WORK/run" --dev 2 --engine mem
	fio --name=load --filename="$dev" --ioengine=libaio --direct=1 \
		--rw=randrw --bs=4k --iodepth=16 --numjobs=2 --time_based \
		--runtime=30 >"$AZB_WORK/fio" 2>&1 &
	fio_pid=$!
	sleep 1
	"$AZBUSECTL" remove 2 || fail "cycle $cycle: remove under load failed"
	azb_wait_exit "$fio_pid" 20 || fail "cycle $cycle: fio still running after remove"
	wait "$fio_pid" && fail "cycle $cycle: fio reported success on a removed device"
	azb_wait_exit "$AZB_RUN_PID" 20 || fail "cycle $cycle: azbuse-run did not exit"
	[ ! -e "$dev" ] || fail "cycle $cycle: $dev still exists"
	azb_no_d_state
done
rmmod azbuse || fail "rmmod after 20 remove cycles"
grep -q '^azbuse ' /proc/modules && fail "module still loaded"
sync; echo 3 >/proc/sys/vm/drop_caches
after=$(azb_kernel_mem_kb) objs_after=$(azb_kernel_objs_kb)
note "kernel memory before ${before} KiB, after ${after} KiB;" \
	"kernel objects before ${objs_before} KiB, after ${objs_after} KiB"
[ $((objs_after - objs_before)) -lt 2048 ] ||
	fail "kernel objects grew by $((objs_after - objs_before)) KiB"
[ $((after - before)) -lt 65536 ] || fail "kernel memory grew by $((after - before)) KiB"
