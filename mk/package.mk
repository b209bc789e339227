# package.mk -- the source tarball: everything needed to build and test
# (DISTFILES), under relext-$(VERSION)/.
#
# DISTOUT is where the tarball goes (default: the repository root). The
# version is RELEXT_VERSION in ext/relext_int.h. At the top of a git work
# tree the files are those git knows or would add (ignored files such as
# relext.so, test/hosts/node_modules or tool/bench stay out); elsewhere (an
# unpacked tarball) the same directories minus build products.

VERSION   := $(shell sed -n 's/^\#define RELEXT_VERSION "\(.*\)"/\1/p' ext/relext_int.h)
DISTNAME  := relext-$(VERSION)
DISTOUT   ?= .
DISTFILES := ext test sql tool mk python node examples doc Makefile README.md .clang-format

.PHONY: dist distcheck

## dist: relext-VERSION.tar.gz, the source tarball (DISTOUT: where)
dist:
	@test -n "$(VERSION)" || { echo "dist: no RELEXT_VERSION in ext/relext_int.h"; exit 1; }
	@rm -rf build/dist && mkdir -p build/dist/$(DISTNAME) "$(DISTOUT)"
	@if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ]; then \
	  git ls-files -z --cached --others --exclude-standard -- $(DISTFILES) \
	    | xargs -0 sh -c 'for f; do [ -f "$$f" ] && printf "%s\0" "$$f"; done' sh; \
	else \
	  find $(DISTFILES) -type f ! -name '*.so' ! -name '*.o' ! -name '*.db' \
	    ! -path 'python/build/*' ! -path '*.egg-info/*' ! -name '*.pyc' \
	    ! -path 'test/hosts/node_modules/*' ! -name npm-install.log \
	    ! -name package-lock.json ! -path tool/bench ! -path tool/static_demo -print0; \
	fi | tar --null -T - -cf - | tar -xf - -C build/dist/$(DISTNAME)
	@tar -C build/dist --sort=name --owner=0 --group=0 --numeric-owner \
	  -cf - $(DISTNAME) | gzip -n -9 > "$(DISTOUT)/$(DISTNAME).tar.gz"
	@rm -rf build/dist
	@echo "$(DISTOUT)/$(DISTNAME).tar.gz: $$(tar -tzf "$(DISTOUT)/$(DISTNAME).tar.gz" | grep -vc '/$$') files"

## distcheck: unpack the tarball in build/ and run `make test` there
distcheck: dist
	rm -rf build/distcheck && mkdir -p build/distcheck
	tar -xzf "$(DISTOUT)/$(DISTNAME).tar.gz" -C build/distcheck
	$(MAKE) -C build/distcheck/$(DISTNAME) test
	rm -rf build/distcheck

clean: package-clean
.PHONY: package-clean
## package-clean: remove the tarball (part of clean)
package-clean:
	rm -f $(DISTNAME).tar.gz
