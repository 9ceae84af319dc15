# The demo, run inside the guest by ci/demo: serve a device with azbuse,
# run fio on it, then the same fio on the kernel's null_blk with the same
# queues and depth, and print both results and their ratio.
source "$(dirname "$0")/lib.sh"
ENGINE=${AZB_DEMO_ENGINE:-null}
QUEUES=${AZB_DEMO_QUEUES:-2}
RUNTIME=${AZB_DEMO_RUNTIME:-10}

azb_load
azb_serve "$AZB_WORK/run" -q "$QUEUES" -d 128 --engine "$ENGINE" -s 1G

job=(--ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth=32
     --numjobs="$QUEUES" --group_reporting --time_based --runtime="$RUNTIME"
     --ramp_time=2 --output-format=normal,json)

# fio's normal report, then the IOPS from its JSON report.
run_fio() {	# run_fio NAME DEVICE OUT
	fio --name="$1" --filename="$2" "${job[@]}" --output="$3" ||
		fail "fio on $2 failed: $(cat "$3")"
	"$AZB_TOP/tests/vm/fio-split" "$3"
}

echo "== azbuse ($ENGINE engine, $QUEUES queues) on $AZB_DEV, kernel $(uname -r)"
azb_out=$(run_fio azbuse "$AZB_DEV" "$AZB_WORK/azb")
echo "$azb_out" | sed '$d'
azb_iops=$(echo "$azb_out" | tail -n 1)

kill -INT "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "azbuse-run did not stop"

modprobe null_blk queue_mode=2 submit_queues="$QUEUES" hw_queue_depth=128 \
	gb=1 nr_devices=1 || skip "null_blk unavailable"
trap 'rmmod null_blk 2>/dev/null; azb_cleanup' EXIT
azb_wait_for /dev/nullb0 5 || fail "/dev/nullb0 missing"
echo "== null_blk (queue_mode=2, $QUEUES queues) on /dev/nullb0"
nb_out=$(run_fio null_blk /dev/nullb0 "$AZB_WORK/nb")
echo "$nb_out" | sed '$d'
nb_iops=$(echo "$nb_out" | tail -n 1)

echo
echo "== result: 4k randread, QD32 x $QUEUES jobs, ${RUNTIME}s, one guest boot"
printf '   azbuse %-5s %8d IOPS\n' "$ENGINE" "$azb_iops"
printf '   null_blk     %8d IOPS\n' "$nb_iops"
python3 -c "import sys; print('   ratio azbuse/null_blk: %.2f' % (int(sys.argv[1]) / max(1, int(sys.argv[2]))))" "$azb_iops" "$nb_iops"
