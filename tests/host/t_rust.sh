#!/usr/bin/env bash
# The Rust binding (bindings/rust): its unit tests (cargo test: dispatch by
# op with flags, errors as errnos, a panic failing only its request, the
# common flags, the doc example); a declaration that differs from azbuse.h
# fails the build; the rustnull plugin runs under the real poller against
# the emulated ring (azb-native-bench checks every completion); the
# examples' help and usage errors.  Skips without cargo.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
cargo=$(command -v /usr/bin/cargo || command -v cargo || true)
[ -n "$cargo" ] || { echo "SKIP: no cargo (bash ci/deps.sh installs cargo-web)"; exit 77; }
[ -f build/rust/engines/rustnull.so ] || fail "build first (make rust)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export AZBUSE_INCLUDE_DIR=$PWD/include AZBUSE_LIB_DIR=$PWD/build/lib

CARGO_TARGET_DIR=$PWD/build/rust "$cargo" test --offline --release \
	--manifest-path bindings/rust/Cargo.toml >"$tmp/test" 2>&1 ||
	fail "cargo test: $(tail -n 30 "$tmp/test")"
passed=$(grep -o '[0-9]* passed' "$tmp/test" | awk '{s += $1} END {print s + 0}')
[ "$passed" -ge 8 ] || fail "cargo test ran $passed tests: $(cat "$tmp/test")"
echo "  cargo test: $passed passed"

# A field of another type than the header's: the build fails, naming it.
cp -r bindings/rust "$tmp/crate"
rm -rf "$tmp/crate/target"
sed -i 's/    pub tag: u16,/    pub tag: u32,/' "$tmp/crate/src/sys.rs"
grep -q 'pub tag: u32' "$tmp/crate/src/sys.rs" || fail "the test's edit of sys.rs did not apply"
if CARGO_TARGET_DIR=$tmp/target "$cargo" build --offline \
	--manifest-path "$tmp/crate/Cargo.toml" >"$tmp/bad" 2>&1; then
	fail "a declaration unlike azbuse.h built"
fi
grep -q 'azb_io' "$tmp/bad" || fail "the layout error does not name the struct: $(tail -n 20 "$tmp/bad")"
echo "  a struct unlike azbuse.h's fails the build: $(grep -m1 -o 'evaluation panicked: [^`]*' "$tmp/bad")"

# The Rust null engine as a plugin, under the real poller and ring.
help=$(AZBUSE_ENGINE_PATH=build/rust/engines build/bin/azbuse-run --engine rustnull --help)
[[ $help == *"Engine rustnull"* ]] || fail "azbuse-run does not load rustnull.so: $help"
AZBUSE_ENGINE_PATH=build/rust/engines build/perf/azb-native-bench -e rustnull -q 1 -b 1,16 \
	-n 200000 >"$tmp/nb" 2>&1 || fail "native bench on rustnull: $(cat "$tmp/nb")"
echo "  rustnull.so: loaded by azbuse-run, every completion right under the native bench"

ex=build/rust/release/examples
for e in ramdisk null faulty; do
	out=$("$ex/$e" --help) || fail "$e --help failed"
	[[ $out == *"-s, --size SIZE"* ]] || fail "$e --help lacks the common options: $out"
	rc=0
	err=$("$ex/$e" -q 0 -s 1G 2>&1) || rc=$?
	[ "$rc" = 2 ] && [[ $err == "$e: -q: '0' is not in 1..256"* ]] ||
		fail "$e -q 0: exit $rc, '$err'"
	rc=0
	err=$("$ex/$e" 2>&1) || rc=$?
	[ "$rc" = 2 ] && [[ $err == *"-s SIZE is required"* ]] || fail "$e without -s: exit $rc, '$err'"
done
echo "  examples: --help, usage errors exit 2 with one line"
