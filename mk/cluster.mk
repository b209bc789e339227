# cluster.mk -- relext in a replicated dqlite cluster.
#
# make cluster-test starts 3 nodes on 127.0.0.1: relationships, cascades and
# a PROTECT refusal through the dqlite client, the same data on every node,
# the leader killed, every rule still enforced by the new leader
# (test/cluster/cluster.tcl). Needs Debian's libdqlite-dev (the library) and go-dqlite (the `dqlite`
# client); `make cluster-deps` installs them when run as root.

DQLITE_APT := libdqlite-dev go-dqlite

.PHONY: cluster-deps relext-dqlite cluster-test

## cluster-deps: install libdqlite-dev and go-dqlite (as root), or name them
cluster-deps:
	@missing=""; for p in $(DQLITE_APT); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) >/dev/null; \
	  else echo "please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

## build/relext-dqlite: the dqlite node launcher that loads relext (tool/relext-dqlite.c)
build/relext-dqlite: tool/relext-dqlite.c
	@mkdir -p build
	$(CC) -std=c11 -Wall -Wextra -Werror $(CFLAGS) -o $@ $< -ldqlite -lsqlite3 -ldl

## relext-dqlite: cluster-deps, then build/relext-dqlite
relext-dqlite: cluster-deps build/relext-dqlite

## cluster-test: a 3-node dqlite cluster, the leader killed (about 10 s)
cluster-test: deps cluster-deps relext.so build/relext-dqlite
	$(TCLSH) test/cluster/cluster.tcl --ext ./relext.so --launcher build/relext-dqlite
