#!/bin/sh
# fetch.sh DIR -- Django 3.2.25's own tests, from Debian's source package
# python-django, unpacked into DIR (DIR/Django-3.2.25/tests). Needs
# deb-src lines for the system's suites: run as root, it adds them (a copy
# of the deb entries of /etc/apt/sources.list.d/debian.sources or
# /etc/apt/sources.list) and runs apt-get update. The tarball is checked
# against the sha256 Debian publishes for python-django_3.2.25.orig.tar.gz.
set -eu
dir=$1
orig=python-django_3.2.25.orig.tar.gz
sha=7ca38a78654aee72378594d63e51636c04b8e28574f5505dff630895b5472777
mkdir -p "$dir"
if [ -f "$dir/Django-3.2.25/tests/runtests.py" ]; then exit 0; fi
if [ ! -f "$dir/$orig" ]; then
  if ! apt-cache showsrc python-django 2>/dev/null | grep -q "$orig"; then
    if [ "$(id -u)" != 0 ]; then
      echo "fetch.sh: no deb-src entry for python-django; as root, add deb-src lines and run apt-get update" >&2
      exit 1
    fi
    src=/etc/apt/sources.list.d/relext-deb-src.sources
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$src"
    else
      sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/relext-deb-src.list
    fi
    apt-get update -qq
  fi
  # The .dsc of the newest revision may be missing from a snapshot mirror;
  # only the upstream tarball matters.
  (cd "$dir" && apt-get source --download-only python-django >/dev/null 2>&1) || true
fi
if [ ! -f "$dir/$orig" ]; then
  echo "fetch.sh: apt-get source did not download $orig" >&2
  exit 1
fi
echo "$sha  $dir/$orig" | sha256sum -c --quiet
tar -xzf "$dir/$orig" -C "$dir" Django-3.2.25/tests
test -f "$dir/Django-3.2.25/tests/runtests.py"
