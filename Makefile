# relext -- Django relationships for SQLite.  `make help` lists the targets.
#
# Every target has a line "## TARGET: what it does" just above its rule, here
# and in mk/*.mk; `make help` prints those lines, and test/make.test checks
# that every target make knows has one.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter
PREFIX   ?= /usr/local
SCALE    ?= 1.0
TCLSH    ?= tclsh
SQLITE3  ?= sqlite3

SRC      := $(wildcard ext/*.c)
HDR      := $(wildcard ext/*.h)
DEPS_APT := libsqlite3-dev libsqlite3-tcl tcl sqlite3

.PHONY: all loadable test demo asan valgrind install clean bench deps help format unicase

## all: build relext.so (the default target)
all: loadable
## loadable: build relext.so
loadable: relext.so

# The loadable extension. It does not link libsqlite3: it reaches SQLite
# through the host's API table (sqlite3ext.h).
## relext.so: the loadable extension (.load ./relext)
relext.so: $(SRC) $(HDR)
	$(CC) $(WARN) $(CFLAGS) -fPIC -shared -o $@ $(SRC)

## build/asan/relext.so: relext.so built with AddressSanitizer + UBSan
build/asan/relext.so: $(SRC) $(HDR)
	@mkdir -p build/asan
	$(CC) $(WARN) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined -fPIC -shared -o $@ $(SRC)

## deps: install the Debian packages the tests need (as root), or name them
deps:
	@missing=""; for p in $(DEPS_APT); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	  else echo "please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

## test: the Tcl test suite; ends with "N passed, N failed, N skipped"
test: deps relext.so
	$(TCLSH) test/all.tcl --ext ./relext

## demo: the Django guide's blog (sql/demo.sql) in the sqlite3 shell
demo: deps relext.so
	@$(SQLITE3) :memory: < sql/demo.sql 2>&1 || true

## asan: the test suite against the ASan + UBSan build
asan: deps build/asan/relext.so
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  $(TCLSH) test/all.tcl --ext build/asan/relext

## valgrind: the test suite under valgrind (leaks are errors)
valgrind: deps relext.so
	@command -v valgrind >/dev/null || apt-get install -y -qq valgrind
	RELEXT_VALGRIND=1 $(TCLSH) test/all.tcl --ext ./relext --valgrind

## install: relext.so and relext.h into $(DESTDIR)$(PREFIX) (default /usr/local)
install: relext.so
	install -d $(DESTDIR)$(PREFIX)/lib/sqlite3 $(DESTDIR)$(PREFIX)/include
	install -m 0755 relext.so $(DESTDIR)$(PREFIX)/lib/sqlite3/relext.so
	install -m 0644 ext/relext.h $(DESTDIR)$(PREFIX)/include/relext.h

## tool/bench: the benchmark program (tool/bench.c)
tool/bench: tool/bench.c
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -o $@ $< -lsqlite3 -lm

## bench: relext against native foreign keys and plain SQL (SCALE=0.1: quick)
bench: relext.so tool/bench
	./tool/bench --scale $(SCALE)

## format: clang-format the C sources in ext/
format:
	clang-format -i ext/*.c ext/*.h

## unicase: regenerate ext/unicase.h (model-name lower-casing) from Python's str.lower()
# test/keys.test checks that the tables are current.
unicase:
	python3 tool/gen_unicase.py > ext/unicase.h.tmp && mv ext/unicase.h.tmp ext/unicase.h

## clean: remove what the build made
clean:
	rm -rf relext.so build tool/bench

## help: this list of every target
help:
	@echo "make TARGET, where TARGET is one of (Makefile, mk/*.mk):"
	@sed -n 's/^## \([^ :]*\): *\(.*\)$$/\1\t\2/p' $(MAKEFILE_LIST) \
	  | awk -F '\t' '{ printf "  %-26s %s\n", $$1, $$2 }'

# Feature-specific targets live in mk/*.mk (one file per concern).
include $(wildcard mk/*.mk)
