# leakbpf: `make` builds ./leakbpf; `make demo` and `make test` install what is
# missing first (Debian 12 packages) and use sudo only when not already root.
CLANG ?= clang
CC ?= cc
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PREFIX ?= /usr/local
VERSION := 0.1.0

OUT := build
VMLINUX := vmlinux/$(ARCH)/vmlinux.h
BPF_SRC := $(wildcard bpf/*.bpf.c)
BPF_HDR := $(wildcard bpf/*.h)
BPF_OBJ := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRC))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRC))
# user/ is in folders by job (doc/architecture.md); every .c under it is built.
USER_SRC := $(sort $(shell find user -name '*.c'))
USER_OBJ := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRC))
# Web assets of the outputs (the flame graph's script and style) are files
# of their own, embedded as C arrays named asset_<file name> at build time.
ASSETS := $(sort $(wildcard user/out/assets/*))
ASSET_OBJ := $(patsubst user/out/assets/%,$(OUT)/assets/%.o,$(ASSETS))

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -DLEAKBPF_VERSION='"$(VERSION)"' \
	  -I$(OUT) -Ibpf -Iuser -MMD -MP
LDLIBS := -lbpf -ldw -lelf -lz -liberty -lpthread -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX)) -Ibpf -Wall -Werror

.PHONY: all clean deps demo test unit bench bench-windows vmlinux format install check-format
all: leakbpf

.SECONDARY:

$(OUT):
	mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDR) $(VMLINUX) | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

$(OUT)/user/%.o: user/%.c $(SKELS) | $(OUT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# They go into the SVG inside CDATA sections, which "]]>" would end.
$(OUT)/assets/%.c: user/out/assets/% scripts/embed.sh
	@mkdir -p $(dir $@)
	@! grep -qF ']]>' $< || { echo "$<: contains ]]>, which would end its CDATA section" >&2; exit 1; }
	scripts/embed.sh asset_$(subst .,_,$(subst -,_,$*)) $< > $@

$(OUT)/assets/%.o: $(OUT)/assets/%.c
	$(CC) $(CFLAGS) -c $< -o $@

leakbpf: $(USER_OBJ) $(ASSET_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The fast tier: tests/unit/test_*.c, each linked against the loader's
# objects (all but main), run without root in seconds.
LIB := $(OUT)/libleakbpf.a
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(OUT)/unit/%,$(UNIT_SRC))

$(LIB): $(filter-out $(OUT)/user/cli/main.o,$(USER_OBJ)) $(ASSET_OBJ)
	rm -f $@
	ar rcs $@ $^

$(OUT)/unit/%: tests/unit/%.c tests/unit/unit.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(LIB) -o $@ $(LDLIBS)

# Sample binaries of the unwind-table test (test_cfi_table.c): without frame
# pointers, with them, and with .debug_frame only, kept in a separate debug
# file found by its debuglink.
CFI_SAMPLE := tests/unit/cfi_sample.c
CFI_SAMPLES := $(OUT)/unit/cfi_nofp $(OUT)/unit/cfi_fp $(OUT)/unit/cfi_dbgframe

$(OUT)/unit/cfi_nofp: $(CFI_SAMPLE)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer $< -o $@

$(OUT)/unit/cfi_fp: $(CFI_SAMPLE)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fno-omit-frame-pointer $< -o $@

$(OUT)/unit/cfi_dbgframe: $(CFI_SAMPLE)
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fomit-frame-pointer -fno-asynchronous-unwind-tables -fno-unwind-tables $< -o $@.full
	objcopy --only-keep-debug $@.full $@.debug
	objcopy --strip-debug --add-gnu-debuglink=$@.debug $@.full $@
	rm -f $@.full

unit: $(UNIT_BIN) $(CFI_SAMPLES)
	scripts/check-layers.sh
	scripts/run-unit.sh $(UNIT_BIN)

-include $(USER_OBJ:.o=.d)

# Regenerate the kernel type header from the running kernel's BTF.
vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

deps:
	$(SUDO) scripts/deps.sh

demo: deps
	$(MAKE) all tests-build
	$(SUDO) tests/demo/run-demo.sh

tests-build: leakbpf
	$(MAKE) -C tests

test: deps
	$(MAKE) all tests-build
	$(MAKE) unit
	$(SUDO) scripts/run-tests.sh

bench: deps
	$(MAKE) all $(LIB) tests-build
	$(MAKE) -C bench
	$(MAKE) -C tests
	$(SUDO) bench/run.sh
	$(SUDO) bench/dlopen-window.sh
	$(SUDO) bench/procs.sh
	$(SUDO) bench/python/run.sh
	$(SUDO) bench/symbols.sh
	$(SUDO) bench/objects/run.sh
	$(SUDO) /usr/bin/python3 bench/growth.py

# The growth mode's allocation windows at their default period: whole runs
# of two minutes (about 25 minutes in all), apart from `make bench`.
bench-windows: deps
	$(MAKE) all
	$(MAKE) -C bench
	$(SUDO) /usr/bin/python3 bench/growth.py --only windows

format:
	clang-format -i bpf/*.c bpf/*.h $(USER_SRC) $(wildcard user/*/*.h) tests/c/*.c tests/c/cfi/*.c tests/c/*.h tests/c/*.cc tests/demo/*.c tests/unit/*.[ch] bench/*.c

check-format:
	clang-format --dry-run -Werror bpf/*.c bpf/*.h $(USER_SRC) $(wildcard user/*/*.h) tests/c/*.c tests/c/cfi/*.c tests/c/*.h tests/c/*.cc tests/demo/*.c tests/unit/*.[ch] bench/*.c

install: leakbpf
	install -D -m 0755 leakbpf $(DESTDIR)$(PREFIX)/sbin/leakbpf
	install -D -m 0644 doc/leakbpf.8 $(DESTDIR)$(PREFIX)/share/man/man8/leakbpf.8
	install -D -m 0644 doc/leakbpf.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/leakbpf
	install -D -m 0644 doc/json-schema.md $(DESTDIR)$(PREFIX)/share/doc/leakbpf/json-schema.md

clean:
	rm -rf $(OUT) leakbpf
	-$(MAKE) -C tests clean
	-$(MAKE) -C bench clean
