# django.mk -- relext inside Django projects: the Python package
# (python/), its Django database backend relext.django, the example project
# (examples/django_blog) and Django's own test suite on both backends.
#
#   make python-test      the package's tests (python/tests) and the example
#                         project's (examples/django_blog/test_blog.py), with
#                         Debian's /usr/bin/python3 and python3-django
#   make python-install   pip install ./python offline into build/venv (a
#                         venv with --system-site-packages, for python3-django;
#                         Debian 12's own pip refuses system-wide installs,
#                         PEP 668) and run the example's tests with it
#   make django-suite-src Django 3.2.25's tests, from Debian's source package
#                         python-django, into build/django (not in git)
#   make test-django      Django's own test suite, app by app, on Django's
#                         sqlite3 backend and on relext.django; prints the
#                         counts side by side and every test that differs
#                         (DJANGO_APPS=... for some apps, DJANGO_JOBS=2)
#   make bench-orm        Django's ORM on both backends (also part of make bench)

PYTHON       ?= /usr/bin/python3
DJANGO_DIR   := build/django
DJANGO_TESTS := $(DJANGO_DIR)/Django-3.2.25/tests
DJANGO_JOBS  ?= 2
DJANGO_APPS  ?=
DEPS_APT     += python3-django python3-pip python3-setuptools python3-venv

.PHONY: python-test python-install django-suite-src test-django

## python-test: the Python package's tests and the example project's
python-test: deps relext.so
	cd /tmp && $(PYTHON) $(CURDIR)/python/tests/test_relext.py
	cd /tmp && $(PYTHON) $(CURDIR)/python/tests/test_django_backend.py
	$(PYTHON) examples/django_blog/test_blog.py

## python-install: pip install ./python offline into build/venv, the example's tests with it
python-install: deps
	rm -rf build/venv python/build python/relext.egg-info
	$(PYTHON) -m venv --system-site-packages build/venv
	build/venv/bin/python -m pip install --no-build-isolation --no-index --quiet ./python
	rm -rf python/build python/relext.egg-info
	cd /tmp && $(CURDIR)/build/venv/bin/python -c "import relext; print('relext', relext.__file__, relext.loadable_path())"
	PYTHON=$(CURDIR)/build/venv/bin/python RELEXT_PACKAGE_INSTALLED=1 \
	  build/venv/bin/python examples/django_blog/test_blog.py

## django-suite-src: Django 3.2.25's tests from Debian's source package, into build/django
django-suite-src:
	test/djangosuite/fetch.sh $(DJANGO_DIR)

## test-django: Django's own test suite on the sqlite3 backend and on relext.django, side by side
test-django: deps relext.so django-suite-src
	$(PYTHON) test/djangosuite/run.py --tests $(DJANGO_TESTS) --jobs $(DJANGO_JOBS) $(DJANGO_APPS)

# `make bench` also runs the ORM benchmark: Django's ORM on relext.django
# against Django's sqlite3 backend (W1/W2-shaped deletes, single-row
# save() and delete()); target ratio <= 1.10.
.PHONY: bench-orm
bench: bench-orm
## bench-orm: the ORM benchmark alone (relext.django against Django's sqlite3 backend)
bench-orm: relext.so
	@if $(PYTHON) -c 'import django' 2>/dev/null; then \
	  $(PYTHON) tool/bench_orm.py --scale $(SCALE); \
	else echo "bench-orm: skipped: $(PYTHON) cannot import django"; fi
