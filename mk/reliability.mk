# reliability.mk -- fault injection, crash, concurrency and fuzz tests
# (issue 7). Included by the Makefile.
#
#   make oom            out-of-memory injection, every OOM point, both modes
#   make iofault        I/O errors (xRead/xWrite/xSync/xTruncate) at every point
#   make crash          SIGKILL during a 1,000,000-row cascade, 20 times
#   make concurrency    4 processes for 30 s in WAL mode
#   make fuzz           libFuzzer on rel_define and rel_lookup (FUZZ_SECONDS each)
#   make reliability-asan      the OOM and I/O drivers under ASan+UBSan
#   make reliability-valgrind  the OOM driver under valgrind
#   make reliability-full      all of the above at full size
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

.PHONY: oom iofault crash concurrency fuzz fuzz-replay reliability-full \
        reliability-asan reliability-valgrind reliability-bins

$(REL_DIR)/oom: test/oom.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/oom.c $(SRC) -lsqlite3

$(REL_DIR)/iofault: test/iofault.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/iofault.c $(SRC) -lsqlite3

$(REL_DIR)/crash: test/crash.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/crash.c $(SRC) -lsqlite3

$(REL_DIR)/concurrency: test/concurrency.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/concurrency.c $(SRC) -lsqlite3

$(REL_DIR)/asan-oom: test/oom.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) $(REL_ASAN) -o $@ test/oom.c $(SRC) -lsqlite3

$(REL_DIR)/asan-iofault: test/iofault.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) $(REL_ASAN) -o $@ test/iofault.c $(SRC) -lsqlite3

# The fuzz targets without libFuzzer: a main() that replays files.
$(REL_DIR)/replay_define: test/fuzz/fuzz_define.c test/fuzz/replay.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/fuzz/fuzz_define.c test/fuzz/replay.c $(SRC) -lsqlite3

$(REL_DIR)/replay_lookup: test/fuzz/fuzz_lookup.c test/fuzz/replay.c $(REL_DEPS)
	@mkdir -p $(REL_DIR)
	$(CC) $(REL_CFLAGS) -o $@ test/fuzz/fuzz_lookup.c test/fuzz/replay.c $(SRC) -lsqlite3

reliability-bins: $(REL_DIR)/oom $(REL_DIR)/iofault $(REL_DIR)/crash \
                  $(REL_DIR)/concurrency $(REL_DIR)/replay_define \
                  $(REL_DIR)/replay_lookup

# Full size.
oom: $(REL_DIR)/oom
	./$(REL_DIR)/oom -both -quiet

iofault: $(REL_DIR)/iofault
	./$(REL_DIR)/iofault -both

crash: $(REL_DIR)/crash
	./$(REL_DIR)/crash -rows 1000000 -kills 20

concurrency: $(REL_DIR)/concurrency
	./$(REL_DIR)/concurrency -procs 4 -seconds 30

reliability-asan: $(REL_DIR)/asan-oom $(REL_DIR)/asan-iofault
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ./$(REL_DIR)/asan-oom -both -quiet
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ./$(REL_DIR)/asan-iofault -both

reliability-valgrind: $(REL_DIR)/oom
	@command -v valgrind >/dev/null || apt-get install -y -qq valgrind
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	  --error-exitcode=99 ./$(REL_DIR)/oom -quiet -stride 7

# libFuzzer (clang, libclang-rt-14-dev).
$(FUZZ_DIR)/fuzz_define: test/fuzz/fuzz_define.c $(REL_DEPS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) -g -O1 -DSQLITE_CORE -Iext -fsanitize=fuzzer,address,undefined \
	  -o $@ test/fuzz/fuzz_define.c $(SRC) -lsqlite3

$(FUZZ_DIR)/fuzz_lookup: test/fuzz/fuzz_lookup.c $(REL_DEPS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) -g -O1 -DSQLITE_CORE -Iext -fsanitize=fuzzer,address,undefined \
	  -o $@ test/fuzz/fuzz_lookup.c $(SRC) -lsqlite3

fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null && dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq clang libclang-rt-14-dev >/dev/null; \
	    else echo "please install clang libclang-rt-14-dev"; exit 1; fi; }

# Each target runs FUZZ_SECONDS on a scratch copy of its seed corpus;
# crashes land in test/fuzz/crashes/ (replayed by test/fuzzreplay.test).
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

fuzz-replay: $(REL_DIR)/replay_define $(REL_DIR)/replay_lookup
	./$(REL_DIR)/replay_define test/fuzz/corpus_define test/fuzz/crashes
	./$(REL_DIR)/replay_lookup test/fuzz/corpus_lookup test/fuzz/crashes

reliability-full: oom iofault crash concurrency fuzz reliability-asan
