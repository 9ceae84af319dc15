# No I/O scheduler by default, even with one hardware queue (where the
# kernel would pick mq-deadline and dispatch every request from a kblockd
# worker); an admin can still choose one, and I/O stays correct under it.
source "$(dirname "$0")/lib.sh"
azb_load
azb_serve "$AZB_WORK/run" -q 1 --engine mem -s 64M
sched=/sys/block/$(basename "$AZB_DEV")/queue/scheduler
note "1 queue: $(cat "$sched")"
grep -q '\[none\]' "$sched" || fail "default scheduler is not none: $(cat "$sched")"
grep -qw mq-deadline "$sched" || skip "mq-deadline is not available: $(cat "$sched")"
echo mq-deadline >"$sched" || fail "cannot select mq-deadline"
grep -q '\[mq-deadline\]' "$sched" || fail "mq-deadline not selected: $(cat "$sched")"
fio --name=verify --filename="$AZB_DEV" --ioengine=io_uring --direct=1 --rw=randwrite \
	--bs=4k --size=16M --iodepth=16 --verify=crc32c --do_verify=1 \
	>"$AZB_WORK/fio" 2>&1 || fail "fio verify under mq-deadline: $(tail -5 "$AZB_WORK/fio")"
echo none >"$sched" || fail "cannot go back to none"
azb_stop "$AZB_WORK/run"
