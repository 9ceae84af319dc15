#!/usr/bin/env bash
# The DKMS tree (make dkms-tree, what make install puts in /usr/src):
# dkms add, then build azbuse.ko without warnings against every kernel with
# headers (6.1 and 6.12 on the host; 7.x in the sid root, where DKMS runs
# chrooted as it would on a system that boots that kernel), then dkms
# remove.  Uses its own source and DKMS trees in temporary directories, so
# no DKMS state is touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

command -v dkms >/dev/null || skip "dkms is not installed (ci/deps.sh installs it)"
mapfile -t kernels < <(ci/kernels headers)
[ ${#kernels[@]} -gt 0 ] || skip "no kernel headers installed"
for s in '6\.1\.' '6\.12\.' '7\.'; do
	printf '%s\n' "${kernels[@]}" | grep -q "^$s" ||
		fail "no headers for the ${s//\\/} series (ci/deps.sh installs them)"
done

ver=$(sed -n 's/^#define AZB_VERSION[[:space:]]*"\(.*\)"/\1/p' include/azbuse.h)
[ -n "$ver" ] || fail "no AZB_VERSION in include/azbuse.h"
make -s dkms-tree >/dev/null || fail "make dkms-tree"
tree=build/dkms/azbuse-$ver
grep -q "^PACKAGE_VERSION=\"$ver\"$" "$tree/dkms.conf" || fail "dkms.conf does not say version $ver"

tmps=()
trap 'rm -rf "${tmps[@]}"' EXIT

# dkms_cycle ROOT KERNEL...: add, build for each KERNEL, status, remove,
# with dkms run in ROOT (ci/in-root) or on the host when ROOT is empty.
dkms_cycle() {
	local root=$1 tmp in k start mlog ko vermagic
	shift
	tmp=$(mktemp -d "$root/var/tmp/azb-dkms.XXXXXX")
	tmps+=("$tmp")
	in=${tmp#"$root"}
	run() { ci/in-root "$root" "$@"; }
	mkdir -p "$tmp/src" "$tmp/dkms"
	cp -R "$tree" "$tmp/src/"
	local dk=(--sourcetree "$in/src" --dkmstree "$in/dkms")

	run dkms add -m azbuse -v "$ver" "${dk[@]}" >"$tmp/log" 2>&1 || fail "dkms add${root:+ in $root}: $(cat "$tmp/log")"
	for k in "$@"; do
		start=$(date +%s)
		run dkms build -m azbuse -v "$ver" -k "$k" "${dk[@]}" >"$tmp/log" 2>&1 ||
			fail "dkms build for $k: $(tail -n 30 "$tmp/log"; cat "$tmp/dkms/azbuse/$ver/build/make.log" 2>/dev/null | tail -n 30)"
		mlog=$tmp/dkms/azbuse/$ver/$k/x86_64/log/make.log
		! grep -E 'warning:|error:' "$mlog" || fail "dkms build for $k has warnings"
		ko=$(ls "$tmp/dkms/azbuse/$ver/$k/x86_64/module/"azbuse.ko* 2>/dev/null | head -n 1)
		[ -n "$ko" ] || fail "dkms build for $k left no azbuse.ko"
		vermagic=$(run modinfo -F vermagic "${ko#"$root"}")
		[ "${vermagic%% *}" = "$k" ] || fail "$ko is for '${vermagic%% *}', not $k"
		echo "  $k: built $(basename "$ko") in $(( $(date +%s) - start )) s${root:+ (in $root)}"
	done
	run dkms status -m azbuse -v "$ver" "${dk[@]}" >"$tmp/status" 2>&1
	for k in "$@"; do
		grep -q "azbuse/$ver, $k, x86_64: built" "$tmp/status" ||
			fail "dkms status does not show $k built: $(cat "$tmp/status")"
	done
	run dkms remove -m azbuse -v "$ver" --all "${dk[@]}" >"$tmp/log" 2>&1 ||
		fail "dkms remove: $(cat "$tmp/log")"
	[ ! -e "$tmp/dkms/azbuse/$ver" ] || fail "dkms remove left $tmp/dkms/azbuse/$ver"
}

# One cycle per root, its kernels together.
declare -A by_root=()
for k in "${kernels[@]}"; do
	r=$(ci/kernels root "$k")
	by_root[x$r]+="$k "
done
for r in "${!by_root[@]}"; do
	read -ra ks <<<"${by_root[$r]}"
	dkms_cycle "${r#x}" "${ks[@]}"
done
echo "  dkms add, build (${#kernels[@]} kernels), remove: ok"
