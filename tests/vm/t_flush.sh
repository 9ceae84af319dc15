# FLUSH reaches the runtime: fsync on the device shows up in its counters.
source "$(dirname "$0")/lib.sh"
azb_load
azb_serve "$AZB_WORK/run" -q 1 --engine mem -s 64M
[ "$(cat /sys/block/"$(basename "$AZB_DEV")"/queue/write_cache)" = "write back" ] ||
	fail "no volatile write cache advertised"
fio --name=fsync --filename="$AZB_DEV" --ioengine=sync --rw=write --bs=4k \
	--size=1M --fsync=1 --direct=1 >/dev/null 2>&1 || fail "fio fsync failed"
azb_stop "$AZB_WORK/run"
flushes=$(grep -o 'flush [0-9]*' "$AZB_WORK/run.err" | awk '{s+=$2} END {print s+0}')
note "runtime counted $flushes flushes"
# 256 fsyncs; the block layer may merge a flush into one already pending.
[ "$flushes" -ge 128 ] || fail "expected >= 128 flushes, saw $flushes: $(cat "$AZB_WORK/run.err")"
