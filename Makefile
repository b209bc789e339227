# relext -- Django relationships for SQLite.  `make help` lists the targets.

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

.PHONY: all loadable test demo asan valgrind install clean bench deps help unicase

all: loadable
loadable: relext.so

# The loadable extension. It does not link libsqlite3: it reaches SQLite
# through the host's API table (sqlite3ext.h).
relext.so: $(SRC) $(HDR)
	$(CC) $(WARN) $(CFLAGS) -fPIC -shared -o $@ $(SRC)

# Test build with AddressSanitizer + UBSan.
build/asan/relext.so: $(SRC) $(HDR)
	@mkdir -p build/asan
	$(CC) $(WARN) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined -fPIC -shared -o $@ $(SRC)

# Install Debian packages the tests need when missing (only as root).
deps:
	@missing=""; for p in $(DEPS_APT); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	  else echo "please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

test: deps relext.so
	$(TCLSH) test/all.tcl --ext ./relext

demo: deps relext.so
	@$(SQLITE3) :memory: < sql/demo.sql 2>&1 || true

asan: deps build/asan/relext.so
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	  $(TCLSH) test/all.tcl --ext build/asan/relext

valgrind: deps relext.so
	@command -v valgrind >/dev/null || apt-get install -y -qq valgrind
	RELEXT_VALGRIND=1 $(TCLSH) test/all.tcl --ext ./relext --valgrind

install: relext.so
	install -d $(DESTDIR)$(PREFIX)/lib/sqlite3 $(DESTDIR)$(PREFIX)/include
	install -m 0755 relext.so $(DESTDIR)$(PREFIX)/lib/sqlite3/relext.so
	install -m 0644 ext/relext.h $(DESTDIR)$(PREFIX)/include/relext.h

tool/bench: tool/bench.c
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -o $@ $< -lsqlite3 -lm

bench: relext.so tool/bench
	./tool/bench --scale $(SCALE)

format:
	clang-format -i ext/*.c ext/*.h

# The Unicode lower-casing tables of model names (ext/unicase.h), made from
# Python's own str.lower(); test/keys.test checks that they are current.
unicase:
	python3 tool/gen_unicase.py > ext/unicase.h.tmp && mv ext/unicase.h.tmp ext/unicase.h

clean:
	rm -rf relext.so build tool/bench

help:
	@echo "make            build relext.so (load with .load ./relext)"
	@echo "make demo       run sql/demo.sql in the sqlite3 shell"
	@echo "make test       run the Tcl test suite"
	@echo "make asan       the test suite against an ASan+UBSan build"
	@echo "make valgrind   the test suite under valgrind (leaks are errors)"
	@echo "make unicase    regenerate ext/unicase.h from Python's str.lower()"
	@echo "make bench      benchmarks (SCALE=0.1 for a quick run)"
	@echo "make install    install relext.so and relext.h (PREFIX, DESTDIR)"

# Feature-specific targets live in mk/*.mk (one file per concern).
include $(wildcard mk/*.mk)
