# Thousands of random and boundary-value control ioctls, seeded and
# reproducible; every bad one refused; then a fresh device verifies clean.
source "$(dirname "$0")/lib.sh"
azb_load
for seed in 1 2 3; do
	"$AZB_HOSTILE" ctl "$seed" 3000 || fail "hostile ctl seed $seed"
done
[ "$("$AZBUSECTL" list --json | tr -d ' \n')" = "[]" ] ||
	fail "the fuzzer left devices: $("$AZBUSECTL" list)"
azb_serve "$AZB_WORK/run" -q 2 --engine mem -s 64M
fio --name=v --filename="$AZB_DEV" --ioengine=libaio --direct=1 \
	--rw=randwrite --bs=4k --iodepth=16 --size=16M --verify=crc32c \
	--verify_fatal=1 >"$AZB_WORK/fio" 2>&1 || fail "fio verify after fuzzing: $(tail -5 "$AZB_WORK/fio")"
note "9000 hostile control ioctls; fio verify clean afterwards"
