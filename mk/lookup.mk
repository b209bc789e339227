# rel_lookup and the Django bridge: ext/lookup.c, tool/django2relext.

# test/django.test runs a real Django project; `make deps` installs Debian's
# python3-django with the other test packages.
DEPS_APT += python3-django

.PHONY: lookup-ref test-lookup

# Django 3.2's own answers for test/lookup.test's cases
# (test/django_ref/lookup_cases.txt), to compare with the test's expectations.
## lookup-ref: Django's own answers to test/lookup.test's cases
lookup-ref:
	/usr/bin/python3 test/django_ref/lookup_ref.py

# Only the lookup and Django round-trip tests (`make test-django` runs
# Django's own test suite, mk/django.mk).
## test-lookup: only the rel_lookup and Django round-trip tests
test-lookup: deps relext.so
	$(TCLSH) test/all.tcl --ext ./relext lookup django
