# SPDX-License-Identifier: GPL-2.0
# heaptrail build. `make deps` installs the Debian packages it needs.

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
OUT := build
ARCH := x86

# the release, and the commit when built from a git checkout
VERSION := 0.4
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null)
FULL_VERSION := $(VERSION)$(if $(GIT_REV), (git $(GIT_REV)))

PREFIX ?= /usr/local
SBINDIR := $(PREFIX)/sbin
MANDIR := $(PREFIX)/share/man
DATADIR := $(PREFIX)/share

CFLAGS ?= -O2 -g -Wall -Wextra -Wno-unused-parameter
CFLAGS += -std=gnu11 -I$(OUT) -Ibpf -Iuser
HEAPTRAIL := heaptrail

# make SANITIZE=1: the user side with ASan and UBSan, in build-san/ only,
# so that a sanitized ./heaptrail never replaces the normal one; tests/run.sh
# runs the parser tests against it too. Any report aborts it.
ifeq ($(SANITIZE),1)
OUT := build-san
HEAPTRAIL := $(OUT)/heaptrail
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
endif
LDLIBS := -lbpf -ldw -lelf -lz -lm -lstdc++ -lcapstone -ldebuginfod

BPF_SRC := bpf/heaptrail.bpf.c
# --kernel: the kmem tracepoints, a program and skeleton of their own
KMEM_SRC := bpf/kmem.bpf.c
SKELS := $(OUT)/heaptrail.skel.h $(OUT)/kmem.skel.h
BPF_HDR := $(wildcard bpf/*.h)
USER_SRC := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJ := $(patsubst user/%.c,$(OUT)/%.o,$(USER_SRC))

# to build and run heaptrail (`make deps`)
DEB_PACKAGES := clang libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libcapstone-dev \
	libdebuginfod-dev \
	make gcc g++ libc6-dev binutils util-linux procps
# the tests (`make test-deps`, run by `make test`): they read heaptrail's
# output back with real readers (go tool pprof, a JSON Schema validator,
# gdb's backtrace, man), trace C++ and replacement allocators; libc6-dbg
# names libc's frames; libclang-rt-14-dev has libFuzzer; debuginfod serves
# a debug file on loopback
TEST_PACKAGES := gzip golang-go python3-jsonschema gdb libc6-dbg man-db debuginfod \
	libjemalloc2 libgoogle-perftools4 libmimalloc2.0 libclang-rt-14-dev \
	libjemalloc-dev redis-server redis-tools

.PHONY: all deps test-deps demo test bench readme install uninstall clean format fuzz
all: $(HEAPTRAIL)

$(OUT):
	mkdir -p $@

$(OUT)/heaptrail.bpf.o: $(BPF_SRC) $(BPF_HDR) vmlinux/vmlinux.h | $(OUT)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Ibpf \
		-Wall -Wno-unused-function -c $< -o $@

$(OUT)/heaptrail.skel.h: $(OUT)/heaptrail.bpf.o
	$(BPFTOOL) gen skeleton $< name heaptrail_bpf > $@.tmp && mv $@.tmp $@

$(OUT)/kmem.bpf.o: $(KMEM_SRC) $(BPF_HDR) vmlinux/vmlinux.h | $(OUT)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux -Ibpf \
		-Wall -Wno-unused-function -c $< -o $@

$(OUT)/kmem.skel.h: $(OUT)/kmem.bpf.o
	$(BPFTOOL) gen skeleton $< name kmem_bpf > $@.tmp && mv $@.tmp $@

$(OUT)/%.o: user/%.c $(wildcard user/*.h) bpf/heaptrail.h $(SKELS) | $(OUT)
	$(CC) $(CFLAGS) -c $< -o $@

# the version is compiled into options.o alone (--version), rebuilt when it changes
$(OUT)/version.h: FORCE | $(OUT)
	@echo '#define HT_VERSION "$(FULL_VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@
$(OUT)/options.o: $(OUT)/version.h
FORCE:

$(HEAPTRAIL): $(OUT)/main.o $(USER_OBJ)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# libFuzzer harnesses of the readers of untrusted input (tests/fuzz/), with
# ASan and UBSan; libFuzzer itself is Debian's libclang-rt-14-dev. The
# test_fuzz_* tests run each on its seeds for a bounded time.
FUZZ_OUT := build-fuzz
$(FUZZ_OUT)/options.o: $(OUT)/version.h
FUZZ_CFLAGS := -g -O1 -std=gnu11 -I$(OUT) -Ibpf -Iuser \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OBJ := $(patsubst user/%.c,$(FUZZ_OUT)/%.o,$(USER_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,tests/bin/fuzz_%,$(wildcard tests/fuzz/*.c))

fuzz: $(FUZZ_BIN)
# kept between runs: make would delete them as intermediate files
.SECONDARY: $(FUZZ_OBJ)

$(FUZZ_OUT)/%.o: user/%.c $(wildcard user/*.h) bpf/heaptrail.h $(SKELS)
	@mkdir -p $(FUZZ_OUT)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

tests/bin/fuzz_%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p tests/bin
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

# Debian 12: install what is missing of a package list, saying what.
define apt_install
	@if command -v apt-get >/dev/null; then \
		missing=$$(for p in $(1); do \
			dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
		if [ -n "$$missing" ]; then \
			echo "installing $(2):" $$missing; \
			apt-get update && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y $$missing; \
		else \
			echo "$(2): all installed"; \
		fi; \
	fi
endef

deps:
	$(call apt_install,$(DEB_PACKAGES),packages to build and run heaptrail)
	$(MAKE) all

test-deps:
	$(call apt_install,$(TEST_PACKAGES),packages the tests use)

# Runs heaptrail on a program that leaks from encode() for 6 seconds.
demo: heaptrail
	$(MAKE) -C tests bin/leaky	# the others may need the test packages
	./heaptrail -i 2 -n 3 -f build/demo.folded -- tests/bin/leaky 1000 100 6

test: heaptrail test-deps
	$(MAKE) -C tests targets units
	$(MAKE) SANITIZE=1
	$(MAKE) fuzz
	tests/run.sh

# What tracing costs, side by side in one run (not a test; several minutes).
bench: heaptrail
	$(MAKE) -C tests targets
	tests/bench.sh

install: heaptrail
	install -D -m 0755 heaptrail $(DESTDIR)$(SBINDIR)/heaptrail
	install -D -m 0644 user/heaptrail.8 $(DESTDIR)$(MANDIR)/man8/heaptrail.8
	install -D -m 0644 user/heaptrail.bash \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/heaptrail
	install -D -m 0644 user/report.schema.json \
		$(DESTDIR)$(DATADIR)/heaptrail/report.schema.json

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/heaptrail $(DESTDIR)$(MANDIR)/man8/heaptrail.8 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/heaptrail \
		$(DESTDIR)$(DATADIR)/heaptrail/report.schema.json
	-rmdir $(DESTDIR)$(DATADIR)/heaptrail 2>/dev/null

# README examples from the current binary (root; about 15 seconds).
readme: heaptrail
	$(MAKE) -C tests targets
	tests/readme.sh

# Regenerate the committed vmlinux.h from the running kernel's BTF.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

format:
	clang-format -i user/*.c user/*.h bpf/*.c bpf/*.h tests/*.c

clean:
	rm -rf build build-san build-fuzz heaptrail
	$(MAKE) -C tests clean
