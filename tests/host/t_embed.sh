#!/usr/bin/env bash
# Embedding libazbuse as a user does: a program that never calls malloc,
# built with exactly the README's line (cc app.c $(pkg-config --cflags
# --libs libazbuse)), with and without --as-needed, runs to main and
# through the API (no kernel module on the host: create fails cleanly);
# nothing of jemalloc is loaded into it.  Python's ctypes loads the shared
# library (a late dlopen, where jemalloc's static TLS would not fit).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -e build/lib/libazbuse.so.0 ] || fail "build/lib/libazbuse.so.0 missing: run make first"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The build tree's libazbuse-uninstalled.pc stands for the installed .pc.
export PKG_CONFIG_PATH=$PWD/build/lib/pkgconfig

cat > "$tmp/app.c" <<'C'
#include <azbuse.h>
#include <stdio.h>

int main(void)
{
	struct azb_server_opts o;
	struct azb_server *s;
	int ret;

	azb_server_opts_init(&o);
	o.engine = azb_engine_find("mem");
	if (!o.engine)
		return 3;
	o.dev.dev_bytes = 1ull << 20;
	o.dev.nr_queues = 1;
	ret = azb_server_create(&o, &s);
	if (ret == 0) {
		azb_server_destroy(s);
		return 4;	/* a host has no azbuse module */
	}
	printf("reached main; create: %d\n", ret);
	return 0;
}
C
for link in "" "-Wl,--as-needed"; do
	cc $link "$tmp/app.c" $(pkg-config --cflags --libs libazbuse) -o "$tmp/app" ||
		fail "the README's build line failed${link:+ with $link}"
	if nm -u "$tmp/app" | grep -qwE 'malloc|calloc|realloc|free'; then
		fail "the test program itself calls malloc: it must not"
	fi
	out=$("$tmp/app" 2>&1) || fail "the program${link:+ linked $link} died: exit $?: $out"
	echo "$out" | grep -q "reached main; create: -" || fail "unexpected output: $out"
	ldd "$tmp/app" | grep -q jemalloc &&
		fail "a program built with the .pc loads jemalloc: $(ldd "$tmp/app" | grep jemalloc)"
done
echo "  malloc-free program: built with pkg-config, with and without --as-needed, runs"

out=$(python3 -c 'import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.azb_engine_find.restype = ctypes.c_void_p
lib.azb_engine_find.argtypes = [ctypes.c_char_p]
print("mem engine", "found" if lib.azb_engine_find(b"mem") else "missing")' \
	build/lib/libazbuse.so.0 2>&1) || fail "ctypes cannot load libazbuse: $out"
[ "$out" = "mem engine found" ] || fail "ctypes: $out"
echo "  Python ctypes loads libazbuse.so.0"
