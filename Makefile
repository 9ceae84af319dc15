# azbuse: top-level build.
#
#   make            library, tools, and the module for KVER (default: the
#                   running kernel if its headers are installed)
#   make modules    the module for every kernel with headers in /lib/modules
#   make test       install deps, build, run host and guest tests
#   make demo       install deps, build, serve a device in a guest, run fio
#
# Objects go to build/; the module for kernel V to build/kmod/V/azbuse.ko.

CC	?= cc
CFLAGS	?= -O2 -g
CFLAGS	+= -std=gnu11 -Wall -Wextra -Werror=implicit-function-declaration \
	   -Wno-unused-parameter -fPIC -D_GNU_SOURCE -pthread
CPPFLAGS += -Iinclude -Iinclude/uapi -Iruntime
LDLIBS	+= -pthread
B	:= build

KVER	?= $(shell uname -r)
KDIR	?= /lib/modules/$(KVER)/build

LIB_SRC	:= $(wildcard runtime/*.c) $(wildcard engines/*.c)
LIB_OBJ	:= $(patsubst %.c,$(B)/%.o,$(LIB_SRC))
HDRS	:= $(wildcard include/*.h include/uapi/linux/*.h runtime/*.h engines/*.h tools/*.h tests/unit/*.h)
TOOL_COMMON := $(patsubst %.c,$(B)/%.o,$(filter-out tools/azbusectl.c tools/azbuse-run.c,$(wildcard tools/*.c)))
TOOLS	:= $(B)/bin/azbusectl $(B)/bin/azbuse-run
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_HELPERS := $(patsubst %.c,$(B)/%.o,$(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c)))
UNIT	:= $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
SONAME	:= libazbuse.so.0

.PHONY: all lib tools unit module modules test demo deps clean
# Keep objects: the chained pattern rules would otherwise delete them.
.SECONDARY:
all: lib tools unit module

lib: $(B)/lib/libazbuse.a $(B)/lib/$(SONAME)
tools: $(TOOLS)
unit: tools $(UNIT)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/lib/libazbuse.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(B)/lib/$(SONAME): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LDLIBS)
	ln -sf $(SONAME) $(B)/lib/libazbuse.so

# Tools and tests link the static library: nothing to install to run them.
$(B)/bin/%: $(B)/tools/%.o $(TOOL_COMMON) $(B)/lib/libazbuse.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(UNIT_HELPERS) $(TOOL_COMMON) $(B)/lib/libazbuse.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The module is built in a copy of kmod/ per kernel so that two kernels'
# objects never mix.
module:
	@if [ -d "$(KDIR)" ]; then ci/build-kmod "$(KVER)"; \
	else echo "make: no headers for kernel $(KVER) (set KVER=...); module not built"; fi

modules:
	@for d in /lib/modules/*/build; do [ -d "$$d" ] || continue; \
		v=$${d#/lib/modules/}; ci/build-kmod "$${v%/build}" || exit 1; done

deps:
	bash ci/deps.sh

test: deps
	$(MAKE) all modules
	tests/run

demo: deps
	$(MAKE) all modules
	ci/demo

clean:
	rm -rf $(B)
