#!/usr/bin/env bash
# The DKMS tree (make dkms-tree, what make install puts in /usr/src):
# dkms add, then build azbuse.ko without warnings against every installed
# 6.1 and 6.12 header set, then dkms remove.  Uses its own source and DKMS
# trees in a temporary directory, so the machine's DKMS state is untouched.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

command -v dkms >/dev/null || skip "dkms is not installed (ci/deps.sh installs it)"
kernels=()
for d in /lib/modules/6.1.0-*/build /lib/modules/6.12.*/build; do
	[ -d "$d/include" ] || continue
	d=${d#/lib/modules/}
	kernels+=("${d%/build}")
done
[ ${#kernels[@]} -gt 0 ] || skip "no 6.1 or 6.12 kernel headers in /lib/modules"
ls -d /lib/modules/6.1.0-*/build/include >/dev/null 2>&1 || fail "no 6.1 headers (ci/deps.sh installs them)"
ls -d /lib/modules/6.12.*/build/include >/dev/null 2>&1 || fail "no 6.12 headers (ci/deps.sh installs them)"

ver=$(sed -n 's/^#define AZB_VERSION[[:space:]]*"\(.*\)"/\1/p' include/azbuse.h)
[ -n "$ver" ] || fail "no AZB_VERSION in include/azbuse.h"
make -s dkms-tree >/dev/null || fail "make dkms-tree"
tree=build/dkms/azbuse-$ver
grep -q "^PACKAGE_VERSION=\"$ver\"$" "$tree/dkms.conf" || fail "dkms.conf does not say version $ver"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/dkms"
cp -R "$tree" "$tmp/src/"
dk=(--sourcetree "$tmp/src" --dkmstree "$tmp/dkms")

dkms add -m azbuse -v "$ver" "${dk[@]}" >"$tmp/log" 2>&1 || fail "dkms add: $(cat "$tmp/log")"
for k in "${kernels[@]}"; do
	start=$(date +%s)
	dkms build -m azbuse -v "$ver" -k "$k" "${dk[@]}" >"$tmp/log" 2>&1 ||
		fail "dkms build for $k: $(tail -n 30 "$tmp/log"; cat "$tmp/dkms/azbuse/$ver/build/make.log" 2>/dev/null | tail -n 30)"
	mlog=$tmp/dkms/azbuse/$ver/$k/x86_64/log/make.log
	! grep -E 'warning:|error:' "$mlog" || fail "dkms build for $k has warnings"
	ko=$(ls "$tmp/dkms/azbuse/$ver/$k/x86_64/module/"azbuse.ko* 2>/dev/null | head -n 1)
	[ -n "$ko" ] || fail "dkms build for $k left no azbuse.ko"
	vermagic=$(modinfo -F vermagic "$ko")
	[ "${vermagic%% *}" = "$k" ] || fail "$ko is for '${vermagic%% *}', not $k"
	echo "  $k: built $(basename "$ko") in $(( $(date +%s) - start )) s"
done
dkms status -m azbuse -v "$ver" "${dk[@]}" >"$tmp/status" 2>&1
for k in "${kernels[@]}"; do
	grep -q "azbuse/$ver, $k, x86_64: built" "$tmp/status" ||
		fail "dkms status does not show $k built: $(cat "$tmp/status")"
done
dkms remove -m azbuse -v "$ver" --all "${dk[@]}" >"$tmp/log" 2>&1 ||
	fail "dkms remove: $(cat "$tmp/log")"
[ ! -e "$tmp/dkms/azbuse/$ver" ] || fail "dkms remove left $tmp/dkms/azbuse/$ver"
echo "  dkms add, build (${#kernels[@]} kernels), remove: ok"
