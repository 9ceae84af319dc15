# A READ the runtime holds past the device's timeout fails with EIO, but
# its arena slot stays the runtime's until the runtime answers: no other
# request is given that slot meanwhile, so the late read cannot land on a
# write's bytes.  fio verify writes run on the same 1-queue device before,
# during and after; zero verify errors, no error of any kind reaches fio,
# and the late answer is taken (not refused as stale).
source "$(dirname "$0")/lib.sh"
azb_load
dev=$("$AZBUSECTL" add 8 -s 64M -q 1 -d 16 --timeout 2) || fail "add"
# Hold the first READ at 48 MiB or beyond (sector 98304): fio stays below.
"$AZB_HOSTILE" lateread 8 98304 >"$AZB_WORK/late" 2>&1 &
late_pid=$!
AZB_PIDS+=("$late_pid")
for i in $(seq 100); do grep -q serving "$AZB_WORK/late" && break; sleep 0.1; done
grep -q serving "$AZB_WORK/late" || fail "the server did not start: $(cat "$AZB_WORK/late")"

verify_round() {
	fio --name=v --filename="$dev" --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=4k --iodepth=16 --size=8M --offset="$1" \
		--verify=crc32c --verify_fatal=1 >"$AZB_WORK/fio" 2>&1 ||
		fail "fio verify (round at offset $1): $(tail -8 "$AZB_WORK/fio")"
}
verify_round 0
dd if="$dev" of=/dev/null bs=4k count=1 skip=12288 iflag=direct \
	2>"$AZB_WORK/dd" &
dd_pid=$!
for i in $(seq 100); do grep -q holding "$AZB_WORK/late" && break; sleep 0.1; done
grep -q holding "$AZB_WORK/late" || fail "the READ was not held: $(cat "$AZB_WORK/late")"
# Writes until the held READ has timed out and been answered, and after.
rounds=0
for i in $(seq 60); do
	verify_round $(( (i % 4) * 8 ))M
	rounds=$((rounds + 1))
	grep -q landed "$AZB_WORK/late" && break
done
grep -q landed "$AZB_WORK/late" || fail "the held READ was never answered: $(cat "$AZB_WORK/late")"
verify_round 16M
wait "$dd_pid" && fail "the held READ succeeded; it should have timed out"
grep -q 'Input/output error' "$AZB_WORK/dd" || fail "the held READ: $(cat "$AZB_WORK/dd")"
kill -TERM "$late_pid"
wait "$late_pid" || fail "the server saw the slot reused or its answer refused: $(cat "$AZB_WORK/late")"
note "$(grep -E 'landed|served' "$AZB_WORK/late" | tr '\n' ' ')"
note "$((rounds + 2)) fio verify rounds clean; the timed-out READ failed with EIO"
azb_no_d_state
