#!/usr/bin/env bash
# Engine plugins as azbuse-run meets them: the tool and the library link
# neither Ceph nor libnbd; the built plugins load by name; a plugin that is
# missing, not a plugin, of another ABI, misnamed, or whose init fails gives
# one line and exit 1; a good third-party plugin (built here against
# azbuse.h alone) is listed by --help with its options and its long option.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
run=build/bin/azbuse-run
[ -x "$run" ] && [ -e build/lib/azbuse/engines/rbd.so ] || fail "build first (make tools)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in "$run" build/bin/azbusectl build/lib/libazbuse.so.0; do
	bad=$(ldd "$f" | grep -E 'librbd|librados|libnbd|libceph' || true)
	[ -z "$bad" ] || fail "$f loads $bad"
done
# (Whole outputs, then grep: grep -q closing a pipe early fails it.)
libs=$(ldd build/lib/azbuse/engines/rbd.so)
[[ $libs == *librbd* ]] || fail "rbd.so does not link librbd: $libs"
libs=$(ldd build/lib/azbuse/engines/nbd.so)
[[ $libs == *libnbd* ]] || fail "nbd.so does not link libnbd: $libs"
help=$("$run" --engine nbd --help)
[[ $help == *reconnect=SECONDS* ]] || fail "the nbd plugin does not load: $help"
echo "  azbuse-run and libazbuse load no Ceph or libnbd; the plugins load by name"

# plugin NAME ABI OPS_NAME INIT_RET: a plugin source for this test.
plugin() {
	cat <<C
#include <errno.h>
#include <azbuse.h>
static int p_open(struct azb_engine *e, const char *t, const struct azb_engine_opts *o)
{ e->dev_bytes = o->dev_bytes; return 0; }
static int p_queue(struct azb_engine_queue *q, struct azb_io *io) { return 0; }
static const struct azb_engine_opt p_opts[] = {
	{ .key = "greeting", .kind = AZB_EOPT_TEXT, .arg = "WORD", .flag = "greeting",
	  .help = "what it says" },
	{ .key = 0 },
};
static const struct azb_engine_ops p_ops = {
	.name = "$3", .help = "a test plugin", .version = AZB_ENGINE_OPS_VERSION,
	.flags = AZB_ENGINE_F_NO_TARGET, .opts = p_opts, .open = p_open, .queue = p_queue,
};
static int p_init(void) { return $4; }
__attribute__((visibility("default")))
const struct azb_engine_plugin azb_engine_plugin = { $2, &p_ops, p_init };
C
}
build() {	# build NAME ABI OPS_NAME INIT_RET
	plugin "$@" >"$tmp/$1.c"
	cc -shared -fPIC -Iinclude -Iinclude/uapi -o "$tmp/$1.so" "$tmp/$1.c" ||
		fail "cannot build the test plugin $1"
}
build hello AZB_ENGINE_PLUGIN_ABI hello 0
build oldabi 99 oldabi 0
build misnamed AZB_ENGINE_PLUGIN_ABI other 0
build badinit AZB_ENGINE_PLUGIN_ABI badinit -EIO
echo 'int x;' >"$tmp/nosym.c" && cc -shared -fPIC -o "$tmp/nosym.so" "$tmp/nosym.c"
echo 'not an ELF file' >"$tmp/garbage.so"
export AZBUSE_ENGINE_PATH=$tmp

# refused NAME WANT: azbuse-run -e NAME fails with exit 1 and one line.
refused() {
	local rc=0
	"$run" -e "$1" -s 1G >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ $rc = 1 ] || fail "-e $1: exit $rc, want 1: $(cat "$tmp/err")"
	[ "$(wc -l <"$tmp/err")" = 1 ] || fail "-e $1: not one line: $(cat "$tmp/err")"
	grep -q -- "$2" "$tmp/err" || fail "-e $1: '$(cat "$tmp/err")' does not say '$2'"
	[ ! -s "$tmp/out" ] || fail "-e $1 printed on stdout: $(cat "$tmp/out")"
}
refused nosuch "unknown engine 'nosuch'"
refused oldabi "oldabi.so: built for another plugin ABI (99; this libazbuse takes 1)"
refused misnamed "misnamed.so: its engine has another name"
refused badinit "badinit.so: its initialisation failed: Input/output error"
refused nosym "nosym.so: not an azbuse engine plugin"
refused garbage "garbage.so: cannot load"
echo "  missing, foreign ABI, misnamed, failing and broken plugins: one line, exit 1"

"$run" --help >"$tmp/help" 2>"$tmp/help.err" || fail "--help with broken plugins around"
grep -qE '^  hello +a test plugin' "$tmp/help" || fail "--help does not list the hello plugin"
"$run" -e hello --help >"$tmp/help" || fail "-e hello --help failed"
grep -q -- '-o greeting=WORD, --greeting WORD' "$tmp/help" ||
	fail "-e hello --help does not show its option: $(cat "$tmp/help")"
rc=0
"$run" -s 1G --greeting hi 2>"$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q -- "--greeting is an option of engine hello, not 'mem'" "$tmp/err" ||
	fail "a plugin's long option with another engine: exit $rc: $(cat "$tmp/err")"
rc=0
"$run" -e hello -s 1G -o bogus 2>"$tmp/err" || rc=$?
[ $rc = 2 ] && grep -q "hello engine: unknown option 'bogus' (known: greeting=WORD)" "$tmp/err" ||
	fail "a plugin's options are not checked: exit $rc: $(cat "$tmp/err")"
echo "  a third-party plugin: listed, its options in --help, checked, its long option known"
