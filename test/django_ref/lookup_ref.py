#!/usr/bin/python3
"""Django's answers for the rel_lookup cases of test/lookup.test.

Run from the repository root:   /usr/bin/python3 test/django_ref/lookup_ref.py

Builds test/lookup.test's blog with Django models (same tables, columns and
junctions as lookup_schema.sql declares with relext), loads
lookup_data.sql, and for every case prints the sorted, distinct primary keys
that Model.objects.filter(**{path: value}) returns, or the exception. The
output is the expected side of test/lookup.test: each line is
    model path value-as-SQL => result
"""
import os
import shutil
import sys
import tempfile
import types

import django
from django.conf import settings

HERE = os.path.dirname(os.path.abspath(__file__))
mod = types.ModuleType('lk')
mod.__file__ = os.path.abspath(__file__)
sys.modules['lk'] = mod
TMP = tempfile.mkdtemp(prefix='lookupref-')
settings.configure(
    USE_TZ=False, INSTALLED_APPS=['lk'],
    DATABASES={'default': {'ENGINE': 'django.db.backends.sqlite3',
                           'NAME': os.path.join(TMP, 'db.sqlite3')}},
    DEFAULT_AUTO_FIELD='django.db.models.AutoField')
django.setup()
from django.db import connection, models  # noqa: E402

M = 'lk'


def meta(table):
    return type('Meta', (), {'app_label': M, 'db_table': table})


def model(_name, _table, **fields):
    fields['__module__'] = 'lk'
    fields["Meta"] = meta(_table)
    return type(_name, (models.Model,), fields)


User = model('User', 'auth_user', username=models.TextField(unique=True))
Category = model('Category', 'category', title=models.TextField(),
                 parent=models.ForeignKey('self', models.SET_NULL, null=True,
                                          related_name='children'))
Tag = model('Tag', 'tag', name=models.TextField(unique=True),
            similar=models.ManyToManyField('self'))
Article = model(
    'Article', 'article', title=models.TextField(),
    category=models.ForeignKey(Category, models.CASCADE, related_name='articles'),
    author=models.ForeignKey(User, models.SET_NULL, null=True),
    editor=models.ForeignKey(User, models.SET_NULL, null=True,
                             related_name='+', related_query_name='edited'),
    tags=models.ManyToManyField(Tag, related_name='articles'))
Profile = model('Profile', 'profile', bio=models.TextField(),
                user=models.OneToOneField(User, models.CASCADE,
                                          related_name='profile'))
Person = model('Person', 'person', name=models.TextField())
Team = model('Team', 'team', name=models.TextField(),
             members=models.ManyToManyField(Person, through='Membership',
                                            related_name='teams'))
Membership = model('Membership', 'membership', role=models.TextField(),
                   person=models.ForeignKey(Person, models.CASCADE),
                   team=models.ForeignKey(Team, models.CASCADE))
MODELS = {'auth_user': User, 'category': Category, 'tag': Tag,
          'article': Article, 'profile': Profile, 'person': Person,
          'team': Team, 'membership': Membership}

with connection.schema_editor() as ed:
    for m in (User, Category, Tag, Article, Profile, Person, Team, Membership):
        ed.create_model(m)
with connection.cursor() as c:
    with open(os.path.join(HERE, 'lookup_data.sql')) as f:
        c.connection.executescript(f.read())

# (model, path, value as SQL, value as Python)
CASES = [l for l in open(os.path.join(HERE, 'lookup_cases.txt'))
         if l.strip() and not l.startswith('#')]


def run(mname, path, pyval):
    qs = MODELS[mname].objects.filter(**{path: pyval})
    return sorted(set(qs.values_list('pk', flat=True)))


for line in CASES:
    mname, path, sqlval, pyexpr = [x.strip() for x in line.rstrip('\n').split('|')]
    try:
        # a NUL in a path is written \0 in the cases file
        res = ' '.join(str(k) for k in run(mname, path.replace('\\0', '\0'),
                                           eval(pyexpr)))
    except Exception as e:  # noqa: BLE001
        res = '%s: %s' % (type(e).__name__, e)
    print('%s %s %s => %s' % (mname, path, sqlval, res))
shutil.rmtree(TMP, ignore_errors=True)
