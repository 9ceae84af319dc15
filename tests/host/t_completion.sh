#!/usr/bin/env bash
# Bash completion of both tools (packaging/bash-completion): each file
# loads in a plain bash, completes commands, options, option values,
# engines (plugins included) and an engine's own long options.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x build/bin/azbuse-run ] || fail "build first (make tools)"

# complete FILE FUNCTION WORD...: what FUNCTION offers for the last WORD.
complete_words() {
	local file=$1 fn=$2
	shift 2
	bash --norc --noprofile -c '
		set -e
		source "$1"; fn=$2; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
		"$fn"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$file" "$fn" "$@"
}
expect() {	# WANT GOT WHAT
	[ "$2" = "$1" ] || fail "$3: offered '$2', want '$1'"
}
ctl=packaging/bash-completion/azbusectl
run=packaging/bash-completion/azbuse-run
for f in "$ctl" "$run"; do
	bash -n "$f" || fail "$f does not parse"
done
expect "remove " "$(complete_words $ctl _azbusectl azbusectl re)" "azbusectl re"
expect "--all " "$(complete_words $ctl _azbusectl azbusectl remove --a)" "azbusectl remove --a"
expect "--recovery " "$(complete_words $ctl _azbusectl azbusectl add --rec)" "azbusectl add --rec"
expect "adaptive " "$(complete_words $run _azbuse_run build/bin/azbuse-run --poll ad)" "azbuse-run --poll ad"
expect "odirect " "$(complete_words $run _azbuse_run build/bin/azbuse-run -e od)" "azbuse-run -e od"
expect "rbd " "$(complete_words $run _azbuse_run build/bin/azbuse-run --engine rb)" "azbuse-run --engine rb (a plugin)"
expect "--daemon " "$(complete_words $run _azbuse_run build/bin/azbuse-run --dae)" "azbuse-run --dae"
expect "--reconnect " "$(complete_words $run _azbuse_run build/bin/azbuse-run --engine nbd --recon)" \
	"azbuse-run --engine nbd --recon (its own option)"
echo "  both completions load and complete commands, options, values and engines"
