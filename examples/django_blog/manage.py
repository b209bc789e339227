#!/usr/bin/env python3
"""Django's command-line utility for the relext blog example."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    # Run from a source checkout without installing the package: the
    # repository's python/ directory holds it (and `make` builds relext.so
    # at the repository root, where relext.loadable_path() finds it).
    # RELEXT_PACKAGE_INSTALLED=1 uses the installed package instead.
    if not os.environ.get('RELEXT_PACKAGE_INSTALLED'):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'python'))
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'blog_site.settings')
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()
