# sitrep - one non-recursive Makefile.
#
#   make          build ./sitrep
#   make run      install missing Debian packages, build, open the dashboard on the simulator
#   make test     install missing packages, build, run every test, then again under ASan+UBSan
#   make bench    print performance figures (README.md, "Development")
#   make fuzz     run every fuzz target for FUZZ_SECONDS (60) each
#   make check-layers   check that no folder includes a header it must not see
#   make format   apply .clang-format to every file
#
# V=1 shows the commands.

.DEFAULT_GOAL := all
SHELL := /bin/bash

CC ?= cc
PKGS := ncursesw libuv sqlite3 inih jansson
# libpq (the postgres adapter) is optional: without it that type explains itself.
ifeq ($(shell pkg-config --exists libpq 2>/dev/null && echo yes),yes)
PKGS += libpq
PG_DEFS := -DSR_HAVE_LIBPQ
else
$(info sitrep: libpq not found (apt-get install libpq-dev): the postgres adapter is left out)
endif
# libcurl (the http adapter) is optional likewise.
ifeq ($(shell pkg-config --exists libcurl 2>/dev/null && echo yes),yes)
PKGS += libcurl
CURL_DEFS := -DSR_HAVE_CURL
else
$(info sitrep: libcurl not found (apt-get install libcurl4-openssl-dev): the http adapter is left out)
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(PG_DEFS) $(CURL_DEFS)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CRIT_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS := $(shell pkg-config --libs criterion 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lcsv -lm -lpthread -ldl

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---- sources ----
APP_SRC := $(filter-out app/main.c,$(wildcard app/*.c))
LIB_SRC := $(wildcard metrics/*.c) $(wildcard adapters/*.c) $(wildcard tui/*.c) $(APP_SRC)
MAIN_SRC := app/main.c
TEST_SRC := $(wildcard tests/*/*.c)
PLUGIN_SRC := $(wildcard adapters/examples/*.c)

OBJ_DIR := build/obj
SAN_DIR := build/asan

LIB_OBJ := $(LIB_SRC:%.c=$(OBJ_DIR)/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(OBJ_DIR)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(OBJ_DIR)/%.o)
SAN_LIB_OBJ := $(LIB_SRC:%.c=$(SAN_DIR)/%.o)
SAN_MAIN_OBJ := $(MAIN_SRC:%.c=$(SAN_DIR)/%.o)
SAN_TEST_OBJ := $(TEST_SRC:%.c=$(SAN_DIR)/%.o)
PLUGINS := $(PLUGIN_SRC:adapters/examples/%.c=build/plugins/%.so)
# The test build: SITREP_TEST_USER/SITREP_TEST_GROUPS (app/roles.c) exist
# only where -DSR_TEST_HOOKS is given, never in ./sitrep or what `make
# install` installs. build/test/sitrep and build/sitrep-tests link the
# hooked objects instead; every ASan object is a test build.
TEST_DIR := build/test
TEST_HOOKS := -DSR_TEST_HOOKS
HOOK_SRC := app/roles.c
HOOK_OBJ := $(HOOK_SRC:%.c=$(TEST_DIR)/obj/%.o)
TEST_LIB_OBJ := $(filter-out $(HOOK_SRC:%.c=$(OBJ_DIR)/%.o),$(LIB_OBJ)) $(HOOK_OBJ)
# shared objects the plugin tests load (not examples: broken on purpose)
TEST_PLUGIN_SRC := $(wildcard tests/fixtures/plugins/*.c)
TEST_PLUGINS := $(TEST_PLUGIN_SRC:tests/fixtures/plugins/%.c=build/test-plugins/%.so)

.PHONY: all deps run test test-plain test-san bench fuzz check-layers format clean

all: sitrep $(PLUGINS)

sitrep: $(MAIN_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(OBJ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ_DIR)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(CRIT_CFLAGS) -c -o $@ $<

$(TEST_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/TEST $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_HOOKS) -c -o $@ $<

$(SAN_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/SAN  $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_HOOKS) $(SAN_FLAGS) -c -o $@ $<

$(SAN_DIR)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC/SAN  $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_HOOKS) $(CRIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/plugins/%.so: adapters/examples/%.c adapters/adapter.h
	@mkdir -p $(dir $@)
	@echo "  SO      $@"
	$(Q)$(CC) -std=c17 $(WARN) $(CFLAGS) -fPIC -shared -o $@ $<

build/test-plugins/%.so: tests/fixtures/plugins/%.c adapters/adapter.h
	@mkdir -p $(dir $@)
	@echo "  SO      $@"
	$(Q)$(CC) -std=c17 $(WARN) $(CFLAGS) -fPIC -shared -o $@ $<

$(TEST_DIR)/sitrep: $(MAIN_OBJ) $(TEST_LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/sitrep-tests: $(TEST_OBJ) $(TEST_LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(CRIT_LIBS) $(LDLIBS)

$(SAN_DIR)/sitrep: $(SAN_MAIN_OBJ) $(SAN_LIB_OBJ)
	@echo "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(SAN_DIR)/sitrep-tests: $(SAN_TEST_OBJ) $(SAN_LIB_OBJ)
	@echo "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(CRIT_LIBS) $(LDLIBS)

# ---- set-up: install what is missing (Debian) ----
# Each entry is a Debian package; contrib/deps.sh installs the missing ones
# with apt-get (through sudo when not root).
DEB_PKGS := build-essential pkg-config libncurses-dev libuv1-dev libsqlite3-dev \
            libinih-dev libcsv-dev libjansson-dev libcriterion-dev tmux \
            libpq-dev postgresql libcurl4-openssl-dev openssl
DEB_FUZZ := clang libclang-rt-14-dev

deps:
	$(Q)contrib/deps.sh $(DEB_PKGS)

# ---- the two commands ----
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./sitrep --config config.ini

test: deps
	$(Q)$(MAKE) --no-print-directory test-plain
	$(Q)$(MAKE) --no-print-directory test-san

TEST_JOBS ?= 2
# SITREP_BIN is a test build; SITREP_RELEASE_BIN, ./sitrep, is checked to
# have no test hooks.
test-plain: all $(TEST_DIR)/sitrep build/sitrep-tests $(TEST_PLUGINS)
	@echo "== tests =="
	$(Q)SITREP_BIN=$(CURDIR)/$(TEST_DIR)/sitrep SITREP_RELEASE_BIN=$(CURDIR)/sitrep SITREP_FIXTURES=$(CURDIR)/tests/fixtures \
	  SITREP_PLUGINS=$(CURDIR)/build/plugins SITREP_TEST_PLUGINS=$(CURDIR)/build/test-plugins \
	  build/sitrep-tests --jobs $(TEST_JOBS) --short-filename

test-san: sitrep $(SAN_DIR)/sitrep $(SAN_DIR)/sitrep-tests $(PLUGINS) $(TEST_PLUGINS)
	@echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
	$(Q)set -o pipefail; ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  SITREP_BIN=$(CURDIR)/$(SAN_DIR)/sitrep SITREP_RELEASE_BIN=$(CURDIR)/sitrep SITREP_FIXTURES=$(CURDIR)/tests/fixtures \
	  SITREP_PLUGINS=$(CURDIR)/build/plugins SITREP_TEST_PLUGINS=$(CURDIR)/build/test-plugins \
	  $(SAN_DIR)/sitrep-tests --jobs $(TEST_JOBS) --short-filename 2>&1 | tee build/test-san.log
	@# criterion does not fail a test whose process leaks after it passed: the log does
	$(Q)if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' build/test-san.log; then \
	  echo "sanitizer reports above: failing"; exit 1; fi

# ---- bench, fuzz, checks ----
BENCH_BIN := build/bench/gen_samples build/bench/bench_baseline build/bench/bench_query \
             build/bench/tui_baseline build/bench/gen_calls

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)bench/run.sh

build/bench/gen_samples build/bench/bench_baseline build/bench/tui_baseline \
build/bench/gen_calls: build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARN) -O2 $(PKG_CFLAGS) -o $@ $< $(LDLIBS)

build/bench/bench_query: bench/bench_query.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_LIB_SRC := $(LIB_SRC)

build/fuzz/%: fuzz/%.c fuzz/fuzz.h $(FUZZ_LIB_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	  $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(LDLIBS)

fuzz: deps
	$(Q)contrib/deps.sh $(DEB_FUZZ)
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BIN)
	$(Q)for f in $(FUZZ_BIN); do \
	  name=$$(basename $$f); mkdir -p fuzz/corpus-$$name; \
	  echo "== $$name for $(FUZZ_SECONDS)s =="; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 fuzz/corpus-$$name fuzz/seeds/$$name \
	    2>&1 | tail -n 12 || exit 1; \
	done

check-layers:
	$(Q)contrib/check-layers.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build sitrep

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(HOOK_OBJ:.o=.d)
-include $(SAN_LIB_OBJ:.o=.d) $(SAN_MAIN_OBJ:.o=.d) $(SAN_TEST_OBJ:.o=.d)
