# datamate — GNU make build. `make` → build/datamate; `make test`; `make demo`; `make bench`; `make fuzz`.
# SANITIZE=address,undefined builds everything with those sanitizers (in build/, flags tracked).
# WERROR=1 turns warnings into errors (CI).

CC       ?= cc
BUILD    ?= build
SANITIZE ?=
WERROR   ?=
OPT      ?= -O2 -g

PKGS     := libzstd snappy zlib liblz4 libmicrohttpd
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
            -Wvla -Wformat=2 -Wwrite-strings -Wundef -fno-common
ifneq ($(WERROR),)
WARN     += -Werror
endif
SANFLAGS :=
ifneq ($(SANITIZE),)
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -pthread -MMD -MP \
             $(addprefix -I,$(wildcard src/*)) -I$(BUILD)/gen $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) -pthread $(LDFLAGS)
LIBS_ALL    = $(PKG_LIBS) -lm $(LIBS)

# Every src/<module>/*.c except the CLI goes into libdatamate.a; cli/*.c make the binary.
LIB_SRC  := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
GEN_SRC  := $(wildcard $(BUILD)/gen/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# `make V=1` shows full command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

DEPS_STAMP := $(BUILD)/.deps-ok
FLAGS_STAMP := $(BUILD)/.flags

.PHONY: all deps test unit demo bench fuzz clean release install uninstall
all: $(BUILD)/datamate

deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/setup.sh tools/package.json
	@mkdir -p $(BUILD)
	@tools/setup.sh
	@touch $@

# Rebuild everything when the compiler or flags change.
$(FLAGS_STAMP): FORCE | $(DEPS_STAMP)
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL)' | cmp -s - $@ || echo '$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL)' > $@
FORCE:

-include mk/*.mk

$(BUILD)/%.o: %.c $(FLAGS_STAMP) $(GEN_HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libdatamate.a: $(LIB_OBJ) $(GEN_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/datamate: $(CLI_OBJ) $(BUILD)/libdatamate.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(BUILD)/libdatamate.a $(LIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdatamate.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(BUILD)/libdatamate.a $(LDFLAGS_ALL) -lcmocka $(LIBS_ALL)

unit: $(UNIT_BIN)

# Every suite, one summary line at the end: "N passed, N failed".
test: $(BUILD)/datamate $(UNIT_BIN) $(TEST_DEPS)
	@BUILD=$(BUILD) tests/run.sh

demo: $(BUILD)/datamate
	@BUILD=$(BUILD) tools/demo.sh

bench: $(BUILD)/datamate
	@BUILD=$(BUILD) bench/run.sh

release:
	$(MAKE) BUILD=build-release OPT=-O2 WERROR=1

# make install [PREFIX=/usr/local] [DESTDIR=]: the one binary, nothing else is needed at run time
PREFIX ?= /usr/local
install: $(BUILD)/datamate
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/datamate $(DESTDIR)$(PREFIX)/bin/datamate

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/datamate

clean:
	rm -rf $(BUILD) build-release build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
