# reliability.mk -- fault injection, crash, concurrency and fuzz tests, at
# full size (doc/guarantees.md says what each proves).
#
# make test runs small bounded versions through test/oom.test,
# test/faults.test, test/concurrency.test and test/fuzzreplay.test.

REL_DIR     := build/rel
REL_CFLAGS  := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -O1 -g \
               -DSQLITE_CORE -Iext
REL_ASAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -fno-omit-frame-pointer
REL_DEPS    := $(SRC) $(HDR) test/relfault.h
FUZZ_CC     ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR    := build/fuzz

.PHONY: oom iofault crash concurrency fuzz fuzz-replay fuzz-deps reliability-full \
        reliability-asan reliability-valgrind reliability-bins

## build/rel/oom: the out-of-memory driver (test/oom.c)
$(REL_DIR)/oom: test/oom.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/oom.c $(SRC) -lsqlite3

## build/rel/iofault: the I/O error driver (test/iofault.c)
$(REL_DIR)/iofault: test/iofault.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/iofault.c $(SRC) -lsqlite3

## build/rel/crash: the crash driver (test/crash.c)
$(REL_DIR)/crash: test/crash.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/crash.c $(SRC) -lsqlite3

## build/rel/concurrency: the concurrency driver (test/concurrency.c)
$(REL_DIR)/concurrency: test/concurrency.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/concurrency.c $(SRC) -lsqlite3

## build/rel/sqlretry: what SQLite does with SQLITE_SCHEMA from a function
## (test/sqlretry.c; no relext)
$(REL_DIR)/sqlretry: test/sqlretry.c
	@mkdir -p $(REL_DIR)
	$(CC) -std=c11 -Wall -Wextra -Werror -Wno-deprecated-declarations -o $@ \
	  test/sqlretry.c -lsqlite3

## build/rel/asan-oom: the out-of-memory driver under ASan + UBSan
$(REL_DIR)/asan-oom: test/oom.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) $(REL_ASAN) -o $@ test/oom.c $(SRC) -lsqlite3

## build/rel/asan-iofault: the I/O error driver under ASan + UBSan
$(REL_DIR)/asan-iofault: test/iofault.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) $(REL_ASAN) -o $@ test/iofault.c $(SRC) -lsqlite3

# The fuzz targets without libFuzzer: a main() that replays files.
## build/rel/replay_define: the rel_define fuzz target, replaying files
$(REL_DIR)/replay_define: test/fuzz/fuzz_define.c test/fuzz/replay.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/fuzz/fuzz_define.c test/fuzz/replay.c $(SRC) -lsqlite3

## build/rel/replay_lookup: the rel_lookup fuzz target, replaying files
$(REL_DIR)/replay_lookup: test/fuzz/fuzz_lookup.c test/fuzz/replay.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/fuzz/fuzz_lookup.c test/fuzz/replay.c $(SRC) -lsqlite3

## reliability-bins: build every driver in build/rel/
reliability-bins: $(REL_DIR)/oom $(REL_DIR)/iofault $(REL_DIR)/crash \
                  $(REL_DIR)/concurrency $(REL_DIR)/replay_define \
                  $(REL_DIR)/replay_lookup

# Full size.
## oom: every out-of-memory point of every scenario, once and persistently
oom: $(REL_DIR)/oom
	./$(REL_DIR)/oom -both -quiet

## iofault: an I/O error at every point, DELETE and WAL journals
iofault: $(REL_DIR)/iofault
	./$(REL_DIR)/iofault -both

## crash: SIGKILL during a 1,000,000-row cascade, 20 times per journal mode
crash: $(REL_DIR)/crash
	./$(REL_DIR)/crash -rows 1000000 -kills 20

## concurrency: 4 processes writing one WAL database for 30 s
concurrency: $(REL_DIR)/concurrency
	./$(REL_DIR)/concurrency -procs 4 -seconds 30

## reliability-asan: the out-of-memory and I/O error drivers under ASan + UBSan
reliability-asan: $(REL_DIR)/asan-oom $(REL_DIR)/asan-iofault
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ./$(REL_DIR)/asan-oom -both -quiet
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ./$(REL_DIR)/asan-iofault -both

## reliability-valgrind: the out-of-memory driver under valgrind
reliability-valgrind: $(REL_DIR)/oom
	@command -v valgrind >/dev/null || apt-get install -y -qq valgrind
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	  --error-exitcode=99 ./$(REL_DIR)/oom -quiet -stride 7

# libFuzzer (clang, libclang-rt-14-dev).
## build/fuzz/fuzz_define: libFuzzer target on rel_define
$(FUZZ_DIR)/fuzz_define: test/fuzz/fuzz_define.c $(REL_DEPS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) -g -O1 -DSQLITE_CORE -Iext -fsanitize=fuzzer,address,undefined \
	  -o $@ test/fuzz/fuzz_define.c $(SRC) -lsqlite3

## build/fuzz/fuzz_lookup: libFuzzer target on rel_lookup
$(FUZZ_DIR)/fuzz_lookup: test/fuzz/fuzz_lookup.c $(REL_DEPS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) -g -O1 -DSQLITE_CORE -Iext -fsanitize=fuzzer,address,undefined \
	  -o $@ test/fuzz/fuzz_lookup.c $(SRC) -lsqlite3

## fuzz-deps: install clang and libclang-rt-14-dev (as root), or name them
fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null && dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq clang libclang-rt-14-dev >/dev/null; \
	    else echo "please install clang libclang-rt-14-dev"; exit 1; fi; }

# Each target runs FUZZ_SECONDS on a scratch copy of its seed corpus;
# crashes land in test/fuzz/crashes/ (replayed by test/fuzzreplay.test).
## fuzz: libFuzzer on rel_define and rel_lookup, FUZZ_SECONDS (60) each
fuzz: fuzz-deps $(FUZZ_DIR)/fuzz_define $(FUZZ_DIR)/fuzz_lookup
	@mkdir -p test/fuzz/crashes
	@for t in define lookup; do \
	  rm -rf $(FUZZ_DIR)/corpus_$$t; mkdir -p $(FUZZ_DIR)/corpus_$$t; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1 ./$(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=512 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=test/fuzz/crashes/$$t- \
	    $(FUZZ_DIR)/corpus_$$t test/fuzz/corpus_$$t 2>$(FUZZ_DIR)/fuzz_$$t.log \
	    || { tail -40 $(FUZZ_DIR)/fuzz_$$t.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' $(FUZZ_DIR)/fuzz_$$t.log; \
	done

## fuzz-replay: replay the fuzz corpora and test/fuzz/crashes/
fuzz-replay: $(REL_DIR)/replay_define $(REL_DIR)/replay_lookup
	./$(REL_DIR)/replay_define test/fuzz/corpus_define test/fuzz/crashes
	./$(REL_DIR)/replay_lookup test/fuzz/corpus_lookup test/fuzz/crashes

## reliability-full: oom, iofault, crash, concurrency, fuzz and reliability-asan
reliability-full: oom iofault crash concurrency fuzz reliability-asan
