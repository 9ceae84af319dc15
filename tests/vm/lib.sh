# Helpers for guest tests (sourced).  Each test is a bash script run as root
# inside a QEMU guest from the repository root; it exits 0 (pass), 1 (fail)
# or 77 (skip) and cleans up after itself, passing or not.
set -euo pipefail

AZB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AZB_KO=$AZB_TOP/build/kmod/$(uname -r)/azbuse.ko
AZBUSECTL=$AZB_TOP/build/bin/azbusectl
AZBUSE_RUN=$AZB_TOP/build/bin/azbuse-run
# Scratch space: the guest has tmpfs on /tmp.
AZB_WORK=$(mktemp -d /tmp/azbtest.XXXXXX)
AZB_PIDS=()

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "  $*"; }

azb_cleanup() {
	local rc=$? p
	set +e	# clean up as much as possible; keep the test's own status
	for p in "${AZB_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${AZB_PIDS[@]}"; do
		azb_wait_exit "$p" 20 || kill -KILL "$p" 2>/dev/null || true
	done
	if [ -e /dev/azbusectl ]; then
		"$AZBUSECTL" list --json 2>/dev/null |
			grep -o '"id": *[0-9]*' | grep -o '[0-9]*$' |
			while read -r id; do "$AZBUSECTL" remove "$id" || true; done
	fi
	grep -q '^azbuse ' /proc/modules && rmmod azbuse 2>/dev/null || true
	cd /
	mountpoint -q "$AZB_WORK/fs" 2>/dev/null && umount "$AZB_WORK/fs"
	rm -rf "$AZB_WORK"
	return $rc
}
trap azb_cleanup EXIT
# The checkout is read-only in the guest; tools that write files (fio's
# verify state) work in the scratch directory.
cd "$AZB_WORK"

azb_load() {
	[ -f "$AZB_KO" ] || fail "module not built: $AZB_KO"
	grep -q '^azbuse ' /proc/modules || insmod "$AZB_KO"
	azb_wait_for /dev/azbusectl 5 || fail "/dev/azbusectl did not appear"
}

# azb_wait_for PATH SECONDS: waits for a device node.
azb_wait_for() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# azb_wait_exit PID SECONDS: waits for a process to end.
azb_wait_exit() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# azb_serve OUTFILE ARGS...: starts azbuse-run in the background, waits for
# the device path it prints, and sets AZB_DEV and AZB_RUN_PID.
azb_serve() {
	local out=$1 i
	shift
	"$AZBUSE_RUN" "$@" >"$out" 2>"$out.err" &
	AZB_RUN_PID=$!
	AZB_PIDS+=("$AZB_RUN_PID")
	for ((i = 0; i < 300; i++)); do
		AZB_DEV=$(head -n 1 "$out" 2>/dev/null || true)
		if [ -n "$AZB_DEV" ] && [ -b "$AZB_DEV" ]; then
			return 0
		fi
		kill -0 "$AZB_RUN_PID" 2>/dev/null ||
			fail "azbuse-run $* exited: $(cat "$out.err")"
		sleep 0.1
	done
	fail "azbuse-run $* printed no device within 30 s: $(cat "$out.err")"
}

# azb_stop OUTFILE [SECONDS]: stops the azbuse-run azb_serve OUTFILE
# started, as a user's Ctrl-C would, and fails unless it exits, and exits
# 0, in SECONDS (default 20).
azb_stop() {
	kill -INT "$AZB_RUN_PID"
	azb_wait_exit "$AZB_RUN_PID" "${2:-20}" || fail "azbuse-run did not stop"
	wait "$AZB_RUN_PID" || fail "azbuse-run failed: $(cat "$1.err")"
}

# azb_d_state_pids: the pids of tasks in uninterruptible sleep now. Read
# from /proc by the shell itself: a ps or awk started for the job is, for
# a moment, in D state itself while the 9p root pages its binary in.
azb_d_state_pids() {
	local f stat
	for f in /proc/[0-9]*/stat; do
		read -r stat <"$f" 2>/dev/null || continue
		stat=${stat##*) }	# comm may hold spaces and parentheses
		[ "${stat%% *}" = D ] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
	return 0
}

# No task may be stuck in uninterruptible sleep. A single look catches
# tasks that sleep in D for a moment on the 9p root (a program being paged
# in), so a task counts as stuck only if it is in D state in every one of
# ten looks over five seconds.
azb_no_d_state() {
	local stuck pid now i line
	stuck=$(azb_d_state_pids)
	for ((i = 0; i < 10 && ${#stuck}; i++)); do
		sleep 0.5
		now=$(azb_d_state_pids)
		line=
		for pid in $stuck; do
			grep -qx "$pid" <<<"$now" && line+="$pid "
		done
		stuck=$line
	done
	[ -z "$stuck" ] && return 0
	line=
	for pid in $stuck; do
		line+="$pid $(cat "/proc/$pid/comm" 2>/dev/null)"
		line+=" (wchan $(cat "/proc/$pid/wchan" 2>/dev/null)); "
	done
	fail "tasks in D state for 5 s: $line"
}

AZB_HOSTILE=$AZB_TOP/build/tests/azb-hostile

# azb_ext4 SIZE_MB: an ext4 filesystem on a loop device (O_DIRECT works on
# it on every kernel, unlike tmpfs); prints its mount point.
azb_ext4() {
	local img=$AZB_WORK/fs.img mnt=$AZB_WORK/fs
	modprobe loop 2>/dev/null || true
	modprobe ext4 2>/dev/null || true
	truncate -s "${1}M" "$img"
	mkfs.ext4 -q -F "$img" >/dev/null 2>&1 || fail "mkfs.ext4 failed"
	mkdir -p "$mnt"
	mount -o loop "$img" "$mnt" || fail "mount of the ext4 image failed"
	echo "$mnt"
}

# azb_kernel_mem_kb: memory the kernel holds (MemTotal - MemAvailable).
# Coarse: it moves by +-15 MiB from one moment to the next in the guests
# (free pages parked on per-CPU lists count as used), so it only catches
# leaks of whole pages by the megabyte, such as an arena left pinned.
azb_kernel_mem_kb() {
	awk '/^MemTotal:/ {t=$2} /^MemAvailable:/ {a=$2} END {print t-a}' /proc/meminfo
}

# azb_kernel_objs_kb: the kernel's own allocations (unreclaimable slab,
# vmalloc, per-CPU, stacks, page tables).  Steady to within a few hundred
# KiB, so it catches small leaks of objects: a request, a queue, a vmap.
azb_kernel_objs_kb() {
	awk '/^(SUnreclaim|VmallocUsed|Percpu|KernelStack|PageTables):/ {s+=$2}
	     END {print s}' /proc/meminfo
}

# azb_reported_cpus RUN_OUTPUT: "QID CPUS NODE" for each queue, from the
# last --stats-json line azbuse-run wrote to RUN_OUTPUT.
azb_reported_cpus() {
	local line
	line=$(grep '^{' "$1" | tail -n 1)
	[ -n "$line" ] || fail "no --stats-json line in $1"
	echo "$line" | python3 -c '
import json, sys
for q in json.load(sys.stdin)["queues"]:
    print(q["qid"], q["cpus"], q["node"])' || fail "unreadable --stats-json line in $1"
}

# azb_pollers PID: "TID QUEUE" for each poller thread of an azbuse-run
# (the runtime names them azbDEV-qQUEUE).
azb_pollers() {
	local t c
	for t in /proc/"$1"/task/*; do
		c=$(cat "$t/comm" 2>/dev/null) || continue
		case $c in azb*-q*) echo "$(basename "$t") ${c##*-q}" ;; esac
	done
}

# azb_thread_states PID TID N SECONDS: the thread's scheduler state
# (R running or runnable, S sleeping, ...) at N looks spread over SECONDS,
# as one string ("RRRR", "SSSS").  What the thread does, not how much CPU
# it got: a spinning thread is R even while it waits for a busy CPU.
azb_thread_states() {
	local i st out=
	for ((i = 0; i < $3; i++)); do
		read -r st </proc/"$1"/task/"$2"/stat || return 1
		st=${st##*) }
		out+=${st%% *}
		sleep "$(echo "$4 / $3" | bc -l)"
	done
	echo "$out"
}
