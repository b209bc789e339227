"""Django's test suite on Django's own sqlite3 backend (the yardstick)."""
DATABASES = {
    'default': {'ENGINE': 'django.db.backends.sqlite3'},
    'other': {'ENGINE': 'django.db.backends.sqlite3'},
}
SECRET_KEY = 'django_tests_secret_key'
PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
TEST_RUNNER = 'recorder.RecordingRunner'
