# afp — PostgreSQL 15 extension (PGXS) + plain-C format core + CLI.
#
#   make            build the extension library and bin/afp
#   make install    install the extension into the PostgreSQL found by PG_CONFIG
#   make demo       set up everything on Debian 12 and run the demo pipeline
#   make test       every test (unit, pg_regress, pgTAP, sample/cross-checks, fuzz smoke)
#   make bench      benchmarks (bench/)

EXTENSION   = afp
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" afp.control)
PG_CONFIG  ?= $(shell command -v pg_config 2>/dev/null || echo /usr/lib/postgresql/15/bin/pg_config)

CORE_SRCS   = $(sort $(wildcard core/*.c))
EXT_SRCS    = $(sort $(wildcard extension/afp/*.c))
CLI_SRCS    = $(sort $(wildcard cli/*.c))
SQL_SRCS    = $(sort $(wildcard sql/*.sql))

MODULE_big  = afp
OBJS        = $(EXT_SRCS:.c=.o) $(CORE_SRCS:.c=.o)
DATA_built  = afp--$(EXTVERSION).sql
DATA        = $(wildcard migrations/afp--*--*.sql)
PG_CPPFLAGS = -Icore $(shell pkg-config --cflags freetype2 libpng libtiff-4 zlib)
# PostgreSQL's own headers trip -Wextra's unused-parameter / sign-compare / field-initializer
# warnings; the core is additionally compiled with the full -Wextra set for the CLI and tests.
PG_CFLAGS   = -std=gnu99 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
              -Wno-missing-field-initializers
SHLIB_LINK  = $(shell pkg-config --libs freetype2 libpng libtiff-4 zlib) -lzint
EXTRA_CLEAN = build bin afp--*.sql

# Background workers (bgworkers/, docs/delivery.md): delivery launcher and channel workers,
# sending through libcurl and signing with OpenSSL.
BGW_SRCS     = $(sort $(wildcard bgworkers/*.c))
OBJS        += $(BGW_SRCS:.c=.o)
PG_CPPFLAGS += -Ibgworkers $(shell pkg-config --cflags libcurl openssl)
SHLIB_LINK  += $(shell pkg-config --libs libcurl openssl)

# pg_regress (run against the throwaway cluster by test/run-tests.sh through installcheck)
REGRESS      = $(patsubst test/regress/sql/%.sql,%,$(sort $(wildcard test/regress/sql/*.sql)))
REGRESS_OPTS = --inputdir=test/regress --outputdir=build/regress --load-extension=afp

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
endif

all: bin/afp

# PGXS has no header dependencies: rebuild the extension objects when a header changes.
$(OBJS): $(wildcard core/*.h) $(wildcard extension/afp/*.h)
$(BGW_SRCS:.c=.o): $(wildcard bgworkers/*.h)

afp--$(EXTVERSION).sql: $(SQL_SRCS) afp.control
	( echo "-- afp $(EXTVERSION): generated from sql/*.sql by make; do not edit."; \
	  printf '%s\n' '\echo Use "CREATE EXTENSION afp" to load this file. \quit'; \
	  for f in $(SQL_SRCS); do echo; echo "-- ---- $$f"; cat $$f; done ) > $@

# ---------------------------------------------------------------- CLI and core (no PostgreSQL)
HOSTCC      ?= gcc
CORE_CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Wall -Wextra -Werror -Icore \
               $(shell pkg-config --cflags freetype2 libpng libtiff-4 zlib)
CORE_LIBS    = -lm $(shell pkg-config --libs freetype2 libpng libtiff-4 zlib) -lzint
CLI_OBJS     = $(patsubst %.c,build/cli/%.o,$(CORE_SRCS) $(CLI_SRCS))

build/cli/%.o: %.c $(wildcard core/*.h) $(wildcard cli/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(CORE_CFLAGS) -c $< -o $@

bin/afp: $(CLI_OBJS)
	@mkdir -p bin
	$(HOSTCC) -o $@ $(CLI_OBJS) $(CORE_LIBS)

# Unit tests: core compiled with assertions and ASan+UBSan.
UNIT_SRCS    = $(sort $(wildcard test/unit/*.c))
UNIT_CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -Wall -Wextra -Werror -UNDEBUG -Icore -Itest/unit \
               -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
               $(shell pkg-config --cflags freetype2 libpng libtiff-4 zlib)
UNIT_OBJS    = $(patsubst %.c,build/unit/%.o,$(CORE_SRCS) $(UNIT_SRCS))

build/unit/%.o: %.c $(wildcard core/*.h) $(wildcard test/unit/*.h)
	@mkdir -p $(dir $@)
	$(HOSTCC) $(UNIT_CFLAGS) -c $< -o $@

build/unit_tests: $(UNIT_OBJS)
	$(HOSTCC) $(UNIT_CFLAGS) -o $@ $(UNIT_OBJS) $(CORE_LIBS)

# libFuzzer targets (clang, ASan+UBSan).
FUZZ_TARGETS = $(patsubst test/fuzz/%.c,build/fuzz/%,$(wildcard test/fuzz/fuzz_*.c))
FUZZ_CFLAGS  = -g -O1 -Icore -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               $(shell pkg-config --cflags freetype2 libpng libtiff-4 zlib)

build/fuzz/%: test/fuzz/%.c $(CORE_SRCS) $(wildcard core/*.h) $(wildcard test/fuzz/*.h)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(CORE_SRCS) $(CORE_LIBS)

fuzz-build: $(FUZZ_TARGETS)

unit: build/unit_tests

.PHONY: demo test unit fuzz-build bench bench-convert bench-delivery deps
deps:
	bash scripts/install-deps.sh

demo:
	bash scripts/install-deps.sh
	bash scripts/demo.sh

test:
	bash scripts/install-deps.sh
	bash test/run-tests.sh

bench:
	bash bench/run.sh

bench-convert: bin/afp
	bash bench/convert.sh

# email delivery vs graphile-worker / pg-boss (docs/BENCHMARKS.md); builds and installs afp itself
bench-delivery: bin/afp
	bash bench/delivery.sh
