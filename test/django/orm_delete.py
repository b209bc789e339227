#!/usr/bin/python3
"""Delete rows through Django's ORM, for test/django.test.

    DJANGO_DB=/path/db.sqlite3 orm_delete.py app.Model:pk [app.Model:pk ...]

For each argument runs Model.objects.filter(pk=pk).delete() and prints one
line: "ok" or the exception's class name (ProtectedError, ...).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')
import django  # noqa: E402

django.setup()
from django.apps import apps  # noqa: E402

for arg in sys.argv[1:]:
    label, pk = arg.rsplit(':', 1)
    model = apps.get_model(label)
    try:
        model.objects.filter(pk=int(pk)).delete()
        print('ok')
    except Exception as e:  # noqa: BLE001
        print(type(e).__name__)
