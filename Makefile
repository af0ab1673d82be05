# sitrep - one non-recursive Makefile.
#
#   make          build ./sitrep
#   make run      install missing Debian packages, build, open the dashboard on the simulator
#   make test     install missing packages, build, replay the fuzz seeds and run every test,
#                 then both again under ASan+UBSan
#   make bench    print performance figures (README.md, "Development")
#   make fuzz     run every fuzz target for FUZZ_SECONDS (60) each
#   make man     the manual pages sitrep(1) and sitrep.conf(5) into build/man/ (also by make)
#   make check    what make test checks first: check-layers (no folder includes a header
#                 it must not see), check-format (clang-format), check-optional (a build
#                 without libpq and libcurl)
#   make format   apply .clang-format to every file
#   make install  install (PREFIX, DESTDIR, ...: the "install" section below)
#   make uninstall  remove what make install installed (not the config, not the state)
#
# V=1 shows the commands. CPPFLAGS, CFLAGS and LDFLAGS are honoured in every
# compile and link (dpkg-buildflags' hardening flags apply).

.DEFAULT_GOAL := all
SHELL := /bin/bash

# CC is make's own default (cc) unless given: CC=clang make
PKGS := ncursesw libuv sqlite3 jansson
# libpq (the postgres adapter) is optional: without it that type explains itself.
# It and libcurl are linked into the adapters' own shared objects (MODULES
# below), never into sitrep: only a config naming the type maps them.
# WITHOUT="libpq libcurl" builds as if they were missing (make check-optional).
WITHOUT ?=
ifeq ($(if $(filter libpq,$(WITHOUT)),,$(shell pkg-config --exists libpq 2>/dev/null && echo yes)),yes)
PG_DEFS := -DSR_HAVE_LIBPQ
PG_CFLAGS := $(shell pkg-config --cflags libpq)
PG_LIBS := $(shell pkg-config --libs libpq)
else
$(if $(WITHOUT),,$(info sitrep: libpq not found (apt-get install libpq-dev): the postgres adapter is left out))
endif
# libcurl (the http adapter) is optional likewise.
ifeq ($(if $(filter libcurl,$(WITHOUT)),,$(shell pkg-config --exists libcurl 2>/dev/null && echo yes)),yes)
CURL_DEFS := -DSR_HAVE_CURL
CURL_CFLAGS := $(shell pkg-config --cflags libcurl)
CURL_LIBS := $(shell pkg-config --libs libcurl)
else
$(if $(WITHOUT),,$(info sitrep: libcurl not found (apt-get install libcurl4-openssl-dev): the http adapter is left out))
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(PG_CFLAGS) $(CURL_CFLAGS) \
              $(PG_DEFS) $(CURL_DEFS)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# what a program that links pg.c and http.c itself needs (the tests, fuzz)
MOD_LIBS := $(PG_LIBS) $(CURL_LIBS)
CRIT_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS := $(shell pkg-config --libs criterion 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS ?= -O2 -g

# ---- where make install puts things ----
# Each is honoured exactly as given; DESTDIR prefixes them all when staging.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= $(PREFIX)/etc
LOCALSTATEDIR ?= /var
DATADIR ?= $(PREFIX)/share
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(DATADIR)/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# the system user and group of the collector and the setgid binary
SITREP_USER ?= sitrep
SITREP_GROUP ?= sitrep

# The directories the C code knows (app/paths.h), as -D flags. The stamp
# holds them and is rewritten only when they change, so that a new PREFIX
# rebuilds the files that include paths.h, and nothing else.
PATHS_DEFS := -DSR_SYSCONFDIR='"$(SYSCONFDIR)"' -DSR_LOCALSTATEDIR='"$(LOCALSTATEDIR)"' \
              -DSR_DATADIR='"$(DATADIR)"' -DSR_LIBDIR='"$(LIBDIR)"'
PATHS_STAMP := build/paths.stamp

# The version: the VERSION file, the one place it is written (debian/changelog
# must agree: tests/app/test_install.c). Only the files that print it see it.
VERSION := $(shell cat VERSION)
VERSION_DEFS := -DSITREP_VERSION='"$(VERSION)"'

ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(PATHS_DEFS) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lcsv -lm -lpthread -ldl

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---- sources ----
# the commands (app/main.c and app/cmd*.c) are the binary's alone: the tests
# and benches link the rest
CMD_SRC := app/main.c $(wildcard app/cmd*.c)
APP_SRC := $(filter-out $(CMD_SRC),$(wildcard app/*.c))
# the adapters built as shared objects of their own (adapters/modules.h),
# with the files only they use, and the entry point each of them exports
MOD_SRC := adapters/pg.c adapters/http.c adapters/httpurl.c adapters/httppage.c adapters/jsondoc.c
MOD_ENTRY := adapters/module.c
LIB_SRC := $(wildcard metrics/*.c) $(filter-out $(MOD_SRC) $(MOD_ENTRY),$(wildcard adapters/*.c)) \
           $(wildcard tui/*.c) $(APP_SRC)
MAIN_SRC := $(CMD_SRC)
TEST_SRC := $(wildcard tests/*/*.c)
PLUGIN_SRC := $(wildcard adapters/examples/*.c)

OBJ_DIR := build/obj
SAN_DIR := build/asan
# the fuzz targets, and their seeds replayed as regression tests (make test)
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
REPLAY_BIN := $(FUZZ_SRC:fuzz/%.c=build/replay/%)
SAN_REPLAY_BIN := $(FUZZ_SRC:fuzz/%.c=$(SAN_DIR)/replay/%)

LIB_OBJ := $(LIB_SRC:%.c=$(OBJ_DIR)/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(OBJ_DIR)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(OBJ_DIR)/%.o)
SAN_LIB_OBJ := $(LIB_SRC:%.c=$(SAN_DIR)/%.o)
SAN_MAIN_OBJ := $(MAIN_SRC:%.c=$(SAN_DIR)/%.o)
SAN_TEST_OBJ := $(TEST_SRC:%.c=$(SAN_DIR)/%.o)
# the test programs link pg.c and http.c (with theirs) to drive them in-process (registry.c)
MOD_OBJ := $(MOD_SRC:%.c=$(OBJ_DIR)/%.o)
SAN_MOD_OBJ := $(MOD_SRC:%.c=$(SAN_DIR)/%.o)
PLUGINS := $(PLUGIN_SRC:adapters/examples/%.c=build/plugins/%.so)
# the files that use the install directories (they include app/paths.h)
# (the commands see paths.h through cmd.h)
PATHS_SRC := $(shell grep -l '^\#include ".*\(paths\|cmd\)\.h"' $(LIB_SRC) $(MAIN_SRC) $(TEST_SRC))
# The test build: SITREP_TEST_USER/SITREP_TEST_GROUPS (app/roles.c) and
# SITREP_TEST_COUNTS (app/dashboard.c) exist only where -DSR_TEST_HOOKS is
# given, never in ./sitrep or what `make install` installs. build/test/sitrep
# and build/sitrep-tests link the hooked objects instead; every ASan object
# is a test build.
TEST_DIR := build/test
TEST_HOOKS := -DSR_TEST_HOOKS
HOOK_SRC := app/roles.c app/dashboard.c
HOOK_OBJ := $(HOOK_SRC:%.c=$(TEST_DIR)/obj/%.o)
TEST_LIB_OBJ := $(filter-out $(HOOK_SRC:%.c=$(OBJ_DIR)/%.o),$(LIB_OBJ)) $(HOOK_OBJ)
# shared objects the plugin tests load (not examples: broken on purpose)
TEST_PLUGIN_SRC := $(wildcard tests/fixtures/plugins/*.c)
TEST_PLUGINS := $(TEST_PLUGIN_SRC:tests/fixtures/plugins/%.c=build/test-plugins/%.so)

.PHONY: all man deps run test test-plain test-san bench fuzz check check-layers check-format \
        check-optional format clean \
        install uninstall FORCE

# The adapter modules: sitrep looks for them beside itself (app/paths.h,
# sr_module_dirs): ./sitrep in build/lib/sitrep, build/test/sitrep and
# build/asan/sitrep in ../lib/sitrep, which is the same folder. Each is
# position-independent code with every symbol hidden but the entry point,
# and carries its own copy of what it shares with the binary (map.c, ...).
MOD_DIR := build/lib/sitrep
PIC_DIR := build/pic
MODULES := $(if $(PG_DEFS),$(MOD_DIR)/sitrep-postgres.so) $(if $(CURL_DEFS),$(MOD_DIR)/sitrep-http.so)
MOD_PG_OBJ := $(addprefix $(PIC_DIR)/adapters/,pg.o sql.o map.o maplang.o modules.o module-postgres.o)
MOD_HTTP_OBJ := $(addprefix $(PIC_DIR)/adapters/,http.o httpurl.o httppage.o jsondoc.o jsonrow.o map.o maplang.o \
                  modules.o module-http.o)
PIC_FLAGS := -fPIC -fvisibility=hidden

all: sitrep $(PLUGINS) $(MODULES)

sitrep: $(MAIN_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(PATHS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(SYSCONFDIR) $(LOCALSTATEDIR) $(DATADIR) $(LIBDIR)' | cmp -s - $@ || \
	  echo '$(SYSCONFDIR) $(LOCALSTATEDIR) $(DATADIR) $(LIBDIR)' > $@
$(PATHS_SRC:%.c=$(OBJ_DIR)/%.o) $(PATHS_SRC:%.c=$(SAN_DIR)/%.o) $(PATHS_SRC:%.c=$(TEST_DIR)/obj/%.o) \
$(PATHS_SRC:%.c=$(PIC_DIR)/%.o): $(PATHS_STAMP)
$(MAIN_OBJ) $(SAN_MAIN_OBJ): VERSION
$(MAIN_OBJ) $(SAN_MAIN_OBJ): ALL_CFLAGS += $(VERSION_DEFS)

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

MOD_ENTRY_OBJ := $(PIC_DIR)/adapters/module-postgres.o $(PIC_DIR)/adapters/module-http.o
$(MOD_ENTRY_OBJ): $(PIC_DIR)/adapters/module-%.o: adapters/module.c
	@mkdir -p $(dir $@)
	@echo "  CC/PIC  $< ($*)"
	$(Q)$(CC) $(ALL_CFLAGS) $(PIC_FLAGS) -DSR_MODULE_TABLE=sr_adapter_$* -c -o $@ $<

$(PIC_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/PIC  $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(PIC_FLAGS) -c -o $@ $<

$(MOD_DIR)/sitrep-postgres.so: $(MOD_PG_OBJ)
	@mkdir -p $(dir $@)
	@echo "  SO      $@"
	$(Q)$(CC) $(CFLAGS) -shared $(LDFLAGS) -Wl,--no-undefined -o $@ $^ $(PG_LIBS) -lm

$(MOD_DIR)/sitrep-http.so: $(MOD_HTTP_OBJ)
	@mkdir -p $(dir $@)
	@echo "  SO      $@"
	$(Q)$(CC) $(CFLAGS) -shared $(LDFLAGS) -Wl,--no-undefined -o $@ $^ $(CURL_LIBS) \
	  $(shell pkg-config --libs jansson 2>/dev/null) -lpthread -lm

build/plugins/%.so: adapters/examples/%.c adapters/adapter.h
	@mkdir -p $(dir $@)
	@echo "  SO      $@"
	$(Q)$(CC) -std=c17 $(WARN) $(CPPFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $<

build/test-plugins/%.so: tests/fixtures/plugins/%.c adapters/adapter.h
	@mkdir -p $(dir $@)
	@echo "  SO      $@"
	$(Q)$(CC) -std=c17 $(WARN) $(CPPFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $<

$(TEST_DIR)/sitrep: $(MAIN_OBJ) $(TEST_LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/sitrep-tests: $(TEST_OBJ) $(TEST_LIB_OBJ) $(MOD_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CRIT_LIBS) $(LDLIBS) $(MOD_LIBS)

$(SAN_DIR)/sitrep: $(SAN_MAIN_OBJ) $(SAN_LIB_OBJ)
	@echo "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(SAN_DIR)/sitrep-tests: $(SAN_TEST_OBJ) $(SAN_LIB_OBJ) $(SAN_MOD_OBJ)
	@echo "  LD/SAN  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(CRIT_LIBS) $(LDLIBS) $(MOD_LIBS)

# ---- manual pages ----
# build/man/PAGE is man/PAGE.in (roff written by hand: the prose) with its
# `.\" @sitrep ARGS` lines replaced by `./sitrep ARGS` (help --format man:
# the commands, keys, exit codes and configuration keys, from the tables
# the program itself uses) and its @DIR@ names by the install directories
# (contrib/mkman.sh). MAN_PAGES is what `make install` puts in $(MANDIR).
# (the install directories are set in "where make install puts things")
MAN_PAGES := build/man/sitrep.1 build/man/sitrep.conf.5
MAN_DIRS := BINDIR=$(BINDIR) SYSCONFDIR=$(SYSCONFDIR) LOCALSTATEDIR=$(LOCALSTATEDIR) \
            DATADIR=$(DATADIR) LIBDIR=$(LIBDIR)
# the pages are made again when a directory changes (build/man/dirs holds them)
$(shell mkdir -p build/man && { echo '$(MAN_DIRS)' | cmp -s - build/man/dirs || \
          echo '$(MAN_DIRS)' > build/man/dirs; })

all: $(MAN_PAGES)
man: $(MAN_PAGES)

build/man/%: man/%.in sitrep contrib/mkman.sh build/man/dirs
	@echo "  MAN     $@"
	$(Q)contrib/mkman.sh ./sitrep $< $(MAN_DIRS) > $@.tmp && mv $@.tmp $@

# ---- set-up: install what is missing (Debian) ----
# Each entry is a Debian package; contrib/deps.sh installs the missing ones
# with apt-get (through sudo when not root).
DEB_PKGS := build-essential pkg-config libncurses-dev libuv1-dev libsqlite3-dev \
            libcsv-dev libjansson-dev libcriterion-dev tmux \
            libpq-dev postgresql libcurl4-openssl-dev openssl \
            groff-base man-db sqlite3 locales
DEB_FUZZ := clang libclang-rt-14-dev
# what make test needs beyond DEB_PKGS (make check-format)
DEB_TEST := clang-format

deps:
	$(Q)contrib/deps.sh $(DEB_PKGS)

# ---- the two commands ----
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./sitrep --config config.ini

test: deps
	$(Q)contrib/deps.sh $(DEB_TEST)
	$(Q)$(MAKE) --no-print-directory check
	$(Q)$(MAKE) --no-print-directory test-plain
	$(Q)$(MAKE) --no-print-directory test-san

# Tests run three at a time on the CI's two cores: the end-to-end tests spend
# most of their time waiting for a terminal or a child process (measured: the
# plain suite 100 s at three, 112 s at two, 105 s at four).
TEST_JOBS ?= 3
# SITREP_BIN is a test build; SITREP_RELEASE_BIN, ./sitrep, is checked to
# have no test hooks.
test-plain: all $(TEST_DIR)/sitrep build/sitrep-tests $(TEST_PLUGINS) $(REPLAY_BIN)
	$(call replay_seeds,$(REPLAY_BIN))
	@echo "== tests =="
	$(Q)SITREP_BIN=$(CURDIR)/$(TEST_DIR)/sitrep SITREP_RELEASE_BIN=$(CURDIR)/sitrep SITREP_FIXTURES=$(CURDIR)/tests/fixtures \
	  SITREP_PLUGINS=$(CURDIR)/build/plugins SITREP_TEST_PLUGINS=$(CURDIR)/build/test-plugins \
	  build/sitrep-tests --jobs $(TEST_JOBS) --short-filename

test-san: sitrep $(SAN_DIR)/sitrep $(SAN_DIR)/sitrep-tests $(PLUGINS) $(MODULES) $(TEST_PLUGINS) \
          $(SAN_REPLAY_BIN)
	$(call replay_seeds,$(SAN_REPLAY_BIN))
	@echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer =="
	$(Q)set -o pipefail; ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  SITREP_BIN=$(CURDIR)/$(SAN_DIR)/sitrep SITREP_RELEASE_BIN=$(CURDIR)/sitrep SITREP_FIXTURES=$(CURDIR)/tests/fixtures \
	  SITREP_PLUGINS=$(CURDIR)/build/plugins SITREP_TEST_PLUGINS=$(CURDIR)/build/test-plugins \
	  $(SAN_DIR)/sitrep-tests --jobs $(TEST_JOBS) --short-filename 2>&1 | tee build/test-san.log
	@# criterion does not fail a test whose process leaks after it passed: the log does
	$(Q)if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' build/test-san.log; then \
	  echo "sanitizer reports above: failing"; exit 1; fi

# ---- install ----
# make install / make uninstall honour PREFIX, DESTDIR and the directories
# set above (each may be given on the command line); doc-notes/install.md
# has the layout and why each mode is what it is.
#
# As root with an empty DESTDIR, install also lays out the trust boundary:
# the system user and group $(SITREP_USER)/$(SITREP_GROUP) when missing, the state
# folder $(LOCALSTATEDIR)/lib/sitrep ($(SITREP_USER):$(SITREP_GROUP) 2770), the binary
# root:$(SITREP_GROUP) 2755 (setgid: viewers reach the cache only through sitrep)
# and a new config root:$(SITREP_GROUP) 0640. With a DESTDIR (staging, a package)
# the binary is 0755 and users and owners are the package's business.
STATEDIR = $(LOCALSTATEDIR)/lib/sitrep
D = $(DESTDIR)
SHARE_DIR = $(DATADIR)/sitrep
MOD_INST_DIR = $(LIBDIR)/sitrep
EXAMPLES := $(wildcard adapters/examples/*.ini)
# the public datasets the examples read (tests/fixtures/): installed beside
# them in examples/data, their paths rewritten to match
EXAMPLE_DATA := $(sort $(shell sed -n 's|^path = \.\./\.\./tests/fixtures/||p' $(EXAMPLES)))
THEMES := $(wildcard themes/*.ini)
MAN1 := $(filter %.1,$(MAN_PAGES))
MAN5 := $(filter %.5,$(MAN_PAGES))
INST_DIR := build/install
INST_SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
             -e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g' -e 's|@SITREP_USER@|$(SITREP_USER)|g' \
             -e 's|@SITREP_GROUP@|$(SITREP_GROUP)|g'
AS_ROOT = $(if $(DESTDIR),,$(filter 0,$(shell id -u)))

install: all
	@echo "  INSTALL $(D)$(PREFIX) (bin $(BINDIR), config $(SYSCONFDIR), data $(SHARE_DIR), adapters $(MOD_INST_DIR), state $(STATEDIR))"
	$(Q)rm -rf $(INST_DIR) && mkdir -p $(INST_DIR)
	$(Q)./sitrep completion bash > $(INST_DIR)/sitrep.bash
	$(Q)$(INST_SUBST) contrib/sitrep-collect.service.in > $(INST_DIR)/sitrep-collect.service
	$(Q)$(INST_SUBST) contrib/sitrep.sysusers.in > $(INST_DIR)/sitrep.sysusers
	$(Q)$(INST_SUBST) contrib/sitrep.tmpfiles.in > $(INST_DIR)/sitrep.tmpfiles
	$(Q)# the system config is the shipped config.ini with its cache in the state folder
	$(Q){ echo '; $(SYSCONFDIR)/sitrep/config.ini - installed by make install from sitrep'"'"'s config.ini.'; \
	  echo '; It runs the simulator until you add your sources ([adapter.NAME] below; working'; \
	  echo '; examples in $(SHARE_DIR)/examples). The collector (sitrep-collect.service) and'; \
	  echo '; every user'"'"'s sitrep read this file; `sitrep check-config` checks it.'; \
	  echo ';'; \
	  sed -e 's|^;cache = .*|cache = $(STATEDIR)/cache.db\ncache_group = $(SITREP_GROUP)|' config.ini; \
	} > $(INST_DIR)/config.ini
	$(Q)grep -qx 'cache = $(STATEDIR)/cache.db' $(INST_DIR)/config.ini && \
	  grep -qx 'cache_group = $(SITREP_GROUP)' $(INST_DIR)/config.ini || \
	  { echo "make install: config.ini has no ';cache = ...' line to fill in"; exit 1; }
	$(Q)for f in $(EXAMPLES); do \
	  { echo '; Installed by make install: copy this folder to one you can write (its'; \
	    echo '; cache is written beside the file) and run the commands below there:'; \
	    echo ';   cp -r $(SHARE_DIR)/examples ~/sitrep-examples && cd ~/sitrep-examples'; \
	    echo ';'; \
	    sed 's|\.\./\.\./tests/fixtures/|data/|g; s|tests/fixtures/|data/|g; s|adapters/examples/||g' $$f; \
	  } > $(INST_DIR)/$$(basename $$f) || exit 1; done
	$(Q)install -d $(D)$(BINDIR) $(D)$(SHARE_DIR)/themes $(D)$(SHARE_DIR)/plugins \
	  $(D)$(SHARE_DIR)/examples/data $(D)$(SYSCONFDIR)/sitrep $(D)$(SYSTEMDUNITDIR) \
	  $(D)$(SYSUSERSDIR) $(D)$(TMPFILESDIR) $(D)$(BASHCOMPDIR)
	$(Q)install -m 0755 sitrep $(D)$(BINDIR)/sitrep
	$(Q)install -m 0644 $(THEMES) $(D)$(SHARE_DIR)/themes/
	$(Q)install -m 0755 $(PLUGINS) $(D)$(SHARE_DIR)/plugins/
	$(Q)$(if $(MODULES),install -d $(D)$(MOD_INST_DIR) && install -m 0644 $(MODULES) $(D)$(MOD_INST_DIR)/)
	$(Q)install -m 0644 $(addprefix $(INST_DIR)/,$(notdir $(EXAMPLES))) $(PLUGIN_SRC) \
	  $(D)$(SHARE_DIR)/examples/
	$(Q)install -m 0644 $(addprefix tests/fixtures/,$(EXAMPLE_DATA) README.md) $(D)$(SHARE_DIR)/examples/data/
	$(Q)install -m 0644 $(INST_DIR)/sitrep-collect.service $(D)$(SYSTEMDUNITDIR)/sitrep-collect.service
	$(Q)install -m 0644 $(INST_DIR)/sitrep.sysusers $(D)$(SYSUSERSDIR)/sitrep.conf
	$(Q)install -m 0644 $(INST_DIR)/sitrep.tmpfiles $(D)$(TMPFILESDIR)/sitrep.conf
	$(Q)install -m 0644 $(INST_DIR)/sitrep.bash $(D)$(BASHCOMPDIR)/sitrep
	$(Q)$(if $(MAN1),install -d $(D)$(MANDIR)/man1 && install -m 0644 $(MAN1) $(D)$(MANDIR)/man1/)
	$(Q)$(if $(MAN5),install -d $(D)$(MANDIR)/man5 && install -m 0644 $(MAN5) $(D)$(MANDIR)/man5/)
ifneq ($(AS_ROOT),)
	$(Q)# the system user and group first: the config and the binary are given the group
	$(Q)getent group $(SITREP_GROUP) >/dev/null || groupadd --system $(SITREP_GROUP)
	$(Q)getent passwd $(SITREP_USER) >/dev/null || useradd --system --gid $(SITREP_GROUP) \
	  --home-dir $(STATEDIR) --no-create-home --shell $$(command -v nologin || echo /usr/sbin/nologin) \
	  --comment "sitrep collector" $(SITREP_USER)
endif
	$(Q)if [ -e $(D)$(SYSCONFDIR)/sitrep/config.ini ]; then \
	  echo "sitrep: kept the existing $(D)$(SYSCONFDIR)/sitrep/config.ini (the new default is $(INST_DIR)/config.ini)"; \
	else \
	  install -m 0640 $(INST_DIR)/config.ini $(D)$(SYSCONFDIR)/sitrep/config.ini && \
	  $(if $(AS_ROOT),chown root:$(SITREP_GROUP) $(D)$(SYSCONFDIR)/sitrep/config.ini,true); \
	fi
ifneq ($(DESTDIR),)
	@echo "sitrep: staged in $(DESTDIR): the binary is 0755; the $(SITREP_USER) user and group, the setgid bit, owners and $(STATEDIR) are left to the package"
else ifneq ($(AS_ROOT),)
	$(Q)install -d $(LOCALSTATEDIR)/lib
	$(Q)install -d -o $(SITREP_USER) -g $(SITREP_GROUP) -m 2770 $(STATEDIR)
	$(Q)chown $(SITREP_USER):$(SITREP_GROUP) $(STATEDIR) && chmod 2770 $(STATEDIR)
	$(Q)chown root:$(SITREP_GROUP) $(BINDIR)/sitrep && chmod 2755 $(BINDIR)/sitrep
	@echo "sitrep: $(BINDIR)/sitrep is setgid $(SITREP_GROUP) (2755); $(STATEDIR) is $(SITREP_USER):$(SITREP_GROUP) 2770; viewers must not be in group $(SITREP_GROUP)"
else
	@echo "sitrep: not root: the binary is 0755, not setgid; no $(SITREP_USER) user and no $(STATEDIR) (make install as root sets them up)"
endif

uninstall:
	@echo "  UNINSTALL $(D)$(PREFIX)"
	$(Q)rm -f $(D)$(BINDIR)/sitrep $(D)$(SYSTEMDUNITDIR)/sitrep-collect.service \
	  $(D)$(SYSUSERSDIR)/sitrep.conf $(D)$(TMPFILESDIR)/sitrep.conf $(D)$(BASHCOMPDIR)/sitrep \
	  $(addprefix $(D)$(SHARE_DIR)/themes/,$(notdir $(THEMES))) \
	  $(addprefix $(D)$(SHARE_DIR)/plugins/,$(notdir $(PLUGINS))) \
	  $(D)$(MOD_INST_DIR)/sitrep-postgres.so $(D)$(MOD_INST_DIR)/sitrep-http.so \
	  $(addprefix $(D)$(SHARE_DIR)/examples/,$(notdir $(EXAMPLES) $(PLUGIN_SRC))) \
	  $(addprefix $(D)$(SHARE_DIR)/examples/data/,$(EXAMPLE_DATA) README.md) \
	  $(addprefix $(D)$(MANDIR)/man1/,$(notdir $(MAN1))) $(addprefix $(D)$(MANDIR)/man5/,$(notdir $(MAN5)))
	$(Q)for d in themes plugins examples/data examples ""; do \
	  [ ! -d $(D)$(SHARE_DIR)/$$d ] || rmdir --ignore-fail-on-non-empty $(D)$(SHARE_DIR)/$$d; done
	$(Q)[ ! -d $(D)$(MOD_INST_DIR) ] || rmdir --ignore-fail-on-non-empty $(D)$(MOD_INST_DIR)
	@echo "sitrep: kept $(D)$(SYSCONFDIR)/sitrep/config.ini (your configuration) and $(D)$(STATEDIR) (the cache)$(if $(DESTDIR),, and the $(SITREP_USER) user and group); remove them by hand if you mean to"

# ---- bench, fuzz, checks ----
BENCH_BIN := build/bench/gen_samples build/bench/bench_baseline build/bench/bench_query \
             build/bench/tui_baseline build/bench/gen_calls build/bench/version_baseline \
             build/bench/mapsize build/bench/gen_force

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)bench/run.sh

build/bench/gen_samples build/bench/bench_baseline build/bench/tui_baseline \
build/bench/gen_calls build/bench/gen_force: build/bench/%: bench/%.c bench/rng.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) -O2 $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# links only ncursesw, sqlite3 and libuv: what every command needs
build/bench/version_baseline: bench/version_baseline.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) -O2 $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< \
	  $(shell pkg-config --libs ncursesw sqlite3 libuv 2>/dev/null)

build/bench/mapsize: bench/mapsize.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) -O2 $(LDFLAGS) -o $@ $<

build/bench/bench_query: bench/bench_query.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_LIB_SRC := $(LIB_SRC) $(MOD_SRC)

build/fuzz/%: fuzz/%.c fuzz/fuzz.h $(FUZZ_LIB_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang -std=c17 -D_GNU_SOURCE $(CPPFLAGS) $(PATHS_DEFS) -g -O1 \
	  -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(LDLIBS) \
	  $(MOD_LIBS)

# The seeds as regression tests (make test): each target's
# LLVMFuzzerTestOneInput with fuzz/replay.c's main(), built like the tests
# (any compiler; the ASan objects for test-san), run on fuzz/seeds/NAME.
# (REPLAY_BIN and SAN_REPLAY_BIN are set with the sources, above: test-plain
# and test-san name them as prerequisites, which make expands as it reads)

build/replay/%: fuzz/%.c fuzz/replay.c fuzz/fuzz.h $(LIB_OBJ) $(MOD_OBJ)
	@mkdir -p $(dir $@)
	@echo "  REPLAY  $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(LDFLAGS) -o $@ $< fuzz/replay.c $(LIB_OBJ) \
	  $(MOD_OBJ) $(LDLIBS) $(MOD_LIBS)

$(SAN_DIR)/replay/%: fuzz/%.c fuzz/replay.c fuzz/fuzz.h $(SAN_LIB_OBJ) $(SAN_MOD_OBJ)
	@mkdir -p $(dir $@)
	@echo "  REPLAY  $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(SAN_FLAGS) $(LDFLAGS) -o $@ $< fuzz/replay.c \
	  $(SAN_LIB_OBJ) $(SAN_MOD_OBJ) $(LDLIBS) $(MOD_LIBS)

# $(1): the replay programs to run, each on its seeds
define replay_seeds
	@echo "== fuzz seeds =="
	$(Q)for f in $(1); do $$f fuzz/seeds/$$(basename $$f) || exit 1; done
endef

fuzz: deps
	$(Q)contrib/deps.sh $(DEB_FUZZ)
	$(Q)$(MAKE) --no-print-directory $(FUZZ_BIN)
	$(Q)for f in $(FUZZ_BIN); do \
	  name=$$(basename $$f); mkdir -p fuzz/corpus-$$name; \
	  echo "== $$name for $(FUZZ_SECONDS)s =="; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 fuzz/corpus-$$name fuzz/seeds/$$name \
	    2>&1 | tail -n 12 || exit 1; \
	done

# what make test checks before the tests: the layers, the format, and that the
# code for a missing libpq or libcurl still builds and explains itself
check: check-layers check-format check-optional

check-layers:
	$(Q)contrib/check-layers.sh

check-format:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' 2>/dev/null || \
	  find app metrics adapters tui tests bench fuzz -name '*.[ch]') && echo "format: ok"

check-optional:
	$(Q)contrib/check-optional.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build sitrep

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(HOOK_OBJ:.o=.d)
-include $(SAN_LIB_OBJ:.o=.d) $(SAN_MAIN_OBJ:.o=.d) $(SAN_TEST_OBJ:.o=.d) $(SAN_MOD_OBJ:.o=.d)
-include $(MOD_OBJ:.o=.d) $(sort $(MOD_PG_OBJ:.o=.d) $(MOD_HTTP_OBJ:.o=.d))
