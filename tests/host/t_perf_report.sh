#!/usr/bin/env bash
# perf/report over a made-up guest-bench stage of three rounds: medians,
# min / max, ratios to null_blk paired round by round (not ratios of
# medians), the spread mark above 10 %, a device that failed one round
# but served the others, and the targets computed from paired ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
has() { grep -qF -- "$1" "$md" || fail "$2: no '$1' in the report:
$(cat "$md")"; }
hasnt() { ! grep -qF -- "$1" "$md" || fail "$2: '$1' in the report"; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/jobs"
md=$stage/out.md
cat > "$stage/env" <<'E'
kernel=9.9.9-test
cpus=2
queues=2
depth=128
runtime_s=4
ramp_s=1
rounds=3
fio=fio-3.33
E
# Rounds: the host slows down over the boot (null_blk 100k, 50k, 25k), a
# steady 0.6x device, one that is noisy, one that failed to start in round 1.
python3 - "$stage" <<'P'
import json, os, sys
stage = sys.argv[1]
iops = {
    "null_blk": [100000, 50000, 25000],
    "azbuse-null-adaptive": [60000, 30000, 15000],
    "kublk-null": [50000, 50000, 10000],
    "ublk-null": [None, 20000, 10000],
}
tsv = []
for dev, rounds in iops.items():
    for n, v in enumerate(rounds, 1):
        if v is None:
            tsv.append("%s\tfailed\t2\t%s\tdid not start\t%d" % (dev, dev, n))
            continue
        tsv.append("%s\tok\t2\t%s label\tdetail\t%d" % (dev, dev, n))
        fio = {"jobs": [{"error": 0,
                         "job options": {"rw": "randread", "bs": "4k",
                                         "iodepth": "32"},
                         "read": {"io_bytes": 4096 * v, "iops": v,
                                  "bw_bytes": 4096 * v,
                                  "clat_ns": {"mean": 1e9 / v * 64,
                                              "percentile": {"99.000000": 1e9 / v * 100}}},
                         "write": {"io_bytes": 0}}]}
        base = os.path.join(stage, "jobs", "%s--randread-4k-qd32--r%d" % (dev, n))
        with open(base + ".json", "w") as f:
            f.write("note: fio printed this first\n" + json.dumps(fio))
        with open(base + ".cpu", "w") as f:
            f.write("window_s=2\ncpus=2\nhz=100\nguest_idle_ticks=100\n"
                    "guest_ctxt=10\n")
with open(os.path.join(stage, "devices.tsv"), "w") as f:
    f.write("\n".join(tsv) + "\n")
P
python3 perf/report "$stage" "$stage/out.json" "$md"

has "| null_blk<br>*null_blk label* |  | 1.00 (50.0k; 25.0k - 100.0k) **spread 150%** |" \
	"null_blk: median IOPS, range, and the spread of a slowing host marked"
# 0.6 in every round: the paired ratio, whatever the drift.
has "0.60 (30.0k; 15.0k - 60.0k) **spread 150%** |" "paired ratio under drift"
# kublk-null: 0.5, 1.0, 0.4 of null_blk round by round: median 0.50 (the
# ratio of the medians would be 50k / 50k = 1.00).
has "0.50 (50.0k; 10.0k - 50.0k)" "paired median, not a ratio of medians"
# ublk-null served rounds 2 and 3 only: ok, two ratios (0.4, 0.4).
has "| ublk-null<br>*ublk-null label* |  | 0.40 (10.0k; 10.0k - 20.0k)" \
	"a device that failed one round is reported from the others"
has "azbuse null --poll adaptive, randread-4k-qd32: >= 2.0 x ublk null (its best): **NOT met (1.20 x kublk-null)**" \
	"target against the best ublk, paired (0.6/0.5... rounds: 1.2, 0.6, 1.5)"
has "azbuse null (defaults), randread-4k-qd32, 2 jobs: >= 0.9 x null_blk: **NOT met (0.60 x)**" \
	"the null_blk target, paired"
has "our ublk peer (azb-ublk-null), randread-4k-qd32: >= 0.95 x the kernel's kublk at its best: **NOT met (0.40 x kublk-null)**" \
	"our ublk against kublk, on the rounds both ran"
hasnt "randread-4k-qd1: >=" "no target for a job that did not run"
python3 - "$stage/out.json" <<'P' || fail "results file"
import json, sys
res = json.load(open(sys.argv[1]))
assert res["settings"]["rounds"] == "3", res["settings"]
r = {x["device"]: x for x in res["records"]}
a = r["azbuse-null-adaptive"]
assert [x["round"] for x in a["rounds"]] == [1, 2, 3], a["rounds"]
assert a["iops_min"] == 15000 and a["iops_max"] == 60000, a
assert a["fio_round"] == 2 and a["fio"]["jobs"][0]["read"]["iops"] == 30000
assert len(r["ublk-null"]["rounds"]) == 2
assert {d["name"]: d["status"] for d in res["devices"]}["ublk-null"] == "ok"
P
# A verdict whose two-decimal rounding would cross the bar gets a third.
python3 - <<'P' || fail "verdict rounding"
from importlib.machinery import SourceFileLoader
fx = SourceFileLoader("report", "perf/report").load_module().fx
assert fx(0.8972, 0.9) == "0.897", fx(0.8972, 0.9)
assert fx(0.9, 0.9) == "0.90" and fx(0.6, 0.9) == "0.60"
assert fx(0.946, 0.95) == "0.946" and fx(1.3, 1.25) == "1.30"
P
echo "perf/report: ok"
