#!/usr/bin/env bash
# make deb (dpkg-buildpackage over debian/): lintian finds no error or
# warning; hardened binaries (PIE, full RELRO, fortified); the packages with the right control data and contents, then a
# real dpkg -i on this machine as a new user would do it: the tools run,
# man finds the pages, pkg-config finds the library, the packaged example
# builds against it, DKMS built and installed azbuse.ko for every kernel
# with headers; then dpkg --purge leaves nothing behind.  Then the same for
# azbuse-dkms in the sid root, for its 7.x kernel.  The install part
# skips if azbuse packages are already installed (they are not touched).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

ver=$(sed -n 's/^#define AZB_VERSION[[:space:]]*"\(.*\)"/\1/p' include/azbuse.h)
[ -n "$ver" ] || fail "no AZB_VERSION in include/azbuse.h"
arch=$(dpkg --print-architecture)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
pkgs=(azbuse-dkms azbuse-tools libazbuse0 libazbuse-dev azbuse-engine-nbd azbuse-engine-rbd
      librust-azbuse-dev)
tmp=$(mktemp -d)
installed=0
cleanup() {
	local rc=$?
	if [ $installed = 1 ]; then
		dpkg --purge "${pkgs[@]}" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
	return $rc
}
trap cleanup EXIT

make -s deb >"$tmp/log" 2>&1 || fail "make deb: $(tail -n 20 "$tmp/log")"
debs=()
for p in "${pkgs[@]}"; do
	a=$arch
	[ $p = azbuse-dkms ] || [ $p = librust-azbuse-dev ] && a=all
	d=build/deb/${p}_${ver}_$a.deb
	[ -f "$d" ] || fail "make deb did not build $d"
	debs+=("$d")
	[ "$(dpkg-deb --field "$d" Package)" = "$p" ] || fail "$d: wrong Package"
	[ "$(dpkg-deb --field "$d" Version)" = "$ver" ] || fail "$d: wrong Version"
	for f in Maintainer Description Section; do
		[ -n "$(dpkg-deb --field "$d" $f)" ] || fail "$d: no $f"
	done
	# Listed once: grep -q on a pipe would kill dpkg-deb with SIGPIPE.
	dpkg-deb --contents "$d" | awk '{print $6}' >"$tmp/$p.list"
	grep -qx "./usr/share/doc/$p/copyright" "$tmp/$p.list" || fail "$d: no copyright file"
done
contains() {	# contains PACKAGE PATH...
	local p=$1 f
	shift
	for f in "$@"; do
		grep -qx ".$f" "$tmp/$p.list" || fail "$p lacks $f"
	done
}
contains azbuse-dkms /usr/src/azbuse-$ver/dkms.conf /usr/src/azbuse-$ver/Kbuild \
	/usr/src/azbuse-$ver/include/uapi/linux/azbuse.h
contains azbuse-tools /usr/sbin/azbusectl /usr/sbin/azbuse-run \
	/usr/libexec/azbuse/azbuse-service /lib/systemd/system/azbuse@.service \
	/lib/systemd/system/azbuse.target /usr/share/bash-completion/completions/azbusectl \
	/usr/share/bash-completion/completions/azbuse-run \
	/lib/udev/rules.d/60-azbuse.rules /usr/share/man/man8/azbusectl.8.gz \
	/usr/share/man/man8/azbuse-run.8.gz /usr/share/man/man4/azbuse.4.gz
contains libazbuse0 /usr/lib/$ma/libazbuse.so.$ver /usr/lib/$ma/libazbuse.so.0
contains azbuse-engine-nbd /usr/lib/$ma/azbuse/engines/nbd.so
contains azbuse-engine-rbd /usr/lib/$ma/azbuse/engines/rbd.so
# libazbuse and the tools no longer need Ceph or libnbd; each plugin does.
for p in libazbuse0 azbuse-tools; do
	dpkg-deb --field "build/deb/${p}_${ver}_$arch.deb" Depends | grep -qE 'librbd|librados|libnbd' &&
		fail "$p depends on Ceph or libnbd: $(dpkg-deb --field "build/deb/${p}_${ver}_$arch.deb" Depends)"
done
dpkg-deb --field build/deb/azbuse-engine-rbd_${ver}_$arch.deb Depends | grep -q 'librbd1' ||
	fail "azbuse-engine-rbd does not depend on librbd1"
dpkg-deb --field build/deb/azbuse-engine-nbd_${ver}_$arch.deb Depends | grep -q 'libnbd0' ||
	fail "azbuse-engine-nbd does not depend on libnbd0"
contains libazbuse-dev /usr/include/azbuse.h /usr/include/linux/azbuse.h \
	/usr/lib/$ma/libazbuse.a /usr/lib/$ma/libazbuse.so \
	/usr/lib/$ma/pkgconfig/libazbuse.pc /usr/share/man/man3/libazbuse.3.gz \
	/usr/share/doc/libazbuse-dev/examples/xmirror.c
contains librust-azbuse-dev /usr/share/cargo/registry/azbuse-$ver/Cargo.toml \
	/usr/share/cargo/registry/azbuse-$ver/build.rs /usr/share/cargo/registry/azbuse-$ver/src/lib.rs \
	/usr/share/cargo/registry/azbuse-$ver/examples/ramdisk.rs \
	/usr/share/cargo/registry/azbuse-$ver/.cargo-checksum.json
dpkg-deb --field build/deb/libazbuse0_${ver}_$arch.deb Depends | grep -q 'libc6' ||
	fail "libazbuse0 does not depend on libc6"
dpkg-deb --ctrl-tarfile build/deb/libazbuse0_${ver}_$arch.deb | tar -tf - >"$tmp/ctrl"
grep -qx './shlibs' "$tmp/ctrl" || fail "libazbuse0 has no shlibs file"
echo "  built ${#debs[@]} packages; control data and contents checked"

# What Debian's archive would say of them.
command -v lintian >/dev/null || fail "no lintian (bash ci/deps.sh installs it)"
lintian --fail-on error,warning build/deb/azbuse_${ver}_$arch.changes >"$tmp/lintian" 2>&1 ||
	fail "lintian: $(grep -E '^[EW]:' "$tmp/lintian" || cat "$tmp/lintian")"
echo "  lintian: no error or warning ($(grep -c '^I:' "$tmp/lintian" || true) infos)"
# Hardening from dpkg-buildflags: PIE, RELRO with BIND_NOW, fortified calls.
dpkg-deb -x build/deb/azbuse-tools_${ver}_$arch.deb "$tmp/x"
dpkg-deb -x build/deb/libazbuse0_${ver}_$arch.deb "$tmp/x"
for f in "$tmp/x/usr/sbin/azbuse-run" "$tmp/x/usr/lib/$ma/libazbuse.so.$ver"; do
	readelf -hdlW "$f" >"$tmp/elf"
	grep -q 'Type: *DYN' "$tmp/elf" || fail "$f is not position-independent"
	grep -q 'GNU_RELRO' "$tmp/elf" && grep -qE 'BIND_NOW|FLAGS.*NOW' "$tmp/elf" ||
		fail "$f lacks full RELRO"
done
syms=$(nm -D "$tmp/x/usr/sbin/azbuse-run")
[[ $syms == *_chk@* ]] || fail "azbuse-run has no fortified calls"
echo "  hardened: PIE, full RELRO, fortified (dpkg-buildflags)"

[ "$(id -u)" = 0 ] || skip "not root: cannot try dpkg -i"
for p in "${pkgs[@]}"; do
	if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q installed; then
		skip "$p is installed on this machine: not touching it (package checks passed)"
	fi
done
[ ! -e /usr/src/azbuse-$ver ] || skip "/usr/src/azbuse-$ver exists (make install?): not touching it"
command -v dkms >/dev/null || skip "dkms is not installed (ci/deps.sh installs it)"

# dpkg -i, waiting for another package manager to finish if one runs.
installed=1
for i in $(seq 60); do
	if dpkg -i "${debs[@]}" >"$tmp/dpkg" 2>&1; then
		break
	fi
	grep -qi 'lock' "$tmp/dpkg" && [ $i -lt 60 ] || fail "dpkg -i: $(tail -n 30 "$tmp/dpkg")"
	sleep 5
done
for p in "${pkgs[@]}"; do
	[ "$(dpkg-query -W -f '${Status}' "$p")" = "install ok installed" ] ||
		fail "$p is not installed cleanly: $(dpkg-query -W -f '${Status}' "$p")"
done
/usr/sbin/azbusectl --version | grep -q " $ver " || fail "azbusectl --version"
/usr/sbin/azbuse-run --help >/dev/null || fail "azbuse-run --help"
# The packaged azbuse-run finds the packaged plugins.
help=$(/usr/sbin/azbuse-run --help)
grep -qE '^  rbd ' <<<"$help" || fail "azbuse-run --help lists no rbd engine (plugin not found)"
help=$(/usr/sbin/azbuse-run --engine nbd --help)
grep -q 'reconnect=SECONDS' <<<"$help" ||
	fail "azbuse-run --engine nbd --help: the nbd plugin is not found"
[ "$(man -w azbusectl)" = /usr/share/man/man8/azbusectl.8.gz ] || fail "man -w azbusectl: $(man -w azbusectl 2>&1)"
man -w 4 azbuse >/dev/null && man -w 3 libazbuse >/dev/null && man -w azbuse-run >/dev/null ||
	fail "man does not find every page"
[ "$(pkg-config --modversion libazbuse)" = "$ver" ] || fail "pkg-config does not find libazbuse $ver"
cp -R /usr/share/doc/libazbuse-dev/examples "$tmp/ex"
make -s -C "$tmp/ex" >"$tmp/log" 2>&1 || fail "the packaged example does not build: $(tail -n 20 "$tmp/log")"
libs=$(ldd "$tmp/ex/xmirror")
echo "$libs" | grep -qE "libazbuse.so.0 => (/usr)?/lib/$ma/libazbuse.so.0" ||
	fail "the example does not use the packaged library: $libs"
"$tmp/ex/xmirror" --help >/dev/null || fail "the packaged example does not run"
# The packaged crate builds against the packaged library (pkg-config),
# from a copy: cargo writes Cargo.lock beside Cargo.toml.
cargo=$(command -v /usr/bin/cargo || command -v cargo || true)
if [ -n "$cargo" ]; then
	cp -R /usr/share/cargo/registry/azbuse-$ver "$tmp/crate"
	env -u AZBUSE_INCLUDE_DIR -u AZBUSE_LIB_DIR CARGO_TARGET_DIR="$tmp/target" \
		"$cargo" build --offline --release --examples --manifest-path "$tmp/crate/Cargo.toml" \
		>"$tmp/log" 2>&1 || fail "the packaged crate does not build: $(tail -n 20 "$tmp/log")"
	"$tmp/target/release/examples/ramdisk" --help >/dev/null || fail "the packaged crate's ramdisk does not run"
	libs=$(ldd "$tmp/target/release/examples/ramdisk")
	echo "$libs" | grep -qE "libazbuse.so.0 => (/usr)?/lib/$ma/libazbuse.so.0" ||
		fail "the packaged crate does not use the packaged library: $libs"
	echo "  the packaged Rust crate builds with cargo against the packaged library"
fi
echo "  dpkg -i: tools, man pages, pkg-config and the example work"

nk=0
for d in /lib/modules/*/build; do
	[ -d "$d/include" ] || continue
	k=${d#/lib/modules/}; k=${k%/build}
	[[ $k =~ ^(6\.([1-9]|[1-9][0-9])\.|[7-9]\.) ]] || continue
	dkms status -m azbuse -v "$ver" -k "$k" 2>/dev/null | grep ': installed' >/dev/null ||
		fail "DKMS did not install azbuse for $k: $(dkms status -m azbuse; grep -i error "$tmp/dpkg" | head)"
	ko=$(ls /lib/modules/"$k"/updates/dkms/azbuse.ko* 2>/dev/null | head -n 1)
	[ -n "$ko" ] || fail "no azbuse.ko in /lib/modules/$k/updates/dkms"
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$k" ] || fail "$ko has the wrong vermagic"
	nk=$((nk + 1))
done
[ $nk -gt 0 ] || fail "no kernel with headers got the module"
echo "  DKMS built and installed azbuse.ko for $nk kernels"

dpkg --purge "${pkgs[@]}" >"$tmp/dpkg" 2>&1 || fail "dpkg --purge: $(tail -n 20 "$tmp/dpkg")"
installed=0
left=$(ls -d /usr/src/azbuse-$ver /var/lib/dkms/azbuse /usr/sbin/azbusectl \
	/usr/lib/$ma/libazbuse* /usr/lib/$ma/azbuse /lib/modules/*/updates/dkms/azbuse.ko* 2>/dev/null || true)
[ -z "$left" ] || fail "dpkg --purge left: $left"
echo "  dpkg --purge removed the packages, the DKMS module and every file"

# The DKMS package where 7.x is the booted kernel: installed and purged in
# the sid root (ci/in-root), whose toolchain that kernel's kbuild needs.
sid_root= sid_ks=()
for k in $(ci/kernels headers); do
	r=$(ci/kernels root "$k")
	[ -n "$r" ] || continue
	sid_root=$r
	sid_ks+=("$k")
done
[ -n "$sid_root" ] || fail "no 7.x kernel headers in the sid root (ci/deps.sh installs them)"
! ci/in-root "$sid_root" dpkg -s azbuse-dkms >/dev/null 2>&1 ||
	fail "azbuse-dkms is installed in $sid_root already"
deb=azbuse-dkms_${ver}_all.deb
cp "build/deb/$deb" "$sid_root/var/tmp/$deb"
trap 'ci/in-root "$sid_root" dpkg --purge azbuse-dkms >/dev/null 2>&1 || true; rm -f "$sid_root/var/tmp/$deb"; cleanup' EXIT
ci/in-root "$sid_root" dpkg -i "/var/tmp/$deb" >"$tmp/dpkg" 2>&1 ||
	fail "dpkg -i $deb in $sid_root: $(tail -n 20 "$tmp/dpkg")"
for k in "${sid_ks[@]}"; do
	ko=$(ls "$sid_root/lib/modules/$k/updates/dkms/"azbuse.ko* 2>/dev/null | head -n 1)
	[ -n "$ko" ] || fail "DKMS did not install azbuse.ko for $k in $sid_root: $(grep -iE 'error|warning' "$tmp/dpkg" | head)"
	[ "$(ci/in-root "$sid_root" modinfo -F vermagic "${ko#"$sid_root"}" | cut -d' ' -f1)" = "$k" ] ||
		fail "$ko has the wrong vermagic"
done
ci/in-root "$sid_root" dpkg --purge azbuse-dkms >"$tmp/dpkg" 2>&1 ||
	fail "dpkg --purge azbuse-dkms in $sid_root: $(tail -n 20 "$tmp/dpkg")"
left=$(ls -d "$sid_root/usr/src/azbuse-$ver" "$sid_root/var/lib/dkms/azbuse" \
	"$sid_root"/lib/modules/*/updates/dkms/azbuse.ko* 2>/dev/null || true)
[ -z "$left" ] || fail "dpkg --purge in $sid_root left: $left"
echo "  in the sid root: DKMS built and installed azbuse.ko for ${sid_ks[*]}; purge left nothing"
