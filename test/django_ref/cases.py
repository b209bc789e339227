#!/usr/bin/python3
"""Django's reference behaviour for on_delete, as relext must reproduce it.

Run from the repository root:

    /usr/bin/python3 test/django_ref/cases.py          # results
    /usr/bin/python3 test/django_ref/cases.py --sql    # also every SQL statement
    /usr/bin/python3 test/django_ref/cases.py --md     # markdown (RESULTS.md body)

Self-contained: settings are configured here, every group of models lives in
an app module created in memory (app label ``djref_<name>``; tables get plain
names through ``db_table``), and every case runs against a fresh SQLite file
in a temporary directory: create the app's tables, seed rows with explicit
ids, run one operation through the ORM, then print either the exception
(class and message) or the returned counts, followed by every table's rows.
Output is deterministic.
"""
import atexit
import os
import shutil
import sys
import tempfile
import types

import django
from django.conf import settings

SHOW_SQL = '--sql' in sys.argv[1:]

# --------------------------------------------------------------------------
# Apps (one per group of models) and settings
# --------------------------------------------------------------------------
APPS = [
    'c1', 'c2', 'c3', 'c4',
    'p1', 'p2', 'p3', 'p4', 'p5', 'p6',
    'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9',
    'b1', 'b2',
    's1', 's2', 's3', 's4', 's5',
    't1', 't2', 't3', 't4', 't5', 't6',
    'd1', 'd2',
    'm1', 'm2', 'm3', 'm4',
    'o1', 'o2',
    'x1', 'x2', 'x3',
    'k1',
    'b3', 'b4', 'm5', 'm6',
    'chk',
]
for _name in APPS:
    _mod = types.ModuleType('djref_' + _name)
    _mod.__file__ = os.path.abspath(__file__)   # AppConfig wants a path
    sys.modules[_mod.__name__] = _mod

TMPDIR = tempfile.mkdtemp(prefix='djref-')
atexit.register(shutil.rmtree, TMPDIR, ignore_errors=True)
DBFILE = os.path.join(TMPDIR, 'ref.sqlite3')

settings.configure(
    DEBUG=False,
    USE_TZ=False,
    INSTALLED_APPS=['djref_' + n for n in APPS],
    DATABASES={'default': {'ENGINE': 'django.db.backends.sqlite3',
                           'NAME': DBFILE}},
    DEFAULT_AUTO_FIELD='django.db.models.AutoField',
)
django.setup()

from django.apps import apps                                   # noqa: E402
from django.core import checks                                 # noqa: E402
from django.db import connection, models, transaction          # noqa: E402
from django.db.models import (CASCADE, PROTECT, RESTRICT, SET,  # noqa: E402
                              SET_DEFAULT, SET_NULL, DO_NOTHING)


def model(app, model_name, table=None, **fields):
    """Define model `model_name` in app `app` with db_table `table`."""
    meta = type('Meta', (), {'app_label': 'djref_' + app,
                             'db_table': table or model_name.lower()})
    attrs = {'__module__': 'djref_' + app, 'Meta': meta}
    attrs.update(fields)
    return type(model_name, (models.Model,), attrs)


def fk(to, rule, **kw):
    return models.ForeignKey(to, on_delete=rule, **kw)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------
# c1: one-level CASCADE
C = model('c1', 'Category')
model('c1', 'Article', category=fk(C, CASCADE))

# c2: three-level CASCADE
C = model('c2', 'Category')
A = model('c2', 'Article', category=fk(C, CASCADE))
model('c2', 'Comment', article=fk(A, CASCADE))

# c3: diamond of CASCADEs (two paths reach the same row)
T = model('c3', 'Top')
L = model('c3', 'Left', top=fk(T, CASCADE))
R = model('c3', 'Right', top=fk(T, CASCADE))
model('c3', 'Bottom', left=fk(L, CASCADE), right=fk(R, CASCADE))

# c4: a cascade cycle across two tables
C = model('c4', 'Category', featured=fk('Article', CASCADE, null=True,
                                         related_name='featured_in'))
model('c4', 'Article', category=fk(C, CASCADE))

# p1: plain PROTECT
C = model('p1', 'Category')
model('p1', 'Article', category=fk(C, PROTECT))

# p2: PROTECT reached through a CASCADE
C = model('p2', 'Category')
A = model('p2', 'Article', category=fk(C, CASCADE))
model('p2', 'Note', article=fk(A, PROTECT))

# p3: the protecting row is itself deleted by another cascade of the same
#     delete (Pin.article CASCADE -> Article CASCADE -> Category;
#     Pin.category PROTECT -> Category)
C = model('p3', 'Category')
A = model('p3', 'Article', category=fk(C, CASCADE))
model('p3', 'Pin', article=fk(A, CASCADE), category=fk(C, PROTECT))

# p4: one row, two FKs to the same target: one CASCADE, one PROTECT
C = model('p4', 'Category')
model('p4', 'Pin', main=fk(C, CASCADE, related_name='pins_main'),
      guard=fk(C, PROTECT, related_name='pins_guard'))

# p5: row is deleted directly by CASCADE from the target, but PROTECTs a
#     sibling that the same delete cascades to
C = model('p5', 'Category')
A = model('p5', 'Article', category=fk(C, CASCADE))
model('p5', 'Note', category=fk(C, CASCADE), article=fk(A, PROTECT))

# p6: self-referencing PROTECT, both ends deleted by one QuerySet.delete()
model('p6', 'Node', parent=fk('self', PROTECT, null=True, related_name='children'))

# r1: plain RESTRICT
C = model('r1', 'Category')
model('r1', 'Article', category=fk(C, RESTRICT))

# r2: one row, two FKs to the same target: one CASCADE, one RESTRICT
C = model('r2', 'Category')
model('r2', 'Link', primary=fk(C, CASCADE, related_name='links_primary'),
      backup=fk(C, RESTRICT, related_name='links_backup'))

# r3: restricting row deleted through a CASCADE path (Pin is fast-deletable)
C = model('r3', 'Category')
A = model('r3', 'Article', category=fk(C, CASCADE))
model('r3', 'Pin', article=fk(A, CASCADE), category=fk(C, RESTRICT))

# r4: same as r3 but Pin has a child, so it is collected (not fast-deleted)
C = model('r4', 'Category')
A = model('r4', 'Article', category=fk(C, CASCADE))
P = model('r4', 'Pin', article=fk(A, CASCADE), category=fk(C, RESTRICT))
model('r4', 'PinNote', pin=fk(P, CASCADE))

# r5: RESTRICT reached through a CASCADE
C = model('r5', 'Category')
A = model('r5', 'Article', category=fk(C, CASCADE))
model('r5', 'Review', article=fk(A, RESTRICT))

# r6: restricting row only SET_NULL'd (through a cascade) by the same delete
C = model('r6', 'Category')
A = model('r6', 'Article', category=fk(C, CASCADE))
model('r6', 'Pin', article=fk(A, SET_NULL, null=True), category=fk(C, RESTRICT))

# r7: restricting row only SET_NULL'd (directly) by the same delete
C = model('r7', 'Category')
model('r7', 'Pin', loose=fk(C, SET_NULL, null=True, related_name='pins_loose'),
      strict=fk(C, RESTRICT, related_name='pins_strict'))

# r8: self-referencing RESTRICT
model('r8', 'Node', parent=fk('self', RESTRICT, null=True, related_name='children'))

# r9: Django's own "indirect diamond" test shape
T = model('r9', 'Top')
B1 = model('r9', 'B1', top=fk(T, CASCADE))
B2 = model('r9', 'B2', top=fk(T, CASCADE))
model('r9', 'Bottom', b1=fk(B1, RESTRICT), b2=fk(B2, CASCADE))

# b1: PROTECT and RESTRICT both block (RESTRICT model defined first)
C = model('b1', 'Category')
model('b1', 'Article', category=fk(C, RESTRICT))
model('b1', 'Note', category=fk(C, PROTECT))

# b2: direct RESTRICT and a PROTECT deeper down a CASCADE
C = model('b2', 'Category')
model('b2', 'Article', category=fk(C, RESTRICT))
P = model('b2', 'Post', category=fk(C, CASCADE))
model('b2', 'Lock', post=fk(P, PROTECT))

# s1: SET_NULL / SET_DEFAULT / SET(value)
C = model('s1', 'Category')
model('s1', 'Article', category=fk(C, SET_NULL, null=True))
model('s1', 'Post', category=fk(C, SET_DEFAULT, default=2))
model('s1', 'Entry', category=fk(C, SET(3)))

# s2: SET(value) pointing at no row
C = model('s2', 'Category')
model('s2', 'Entry', category=fk(C, SET(99)))

# s3: SET_NULL on a NOT NULL column (fails fields.E320, but what at run time?)
C = model('s3', 'Category')
model('s3', 'Article', category=fk(C, SET_NULL))

# s4: SET_NULL and CASCADE on one row to the same target (SET_NULL first)
P = model('s4', 'Parent')
model('s4', 'Child', p1=fk(P, SET_NULL, null=True, related_name='children_p1'),
      p2=fk(P, CASCADE, related_name='children_p2'))

# s5: same with the field order reversed (CASCADE first)
P = model('s5', 'Parent')
model('s5', 'Child', p2=fk(P, CASCADE, related_name='children_p2'),
      p1=fk(P, SET_NULL, null=True, related_name='children_p1'))

# t1: self-referencing CASCADE tree
model('t1', 'Node', parent=fk('self', CASCADE, null=True, related_name='children'))

# t2: tree with parent CASCADE and successor SET_NULL
model('t2', 'Node', parent=fk('self', CASCADE, null=True, related_name='children'),
      successor=fk('self', SET_NULL, null=True, related_name='predecessors'))

# t3: PROTECT from another model inside the subtree
N = model('t3', 'Node', parent=fk('self', CASCADE, null=True, related_name='children'))
model('t3', 'Lock', node=fk(N, PROTECT))

# t4: self PROTECT inside the subtree
model('t4', 'Node', parent=fk('self', CASCADE, null=True, related_name='children'),
      anchor=fk('self', PROTECT, null=True, related_name='anchored'))

# t5: self RESTRICT inside the subtree
model('t5', 'Node', parent=fk('self', CASCADE, null=True, related_name='children'),
      anchor=fk('self', RESTRICT, null=True, related_name='anchored'))

# t6: deep chains
model('t6', 'Node', parent=fk('self', CASCADE, null=True, related_name='children'))

# d1: DO_NOTHING
C = model('d1', 'Category')
model('d1', 'Article', category=fk(C, DO_NOTHING))

# d2: DO_NOTHING with db_constraint=False
C = model('d2', 'Category')
model('d2', 'Article', category=fk(C, DO_NOTHING, db_constraint=False))

# m1: plain M2M
T = model('m1', 'Tag')
model('m1', 'Article', tags=models.ManyToManyField(T, related_name='articles'))

# m2: M2M through a model with CASCADE FKs
P = model('m2', 'Person')
G = model('m2', 'Group', table='group_',
          members=models.ManyToManyField(P, through='Membership',
                                         related_name='groups'))
model('m2', 'Membership', person=fk(P, CASCADE), group=fk(G, CASCADE),
      date_joined=models.DateField())

# m3: M2M through a model with a PROTECT FK
P = model('m3', 'Person')
G = model('m3', 'Group', table='group_',
          members=models.ManyToManyField(P, through='Membership',
                                         related_name='groups'))
model('m3', 'Membership', person=fk(P, PROTECT), group=fk(G, CASCADE),
      date_joined=models.DateField())

# m4: symmetrical M2M to self
model('m4', 'Person', friends=models.ManyToManyField('self'))

# o1: OneToOne CASCADE
U = model('o1', 'User')
model('o1', 'Profile', user=models.OneToOneField(U, on_delete=CASCADE))

# o2: OneToOne PROTECT
U = model('o2', 'User')
model('o2', 'Profile', user=models.OneToOneField(U, on_delete=PROTECT))

# x1: message text, PROTECT: 3 protecting fields from 2 models; Zed is
#     defined before Alpha
T = model('x1', 'Target')
model('x1', 'Zed', target=fk(T, PROTECT))
model('x1', 'Alpha', p1=fk(T, PROTECT, related_name='alpha_p1'),
      p2=fk(T, PROTECT, related_name='alpha_p2'))

# x2: message text, RESTRICT: same shape
T = model('x2', 'Target')
model('x2', 'Zed', target=fk(T, RESTRICT))
model('x2', 'Alpha', p1=fk(T, RESTRICT, related_name='alpha_p1'),
      p2=fk(T, RESTRICT, related_name='alpha_p2'))

# x3: message text, direct PROTECT plus PROTECT behind a CASCADE
C = model('x3', 'Category')
A = model('x3', 'Article', category=fk(C, CASCADE))
model('x3', 'Lock', article=fk(A, PROTECT))
model('x3', 'Note', category=fk(C, PROTECT))

# k1: to_field (a non-pk unique key) and changing a referenced key
C = model('k1', 'Category', code=models.CharField(max_length=10, unique=True))
model('k1', 'Article', category=fk(C, CASCADE, to_field='code'))
model('k1', 'Post', category=fk(C, SET_NULL, null=True, to_field='code'))

# b3: PROTECT and RESTRICT blocking different rows of one QuerySet.delete()
C = model('b3', 'Category')
model('b3', 'Article', category=fk(C, RESTRICT))
model('b3', 'Note', category=fk(C, PROTECT))

# b4: SET_DEFAULT of a OneToOneField onto a value another row holds, and a
#     RESTRICT on the same delete
C = model('b4', 'Category')
model('b4', 'Profile', category=models.OneToOneField(C, on_delete=SET_DEFAULT,
                                                      default=3))
model('b4', 'Article', category=fk(C, RESTRICT))

# m5: M2M through a model that a Badge PROTECTs
P = model('m5', 'Person')
G = model('m5', 'Group', table='group_',
          members=models.ManyToManyField(P, through='Membership',
                                         related_name='groups'))
M = model('m5', 'Membership', person=fk(P, CASCADE), group=fk(G, CASCADE))
model('m5', 'Badge', membership=fk(M, PROTECT))

# m6: M2M through a model that an Award RESTRICTs
P = model('m6', 'Person')
G = model('m6', 'Group', table='group_',
          members=models.ManyToManyField(P, through='Membership',
                                         related_name='groups'))
M = model('m6', 'Membership', person=fk(P, CASCADE), group=fk(G, CASCADE))
model('m6', 'Award', membership=fk(M, RESTRICT))

# chk: models that fail Django's system checks (only used by checks)
C = model('chk', 'Category', title=models.CharField(max_length=10))
model('chk', 'E320', category=fk(C, SET_NULL))
model('chk', 'E321', category=fk(C, SET_DEFAULT))
model('chk', 'E302', category=fk(C, CASCADE, related_name='title'))
model('chk', 'E303', category=fk(C, CASCADE, related_name='x',
                                  related_query_name='title'))
model('chk', 'E304a', category=fk(C, CASCADE, related_name='twin'))
model('chk', 'E304b', category=fk(C, CASCADE, related_name='twin'))
model('chk', 'E306', category=fk(C, CASCADE, related_name='not valid'))
model('chk', 'E308', category=fk(C, CASCADE, related_name='y',
                                  related_query_name='ends_'))
model('chk', 'E309', category=fk(C, CASCADE, related_name='z',
                                  related_query_name='has__sep'))


# --------------------------------------------------------------------------
# Machinery
# --------------------------------------------------------------------------
def app_models(app, auto=True):
    return list(apps.get_app_config('djref_' + app)
                .get_models(include_auto_created=auto))


def rule_name(field):
    rule = field.remote_field.on_delete
    if hasattr(rule, 'deconstruct'):          # SET(value)
        return 'SET(%r)' % (rule.deconstruct()[1][0],)
    return rule.__name__


def describe(app):
    out = []
    for m in app_models(app, auto=False):
        parts = []
        for f in m._meta.get_fields(include_hidden=False):
            if f.auto_created and not f.concrete:
                continue                      # reverse relations
            if f.many_to_many:
                through = f.remote_field.through
                extra = (' through=%s' % through.__name__
                         if not through._meta.auto_created else
                         ' table=%s' % through._meta.db_table)
                sym = ' symmetrical' if f.remote_field.symmetrical else ''
                parts.append('%s M2M->%s%s%s' % (
                    f.name, f.related_model.__name__, extra, sym))
            elif f.is_relation:
                bits = ['%s->%s %s' % (
                    f.name, 'self' if f.related_model is m else
                    f.related_model.__name__, rule_name(f))]
                if f.one_to_one:
                    bits.insert(0, 'O2O')
                if f.null:
                    bits.append('null')
                if f.has_default():
                    bits.append('default=%r' % (f.default,))
                if f.remote_field.field_name != 'id':
                    bits.append('to_field=%s' % f.remote_field.field_name)
                if not f.db_constraint:
                    bits.append('db_constraint=False')
                parts.append(' '.join(bits))
            elif f.name != 'id':
                parts.append(f.name)
        out.append('%s [table %s](%s)' % (
            m.__name__, m._meta.db_table, ', '.join(parts)))
    return out


def mk(model_cls, *rows):
    """Insert rows given as tuples of concrete column values, in order."""
    names = [f.attname for f in model_cls._meta.concrete_fields]
    model_cls.objects.bulk_create(
        [model_cls(**dict(zip(names, r))) for r in rows])


def chain(model_cls, n):
    """Rows (1, NULL), (2, 1), ..., (n, n-1)."""
    mk(model_cls, *[(i, i - 1 if i > 1 else None) for i in range(1, n + 1)])


def fresh_db(app):
    connection.close()
    if os.path.exists(DBFILE):
        os.remove(DBFILE)
    with connection.schema_editor() as editor:
        for m in app_models(app, auto=False):
            editor.create_model(m)


def tables(app):
    seen = []
    for m in app_models(app):
        if m._meta.db_table not in seen:
            seen.append(m._meta.db_table)
    return seen


def snapshot(app):
    """[(table, [columns], [row tuples])] for every table of `app`."""
    snap = []
    with connection.cursor() as cur:
        for t in tables(app):
            cur.execute('SELECT * FROM "%s" ORDER BY id' % t)
            snap.append((t, [d[0] for d in cur.description], cur.fetchall()))
    return snap


def fmt_row(row):
    return ','.join('NULL' if v is None else str(v) for v in row)


def fmt_rows(rows, sep, limit=12):
    if not rows:
        return '(no rows)'
    if len(rows) > limit:
        return '%d rows, first %s, last %s' % (
            len(rows), fmt_row(rows[0]), fmt_row(rows[-1]))
    return sep.join(fmt_row(r) for r in rows)


def dump(snap, indent='  ', limit=12):
    """One line per row: `table: id,fk...` (after a `columns` line)."""
    lines = []
    for t, cols, rows in snap:
        lines.append('%s%s columns: %s' % (indent, t, ','.join(cols)))
        if not rows or len(rows) > limit:
            lines.append('%s%s: %s' % (indent, t, fmt_rows(rows, '', limit)))
        else:
            lines += ['%s%s: %s' % (indent, t, fmt_row(r)) for r in rows]
    return lines


def dump_compact(snap):
    return ['%s(%s): %s' % (t, ','.join(cols), fmt_rows(rows, ' | '))
            for t, cols, rows in snap]


def objs(collection):
    return ', '.join(sorted('%s(%s)' % (o.__class__.__name__, o.pk)
                            for o in collection))


def fmt_result(value):
    if (isinstance(value, tuple) and len(value) == 2
            and isinstance(value[1], dict)):
        per = ', '.join('%s=%d' % (k.split('.', 1)[1], v)
                        for k, v in sorted(value[1].items()))
        return 'OK: deleted %d (%s)' % (value[0], per)
    return 'OK: %r' % (value,)


CASES = []


def case(group, app, name, seed, op, show_sql=False):
    CASES.append(dict(group=group, app=app, name=name, seed=seed, op=op,
                      show_sql=show_sql))


def run_case(c):
    """Run one case on a fresh database; return what happened."""
    app = c['app']
    fresh_db(app)
    ns = {m.__name__: m for m in app_models(app, auto=False)}
    notes = []
    ns.update(mk=mk, chain=chain, transaction=transaction,
              note=lambda *a: notes.append(' '.join(map(str, a))))
    with transaction.atomic():
        exec(c['seed'], ns)
    before = snapshot(app)
    op = c['op'].strip('\n')
    sql_log = []

    def wrapper(execute, sql, params, many, context):
        sql_log.append((sql, params))
        return execute(sql, params, many, context)

    extra = []
    with connection.execute_wrapper(wrapper):
        try:
            if '\n' in op or op.startswith('with '):
                exec(op, ns)
                result = 'OK'
            else:
                result = fmt_result(eval(op, ns))
        except RecursionError as e:
            result = 'RecursionError: %s' % e
        except Exception as e:   # report any exception exactly
            cls = type(e)
            result = 'EXCEPTION %s.%s: %s' % (
                cls.__module__, cls.__qualname__, e.args[0] if e.args else e)
            for attr in ('protected_objects', 'restricted_objects'):
                if hasattr(e, attr):
                    extra.append('%s: %s' % (attr, objs(getattr(e, attr))))
    return dict(c, op=op, before=before, notes=notes, result=result,
                extra=extra, sql=sql_log, after=snapshot(app))


def fmt_sql(sql, params):
    return ('%s  %s' % (sql, list(params) if params else '')).rstrip()


def format_text(r, first_of_app):
    out = ['', '### %s' % r['name']]
    if first_of_app:
        out.append('models (app %s):' % r['app'])
        out += ['  ' + d for d in describe(r['app'])]
    out.append('before:')
    out += ['  ' + line for line in dump_compact(r['before'])]
    if '\n' in r['op']:
        out.append('op:')
        out += ['    ' + line for line in r['op'].splitlines()]
    else:
        out.append('op: %s' % r['op'])
    out += ['note: ' + n for n in r['notes']]
    out.append('result: ' + r['result'])
    out += ['  ' + e for e in r['extra']]
    if r['show_sql'] or SHOW_SQL:
        out.append('sql (statements issued by the op):')
        out += ['    ' + fmt_sql(*q) for q in r['sql']]
    out.append('after:')
    out += dump(r['after'])
    return out


def format_md(r, first_of_app):
    out = ['', '#### %s' % r['name']]
    if first_of_app:
        out.append('')
        out.append('Models (app `%s`):' % r['app'])
        out.append('')
        out += ['    ' + d for d in describe(r['app'])]
        out.append('')
    out.append('- before: ' + '; '.join(
        '`%s`' % line for line in dump_compact(r['before'])))
    if '\n' in r['op']:
        out.append('- op:')
        out.append('')
        out += ['      ' + line for line in r['op'].splitlines()]
        out.append('')
    else:
        out.append('- op: `%s`' % r['op'])
    out += ['- note: %s' % n for n in r['notes']]
    res = r['result']
    if res.startswith('EXCEPTION '):
        out.append('- **raises** `%s`' % res[len('EXCEPTION '):])
    else:
        out.append('- result: %s' % res)
    out += ['  - %s' % e for e in r['extra']]
    if r['show_sql'] or SHOW_SQL:
        out.append('- SQL issued:')
        out.append('')
        out += ['      ' + fmt_sql(*q) for q in r['sql']]
        out.append('')
    changed = r['after'] != r['before']
    if changed:
        out.append('- after: ' + '; '.join(
            '`%s`' % line for line in dump_compact(r['after'])))
    else:
        out.append('- after: unchanged')
    return out


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------
GRP = '1. CASCADE, one level'
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 1), (3, 1), (4, 2))
'''
case(GRP, 'c1', '1a Model.delete() of category 1', seed,
     'Category.objects.get(id=1).delete()', show_sql=True)
case(GRP, 'c1', '1b QuerySet.delete() of category 1', seed,
     'Category.objects.filter(id=1).delete()')
case(GRP, 'c1', '1c delete every category', seed,
     'Category.objects.all().delete()')
case(GRP, 'c1', '1d unreferenced row, no cascade needed', seed + 'mk(Category, (3,))',
     'Category.objects.get(id=3).delete()', show_sql=True)

GRP = '2. CASCADE, three levels (and a diamond)'
case(GRP, 'c2', '2a category -> article -> comment; delete category 1', '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 1), (3, 2))
mk(Comment, (1, 1), (2, 1), (3, 2), (4, 3), (5, 3))
''', 'Category.objects.get(id=1).delete()', show_sql=True)
case(GRP, 'c3', '2b diamond: bottom row reached through two paths', '''
mk(Top, (1,), (2,))
mk(Left, (1, 1), (2, 2))
mk(Right, (1, 1), (2, 2))
mk(Bottom, (1, 1, 1), (2, 1, 2), (3, 2, 2))
''', 'Top.objects.get(id=1).delete()')

case(GRP, 'c4', '2c cycle across tables: category.featured -> article CASCADE, '
     'article.category -> category CASCADE', '''
mk(Category, (1, None), (2, None), (3, None))
mk(Article, (1, 1), (2, 2), (3, 3))
Category.objects.filter(id=2).update(featured_id=1)
Category.objects.filter(id=3).update(featured_id=2)
''', 'Category.objects.get(id=1).delete()', show_sql=True)

GRP = '3. PROTECT'
seed = '''
mk(Category, (1,), (2,), (3,))
mk(Article, (1, 1), (2, 1), (3, 2))
'''
case(GRP, 'p1', '3a delete a protected category', seed,
     'Category.objects.get(id=1).delete()')
case(GRP, 'p1', '3b delete an unreferenced category', seed,
     'Category.objects.get(id=3).delete()')
case(GRP, 'p1', '3c QuerySet.delete() of all categories', seed,
     'Category.objects.all().delete()')
case(GRP, 'p1', '3d QuerySet.delete() of categories 2 and 3 (only 2 protected)',
     seed, 'Category.objects.filter(id__in=[2, 3]).delete()')

GRP = '4. PROTECT reached through CASCADE; PROTECT never bypassed'
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 1), (3, 2))
mk(Note, (1, 2))
'''
case(GRP, 'p2', '4a category -CASCADE-> article <-PROTECT- note; delete category 1',
     seed, 'Category.objects.get(id=1).delete()')
case(GRP, 'p2', '4b delete category 2 (its article has no note)', seed,
     'Category.objects.get(id=2).delete()')
case(GRP, 'p2', '4c delete the protected article directly', seed,
     'Article.objects.get(id=2).delete()')
case(GRP, 'p3', '4d pin.article CASCADE (article.category CASCADE), pin.category '
     'PROTECT; delete category 1', '''
mk(Category, (1,), (2,))
mk(Article, (1, 1))
mk(Pin, (1, 1, 1))
''', 'Category.objects.get(id=1).delete()')
case(GRP, 'p4', '4e one row: main CASCADE and guard PROTECT to the same category',
     '''
mk(Category, (1,), (2,))
mk(Pin, (1, 1, 1), (2, 2, 1))
''', 'Category.objects.get(id=1).delete()')
case(GRP, 'p4', '4f as 4e, deleting both categories in one QuerySet.delete()', '''
mk(Category, (1,), (2,))
mk(Pin, (1, 1, 1), (2, 2, 1))
''', 'Category.objects.all().delete()')
case(GRP, 'p5', '4g note.category CASCADE, note.article PROTECT, '
     'article.category CASCADE', '''
mk(Category, (1,))
mk(Article, (1, 1))
mk(Note, (1, 1, 1))
''', 'Category.objects.get(id=1).delete()')
seed = '''
mk(Node, (1, None), (2, 1), (3, 2))
'''
case(GRP, 'p6', '4h self PROTECT: delete the whole chain in one QuerySet.delete()',
     seed, 'Node.objects.all().delete()')
case(GRP, 'p6', '4i self PROTECT: delete nodes 2 and 3 (3 references 2)', seed,
     'Node.objects.filter(id__in=[2, 3]).delete()')
case(GRP, 'p6', '4j self PROTECT: delete the leaf', seed,
     'Node.objects.get(id=3).delete()')

GRP = '5. RESTRICT'
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 1))
'''
case(GRP, 'r1', '5a basic refusal', seed, 'Category.objects.get(id=1).delete()')
case(GRP, 'r1', '5b unreferenced category', seed,
     'Category.objects.get(id=2).delete()')
seed = '''
mk(Category, (1,), (2,))
mk(Link, (1, 1, 1))
'''
case(GRP, 'r2', '5c one row: primary CASCADE and backup RESTRICT to the same '
     'category -> lifted', seed, 'Category.objects.get(id=1).delete()')
seed2 = seed + 'mk(Link, (2, 2, 1))\n'
case(GRP, 'r2', '5d as 5c plus link 2 (primary=2, backup=1): Model.delete() of 1',
     seed2, 'Category.objects.get(id=1).delete()')
case(GRP, 'r2', '5e as 5d, QuerySet.delete() of categories 1 and 2', seed2,
     'Category.objects.all().delete()')
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 2))
mk(Pin, (1, 1, 1))
'''
case(GRP, 'r3', '5f pin.article CASCADE, pin.category RESTRICT, same category '
     '(pin fast-deleted) -> lifted', seed,
     'Category.objects.get(id=1).delete()', show_sql=True)
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 2))
mk(Pin, (1, 2, 1))
'''
case(GRP, 'r3', '5g pin restricts category 1, but its article is in category 2: '
     'delete 1', seed, 'Category.objects.get(id=1).delete()')
case(GRP, 'r3', '5h as 5g, QuerySet.delete() of categories 1 and 2', seed,
     'Category.objects.filter(id__in=[1, 2]).delete()')
case(GRP, 'r3', '5i as 5g, QuerySet.delete() of 1 and 2, descending order', seed,
     "Category.objects.filter(id__in=[1, 2]).order_by('-id').delete()")
seed_rev = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 2))
mk(Pin, (1, 1, 2))
'''
case(GRP, 'r3', '5j reverse: pin restricts category 2, its article in category 1: '
     'delete 2', seed_rev, 'Category.objects.get(id=2).delete()')
case(GRP, 'r3', '5k as 5j, QuerySet.delete() of categories 1 and 2', seed_rev,
     'Category.objects.filter(id__in=[1, 2]).delete()')
case(GRP, 'r3', '5l as 5j, QuerySet.delete() of 1 and 2, descending order',
     seed_rev, "Category.objects.filter(id__in=[1, 2]).order_by('-id').delete()")
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 2))
mk(Pin, (1, 1, 1), (2, 2, 1))
mk(PinNote, (1, 1), (2, 2))
'''
case(GRP, 'r4', '5m as r3 but Pin is collected, not fast-deleted: delete 1 '
     '(pin 2 still restricts)', seed, 'Category.objects.get(id=1).delete()')
case(GRP, 'r4', '5n as 5m, QuerySet.delete() of 1 and 2', seed,
     'Category.objects.all().delete()')
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 2))
mk(Review, (1, 1))
'''
case(GRP, 'r5', '5o RESTRICT behind a CASCADE: delete category 1', seed,
     'Category.objects.get(id=1).delete()')
case(GRP, 'r5', '5p RESTRICT behind a CASCADE: delete the article directly', seed,
     'Article.objects.get(id=1).delete()')
case(GRP, 'r6', '5q restricting pin only SET_NULL\'d through a cascade', '''
mk(Category, (1,))
mk(Article, (1, 1))
mk(Pin, (1, 1, 1))
''', 'Category.objects.get(id=1).delete()')
case(GRP, 'r7', '5r restricting pin only SET_NULL\'d directly', '''
mk(Category, (1,))
mk(Pin, (1, 1, 1))
''', 'Category.objects.get(id=1).delete()')
seed = '''
mk(Node, (1, None), (2, 1), (3, 2))
'''
case(GRP, 'r8', '5s self RESTRICT: delete the root', seed,
     'Node.objects.get(id=1).delete()')
case(GRP, 'r8', '5t self RESTRICT: QuerySet.delete() of the whole chain', seed,
     'Node.objects.all().delete()')
case(GRP, 'r8', '5u self RESTRICT: QuerySet.delete() of 1 and 2 (3 references 2)',
     seed, 'Node.objects.filter(id__in=[1, 2]).delete()')
case(GRP, 'r8', '5v self RESTRICT: QuerySet.delete() of 2 and 3', seed,
     'Node.objects.filter(id__in=[2, 3]).delete()')
seed = '''
mk(Top, (1,))
mk(B1, (1, 1))
mk(B2, (1, 1))
mk(Bottom, (1, 1, 1))
'''
case(GRP, 'r9', '5w diamond: delete top (bottom reached via b2 CASCADE)', seed,
     'Top.objects.get(id=1).delete()')
case(GRP, 'r9', '5x diamond: delete b1 alone', seed, 'B1.objects.get(id=1).delete()')
case(GRP, 'r9', '5y diamond: delete b2 alone', seed, 'B2.objects.get(id=1).delete()')

GRP = '6. PROTECT and RESTRICT both blocking'
case(GRP, 'b1', '6a direct RESTRICT (defined first) and direct PROTECT', '''
mk(Category, (1,))
mk(Article, (1, 1))
mk(Note, (1, 1))
''', 'Category.objects.get(id=1).delete()')
case(GRP, 'b2', '6b direct RESTRICT and a PROTECT behind a CASCADE', '''
mk(Category, (1,))
mk(Article, (1, 1))
mk(Post, (1, 1))
mk(Lock, (1, 1))
''', 'Category.objects.get(id=1).delete()')

GRP = '7. SET_NULL, SET_DEFAULT, SET(value)'
seed = '''
mk(Category, (1,), (2,), (3,))
mk(Article, (1, 1), (2, 2), (3, 3))
mk(Post, (1, 1), (2, 2), (3, 3))
mk(Entry, (1, 1), (2, 2), (3, 3))
'''
case(GRP, 's1', '7a delete category 1', seed, 'Category.objects.get(id=1).delete()',
     show_sql=True)
case(GRP, 's1', '7b delete category 2 (the SET_DEFAULT target itself)', seed,
     'Category.objects.get(id=2).delete()')
case(GRP, 's1', '7c delete category 3 (the SET(3) target itself)', seed,
     'Category.objects.get(id=3).delete()')
case(GRP, 's1', '7d delete categories 1 and 2 in one QuerySet.delete()', seed,
     'Category.objects.filter(id__in=[1, 2]).delete()')
case(GRP, 's2', '7e SET(99), no category 99', '''
mk(Category, (1,))
mk(Entry, (1, 1))
''', 'Category.objects.get(id=1).delete()')
case(GRP, 's3', '7f SET_NULL on a NOT NULL column', '''
mk(Category, (1,))
mk(Article, (1, 1))
''', 'Category.objects.get(id=1).delete()')

GRP = '8. SET_NULL on a row that the same delete CASCADEs'
seed = '''
mk(Parent, (1,), (2,))
mk(Child, (1, 1, 1), (2, 1, 2), (3, 2, 1))
'''
case(GRP, 's4', '8a child(p1 SET_NULL, p2 CASCADE); delete parent 1', seed,
     'Parent.objects.get(id=1).delete()', show_sql=True)
seed = '''
mk(Parent, (1,), (2,))
mk(Child, (1, 1, 1), (2, 2, 1), (3, 1, 2))
'''
case(GRP, 's5', '8b child(p2 CASCADE, p1 SET_NULL) (field order reversed); '
     'delete parent 1', seed, 'Parent.objects.get(id=1).delete()')

GRP = '9. Self-referencing trees'
seed = 'chain(Node, 5)\n'
case(GRP, 't1', '9a chain of depth 5, delete the root', seed,
     'Node.objects.get(id=1).delete()', show_sql=True)
case(GRP, 't1', '9b chain of depth 5, delete node 3', seed,
     'Node.objects.get(id=3).delete()')
seed = '''
mk(Node, (1, None, 5), (2, 1, 3), (3, 1, 4), (4, 2, 5), (5, None, 2))
'''
case(GRP, 't2', '9c parent CASCADE + successor SET_NULL: delete node 2', seed,
     'Node.objects.get(id=2).delete()', show_sql=True)
case(GRP, 't2', '9d parent CASCADE + successor SET_NULL: delete node 1', seed,
     'Node.objects.get(id=1).delete()')
seed = '''
chain(Node, 5)
mk(Lock, (1, 4))
'''
case(GRP, 't3', '9e lock(node PROTECT) on node 4; delete the root', seed,
     'Node.objects.get(id=1).delete()')
case(GRP, 't3', '9f delete node 5 (below the lock)', seed,
     'Node.objects.get(id=5).delete()')
case(GRP, 't4', '9g self PROTECT inside the subtree (4.anchor=2); delete the root',
     '''
mk(Node, (1, None, None), (2, 1, None), (3, 2, None), (4, 3, 2), (5, None, None))
''', 'Node.objects.get(id=1).delete()')
case(GRP, 't4', '9h self PROTECT from outside (5.anchor=3); delete the root', '''
mk(Node, (1, None, None), (2, 1, None), (3, 2, None), (4, 3, None), (5, None, 3))
''', 'Node.objects.get(id=1).delete()')
case(GRP, 't4', '9i anchor pointing out of the subtree (2.anchor=5); delete the root',
     '''
mk(Node, (1, None, None), (2, 1, 5), (3, 2, None), (4, 3, None), (5, None, None))
''', 'Node.objects.get(id=1).delete()')
case(GRP, 't5', '9j self RESTRICT inside the subtree (4.anchor=2); delete the root',
     '''
mk(Node, (1, None, None), (2, 1, None), (3, 2, None), (4, 3, 2), (5, None, None))
''', 'Node.objects.get(id=1).delete()')
case(GRP, 't5', '9k self RESTRICT from outside (5.anchor=3); delete the root', '''
mk(Node, (1, None, None), (2, 1, None), (3, 2, None), (4, 3, None), (5, None, 3))
''', 'Node.objects.get(id=1).delete()')
case(GRP, 't1', '9l cycle: 1.parent=2, 2.parent=1, 3.parent=2; delete node 1', '''
mk(Node, (1, None), (2, 1), (3, 2))
Node.objects.filter(id=1).update(parent_id=2)
''', 'Node.objects.get(id=1).delete()')
for depth in (100, 300, 400, 1000):
    case(GRP, 't6', '9-deep chain of depth %d, delete the root' % depth,
         'chain(Node, %d)\n' % depth, 'Node.objects.get(id=1).delete()')

GRP = '10. DO_NOTHING'
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1))
'''
case(GRP, 'd1', '10a inside transaction.atomic(): dangling key at commit', seed, '''
with transaction.atomic():
    note('inside atomic, delete returned', Category.objects.get(id=1).delete())
''')
case(GRP, 'd1', '10b autocommit Model.delete()', seed,
     'Category.objects.get(id=1).delete()', show_sql=True)
case(GRP, 'd1', '10c inside atomic, repoint the article before commit', seed, '''
with transaction.atomic():
    Category.objects.get(id=1).delete()
    Article.objects.filter(category_id=1).update(category_id=2)
''')
case(GRP, 'd1', '10d inside atomic, delete the article too before commit', seed, '''
with transaction.atomic():
    Category.objects.get(id=1).delete()
    Article.objects.filter(category_id=1).delete()
''')
case(GRP, 'd2', '10e DO_NOTHING with db_constraint=False', seed,
     'Category.objects.get(id=1).delete()')

GRP = '11. ManyToMany'
seed = '''
mk(Tag, (1,), (2,), (3,))
mk(Article, (1,), (2,))
mk(Article.tags.through, (1, 1, 1), (2, 1, 2), (3, 2, 2), (4, 2, 3))
'''
case(GRP, 'm1', '11a delete article 1', seed, 'Article.objects.get(id=1).delete()',
     show_sql=True)
case(GRP, 'm1', '11b delete tag 2', seed, 'Tag.objects.get(id=2).delete()')
case(GRP, 'm1', '11c delete every tag', seed, 'Tag.objects.all().delete()')
seed = '''
mk(Person, (1,), (2,))
mk(Group, (1,), (2,))
mk(Membership, (1, 1, 1, '2020-01-01'), (2, 1, 2, '2020-02-01'),
   (3, 2, 1, '2020-03-01'))
'''
case(GRP, 'm2', '11d through model, CASCADE FKs: delete person 1', seed,
     'Person.objects.get(id=1).delete()')
case(GRP, 'm2', '11e through model, CASCADE FKs: delete group 1', seed,
     'Group.objects.get(id=1).delete()')
case(GRP, 'm3', '11f through model, person PROTECT: delete person 1', seed,
     'Person.objects.get(id=1).delete()')
case(GRP, 'm3', '11g through model, person PROTECT: delete group 1', seed,
     'Group.objects.get(id=1).delete()')
seed = '''
mk(Person, (1,), (2,), (3,))
Person.objects.get(id=1).friends.add(2, 3)
Person.objects.get(id=2).friends.add(3)
'''
case(GRP, 'm4', '11h symmetrical self M2M: delete person 1', seed,
     'Person.objects.get(id=1).delete()')

GRP = '12. OneToOne'
seed = '''
mk(User, (1,), (2,))
mk(Profile, (1, 1), (2, 2))
'''
case(GRP, 'o1', '12a O2O CASCADE: delete user 1', seed,
     'User.objects.get(id=1).delete()')
case(GRP, 'o2', '12b O2O PROTECT: delete user 1', seed,
     'User.objects.get(id=1).delete()')

GRP = '13. Error message text'
seed = '''
mk(Target, (1,), (2,))
mk(Zed, (1, 1))
mk(Alpha, (1, 1, 1), (2, 2, 1))
'''
case(GRP, 'x1', '13a PROTECT: Zed.target, Alpha.p1, Alpha.p2 all reference target 1',
     seed, 'Target.objects.get(id=1).delete()')
case(GRP, 'x1', '13b PROTECT: only Alpha.p1 references target 2', seed,
     'Target.objects.get(id=2).delete()')
case(GRP, 'x1', '13c PROTECT: QuerySet.delete() of both targets', seed,
     'Target.objects.all().delete()')
case(GRP, 'x2', '13d RESTRICT: Zed.target, Alpha.p1, Alpha.p2 all reference '
     'target 1', seed, 'Target.objects.get(id=1).delete()')
case(GRP, 'x2', '13e RESTRICT: QuerySet.delete() of both targets', seed,
     'Target.objects.all().delete()')
case(GRP, 'x3', '13f direct PROTECT (Note) and PROTECT behind a CASCADE (Lock)', '''
mk(Category, (1,))
mk(Article, (1, 1), (2, 1))
mk(Lock, (1, 1), (2, 2))
mk(Note, (1, 1))
''', 'Category.objects.get(id=1).delete()')

GRP = '14. to_field, and changing a referenced key'
seed = '''
mk(Category, (1, 'a'), (2, 'b'))
mk(Article, (1, 'a'), (2, 'b'))
mk(Post, (1, 'a'), (2, 'b'))
'''
case(GRP, 'k1', '14a to_field=code: delete category 1', seed,
     'Category.objects.get(id=1).delete()', show_sql=True)
case(GRP, 'k1', '14b change a referenced code (no cascade of updates)', seed,
     "Category.objects.filter(id=1).update(code='z')")
case(GRP, 'k1', '14c change a referenced code inside atomic, then move the '
     'references', seed, '''
with transaction.atomic():
    Category.objects.filter(id=1).update(code='z')
    Article.objects.filter(category_id='a').update(category_id='z')
    Post.objects.filter(category_id='a').update(category_id='z')
''')


GRP = '16. Refusals inside transaction.atomic(), precedence, through rows'
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1), (2, 1))
'''
case(GRP, 'r1', '16a atomic: work, a refused delete caught, more work', seed, '''
from django.db.models import RestrictedError
with transaction.atomic():
    mk(Category, (3,))
    try:
        Category.objects.get(id=1).delete()
    except RestrictedError as e:
        note('caught', type(e).__name__)
    note('then', Category.objects.get(id=2).delete())
''')
case(GRP, 'r1', '16b atomic: the refused delete inside a nested atomic '
     '(savepoint)', seed, '''
from django.db.models import RestrictedError
with transaction.atomic():
    mk(Category, (3,))
    try:
        with transaction.atomic():
            mk(Category, (4,))
            Category.objects.get(id=1).delete()
    except RestrictedError as e:
        note('caught', type(e).__name__)
    note('then', Category.objects.get(id=2).delete())
''')
case(GRP, 'r1', '16c atomic: a later delete of the restricting rows does not '
     'lift the refusal; deleting again then succeeds', seed, '''
from django.db.models import RestrictedError
with transaction.atomic():
    try:
        Category.objects.get(id=1).delete()
    except RestrictedError as e:
        note('caught', type(e).__name__)
    note('articles', Article.objects.filter(category_id=1).delete())
    note('again', Category.objects.get(id=1).delete())
''')
seed = '''
mk(Category, (1,), (2,), (3,))
mk(Article, (1, 1), (2, 1), (3, 2))
'''
case(GRP, 'p1', '16d atomic: a refused PROTECT caught, more work', seed, '''
from django.db.models import ProtectedError
with transaction.atomic():
    mk(Category, (4,))
    try:
        Category.objects.all().delete()
    except ProtectedError as e:
        note('caught', type(e).__name__)
    note('then', Category.objects.get(id=3).delete())
''')
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 1))
mk(Note, (1, 2))
'''
case(GRP, 'b3', '16e RESTRICT on category 1, PROTECT on category 2: delete both',
     seed, 'Category.objects.all().delete()')
case(GRP, 'b3', '16f as 16e, descending order', seed,
     "Category.objects.order_by('-id').delete()")
seed = '''
mk(Category, (1,), (2,))
mk(Article, (1, 2))
mk(Note, (1, 1))
'''
case(GRP, 'b3', '16g RESTRICT on category 2, PROTECT on category 1: delete both',
     seed, 'Category.objects.all().delete()')
seed = '''
mk(Category, (1,), (2,), (3,))
mk(Profile, (1, 1), (2, 2))
mk(Article, (1, 1))
'''
case(GRP, 'b4', '16h O2O SET_DEFAULT(3) of two profiles, RESTRICT on category 1: '
     'delete 1 and 2', seed, 'Category.objects.filter(id__in=[1, 2]).delete()')
case(GRP, 'b4', '16i as 16h without the restricting article', seed + '''
Article.objects.all().delete()
''', 'Category.objects.filter(id__in=[1, 2]).delete()')
case(GRP, 'b4', '16j one profile SET_DEFAULT(3), RESTRICT on the same category',
     seed, 'Category.objects.get(id=1).delete()')
case(GRP, 'b4', '16k as 16j, profile 3 already holds category 3', seed + '''
mk(Profile, (3, 3))
''', 'Category.objects.get(id=1).delete()')
seed = '''
mk(Person, (1,), (2,))
mk(Group, (1,), (2,))
mk(Membership, (1, 1, 1), (2, 1, 2), (3, 2, 1))
mk(Badge, (1, 1))
'''
case(GRP, 'm5', '16l through row protected by a badge: group.members.remove()',
     seed, '''
from django.db.models import ProtectedError
with transaction.atomic():
    try:
        with transaction.atomic():
            Group.objects.get(id=1).members.remove(Person.objects.get(id=1))
    except ProtectedError as e:
        note('caught', type(e).__name__)
    note('then', Group.objects.get(id=2).members.remove(Person.objects.get(id=1)))
''')
case(GRP, 'm5', '16m as 16l, group.members.clear()', seed,
     'Group.objects.get(id=1).members.clear()')
case(GRP, 'm5', '16n as 16l, delete the through row directly', seed,
     'Membership.objects.filter(id=1).delete()')
case(GRP, 'm5', '16o as 16l, delete person 1 (cascades to the protected row)',
     seed, 'Person.objects.get(id=1).delete()')
seed = seed.replace('Badge', 'Award')
case(GRP, 'm6', '16p through row restricted by an award: group.members.remove()',
     seed, 'Group.objects.get(id=1).members.remove(Person.objects.get(id=1))')
case(GRP, 'm6', '16q as 16p, delete the award and the through row in one '
     'atomic, award first', seed, '''
with transaction.atomic():
    Award.objects.all().delete()
    Group.objects.get(id=1).members.remove(Person.objects.get(id=1))
''')


def system_checks(md=False):
    out = ['', ('### ' if md else '## ') +
           '15. System checks (fields.E3xx) and a missing on_delete', '']
    msgs = checks.run_checks(app_configs=[apps.get_app_config('djref_chk')])
    for m in sorted(msgs, key=lambda m: (m.id, str(m.obj))):
        out.append('- %s' % str(m).split('\n')[0])
        out.append('  - HINT: %s' % m.hint)
    out.append('')
    try:
        models.ForeignKey('Category')
    except TypeError as e:
        out.append('- ForeignKey(Category) without on_delete: TypeError: %s' % e)
    return out


def main():
    md = '--md' in sys.argv[1:]
    out = ['# Django %s reference results (sqlite %s, Python %s)' % (
        django.get_version(), connection.Database.sqlite_version,
        sys.version.split()[0])]
    seen_apps = set()
    group = None
    for c in CASES:
        if c['group'] != group:
            group = c['group']
            out += ['', ('### ' if md else '## ') + group]
        r = run_case(c)
        first = c['app'] not in seen_apps
        seen_apps.add(c['app'])
        out += (format_md if md else format_text)(r, first)
    out += system_checks(md)
    print('\n'.join(out))


if __name__ == '__main__':
    try:
        main()
    finally:
        connection.close()
