"""
Builds relext.so, the SQLite extension the package carries, from the C
sources in ../ext (a source checkout; copied to build/csrc, since
setuptools takes only paths inside this directory), with the compiler setuptools uses
for extension modules. The file is a SQLite extension, not a Python module:
it does not link libsqlite3 or libpython, and it is installed as
relext/relext.so, where relext.loadable_path() finds it.

    /usr/bin/python3 -m pip install --no-build-isolation ./python
"""
import glob
import os
import shutil

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


def copy_sources():
    """
    The C sources, copied to build/csrc beside this file: setuptools takes
    only relative paths inside the project directory. Returns the copies'
    relative paths.
    """
    c_files = sorted(glob.glob(os.path.join(EXT_DIR, '*.c')))
    if not c_files:
        raise SystemExit(
            'relext: no C sources in %s; build the package from a relext '
            'source checkout' % EXT_DIR)
    dest = os.path.join('build', 'csrc')
    os.makedirs(os.path.join(HERE, dest), exist_ok=True)
    for path in c_files + glob.glob(os.path.join(EXT_DIR, '*.h')):
        shutil.copyfile(path, os.path.join(HERE, dest, os.path.basename(path)))
    return [os.path.join(dest, os.path.basename(p)) for p in c_files], dest


os.chdir(HERE)
sources, csrc = copy_sources()

setup(
    packages=[
        'relext',
        'relext.django',
        'relext.django.management',
        'relext.django.management.commands',
    ],
    ext_modules=[
        Extension(
            'relext.relext',
            sources=sources,
            include_dirs=[csrc],
            extra_compile_args=['-std=c11', '-Wall', '-Wextra', '-Wno-unused-parameter'],
            depends=sorted(glob.glob(os.path.join(csrc, '*.h'))),
        ),
    ],
    cmdclass={'build_ext': BuildSQLiteExtension},
)
