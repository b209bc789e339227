#!/usr/bin/python3
"""Django's side of the relext benchmark.

Runs workloads W1, W2 and W8 of tool/bench.c through Django's ORM
(QuerySet.delete()) on an in-memory SQLite database, with the same data,
sizes and deleted rows as bench.c at the same --scale, and prints one
machine-readable line per workload:

    W1 12.345        median milliseconds of the delete over --reps runs

Lines starting with '#' are remarks (the first says the Django version);
a failure prints 'ERROR <workload> <message>' and exits 1.

    /usr/bin/python3 tool/bench_django.py --scale 0.1 --reps 5 --only W1,W2,W8

The models are Django's own (app 'relbench', created with the schema
editor, so the tables have Django's layout and constraints, and Django turns
PRAGMA foreign_keys on as it always does). The data is loaded with plain SQL
(untimed); only the delete is timed, and the result is verified after it.

  W1  20,000 categories x 50 articles, Article.category CASCADE; delete every
      tenth category (Django's fast path: one DELETE per batch of ids)
  W2  2,000 categories x 50 articles x 10 comments, both CASCADE; delete every
      tenth category (Django loads the articles, fast-deletes the comments)
  W8  as W2 but Comment.article is SET_NULL (null=True): Django loads the
      articles and the comments and updates the comments in batches
"""
import argparse
import math
import os
import statistics
import sys
import time
import types


def scaled(base, scale, minimum):
    # the same rounding as bench.c's scaled(): floor(x + 0.5), at least minimum
    return max(minimum, int(math.floor(base * scale + 0.5)))


def setup_django():
    import django
    from django.conf import settings

    # An importable module for the app, so that Django's app registry (and
    # with it the deletion collector's view of related objects) knows the
    # models below.
    mod = types.ModuleType("relbench")
    mod.__file__ = os.path.abspath(__file__)
    sys.modules["relbench"] = mod
    settings.configure(
        DEBUG=False,
        INSTALLED_APPS=["relbench"],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": ":memory:",
            }
        },
        USE_TZ=False,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    return django


def define_models():
    from django.db import models

    def model(class_name, table, **fields):
        attrs = dict(fields)
        attrs["__module__"] = "relbench"
        attrs["Meta"] = type("Meta", (), {"app_label": "relbench", "db_table": table})
        return type(class_name, (models.Model,), attrs)

    m = {}
    # W1: category <- article (CASCADE)
    m["C1"] = model("C1", "w1_category", name=models.TextField())
    m["A1"] = model("A1", "w1_article", title=models.TextField(),
                    category=models.ForeignKey(m["C1"], on_delete=models.CASCADE,
                                               related_name="articles"))
    # W2: category <- article (CASCADE) <- comment (CASCADE)
    m["C2"] = model("C2", "w2_category", name=models.TextField())
    m["A2"] = model("A2", "w2_article", title=models.TextField(),
                    category=models.ForeignKey(m["C2"], on_delete=models.CASCADE,
                                               related_name="articles"))
    m["M2"] = model("M2", "w2_comment", body=models.TextField(),
                    article=models.ForeignKey(m["A2"], on_delete=models.CASCADE,
                                              related_name="comments"))
    # W8: category <- article (CASCADE) <- comment (SET_NULL)
    m["C8"] = model("C8", "w8_category", name=models.TextField())
    m["A8"] = model("A8", "w8_article", title=models.TextField(),
                    category=models.ForeignKey(m["C8"], on_delete=models.CASCADE,
                                               related_name="articles"))
    m["M8"] = model("M8", "w8_comment", body=models.TextField(),
                    article=models.ForeignKey(m["A8"], on_delete=models.SET_NULL,
                                              null=True, related_name="comments"))
    return m


def fill(cur, table, cols, n, select):
    # the same rows as bench.c's fill(): i runs over 1..n
    cur.execute(
        "INSERT INTO %s(%s) WITH RECURSIVE s(i) AS "
        "(SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i<%d) SELECT %s FROM s"
        % (table, cols, n, select)
    )


def count(cur, sql):
    cur.execute(sql)
    return cur.fetchone()[0]


def check(cur, sql, want):
    got = count(cur, sql)
    if got != want:
        raise RuntimeError("wrong result: %s gives %d, expected %d" % (sql, got, want))


def run_once(wid, m, scale):
    """Build the data for workload wid in a fresh in-memory database, time
    the ORM delete, verify, and return milliseconds."""
    from django.db import connection, transaction

    if wid == "W1":
        models_used = [m["C1"], m["A1"]]
        ncat, per, ncom = scaled(20000, scale, 10), 50, 0
    else:
        key = "2" if wid == "W2" else "8"
        models_used = [m["C" + key], m["A" + key], m["M" + key]]
        ncat, per, ncom = scaled(2000, scale, 10), 50, 10
    cat, art = models_used[0], models_used[1]
    with connection.schema_editor() as editor:
        for model in models_used:
            editor.create_model(model)
    with transaction.atomic():
        with connection.cursor() as cur:
            fill(cur, cat._meta.db_table, "id,name", ncat, "i, 'category '||i")
            fill(cur, art._meta.db_table, "id,title,category_id", ncat * per,
                 "i, 'article '||i, (i-1)/%d+1" % per)
            if ncom:
                fill(cur, models_used[2]._meta.db_table, "id,body,article_id",
                     ncat * per * ncom, "i, 'comment '||i, (i-1)/%d+1" % ncom)
    ids = list(range(10, ncat + 1, 10))  # id % 10 = 0, as in bench.c
    ndel = len(ids)

    t0 = time.perf_counter()
    cat.objects.filter(pk__in=ids).delete()
    ms = (time.perf_counter() - t0) * 1e3

    with connection.cursor() as cur:
        ct, at = cat._meta.db_table, art._meta.db_table
        check(cur, "SELECT count(*) FROM %s" % ct, ncat - ndel)
        check(cur, "SELECT count(*) FROM %s" % at, (ncat - ndel) * per)
        if wid == "W2":
            check(cur, "SELECT count(*) FROM %s" % models_used[2]._meta.db_table,
                  (ncat - ndel) * per * ncom)
        elif wid == "W8":
            mt = models_used[2]._meta.db_table
            check(cur, "SELECT count(*) FROM %s" % mt, ncat * per * ncom)
            check(cur, "SELECT count(*) FROM %s WHERE article_id IS NULL" % mt,
                  ndel * per * ncom)
    # Django ignores close() on an in-memory database: drop the tables
    # instead, so that the next run starts from nothing
    with connection.schema_editor() as editor:
        for model in reversed(models_used):
            editor.delete_model(model)
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="W1,W2,W8",
                    help="comma-separated workloads among W1,W2,W8")
    args = ap.parse_args()
    if args.scale <= 0 or args.reps < 1:
        ap.error("--scale must be positive and --reps at least 1")
    wanted = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    wanted = [w for w in ("W1", "W2", "W8") if w in wanted]

    django = setup_django()
    import sqlite3
    print("# django %s (sqlite %s, python %s)"
          % (django.get_version(), sqlite3.sqlite_version, sys.version.split()[0]))
    m = define_models()
    status = 0
    for wid in wanted:
        try:
            times = [run_once(wid, m, args.scale) for _ in range(args.reps)]
        except Exception as e:  # report and go on with the next workload
            print("ERROR %s %s: %s" % (wid, type(e).__name__, e))
            status = 1
            continue
        print("# %s reps ms: %s" % (wid, " ".join("%.3f" % t for t in times)))
        print("%s %.3f" % (wid, statistics.median(times)))
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
