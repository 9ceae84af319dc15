#!/usr/bin/env bash
# perf/bench-lib.sh, whose arithmetic gives the ratios the benchmarks
# report: medians of odd and even counts, ratios paired run by run (not
# medians of medians), zero and missing runs, the target check, and
# reading kublk's output.
set -euo pipefail
cd "$(dirname "$0")/../.."
source perf/bench-lib.sh
fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }

eq "$(echo " 30 10 20" | median)" 20 "median of three"
eq "$(echo "4 1 3 2" | median)" 2 "median of four (lower middle)"
eq "$(echo "100 9" | median)" 9 "median sorts numerically"

# Drift: a halves over the boot, b is 0.9x a but for one noisy round.
# The ratio of the medians (90 / 50) would say 1.80; the pairs say 0.90.
eq "$(paired_ratio "90 100 22.5" "100 50 25")" 0.90 "paired under drift"
eq "$(paired_ratio "10 30 20" "10 10 10")" 2.00 "paired median of three"
eq "$(paired_ratio "5 9" "10 10")" 0.50 "paired, even count: lower middle"
eq "$(paired_ratio "5 9" "0 10")" 0.90 "a zero run is left out"
eq "$(paired_ratio "5" "0")" - "no usable pair"
# Ratios sort as numbers: 10.00 > 9.00.
eq "$(paired_ratio "100 9 9" "10 1 10")" 9.00 "paired ratios sort numerically"

eq "$(meets 0.95 0.95)" yes "meets at the target"
eq "$(meets 0.949 0.95)" no "meets below it"
eq "$(meets 1.30 1.25)" yes "meets above it"
eq "$(meets - 1)" no "no ratio meets nothing"
# kublk's "add" output, as 7.2's selftest server prints it.
kublk_parse "$(printf 'dev id 3: nr_hw_queues 2 queue_depth 128 block size 512 dev_capacity 2097152\n\tmax rq size 1048576 daemon pid 4242 flags 0x42 state LIVE\n')"
eq "$KUBLK_ID $KUBLK_PID" "3 4242" "kublk add output"
kublk_parse "kublk: can't alloc dev id -1"
eq "$KUBLK_ID$KUBLK_PID" "" "no device in a failure"

echo "bench-lib: ok"
