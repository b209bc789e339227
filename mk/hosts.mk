# hosts.mk -- relext from other hosts: the Node.js dependency of
# test/hosts.test, and the statically linked demo of test/static.test.
# better-sqlite3 is built from source by node-gyp: 1 to 3 minutes the first
# time, then a no-op.

NODE ?= node
NPM  ?= npm
HOSTS_DIR := test/hosts

.PHONY: hosts-deps hosts-deps-locked hosts-deps-try static-demo hosts-clean

# Exit status 0 when better-sqlite3 works (or there is no node to run it),
# non-zero when the install failed. Version 12: 13 needs Node 22.
## hosts-deps: npm install better-sqlite3@12 into test/hosts/node_modules (needs node, npm)
hosts-deps:
	@if ! command -v $(NODE) >/dev/null 2>&1 || ! command -v $(NPM) >/dev/null 2>&1; then \
	  echo "hosts-deps: node or npm not found: the Node.js host will be skipped"; exit 0; fi; \
	flock $(HOSTS_DIR) $(MAKE) --no-print-directory hosts-deps-locked

# One install at a time (flock on the directory): a test may ask while
# `make test` is installing.
## hosts-deps-locked: hosts-deps' install, run under flock by hosts-deps
hosts-deps-locked:
	@if (cd $(HOSTS_DIR) && $(NODE) -e "new (require('better-sqlite3'))(':memory:').close()") >/dev/null 2>&1; then exit 0; fi; \
	echo "hosts-deps: npm install better-sqlite3@12 into $(HOSTS_DIR)/node_modules (node-gyp builds it from source: 1 to 3 minutes)"; \
	$(NPM) install --prefix $(HOSTS_DIR) --no-package-lock --no-save --no-audit --no-fund \
	  --loglevel=error better-sqlite3@12 >$(HOSTS_DIR)/npm-install.log 2>&1 \
	  || { echo "hosts-deps: npm install failed, see $(HOSTS_DIR)/npm-install.log"; exit 1; }; \
	(cd $(HOSTS_DIR) && $(NODE) -e "new (require('better-sqlite3'))(':memory:').close()") >/dev/null 2>&1 \
	  || { echo "hosts-deps: better-sqlite3 installed but does not load, see $(HOSTS_DIR)/npm-install.log"; exit 1; }

# `make test` installs the Node.js host first, so that test/hosts.test stays
# fast; a failed install only makes that host skip.
test: hosts-deps-try
## hosts-deps-try: hosts-deps, whose failure only makes the Node.js host skip
hosts-deps-try:
	-@$(MAKE) --no-print-directory hosts-deps

# Static embedding: the ext sources compiled into the program. SQLITE_CORE
# makes sqlite3ext.h's macros call the real API, linked from -lsqlite3.
## tool/static_demo: relext compiled into a C program (-DSQLITE_CORE)
tool/static_demo: tool/static_demo.c $(SRC) $(HDR)
	$(CC) $(WARN) $(CFLAGS) -DSQLITE_CORE -Iext -o $@ tool/static_demo.c $(SRC) -lsqlite3

## static-demo: build tool/static_demo
static-demo: tool/static_demo

clean: hosts-clean
## hosts-clean: remove tool/static_demo and the npm log (part of clean)
hosts-clean:
	rm -f tool/static_demo $(HOSTS_DIR)/npm-install.log
