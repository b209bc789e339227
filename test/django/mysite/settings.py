"""Settings of the test project: the database file comes from $DJANGO_DB."""
import os

SECRET_KEY = 'relext-test-only'
DEBUG = False
USE_TZ = False
INSTALLED_APPS = [
    'django.contrib.contenttypes',
    'django.contrib.auth',
    'pages',
]
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': os.environ.get('DJANGO_DB', os.path.join(os.path.dirname(__file__), 'db.sqlite3')),
    }
}
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
