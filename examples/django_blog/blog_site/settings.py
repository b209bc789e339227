"""
Settings of the relext blog example: the models of the Django
relationships guide on the relext database backend.

The database file is $BLOG_DB (default: db.sqlite3 beside manage.py).
"""
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SECRET_KEY = 'relext-example-not-secret'
DEBUG = True
ALLOWED_HOSTS = []

INSTALLED_APPS = [
    'django.contrib.contenttypes',
    'django.contrib.auth',
    'relext.django',     # manage.py relext, and an inspectdb that reads relext's catalog
    'pages',
]

DATABASES = {
    'default': {
        # BLOG_ENGINE=django.db.backends.sqlite3 runs on Django's own backend.
        'ENGINE': os.environ.get('BLOG_ENGINE', 'relext.django'),
        'NAME': os.environ.get('BLOG_DB', os.path.join(BASE_DIR, 'db.sqlite3')),
    },
}
# Where relext.so is, when it is not the one the relext package carries.
if os.environ.get('RELEXT_LIBRARY_PATH'):
    RELEXT_LIBRARY_PATH = os.environ['RELEXT_LIBRARY_PATH']

DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
USE_TZ = True
