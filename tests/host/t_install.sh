#!/usr/bin/env bash
# make install into a staging DESTDIR: every file in place, the shared
# library's name chain and exports, libazbuse.pc through pkg-config, the
# installed example built and linked against the staged copy (shared and
# static), the systemd unit accepted by systemd-analyze, the service helper
# reading a configuration; then make uninstall leaves no file behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }

ver=$(sed -n 's/^#define AZB_VERSION[[:space:]]*"\(.*\)"/\1/p' include/azbuse.h)
[ -n "$ver" ] || fail "no AZB_VERSION in include/azbuse.h"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
st=$tmp/stage
p=/usr/local
make -s install DESTDIR="$st" PREFIX=$p >"$tmp/log" 2>&1 ||
	fail "make install: $(tail -n 20 "$tmp/log")"

for f in $p/sbin/azbusectl $p/sbin/azbuse-run $p/libexec/azbuse/azbuse-service \
	$p/lib/libazbuse.so.$ver $p/lib/libazbuse.so.0 $p/lib/libazbuse.so \
	$p/lib/libazbuse.a $p/include/azbuse.h $p/include/linux/azbuse.h \
	$p/lib/pkgconfig/libazbuse.pc $p/share/man/man8/azbusectl.8 \
	$p/share/man/man8/azbuse-run.8 $p/share/man/man3/libazbuse.3 \
	$p/share/man/man4/azbuse.4 $p/share/doc/azbuse/azbuse.conf.example \
	$p/share/doc/azbuse/examples/Makefile $p/share/doc/azbuse/examples/xmirror.c \
	$p/lib/systemd/system/azbuse@.service $p/lib/systemd/system/azbuse.target \
	/etc/udev/rules.d/60-azbuse.rules $p/share/bash-completion/completions/azbusectl \
	$p/share/bash-completion/completions/azbuse-run \
	/usr/src/azbuse-$ver/dkms.conf /usr/src/azbuse-$ver/Kbuild \
	/usr/src/azbuse-$ver/include/uapi/linux/azbuse.h; do
	[ -e "$st$f" ] || fail "make install did not install $f"
done
for f in kmod/*.c kmod/*.h; do
	cmp -s "$f" "$st/usr/src/azbuse-$ver/$(basename "$f")" || fail "DKMS tree: $f missing or stale"
done
[ -x "$st$p/sbin/azbusectl" ] && [ -x "$st$p/libexec/azbuse/azbuse-service" ] ||
	fail "tools not executable"
left=$(grep -rlIE '@[A-Z_]+@' "$st" || true)
[ -z "$left" ] || fail "unsubstituted @PLACEHOLDERS@ in: $left"
"$st$p/sbin/azbuse-run" --version | grep -q " $ver " || fail "azbuse-run --version is not $ver"

# The library: libazbuse.so -> .so.0 -> .so.VERSION, soname .so.0, and
# exactly the functions azbuse.h declares exported.
[ "$(readlink "$st$p/lib/libazbuse.so")" = libazbuse.so.0 ] || fail "libazbuse.so does not point to libazbuse.so.0"
[ "$(readlink "$st$p/lib/libazbuse.so.0")" = "libazbuse.so.$ver" ] || fail "libazbuse.so.0 does not point to libazbuse.so.$ver"
readelf -d "$st$p/lib/libazbuse.so.$ver" | grep -q 'SONAME.*\[libazbuse.so.0\]' || fail "soname is not libazbuse.so.0"
declared=$(cpp -fpreprocessed -P include/azbuse.h | grep -oE '\bazb_[a-z0-9_]+\(' | tr -d '(' | sort -u)
exported=$(nm -D --defined-only "$st$p/lib/libazbuse.so.$ver" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u)
[ "$declared" = "$exported" ] || fail "exports differ from azbuse.h (fix runtime/libazbuse.map):
$(diff <(echo "$declared") <(echo "$exported") | grep '^[<>]')"
echo "  libazbuse.so.$ver exports the $(echo "$exported" | wc -l) functions of azbuse.h"

# pkg-config against the staged copy.
export PKG_CONFIG_SYSROOT_DIR=$st PKG_CONFIG_LIBDIR=$st$p/lib/pkgconfig
[ "$(pkg-config --modversion libazbuse)" = "$ver" ] || fail "pkg-config --modversion is not $ver"
want="-I$st$p/include -L$st$p/lib -lazbuse"
got=$(pkg-config --cflags --libs libazbuse | xargs)
[ "$got" = "$want" ] || fail "pkg-config --cflags --libs: '$got', expected '$want'"

# The installed example, built through pkg-config, shared and static.
cp -R "$st$p/share/doc/azbuse/examples" "$tmp/ex"
make -s -C "$tmp/ex" >"$tmp/log" 2>&1 || fail "example build: $(tail -n 20 "$tmp/log")"
libs=$(LD_LIBRARY_PATH=$st$p/lib ldd "$tmp/ex/xmirror")
echo "$libs" | grep -q "libazbuse.so.0 => $st$p/lib/libazbuse.so.0" ||
	fail "the example does not load the staged libazbuse.so.0: $libs"
LD_LIBRARY_PATH=$st$p/lib "$tmp/ex/xmirror" --help >/dev/null || fail "the example does not run"
# libazbuse.a itself, its dependencies as the system has them (Debian has
# no static libudev, which a static libhwloc needs); --as-needed drops the
# -lazbuse that pkg-config repeats.
cc -o "$tmp/ex/xmirror-static" "$tmp/ex/"*.o $(pkg-config --libs-only-L libazbuse) \
	-Wl,-Bstatic -lazbuse -Wl,-Bdynamic -Wl,--as-needed $(pkg-config --static --libs libazbuse) ||
	fail "the example does not link against libazbuse.a"
libs=$(ldd "$tmp/ex/xmirror-static")
case $libs in *libazbuse*) fail "the static link still needs libazbuse.so: $libs" ;; esac
"$tmp/ex/xmirror-static" --help >/dev/null || fail "the static example does not run"
echo "  examples built with pkg-config: shared and static"

# The unit, pointed at the staged helper so systemd-analyze finds it.
mkdir "$tmp/unit"
sed "s|$p/libexec|$st$p/libexec|g" "$st$p/lib/systemd/system/azbuse@.service" >"$tmp/unit/azbuse@.service"
cp "$st$p/lib/systemd/system/azbuse.target" "$tmp/unit/"
grep -qx 'Type=notify' "$tmp/unit/azbuse@.service" || fail "azbuse@.service is not Type=notify"
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$tmp/unit" && systemd-analyze verify --man=no azbuse@test.service azbuse.target 2>&1) ||
		fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	echo "  azbuse@.service, azbuse.target: systemd-analyze verify clean"
fi

# The service helper reads a configuration and refuses a bad one.
svc=$st$p/libexec/azbuse/azbuse-service
mkdir "$tmp/conf"
export AZBUSE_CONF_DIR=$tmp/conf AZBUSECTL=/bin/false
printf '# test\nDEVICE=7\nSIZE=2G\nENGINE="mem"\nQUEUES=2\n  DEPTH=64\nPOLL=busy\nRECOVERY=no\nADD_OPTIONS=--max-io 1M --rotational\n' >"$tmp/conf/ok.conf"
out=$("$svc" show ok) || fail "azbuse-service show: $out"
echo "$out" | grep -q "^prepare: /bin/false add 7 -s 2G -q 2 -d 64 --max-io 1M --rotational$" ||
	fail "azbuse-service show, prepare: $out"
echo "$out" | grep -q "^run: *$p/sbin/azbuse-run --dev 7 --engine mem --poll busy$" ||
	fail "azbuse-service show, run: $out"
printf 'DEVICE=1\nSIZE=1G\nQUEUS=2\n' >"$tmp/conf/typo.conf"
set +e
out=$("$svc" show typo 2>&1); rc=$?
set -e
[ $rc = 2 ] && echo "$out" | grep -q "typo.conf:3: unknown key 'QUEUS'" ||
	fail "a misspelt key gave exit $rc: $out"
printf 'SIZE=1G\n' >"$tmp/conf/nodev.conf"
set +e
out=$("$svc" prepare nodev 2>&1); rc=$?
set -e
[ $rc = 2 ] && echo "$out" | grep -q "DEVICE is required" || fail "a missing DEVICE gave exit $rc: $out"
# Without SIZE a file TARGET sizes the device (whole 4 KiB blocks).
head -c $((3 * 4096 + 100)) /dev/zero >"$tmp/target.img"
printf 'DEVICE=2\nENGINE=odirect\nTARGET=%s\n' "$tmp/target.img" >"$tmp/conf/file.conf"
out=$("$svc" show file) || fail "azbuse-service show without SIZE: $out"
echo "$out" | grep -q "^prepare: /bin/false add 2 -s 12288" || fail "SIZE from a file TARGET: $out"
printf 'DEVICE=2\nENGINE=mem\n' >"$tmp/conf/nosize.conf"
set +e
out=$("$svc" show nosize 2>&1); rc=$?
set -e
[ $rc = 2 ] && echo "$out" | grep -q "SIZE is required" || fail "no SIZE, no TARGET gave exit $rc: $out"
unset AZBUSE_CONF_DIR AZBUSECTL
echo "  azbuse-service: configuration read, errors reported"

make -s uninstall DESTDIR="$st" PREFIX=$p >"$tmp/log" 2>&1 || fail "make uninstall: $(tail -n 20 "$tmp/log")"
left=$(find "$st" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "  make uninstall removed every file"
