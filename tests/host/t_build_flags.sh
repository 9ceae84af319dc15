#!/usr/bin/env bash
# A packager's flags reach every compile and link, and the code's own
# flags stay: make CFLAGS=... CPPFLAGS=... LDFLAGS=... builds the library
# and the tools (into a scratch build directory) with -O3 recorded in the
# objects and the linker's -z now in the programs; a CPPFLAGS that
# includes a header reaches the compiler (here, one that refuses to build).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -s B="$tmp/b" CFLAGS="-O3 -g -grecord-gcc-switches" LDFLAGS="-Wl,-z,now" \
	lib tools >"$tmp/log" 2>&1 || fail "make with a packager's flags: $(tail -n 20 "$tmp/log")"
for f in "$tmp/b/bin/azbuse-run" "$tmp/b/bin/azbusectl" "$tmp/b/lib/libazbuse.so.0"; do
	[ -e "$f" ] || fail "$f not built"
	readelf -d "$f" | grep -q 'BIND_NOW\|FLAGS.*NOW' || fail "$f: LDFLAGS (-z now) not used"
done
producer=$(readelf --debug-dump=info "$tmp/b/runtime/poller.o" 2>/dev/null | grep -m1 DW_AT_producer || true)
case $producer in
*-O3*) ;;
*) fail "runtime/poller.o not built with the given CFLAGS: $producer" ;;
esac
case $producer in
*-std=gnu11*) ;;
*) fail "the given CFLAGS replaced the code's own (-std=gnu11 missing): $producer" ;;
esac
"$tmp/b/bin/azbuse-run" --version >/dev/null || fail "azbuse-run built with -O3 does not run"

echo '#error CPPFLAGS reached the compiler' > "$tmp/poison.h"
if make -s B="$tmp/c" CPPFLAGS="-include $tmp/poison.h" lib >"$tmp/log" 2>&1; then
	fail "make ignored CPPFLAGS"
fi
grep -q 'CPPFLAGS reached the compiler' "$tmp/log" || fail "make CPPFLAGS=...: $(tail -n 5 "$tmp/log")"
echo "build flags: CFLAGS, CPPFLAGS and LDFLAGS honoured"
