#!/usr/bin/env bash
# The layering, as the build enforces it: a file compiled with the flags
# make gives engines/ or tools/ cannot include a runtime-internal header
# (alloc.h, internal.h), while the runtime's own flags can (the control);
# and every tool and engine includes azbuse.h and nothing else of azbuse's.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# compile_as OBJ: compiles a probe that includes a runtime header, with
# the command make would use for build/OBJ.
compile_as() {
	local cmd
	cmd=$(make -s -n -B B="$tmp/b" "$tmp/b/$1" | grep -- ' -c ') ||
		fail "make -n gives no compile command for $1"
	src=${1%.o}.c
	printf '#include "alloc.h"\n#include "internal.h"\nint azb_probe;\n' >"$tmp/probe.c"
	cmd=${cmd//"$src"/"$tmp/probe.c"}
	cmd=${cmd//"$tmp/b/$1"/"$tmp/probe.o"}
	(eval "$cmd") >"$tmp/cc.log" 2>&1
}

compile_as runtime/server.o || fail "the control: the runtime's flags do not reach its headers: $(cat "$tmp/cc.log")"
for obj in engines/null.o engines/rbd.o tools/azbuse-run.o tools/cli.o; do
	if compile_as "$obj"; then
		fail "$obj's flags let it include runtime-internal headers"
	fi
	grep -q 'alloc.h: No such file' "$tmp/cc.log" || fail "$obj: $(cat "$tmp/cc.log")"
done

# Tools and engines: no azbuse header but azbuse.h (their own directory's
# headers aside).
bad=$(grep -nE '#include [<"](uapi/|linux/azbuse|\.\./)' tools/*.[ch] engines/*.[ch] || true)
[ -z "$bad" ] || fail "tools/engines include past azbuse.h: $bad"
echo "layering: runtime headers private to runtime/ and the unit tests"
