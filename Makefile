# Trapeze: a teaching simulator for machine virtualization.
#
#   make            ./trapeze (optimized)
#   make test       every test, built with ASan and UBSan
#   make demo       the TUI on its built-in demo: toyos under the C VMM and the asm VMM
#   make labs       the labs' autograder tests alone (labs/README.md)
#   make bench      simulated MIPS of the interpreter, the cost of each level of nesting
#   make deps       installs the Debian packages the build needs
#   make fuzz       every libFuzzer harness of tests/fuzz for FUZZ_SECONDS each
#                   (make fuzz-TARGET: one); installs clang when missing
#   make install    ./trapeze, the programs and the man page under PREFIX
#   make uninstall  removes what make install put there
#
# DISPATCH=goto|switch picks the interpreter's dispatch (default goto).
# PREFIX (default /usr/local) and DESTDIR (staging, prepended) place the install.

# The one definition of the version: trapeze --version and the man page.
VERSION   = 0.1.0

CC       ?= cc
CSTD      = -std=c11 -D_POSIX_C_SOURCE=200809L
WARNINGS  = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wvla
OPT      ?= -O2
DISPATCH ?= goto
SANITIZE  = address,undefined
DEPFLAGS  = -MMD -MP

PKG_CFLAGS := $(shell pkg-config --cflags ncursesw readline 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs ncursesw readline 2>/dev/null)
CRIT_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS   := $(shell pkg-config --libs criterion 2>/dev/null)

ifeq ($(DISPATCH),goto)
DISPATCH_FLAG = -DTRAPEZE_DISPATCH_GOTO=1
else
DISPATCH_FLAG = -DTRAPEZE_DISPATCH_GOTO=0
endif

CFLAGS_COMMON = $(CSTD) $(WARNINGS) $(DEPFLAGS) $(DISPATCH_FLAG) $(PKG_CFLAGS) -g
RELEASE_CFLAGS = $(CFLAGS_COMMON) $(OPT) -DNDEBUG
SAN_CFLAGS     = $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) \
                 -fno-sanitize-recover=all -DTRAPEZE_TEST_BUILD

GEN_VARIANTS = build/gen/variants_builtin.c
# The sources compiled into the binary, by tree path (asm_embedded_source):
# the asm VMM, the TUI's demo (toyos: every build and include) and the
# library they include.  This is the only list of them; the files stay their only definition.
EMBEDDED_PROGRAMS = programs/vmm/vmm.s \
                    $(sort $(wildcard programs/toyos/*.s programs/toyos/*.inc)) \
                    $(sort $(wildcard programs/lib/*.inc))
GEN_PROGRAMS = build/gen/programs_embedded.c
MAIN_SRC  = tui/main.c
LIB_SRC   = $(sort $(wildcard isa/*.c isa/check/*.c machine/*.c assembler/*.c vmm/*.c vmm/*/*.c labs/*.c) \
                   $(filter-out $(MAIN_SRC),$(wildcard tui/*.c))) $(GEN_VARIANTS) $(GEN_PROGRAMS)
UNIT_SRC  = $(sort $(wildcard tests/unit/*.c))

# Each dispatch builds into its own folder, so switching DISPATCH rebuilds.
REL_DIR     = build/release-$(DISPATCH)
REL_LIB_OBJ = $(LIB_SRC:%.c=$(REL_DIR)/%.o)
SAN_LIB_OBJ = $(LIB_SRC:%.c=build/san/%.o)
UNIT_OBJ    = $(UNIT_SRC:%.c=build/san/%.o)

.PHONY: all test unit e2e demo bench bench-vmm deps clean check-deps install uninstall \
        fuzz fuzz-deps fuzz-replay install-packages
.DEFAULT_GOAL := all

all: trapeze

trapeze: $(REL_LIB_OBJ) $(REL_DIR)/$(MAIN_SRC:.c=.o)
	$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/san/trapeze: $(SAN_LIB_OBJ) build/san/$(MAIN_SRC:.c=.o)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

build/san/unit_tests: $(SAN_LIB_OBJ) $(UNIT_OBJ)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(PKG_LIBS) $(CRIT_LIBS) -lm

$(REL_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(RELEASE_CFLAGS) -c -o $@ $<

# gcc would merge the identical tails of the interpreter's handlers into a few
# shared indirect jumps, undoing threaded dispatch: measured +10% on the ALU
# loop without the merge (tests/bench/README.md).
$(REL_DIR)/machine/machine.o: RELEASE_CFLAGS += -fno-crossjumping

build/san/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) $(CRIT_CFLAGS) -c -o $@ $<

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

$(GEN_VARIANTS): isa/embed_variants.awk $(sort $(wildcard isa/variants/*.var))
	@mkdir -p $(dir $@)
	awk -f isa/embed_variants.awk $(sort $(wildcard isa/variants/*.var)) > $@.tmp && mv $@.tmp $@

$(GEN_PROGRAMS): assembler/embed_sources.awk $(EMBEDDED_PROGRAMS) Makefile
	@mkdir -p $(dir $@)
	LC_ALL=C awk -f assembler/embed_sources.awk $(EMBEDDED_PROGRAMS) > $@.tmp && mv $@.tmp $@

$(REL_DIR)/build/gen/%.o build/san/build/gen/%.o: $(GEN_VARIANTS) $(GEN_PROGRAMS)

# Only main.c sees the version; it is rebuilt when the Makefile changes.
$(REL_DIR)/tui/main.o build/san/tui/main.o: Makefile
$(REL_DIR)/tui/main.o build/san/tui/main.o: CFLAGS_COMMON += -DTRAPEZE_VERSION='"$(VERSION)"'

# ---- Tests --------------------------------------------------------------------

test: deps
	@$(MAKE) --no-print-directory trapeze build/san/trapeze build/san/unit_tests $(FUZZ_REPLAY_BIN)
	@$(MAKE) --no-print-directory unit fuzz-replay e2e

unit: build/san/unit_tests
	bash tests/unit/run.sh ./build/san/unit_tests

e2e: build/san/trapeze trapeze
	TRAPEZE=$(CURDIR)/build/san/trapeze bash tests/e2e/run.sh

# ---- Fuzzing (tests/fuzz/README.md) ----------------------------------------------
# Each tests/fuzz/fuzz_TARGET.c is built two ways: with libFuzzer (clang;
# make fuzz, make fuzz-TARGET) and, for make test, with replay.c and the
# sanitized objects, to replay tests/fuzz/regress/TARGET/ (no fuzzing).

FUZZ_TARGETS = $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 20
FUZZ_CC     ?= $(shell command -v clang-14 || command -v clang || echo clang)
FUZZ_FLAGS  ?=
# The lab target makes two folders an input (its own and the grader's, in
# $TMPDIR): on a tmpfs it runs five times faster than on ext4's /tmp.
FUZZ_TMPDIR ?= $(if $(wildcard /dev/shm/.),/dev/shm,/tmp)
FUZZ_CFLAGS  = $(CSTD) $(WARNINGS) $(DISPATCH_FLAG) -g -O1 -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all -DTRAPEZE_TEST_BUILD -DTRAPEZE_FUZZ_BUILD
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=build/fuzz/%.o)
FUZZ_REPLAY_BIN = $(FUZZ_TARGETS:%=build/san/fuzz-replay-%)

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link $(FUZZ_COV_FLAGS) -c -o $@ $<

# The machine and the monitors run thousands of instructions per input, and
# libFuzzer's comparison tracing of their every 64-bit compare took half of
# each harness's time (perf): their edges still guide the fuzzer, their
# compares are not traced, nor those of the debugger's engine (tui/engine.c:
# its motions search back over thousands of steps); the text readers
# (assembler, isa, tui) keep it, but for the edit distance of "did you mean" (isa/suggest.c: a compare per
# cell, most of the assembler's time on inputs with many unknown names).
# ASan and UBSan stay on everywhere.  The objects are kept between builds.
FUZZ_HOT_OBJ = $(filter build/fuzz/machine/% build/fuzz/vmm/%,$(FUZZ_LIB_OBJ)) \
               build/fuzz/tui/engine.o build/fuzz/isa/suggest.o build/fuzz/tests/unit/vmm_canaries.o
$(FUZZ_HOT_OBJ): FUZZ_COV_FLAGS = -fno-sanitize-coverage=trace-cmp
.SECONDARY: $(FUZZ_LIB_OBJ) build/fuzz/tests/unit/vmm_canaries.o

FUZZ_HEADERS = $(wildcard tests/fuzz/*.h)

build/fuzz/fuzz-%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ) $(FUZZ_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lm

build/san/fuzz-replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(SAN_LIB_OBJ) $(FUZZ_HEADERS)
	$(CC) $(SAN_CFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) -lm

# The C VMM's harness checks real memory as the unit tests do.
build/fuzz/fuzz-vmm: build/fuzz/tests/unit/vmm_canaries.o
build/san/fuzz-replay-vmm: tests/unit/vmm_canaries.c

fuzz-replay: $(FUZZ_REPLAY_BIN)
	@for t in $(FUZZ_TARGETS); do \
	  ASAN_OPTIONS=detect_leaks=1 ./build/san/fuzz-replay-$$t tests/fuzz/regress/$$t || exit 1; \
	done

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory trapeze
	@for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-$$t || exit 1; done

# One target: the seeds from programs/ and tests/ and the regression inputs
# start the corpus in build/fuzz/corpus/TARGET (kept between runs); findings
# go to build/fuzz/findings/TARGET/ (keep each under tests/fuzz/regress/).
fuzz-%: build/fuzz/fuzz-% trapeze
	@mkdir -p build/fuzz/corpus/$* build/fuzz/findings/$*
	@bash tests/fuzz/seeds.sh $* build/fuzz/seeds/$* ./trapeze
	TMPDIR=$(FUZZ_TMPDIR) ./build/fuzz/fuzz-$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 \
	    -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix=build/fuzz/findings/$*/ \
	    $(FUZZ_FLAGS) build/fuzz/corpus/$* build/fuzz/seeds/$* tests/fuzz/regress/$*

fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null || $(MAKE) --no-print-directory install-packages PACKAGES=clang

# The labs' autograders alone (make test runs them too): starters, references,
# mutants, hostile submissions, packaging.
.PHONY: labs
labs: build/san/trapeze trapeze
	TRAPEZE=$(CURDIR)/build/san/trapeze ROOT=$(CURDIR) bash tests/e2e/test_grade.sh

# ---- Running ------------------------------------------------------------------

demo: deps
	@$(MAKE) --no-print-directory trapeze
	./trapeze tui

bench-vmm: trapeze
	bash tests/bench/vmm.sh ./trapeze

bench: trapeze
	bash tests/bench/run.sh ./trapeze
	bash tests/bench/levels.sh ./trapeze
	bash tests/bench/shadow.sh ./trapeze
	bash tests/bench/nested.sh ./trapeze
	bash tests/bench/trace.sh ./trapeze
	bash tests/bench/debugger.sh ./trapeze
	bash tests/bench/disk.sh ./trapeze
	bash tests/bench/bt.sh ./trapeze
	bash tests/bench/pv.sh ./trapeze

# ---- Set-up -------------------------------------------------------------------

DEB_PACKAGES = build-essential pkg-config libncurses-dev libreadline-dev \
               libcriterion-dev graphviz tmux jq zip unzip

deps:
	@if pkg-config --exists ncursesw readline criterion 2>/dev/null && \
	    command -v dot >/dev/null && command -v tmux >/dev/null && \
	    command -v jq >/dev/null && command -v zip >/dev/null && \
	    command -v unzip >/dev/null; then :; else \
	  $(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PACKAGES)"; \
	fi

# Installs the Debian PACKAGES, as root or through sudo (deps, fuzz-deps).
install-packages:
	@echo "make deps: installing $(PACKAGES)"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; \
	else echo "make deps: missing packages; run as root:"; \
	     echo "  apt-get update && apt-get install -y $(PACKAGES)"; exit 1; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(PACKAGES) >/dev/null

# ---- Installing -----------------------------------------------------------------

PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
DATADIR  = $(PREFIX)/share/trapeze
MAN1DIR  = $(PREFIX)/share/man/man1
# Every program with what its tests compare (output, input, exit status) and
# the READMEs that explain them; installed under DATADIR/programs/ as in the tree.
INSTALL_PROGRAMS = $(sort $(shell find programs -type f \( -name '*.s' -o -name '*.inc' \
                     -o -name '*.expected' -o -name '*.input' -o -name '*.status' -o -name '*.disk' -o -name '*.txt' \
                     -o -name '*.md' -o -name '*.isa' -o -name '*.args' \)))
INSTALL_PROGRAM_DIRS = $(sort $(patsubst %/,%,$(dir $(INSTALL_PROGRAMS))))

install: trapeze tui/trapeze.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) \
	           $(addprefix $(DESTDIR)$(DATADIR)/,$(INSTALL_PROGRAM_DIRS))
	install -m 755 trapeze $(DESTDIR)$(BINDIR)/trapeze
	sed -e 's/@VERSION@/$(VERSION)/g' -e 's|\\fIPREFIX\\fP|$(PREFIX)|g' tui/trapeze.1 \
	    > $(DESTDIR)$(MAN1DIR)/trapeze.1
	chmod 644 $(DESTDIR)$(MAN1DIR)/trapeze.1
	for f in $(INSTALL_PROGRAMS); do install -m 644 $$f $(DESTDIR)$(DATADIR)/$$f || exit 1; done

# Removes the files install wrote and the folders it made under DATADIR when
# they are empty; bin/ and man1/ are shared, so they stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/trapeze $(DESTDIR)$(MAN1DIR)/trapeze.1
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/,$(INSTALL_PROGRAMS))
	printf '%s\n' $(INSTALL_PROGRAM_DIRS) | sort -r | sed 's|^|$(DESTDIR)$(DATADIR)/|' | \
	  xargs rmdir 2>/dev/null || true
	rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true

clean:
	rm -rf build trapeze

-include $(shell find build -name '*.d' 2>/dev/null)
