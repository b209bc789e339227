"""Django's test suite on relext's backend (ENGINE='relext.django')."""
import os

DATABASES = {
    'default': {'ENGINE': 'relext.django'},
    'other': {'ENGINE': 'relext.django'},
}
SECRET_KEY = 'django_tests_secret_key'
PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
TEST_RUNNER = 'recorder.RecordingRunner'
# A relation relext refuses is logged and counted, not fatal: the counts
# are part of the report.
RELEXT_DECLARE_ERRORS = 'warn'
if os.environ.get('RELEXT_LIBRARY_PATH'):
    RELEXT_LIBRARY_PATH = os.environ['RELEXT_LIBRARY_PATH']
