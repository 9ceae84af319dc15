#!/usr/bin/env bash
# ci/vm/run's judgement of a guest's kernel log: every report counts,
# except one whose first line matches AZB_VM_KNOWN_BUG (a known bug of
# that kernel, as perf/run names 7.2's io_uring UBSAN), which is listed
# apart together with its "cut here" line; other reports still count.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }

bad_re=$(sed -n "s/^bad_re='\(.*\)'$/\1/p" ci/vm/run)
[ -n "$bad_re" ] || fail "no bad_re in ci/vm/run"
eval "$(sed -n '/^kernel_bad() {/,/^kernel_known()/p' ci/vm/run)"
klog() {
	cat <<'LOG'
[    1.000000] azbuse: loaded
[    9.306997] ------------[ cut here ]------------
[    9.309985] UBSAN: array-index-out-of-bounds in /build/linux-7.2.13/io_uring/rsrc.c:1070:12
[    9.310000] index 1 is out of range for type 'bio_vec [] __counted_by(nr_bvecs)'
[   10.000000] ------------[ cut here ]------------
[   10.100000] WARNING: CPU: 1 PID: 3 at drivers/block/azbuse/main.c:12 azb_x+0x1/0x2
[   11.000000] BUG: KASAN: use-after-free in azb_y+0x3/0x4
LOG
}
known='UBSAN: array-index-out-of-bounds in .*/io_uring/rsrc\.c:'

eq "$(kernel_bad | wc -l)" 5 "no known bug: every report line"
eq "$(AZB_VM_KNOWN_BUG=$known kernel_bad | cut -c16-)" \
	"$(printf '%s\n' '------------[ cut here ]------------' \
		'WARNING: CPU: 1 PID: 3 at drivers/block/azbuse/main.c:12 azb_x+0x1/0x2' \
		'BUG: KASAN: use-after-free in azb_y+0x3/0x4')" \
	"the known report left out, the others kept"
eq "$(AZB_VM_KNOWN_BUG=$known kernel_known | wc -l)" 1 "the known report listed"
eq "$(AZB_VM_KNOWN_BUG='no such report' kernel_bad | wc -l)" 5 "a pattern that matches nothing"
eq "$(kernel_known | wc -l)" 0 "nothing known by default"
echo "vm kernel log: ok"
