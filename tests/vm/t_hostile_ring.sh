# A hostile runtime: bad mmaps, arenas and queue ids, garbage ring indices
# and CQEs, double and stale completions, results longer than requests,
# while I/O runs; then an unprivileged user; then a normal runtime on the
# same device verifies clean, and the module unloads.
source "$(dirname "$0")/lib.sh"
azb_load
dev=$("$AZBUSECTL" add 4 -s 64M -q 2 -d 16 --max-io 64K --timeout 2) || fail "add"
for seed in 11 12; do
	note "seed $seed"
	"$AZB_HOSTILE" chr 4 "$seed" 4000 || fail "hostile chr seed $seed"
done
azb_no_d_state
"$AZB_HOSTILE" unpriv 4 || fail "an unprivileged user got in"
azb_serve "$AZB_WORK/run" --dev 4 --engine mem
fio --name=v --filename="$dev" --ioengine=libaio --direct=1 \
	--rw=randwrite --bsrange=4k-64k --iodepth=16 --size=32M \
	--verify=crc32c --verify_fatal=1 >"$AZB_WORK/fio" 2>&1 ||
	fail "fio verify after the hostile runtime: $(tail -5 "$AZB_WORK/fio")"
kill -TERM "$AZB_RUN_PID"
azb_wait_exit "$AZB_RUN_PID" 20 || fail "azbuse-run did not stop"
"$AZBUSECTL" remove 4 || fail "remove"
rmmod azbuse || fail "rmmod after the hostile runtime"
note "8000 hostile ring rounds, unprivileged access refused, clean afterwards"
