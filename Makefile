# azbuse: top-level build.
#
#   make            library, tools, and the module for KVER (default: the
#                   running kernel if its headers are installed)
#   make modules    the module for every kernel with headers (ci/kernels
#                   headers: the host's and the sid root's 7.x)
#   make test       install deps, build, run host and guest tests
#   make demo       install deps, build, serve a device in a guest, run fio
#   make bench      install deps, build, benchmark against null_blk, nbd,
#                   ublk and loop in guests, write perf/results/ (perf/README.md)
#   make install    (PREFIX, DESTDIR), make uninstall, make deb: see
#                   packaging/install.mk
#
# Objects go to build/; the module for kernel V to build/kmod/V/azbuse.ko.

# A packager's CFLAGS, CPPFLAGS and LDFLAGS (environment or command line)
# replace the defaults; what the code needs is added to them whatever they
# are (override: a command-line variable would otherwise drop it).
CC	?= cc
CFLAGS	?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror=implicit-function-declaration \
	   -Wno-unused-parameter -fPIC -D_GNU_SOURCE -pthread
override CPPFLAGS += -Iinclude -Iinclude/uapi
# Layering, enforced by the include path: the runtime's own headers are
# visible to the runtime and to the white-box unit tests only; engines and
# tools see azbuse.h (and their own directory's headers) and nothing else.
RUNTIME_INC := -Iruntime
override LDLIBS += -pthread -luring -lhwloc -lnuma
# The programs built here link jemalloc, ahead of the C library, so that it
# is their one malloc (and C++ operator new) and the runtime takes its
# per-poller arenas from it; libazbuse itself does not (runtime/alloc.c).
# --no-as-needed: nothing calls it by name, and it must still be loaded.
JEMALLOC := -Wl,--push-state,--no-as-needed -ljemalloc -Wl,--pop-state
# Programs that link the runtime statically export its functions, so that
# an engine plugin they load binds to their copy (runtime/plugin.c).
EXPORT_AZB := -Wl,--export-dynamic-symbol='azb_*'
B	:= build

KVER	?= $(shell uname -r)

# Engines that need an outside library are plugins, NAME.so, with the
# libraries they need; the rest is libazbuse.
PLUGIN_NAMES := nbd rbd
PLUGIN_LIBS_nbd := -lnbd
PLUGIN_LIBS_rbd := -lrbd -lrados
PLUGINS	:= $(patsubst %,$(B)/lib/azbuse/engines/%.so,$(PLUGIN_NAMES))
LIB_SRC	:= $(wildcard runtime/*.c) \
	   $(filter-out $(patsubst %,engines/%.c,$(PLUGIN_NAMES)),$(wildcard engines/*.c))
LIB_OBJ	:= $(patsubst %.c,$(B)/%.o,$(LIB_SRC))
HDRS	:= $(wildcard include/*.h include/uapi/linux/*.h runtime/*.h engines/*.h tools/*.h tests/unit/*.h)
TOOL_COMMON := $(patsubst %.c,$(B)/%.o,$(filter-out tools/azbusectl.c tools/azbuse-run.c,$(wildcard tools/*.c)))
TOOLS	:= $(B)/bin/azbusectl $(B)/bin/azbuse-run
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_HELPERS := $(patsubst %.c,$(B)/%.o,$(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c)))
UNIT	:= $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC)) $(B)/tests/test_alloc_libc
VERSION	:= $(shell sed -n 's/^\#define AZB_VERSION[[:space:]]*"\(.*\)"/\1/p' include/azbuse.h)
SONAME	:= libazbuse.so.0
SOFILE	:= libazbuse.so.$(VERSION)

.PHONY: all lib plugins tools unit vmtools perf kublk module modules test demo bench deps clean rust
# Keep objects: the chained pattern rules would otherwise delete them.
.SECONDARY:
all: lib plugins tools unit vmtools examples module rust

lib: $(B)/lib/libazbuse.a $(B)/lib/$(SOFILE)
plugins: $(PLUGINS)
# The tools serve every engine, plugins included.
tools: $(TOOLS) $(PLUGINS)
unit: tools $(UNIT) $(B)/perf/azb-native-bench
# Programs the guest tests run (not host tests).
vmtools: $(B)/tests/azb-hostile

HOSTILE_SRC := $(wildcard tests/vm/hostile*.c)
$(B)/tests/azb-hostile: $(HOSTILE_SRC) tests/vm/hostile.h $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(HOSTILE_SRC) $(LDLIBS)

# Benchmark programs (perf/README.md): the runtime's native benchmark (a
# unit test runs it too) and the ublk null server the guest benchmark
# compares with, built against the 6.12 headers' ublk ABI.
perf: $(B)/perf/azb-native-bench $(B)/perf/azb-ublk-null kublk

# The kernel's own ublk server, from the sid root's linux-source-7.x
# (ci/sid-kernel); without that root the benchmark shows it as n/a.
kublk:
	@perf/peers/build-kublk || echo "make: kublk not built (bash ci/deps.sh makes the sid root); the benchmark shows it as n/a"

$(B)/perf/azb-native-bench: perf/native-bench.c $(B)/tests/unit/ring_emul.o $(B)/lib/libazbuse.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(RUNTIME_INC) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(B)/tests/unit/ring_emul.o $(B)/lib/libazbuse.a $(JEMALLOC) $(LDLIBS)

# The newest ublk_cmd.h here: the sid root's 7.x (segment limits, which
# automatic buffer registration needs), else the host's 6.12 headers.
UBLK_HDR := $(firstword $(wildcard /var/lib/azbuse/sid/usr/include/linux/ublk_cmd.h) \
	$(lastword $(sort $(wildcard /usr/src/linux-headers-6.12*-common/include/uapi/linux/ublk_cmd.h))))

$(B)/perf/include/linux/ublk_cmd.h: $(UBLK_HDR)
	@[ -n "$(UBLK_HDR)" ] || { echo "make: no ublk_cmd.h: no 6.12 kernel headers nor sid root (bash ci/deps.sh)"; exit 1; }
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/perf/azb-ublk-null: perf/peers/ublk-null.c $(B)/perf/include/linux/ublk_cmd.h $(TOOL_COMMON) $(B)/lib/libazbuse.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -I$(B)/perf/include -Itools $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(TOOL_COMMON) $(B)/lib/libazbuse.a $(JEMALLOC) $(LDLIBS)

# The Rust binding (bindings/rust): the crate, its examples, and the
# rustnull example as an engine plugin in build/rust/engines (kept out of
# the installed plugin directory).  Debian's cargo (cargo-web, ci/deps.sh)
# first; without cargo the binding is not built and its tests skip.
CARGO	?= $(firstword $(wildcard /usr/bin/cargo) $(shell command -v cargo 2>/dev/null))
RUST_SRC := $(shell find bindings/rust -name '*.rs' -not -path '*/target/*') bindings/rust/Cargo.toml
# Where the crate finds libazbuse: this tree (build.rs, AZBUSE_*_DIR).
RUST_ENV := CARGO_TARGET_DIR=$(abspath $(B)/rust) AZBUSE_INCLUDE_DIR=$(abspath include) \
	AZBUSE_LIB_DIR=$(abspath $(B)/lib)
rust: $(if $(CARGO),$(B)/rust/engines/rustnull.so,)
	@[ -n "$(CARGO)" ] || echo "make: no cargo: the Rust binding is not built (bash ci/deps.sh installs cargo-web)"

$(B)/rust/engines/rustnull.so: $(RUST_SRC) $(B)/lib/$(SOFILE) include/azbuse.h
	$(RUST_ENV) $(CARGO) build --offline --release --examples \
		--manifest-path bindings/rust/Cargo.toml
	@mkdir -p $(dir $@)
	cp $(B)/rust/release/examples/librustnull.so $@

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DIR_INC) $(CFLAGS) -c -o $@ $<

$(B)/runtime/%.o $(B)/tests/unit/%.o: DIR_INC := $(RUNTIME_INC)
# Debian's library directory, where azbuse-run's package puts the plugins.
$(B)/runtime/plugin.o: DIR_INC += -DAZB_MULTIARCH='"$(shell $(CC) -print-multiarch)"'


$(B)/lib/libazbuse.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The shared library exports only the API of azbuse.h (runtime/libazbuse.map).
$(B)/lib/$(SOFILE): $(LIB_OBJ) runtime/libazbuse.map
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=runtime/libazbuse.map -o $@ $(LIB_OBJ) $(LDLIBS)
	ln -sf $(SOFILE) $(B)/lib/$(SONAME)
	ln -sf $(SONAME) $(B)/lib/libazbuse.so

# A plugin needs libazbuse.so (found beside it, two directories up, or on
# the system) and its own library; --no-undefined: nothing left to chance.
$(B)/lib/azbuse/engines/%.so: $(B)/engines/%.o $(B)/lib/$(SOFILE)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,--no-undefined -o $@ $< \
		-L$(B)/lib -lazbuse $(PLUGIN_LIBS_$*) -Wl,-rpath,'$$ORIGIN/../..'

# Tools and tests link the static library: nothing to install to run them.
$(B)/bin/%: $(B)/tools/%.o $(TOOL_COMMON) $(B)/lib/libazbuse.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(EXPORT_AZB) -o $@ $^ $(JEMALLOC) $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(UNIT_HELPERS) $(TOOL_COMMON) $(B)/lib/libazbuse.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(EXPORT_AZB) -o $@ $^ $(JEMALLOC) $(LDLIBS)

# The engine tests load their plugin and check it with its library too.
$(B)/tests/test_engine_nbd: LDLIBS += $(PLUGIN_LIBS_nbd)
$(B)/tests/test_engine_rbd: LDLIBS += $(PLUGIN_LIBS_rbd)

# test_alloc once more without jemalloc: a program as libazbuse.pc builds it.
$(B)/tests/test_alloc_libc: tests/unit/test_alloc.c $(B)/lib/libazbuse.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(RUNTIME_INC) -DAZB_TEST_NO_JEMALLOC $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(B)/lib/libazbuse.a $(LDLIBS)

# The module is built in a copy of kmod/ per kernel so that two kernels'
# objects never mix.
module:
	@if ci/kernels headers | grep -qxF "$(KVER)"; then ci/build-kmod "$(KVER)"; \
	else echo "make: no headers for kernel $(KVER) (set KVER=...); module not built"; fi

modules:
	@for v in $$(ci/kernels headers); do ci/build-kmod "$$v" || exit 1; done

deps:
	bash ci/deps.sh

test: deps
	$(MAKE) all modules
	tests/run

demo: deps
	$(MAKE) all modules
	ci/demo

bench: deps
	$(MAKE) all modules perf
	perf/run

clean:
	rm -rf $(B)

include packaging/install.mk
