#!/usr/bin/env bash
# The man pages: render without groff warnings; agree with the tools'
# --help (every option and command --help shows is in the page, every
# option the page documents is in --help, the same engines); libazbuse(3)
# names every function of azbuse.h, and its example compiles and links.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }

make -s man lib tools >/dev/null || fail "make man lib tools"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for m in build/man/*.[348]; do
	out=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$out" ] || fail "$m: groff warns: $out"
	MANWIDTH=80 man -l "$m" 2>/dev/null | col -b >"$tmp/$(basename "$m").txt"
	[ -s "$tmp/$(basename "$m").txt" ] || fail "$m does not render"
done

# Options in help text: -x and --long-name tokens.
opts_of() { grep -oE '(^|[][ ,(|])--?[a-zA-Z][a-zA-Z-]*' | sed 's/^[][ ,(|]//' | sort -u; }
# Options a page documents: the tags of its .TP paragraphs.
documented() {
	awk 'tag {print; tag = 0} /^\.TP/ {tag = 1}' "$1" | sed 's/\\f[BIRP]//g' |
		grep -oE '\\-(\\-)?[a-zA-Z][a-zA-Z\\-]*' | sed 's/\\//g' | sort -u
}
# in_text WORD FILE: WORD appears as a whole option or word.
in_text() { grep -qE -- "(^|[^a-zA-Z-])$1([^a-zA-Z-]|\$)" "$2"; }

check_tool() {	# check_tool NAME HELP_FILE
	local page=build/man/$1.8 txt=$tmp/$1.8.txt o
	for o in $(opts_of <"$2"); do
		in_text "$o" "$txt" || fail "$1 --help shows $o, $1(8) does not"
	done
	for o in $(documented "$page"); do
		grep -qE -- "(^|[][ ,(|])$o([^a-zA-Z-]|\$)" "$2" ||
			fail "$1(8) documents $o, $1 --help does not"
	done
}

ctl=build/bin/azbusectl run=build/bin/azbuse-run
"$ctl" --help >"$tmp/ctl.help"
cmds=$(awk '/^Commands:/ {on = 1; next} /^$/ {on = 0} on && /^  [a-z]/ {print $1}' "$tmp/ctl.help")
[ -n "$cmds" ] || fail "no commands in azbusectl --help"
for c in $cmds; do
	"$ctl" "$c" --help >>"$tmp/ctl.help"
	grep -qE "^\.(B|BR|BI) $c( |$)" build/man/azbusectl.8 ||
		fail "azbusectl --help has command $c, azbusectl(8) does not"
done
check_tool azbusectl "$tmp/ctl.help"

"$run" --help >"$tmp/run.help"
engines=$(awk '/^Engines:/ {on = 1; next} /^$/ {on = 0} on {print $1}' "$tmp/run.help" | sort)
man_engines=$(sed -n '/^\.SH ENGINES/,/^\.SH/p' build/man/azbuse-run.8 |
	awk 'tag {print $2; tag = 0} /^\.TP/ {tag = 1}' | sort)
[ "$engines" = "$man_engines" ] ||
	fail "engines: --help lists '$(echo $engines)', azbuse-run(8) '$(echo $man_engines)'"
# Each engine's options, as it declares them (--engine NAME --help): every
# long option in the page, every -o KEY in the page's part on that engine.
# The roff of section ENGINES, one paragraph per engine (".TP" ".B NAME").
eng_part() {	# eng_part NAME
	sed -n '/^\.SH ENGINES/,/^\.SH [^E]/p' build/man/azbuse-run.8 |
		awk -v e="$1" '/^\.TP/ {tag = 1; on = 0; next}
			tag {tag = 0; on = ($1 == ".B" && $2 == e); next} on'
}
nkeys=0
for e in $engines; do
	"$run" --engine "$e" --help >"$tmp/run.$e.help" ||
		fail "azbuse-run --engine $e --help failed"
	cat "$tmp/run.$e.help" >>"$tmp/run.help"
	part=$(eng_part "$e")
	[ -n "$part" ] || fail "azbuse-run(8) has no paragraph for engine $e"
	for k in $(sed -n 's/^  -o \([a-z_]*\).*/\1/p' "$tmp/run.$e.help"); do
		echo "$part" | grep -qE "(^|[^a-z_])$k(=|[^a-z_]|\$)" ||
			fail "engine $e declares -o $k; azbuse-run(8) says nothing of it under $e"
		nkeys=$((nkeys + 1))
	done
done
check_tool azbuse-run "$tmp/run.help"
echo "  azbusectl(8), azbuse-run(8) agree with --help ($(echo $cmds | wc -w) commands, engines: $(echo $engines), $nkeys engine options)"

# libazbuse(3): every public function, and an example that builds.
for f in $(cpp -fpreprocessed -P include/azbuse.h | grep -oE '\bazb_[a-z0-9_]+\(' | tr -d '(' | sort -u); do
	grep -q "\"[^\"]*\\b$f(" build/man/libazbuse.3 || fail "libazbuse(3) SYNOPSIS lacks $f()"
done
sed -n '/#include <errno.h>/,/Build it with/p' "$tmp/libazbuse.3.txt" | sed '$d' >"$tmp/zero.c"
cc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude -Iinclude/uapi -o "$tmp/zero" "$tmp/zero.c" \
	build/lib/libazbuse.a -pthread $(PKG_CONFIG_PATH=build/lib/pkgconfig pkg-config --libs-only-l --static libazbuse-uninstalled | sed 's/-lazbuse//') \
	2>"$tmp/cc" || fail "the libazbuse(3) example does not build: $(cat "$tmp/cc")"
echo "  libazbuse(3) covers azbuse.h; its example builds"
