# Where pollers may run (--pin), in the default guest (one NUMA node, two
# CPUs): by default each poller may use every CPU of its queue's node, so
# a thread that keeps its CPU busy submitting does not have to share it
# with the poller; --pin queue binds each poller to the CPUs blk-mq maps to
# its queue. The runtime's own report (--stats-json) says the same, fio
# verifies through both, and a bad --pin is refused before anything is made.
source "$(dirname "$0")/lib.sh"
[ "$(nproc)" -ge 2 ] || skip "the guest has one CPU"
azb_load
node_cpus=$(cat /sys/devices/system/node/node0/cpulist 2>/dev/null || echo "0-$(($(nproc) - 1))")

# want_cpus PIN QID: the CPUs queue QID's poller may use under --pin PIN.
want_cpus() {
	if [ "$1" = queue ]; then
		tr -d ' ' </sys/block/"$(basename "$AZB_DEV")"/mq/"$2"/cpu_list
	else
		echo "$node_cpus"
	fi
}

# check PIN: every poller's affinity and the runtime's report.
check() {
	local pin=$1 tid q allowed want cpus node
	# A file, not a process substitution: the guest has no /dev/fd.
	azb_pollers "$AZB_RUN_PID" >"$AZB_WORK/pollers"
	[ "$(wc -l <"$AZB_WORK/pollers")" = 2 ] || fail "want 2 pollers"
	while read -r tid q; do
		allowed=$(awk '/^Cpus_allowed_list:/ {print $2}' /proc/"$AZB_RUN_PID"/task/"$tid"/status)
		want=$(want_cpus "$pin" "$q")
		[ "$allowed" = "$want" ] ||
			fail "--pin $pin: queue $q poller runs on $allowed, want $want"
		echo "  --pin $pin: queue $q poller on CPUs $allowed"
	done <"$AZB_WORK/pollers"
	sleep 1.2
	azb_reported_cpus "$AZB_WORK/run.$pin" >"$AZB_WORK/reported"
	[ "$(wc -l <"$AZB_WORK/reported")" = 2 ] || fail "--pin $pin: the runtime reports $(wc -l <"$AZB_WORK/reported") queues, want 2"
	while read -r q cpus node; do
		want=$(want_cpus "$pin" "$q")
		[ "$cpus" = "$want" ] ||
			fail "--pin $pin: the runtime reports queue $q on CPUs $cpus, want $want"
	done <"$AZB_WORK/reported"
}

for pin in node queue; do
	args=(-q 2 -e mem -s 64M --stats-json)
	[ "$pin" = node ] || args+=(--pin queue)
	azb_serve "$AZB_WORK/run.$pin" "${args[@]}"
	check "$pin"
	fio --name=pin --filename="$AZB_DEV" --ioengine=io_uring --direct=1 \
		--rw=randwrite --bs=4k --iodepth=16 --size=16M --verify=crc32c \
		--output="$AZB_WORK/fio.$pin" >/dev/null 2>&1 ||
		fail "fio verify with --pin $pin: $(tail -n 5 "$AZB_WORK/fio.$pin")"
	azb_stop "$AZB_WORK/run.$pin"
	note "--pin $pin: pollers where asked, fio verify clean"
done

if "$AZBUSE_RUN" -e mem -s 64M --pin cpu >"$AZB_WORK/bad" 2>&1; then
	fail "--pin cpu was accepted"
fi
grep -q "is not node or queue" "$AZB_WORK/bad" || fail "--pin cpu: $(cat "$AZB_WORK/bad")"
note "a bad --pin is refused"
