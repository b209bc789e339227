"""
relext's Django database backend, and a Django app for its management
command.

    DATABASES = {'default': {'ENGINE': 'relext.django', 'NAME': 'db.sqlite3'}}
    INSTALLED_APPS = [..., 'relext.django']      # for `manage.py relext`
    RELEXT_LIBRARY_PATH = '/path/to/relext'     # optional

The backend is Django's sqlite3 backend plus relext: every new connection
loads the extension, and the schema editor declares each model's
relationships (rel_define) as migrations create, change and remove them.
See relext.django.base.
"""
default_app_config = 'relext.django.apps.RelextConfig'
