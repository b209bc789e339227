"""
Builds relext.so, the SQLite extension the package carries, from the C
sources in ../ext (a source checkout), with the compiler setuptools uses
for extension modules. The file is a SQLite extension, not a Python module:
it does not link libsqlite3 or libpython, and it is installed as
relext/relext.so, where relext.loadable_path() finds it.

    /usr/bin/python3 -m pip install --no-build-isolation ./python
"""
import glob
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
EXT_DIR = os.path.join(os.path.dirname(HERE), 'ext')


class BuildSQLiteExtension(build_ext):
    """build_ext for a SQLite loadable extension: plain `relext.so`."""

    def get_ext_filename(self, fullname):
        return os.path.join(*fullname.split('.')) + '.so'

    def get_export_symbols(self, ext):
        return ['sqlite3_relext_init']


sources = sorted(glob.glob(os.path.join(EXT_DIR, '*.c')))
if not sources:
    raise SystemExit(
        'relext: no C sources in %s; build the package from a relext '
        'source checkout' % EXT_DIR)

setup(
    ext_modules=[
        Extension(
            'relext.relext',
            sources=[os.path.relpath(s, HERE) for s in sources],
            include_dirs=[os.path.relpath(EXT_DIR, HERE)],
            extra_compile_args=['-std=c11', '-Wall', '-Wextra', '-Wno-unused-parameter'],
            depends=sorted(glob.glob(os.path.join(EXT_DIR, '*.h'))),
        ),
    ],
    cmdclass={'build_ext': BuildSQLiteExtension},
)
