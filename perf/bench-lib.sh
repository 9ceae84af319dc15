# perf/bench-lib.sh: what the guest benchmarks share (sourced): the
# arithmetic of their ratios, and reading the peers' output.
# Lists are space-separated numbers, one per run, in run order.

# median < LIST: the middle value (the lower middle of an even count).
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# paired_ratio B_LIST A_LIST: the median of B/A taken run by run.  Runs of
# one round are minutes apart at most, so a drift of the guest over the
# boot (TCG speed moves with the host) cancels out in each pair, where
# the ratio of two medians would mix runs from different moments.
paired_ratio() {
	awk -v b="$1" -v a="$2" 'BEGIN {
		n = split(b, B, " "); split(a, A, " "); m = 0
		for (i = 1; i <= n; i++)
			if (A[i] > 0)
				r[++m] = B[i] / A[i]
		if (!m) { printf "-"; exit }
		for (i = 2; i <= m; i++)	# insertion sort: mawk has no asort
			for (j = i; j > 1 && r[j - 1] > r[j]; j--) {
				t = r[j]; r[j] = r[j - 1]; r[j - 1] = t
			}
		printf "%.2f", r[int((m + 1) / 2)]
	}'
}

# meets RATIO FACTOR: "yes" if RATIO >= FACTOR, else "no".
meets() { awk -v r="$1" -v f="$2" 'BEGIN {print (r != "-" && r + 0 >= f) ? "yes" : "no"}'; }

# kublk_parse OUTPUT: the device id and daemon pid the kernel's ublk
# selftest server prints when "kublk add" has made its device ("dev id N:
# ...", "... daemon pid P ..."), into KUBLK_ID and KUBLK_PID (empty if
# absent).
kublk_parse() {
	KUBLK_ID=$(echo "$1" | sed -n 's/^dev id \([0-9]*\):.*/\1/p' | head -n 1)
	KUBLK_PID=$(echo "$1" | sed -n 's/.*daemon pid \([0-9]*\).*/\1/p' | head -n 1)
}

# load_azbuse MODULE: insmod MODULE and wait (5 s at most) for the control
# device it creates.
load_azbuse() {
	insmod "$1" || return 1
	for _ in $(seq 50); do [ -e /dev/azbusectl ] && return 0; sleep 0.1; done
	return 1
}

# served_dev OUTFILE PID: the block device a server (azbuse-run, a Rust
# example) printed on the first line of OUTFILE, once it is there; waits
# 30 s at most and returns 1 at once if PID exits first.
served_dev() {
	local dev i
	for ((i = 0; i < 300; i++)); do
		dev=$(head -n 1 "$1" 2>/dev/null || true)
		[ -n "$dev" ] && [ -b "$dev" ] && { echo "$dev"; return 0; }
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
