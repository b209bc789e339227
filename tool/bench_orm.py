#!/usr/bin/python3
"""bench_orm.py -- Django's ORM on relext's backend against Django's own
sqlite3 backend, on the same data.

    /usr/bin/python3 tool/bench_orm.py [--scale S] [--reps N] [--only O1,O2,O9]

Two in-memory databases, one per backend ('plain': django.db.backends.sqlite3,
'relext': relext.django), with the same Django models, created by each
backend's schema editor (so relext's holds every relationship declared and
enforced). The data is loaded with plain SQL, untimed; the ORM operation is
timed in CPU time of this process (time.process_time(): SQLite runs in it,
and CPU time is not inflated by other processes on a shared machine); runs
alternate between the backends (each going first in every other round);
each line gives the medians and the ratio:

    O1 plain 812.345 relext 851.234 ratio 1.048  (fastest runs: 801.2 840.1 ratio 1.049)

  O1  W1-shaped: 20,000 categories x 50 articles, Article.category CASCADE;
      Category.objects.filter(pk__in=every tenth).delete()
  O2  W2-shaped: 2,000 categories x 50 articles x 10 comments, both
      CASCADE; the same delete
  O9  single-row save(): 2,000 Article(...).save() in autocommit (each one
      its own transaction, as in a request), then 2,000 single-row
      instance.delete() of articles nothing references

For instruction counts instead of times (a shared machine makes times
noisy), tool/bench_orm_callgrind.sh runs each workload and backend under
callgrind twice, with and without the operation (--skip-op), and prints
the difference: the instructions of the operation itself.

The target is a ratio of at most 1.10 (relext's checks must not double
Django's own work). Exit status 0, or 1 if a run failed or gave a wrong
result.
"""
import argparse
import math
import os
import statistics
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'python'))

BACKENDS = ('plain', 'relext')


def scaled(base, scale, minimum):
    return max(minimum, int(math.floor(base * scale + 0.5)))


def setup_django(library):
    import django
    from django.conf import settings

    mod = types.ModuleType('ormbench')
    mod.__file__ = os.path.abspath(__file__)
    sys.modules['ormbench'] = mod
    settings.configure(
        DEBUG=False,
        INSTALLED_APPS=['ormbench'],
        DATABASES={
            'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'},
            'plain': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': ':memory:'},
            'relext': {'ENGINE': 'relext.django', 'NAME': ':memory:'},
        },
        RELEXT_LIBRARY_PATH=library,
        USE_TZ=False,
        DEFAULT_AUTO_FIELD='django.db.models.AutoField',
    )
    django.setup()
    return django


def define_models():
    """Per workload: (category, article, comment or None)."""
    from django.db import models

    def model(class_name, table, **fields):
        attrs = dict(fields)
        attrs['__module__'] = 'ormbench'
        attrs['Meta'] = type('Meta', (), {'app_label': 'ormbench', 'db_table': table})
        return type(class_name, (models.Model,), attrs)

    out = {}
    for wid, with_comment in (('O1', False), ('O2', True), ('O9', False)):
        p = wid.lower()
        c = model(wid + 'Category', p + '_category', name=models.TextField())
        a = model(wid + 'Article', p + '_article', title=models.TextField(),
                  category=models.ForeignKey(c, on_delete=models.CASCADE,
                                             related_name='articles'))
        k = None
        if with_comment:
            k = model(wid + 'Comment', p + '_comment', body=models.TextField(),
                      article=models.ForeignKey(a, on_delete=models.CASCADE,
                                                related_name='comments'))
        out[wid] = (c, a, k)
    return out


def fill(cur, table, cols, n, select):
    cur.execute(
        'INSERT INTO %s(%s) WITH RECURSIVE s(i) AS '
        '(SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i<%d) SELECT %s FROM s'
        % (table, cols, n, select))


def one(cur, sql):
    cur.execute(sql)
    return cur.fetchone()[0]


def check(cur, sql, want):
    got = one(cur, sql)
    if got != want:
        raise RuntimeError('wrong result: %s gives %r, expected %r' % (sql, got, want))


def build(using, models_, ncat, per, ncom):
    from django.db import connections, transaction
    c, a, k = models_
    with connections[using].schema_editor() as editor:
        for model in (c, a, k):
            if model is not None:
                editor.create_model(model)
    with transaction.atomic(using=using), connections[using].cursor() as cur:
        fill(cur, c._meta.db_table, 'id,name', ncat, "i, 'category '||i")
        if per:
            fill(cur, a._meta.db_table, 'id,title,category_id', ncat * per,
                 "i, 'article '||i, (i-1)/%d+1" % per)
        if ncom:
            fill(cur, k._meta.db_table, 'id,body,article_id', ncat * per * ncom,
                 "i, 'comment '||i, (i-1)/%d+1" % ncom)


def drop(using, models_):
    from django.db import connections
    with connections[using].schema_editor() as editor:
        for model in reversed(models_):
            if model is not None:
                editor.delete_model(model)


def measured(fn):
    """Run fn() (unless --skip-op) and return its CPU milliseconds."""
    t0 = time.process_time()
    if not SKIP_OP:
        fn()
    return (time.process_time() - t0) * 1e3


SKIP_OP = False


def run_once(wid, using, m, scale):
    from django.db import connections
    models_ = m[wid]
    c, a, k = models_
    if wid == 'O9':
        n = scaled(2000, scale, 50)
        build(using, models_, 10, 0, 0)

        def op():
            objs = []
            for i in range(n):
                obj = a(title='article %d' % i, category_id=i % 10 + 1)
                obj.save(using=using)
                objs.append(obj)
            for obj in objs:
                obj.delete(using=using)
        ms = measured(op)
        with connections[using].cursor() as cur:
            if not SKIP_OP:
                check(cur, 'SELECT count(*) FROM %s' % a._meta.db_table, 0)
        drop(using, models_)
        return ms
    if wid == 'O1':
        ncat, per, ncom = scaled(20000, scale, 10), 50, 0
    else:
        ncat, per, ncom = scaled(2000, scale, 10), 50, 10
    build(using, models_, ncat, per, ncom)
    ids = list(range(10, ncat + 1, 10))
    ms = measured(lambda: c.objects.using(using).filter(pk__in=ids).delete())
    if SKIP_OP:
        ids = []
    with connections[using].cursor() as cur:
        check(cur, 'SELECT count(*) FROM %s' % c._meta.db_table, ncat - len(ids))
        check(cur, 'SELECT count(*) FROM %s' % a._meta.db_table, (ncat - len(ids)) * per)
        if k is not None:
            check(cur, 'SELECT count(*) FROM %s' % k._meta.db_table,
                  (ncat - len(ids)) * per * ncom)
    drop(using, models_)
    return ms


def main():
    global SKIP_OP, BACKENDS
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--only', default='O1,O2,O9')
    ap.add_argument('--ext', default=os.path.join(ROOT, 'relext'),
                    help='relext library (default: the one `make` builds)')
    ap.add_argument('--backends', default='plain,relext')
    ap.add_argument('--skip-op', action='store_true',
                    help='do everything but the measured operation (and its checks)')
    args = ap.parse_args()
    SKIP_OP = args.skip_op
    BACKENDS = tuple(b for b in args.backends.split(',') if b)
    wanted = [w.strip().upper() for w in args.only.split(',') if w.strip()]
    django = setup_django(args.ext)
    import sqlite3
    print('# django %s, sqlite %s; medians of %d runs, CPU milliseconds; target ratio <= 1.10'
          % (django.get_version(), sqlite3.sqlite_version, args.reps))
    m = define_models()
    status = 0
    for wid in ('O1', 'O2', 'O9'):
        if wid not in wanted:
            continue
        times = {b: [] for b in BACKENDS}
        try:
            for rep in range(args.reps):
                # Alternate which backend goes first.
                for b in (BACKENDS if rep % 2 == 0 else BACKENDS[::-1]):
                    times[b].append(run_once(wid, b, m, args.scale))
        except Exception as e:
            print('ERROR %s %s: %s' % (wid, type(e).__name__, e))
            status = 1
            continue
        if len(BACKENDS) < 2:
            print('%s %s %.3f' % (wid, BACKENDS[0], statistics.median(times[BACKENDS[0]])))
            continue
        p, r = statistics.median(times['plain']), statistics.median(times['relext'])
        pm, rm = min(times['plain']), min(times['relext'])
        print('%s plain %.3f relext %.3f ratio %.3f%s  (fastest runs: %.3f %.3f ratio %.3f)' % (
            wid, p, r, r / p, '' if r / p <= 1.10 else '  (over the 1.10 target)',
            pm, rm, rm / pm))
        sys.stdout.flush()
    return status


if __name__ == '__main__':
    sys.exit(main())
