/*
** bench.c: the relext benchmark (`make bench`).
**
** Each workload builds identical data in a fresh in-memory database per
** variant and times one logical operation three ways:
**
**   A  relext       ./relext.so loaded, relationships declared with
**                   rel_define() (relext makes the key indexes itself)
**   B  native       PRAGMA foreign_keys=ON, REFERENCES ... ON DELETE ...,
**                   with an index on every child key column
**   C  floor        hand-written set-based SQL with no rules at all, same
**                   indexes as B
**
** Usage:
**
**   ./tool/bench [--scale X] [--reps N] [--only W1,W7] [--variants ABC]
**                [--ext PATH] [--django | --no-django] [--python PATH]
**                [--timeout SEC] [--scale-timeout SEC] [--tclsh PATH]
**                [--fixtures DIR]
**                [--w5-pair-only] [--strict] [--verbose] [--list]
**
** Workloads (sizes at --scale 1; --scale multiplies the counts, fan-outs
** stay fixed):
**
**   W1  cascade delete: 20,000 categories x 50 articles; delete every tenth
**       category (2,000) in one statement
**   W2  three-level cascade: 2,000 categories x 50 articles x 10 comments;
**       delete every tenth category (200)
**   W3  insert 1,000,000 articles referencing 20,000 existing categories in
**       one transaction (keys checked at commit)
**   W4  10,000 single-row deletes of categories that PROTECT (odd ids) or
**       RESTRICT (even ids) must refuse
**   W5  1,000,000 many-to-many link inserts (one in ten a repeat of an
**       earlier pair) in one transaction
**   W6  100,000 point reads of category__articles(?) (10 rows each) against
**       SELECT * FROM article WHERE category_id=?
**   W7a/W7b  a self-referencing CASCADE chain of 100,000 / 1,000,000 nodes
**       deleted from the root (native foreign keys stop at 1,000 levels)
**   W8  category -CASCADE-> article -SET_NULL-> comment (W2's sizes): the
**       case where Django must load rows
**   W9, W10  one-row transactions (every Django save() is one)
**
** Their targets (issue 15's, from the physical floors measured): W1, W2,
** W5 A/C <= 1.30; W3 A/B <= 1.10; W4 A/B <= 0.75 (native foreign keys
** refuse after the row is gone, relext before); W6 A/C <= 1.30; W7 per
** row <= 2x W1's per row; W9, W10 A/B <= 1.25 (wall clock, like all).
**
** Scale rows (hundreds of models, a connection per request), on
** tool/schemagen.tcl's Django-shaped schema; see "Scale rows" below:
**
**   L100, L1000  open a file database with 100 / 1,000 relationships, load
**       relext, one INSERT, COMMIT, close (ms; targets 5 and 25)
**   R1000  the same connection only reading: ms over a plain one (target 1)
**   D1000a, D1000t  rel_define of 1,000 relationships, each in autocommit /
**       in one transaction (ms; targets 10 s and 3 s)
**   D1000m  the same 1,000 in one rel_define_many (ms; target 3 s)
**   T1000w1, T1000w9  W1 and W9 where the 1,000 unrelated relationships are
**       declared too, against none (ratio; target 1.05)
**   M1000  SQLite's memory in use by one connection on the 1,000-relationship
**       database, over a plain one (MiB; target 8)
**
** `--only L,R,D,T,M` runs them alone; each run has --scale-timeout (60 s),
** so a slow rel_define leaves the benchmark bounded. `--fixtures DIR`
** keeps their databases for later runs (build them once with a long
** --scale-timeout while rel_define is slow).
**
** The floor (C) in each workload: W1/W2/W8 one set-based statement per
** level, deepest first (DELETE, or UPDATE ... SET NULL for W8's comments,
** WHERE key IN (SELECT ...)), then the parents, in one transaction; W3
** plain INSERTs; W4 DELETE ... WHERE NOT EXISTS (children) per table; W5
** INSERT OR IGNORE into a plain junction with UNIQUE(article_id, tag_id) and
** an index on tag_id, as relext's junction has (B: the same with deferred
** REFERENCES ... ON DELETE CASCADE, which needs that index; without it,
** --w5-pair-only, the floor is about twice as fast); W6 the
** direct SELECT (also B); W7 a recursive-CTE DELETE.
**
** Data layout: children are numbered in their parent's order (the articles
** of category c are ids (c-1)*50+1 .. c*50), as when each parent's rows are
** created together; the deleted parents (id%10=0) are spread over the table.
**
** How it works: every run (one workload, one variant, one repetition) is a
** forked child process that opens its own ":memory:" database, builds the
** data (untimed), times only the operation, verifies the result (untimed:
** a variant that gives a wrong answer is reported, not timed) and sends its
** time and getrusage() peak RSS back through a pipe. So peak memory is per
** variant, a crash or a hang of relext (SIGALRM after --timeout) is reported
** and the benchmark goes on. Variants are interleaved and their order
** rotates each repetition (ABC, BCA, CAB, ...). The table shows medians
** (5 repetitions by default, 9 below --scale 0.5). On a shared virtual
** machine single runs vary by tens of percent; the medians of interleaved
** runs are what the targets are judged on, and callgrind (below) gives a
** noise-free count.
**
** If relext.so cannot be loaded, or a relext call fails, variant A shows
** the error and B and C still run.
**
** The Django comparison runs tool/bench_django.py (Debian's python3-django)
** at the same scale for W1, W2 and W8 and prints relext's speed-up.
**
** Noise-free figure for W1 (only the timed operation is counted):
**
**   valgrind --tool=callgrind --toggle-collect=bench_timed_op \
**     ./tool/bench --only W1 --variants A --reps 1 --no-django
**
** (callgrind follows the forked children: the run's count is the summary of
** the one callgrind.out.<pid> that is not 0.)
*/
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------------
** Variants, options, sizes
*/
#define V_A 0 /* relext */
#define V_B 1 /* native foreign keys */
#define V_C 2 /* hand-written floor */
#define N_VARIANT 3

#define MAX_REPS 99

static struct {
  double scale;         /* --scale */
  int nReps;            /* --reps */
  const char *zOnly;    /* --only, comma-separated prefixes, or NULL */
  int abVariant[N_VARIANT]; /* --variants */
  const char *zExt;     /* --ext, path given to sqlite3_load_extension */
  int eDjango;          /* -1 auto, 0 off, 1 on */
  const char *zPython;  /* --python */
  const char *zDjangoScript; /* path of bench_django.py */
  int nTimeout;         /* --timeout, seconds per run */
  int nScaleTimeout;    /* --scale-timeout, seconds per run of a scale row */
  const char *zTclsh;   /* --tclsh, runs tool/schemagen.tcl */
  const char *zFixtures; /* --fixtures DIR: keep and reuse the scale rows'
                         ** databases there */
  int bStrict;          /* --strict: exit 1 if a target fails */
  int bVerbose;         /* --verbose */
  int bPairOnly;        /* --w5-pair-only: B and C junctions without the tag_id index */
} O;

/* Sizes derived from the scale (fan-outs are fixed) */
static struct {
  int w1Cat, w1Per, w1Del;
  int w2Cat, w2Per, w2Com, w2Del;
  int w3Cat, w3N;
  int w4N;
  int w5Links, w5Distinct, w5Art, w5Tags;
  int w6Cat, w6Per, w6Q;
  int w7a, w7b;
  int w9Cat, w9N;
  int w10N;
} S;

static int scaled(double base, int nMin) {
  double v = floor(base * O.scale + 0.5);
  if (v < nMin) v = nMin;
  if (v > 2e9) v = 2e9;
  return (int)v;
}

static void compute_sizes(void) {
  S.w1Cat = scaled(20000, 10);
  S.w1Per = 50;
  S.w1Del = S.w1Cat / 10;
  S.w2Cat = scaled(2000, 10);
  S.w2Per = 50;
  S.w2Com = 10;
  S.w2Del = S.w2Cat / 10;
  S.w3Cat = scaled(20000, 10);
  S.w3N = scaled(1000000, 100);
  S.w4N = 2 * scaled(5000, 5);
  S.w5Links = scaled(1000000, 100);
  S.w5Distinct = S.w5Links - S.w5Links / 10;
  S.w5Art = (S.w5Distinct + 8) / 9;
  S.w5Tags = 1000;
  S.w6Cat = scaled(20000, 10);
  S.w6Per = 10;
  S.w6Q = scaled(100000, 100);
  S.w7a = scaled(100000, 10);
  S.w7b = scaled(1000000, 10);
  S.w9Cat = 1000;
  S.w9N = scaled(10000, 100);
  S.w10N = 2 * scaled(10000, 100);
}

/* Deterministic pseudo-random numbers, the same sequence in every variant */
static unsigned long long g_seed;
static void rnd_seed(unsigned long long s) { g_seed = s; }
static unsigned rnd(void) {
  g_seed = g_seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(g_seed >> 33);
}

/* ---------------------------------------------------------------------
** Error text and small SQL helpers (used inside the child)
*/
static char g_zErr[1024]; /* what went wrong in this run */
static char g_zNote[256]; /* something worth saying about this run */

static int fail(const char *zFmt, ...) {
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(g_zErr, sizeof(g_zErr), zFmt, ap);
  va_end(ap);
  return SQLITE_ERROR;
}

/* Run SQL (printf-style, %q/%w/%Q as in sqlite3_mprintf) */
static int db_exec(sqlite3 *db, const char *zFmt, ...) {
  va_list ap;
  char *zSql, *zMsg = 0;
  int rc;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if (zSql == 0) return fail("out of memory");
  rc = sqlite3_exec(db, zSql, 0, 0, &zMsg);
  if (rc != SQLITE_OK) {
    fail("%s [in: %.200s]", zMsg ? zMsg : sqlite3_errstr(rc), zSql);
  }
  sqlite3_free(zMsg);
  sqlite3_free(zSql);
  return rc;
}

/* The single integer a query returns, or -1 with g_zErr set */
static sqlite3_int64 db_int(sqlite3 *db, const char *zFmt, ...) {
  va_list ap;
  char *zSql;
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 v = -1;
  int rc;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if (zSql == 0) {
    fail("out of memory");
    return -1;
  }
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  if (rc == SQLITE_OK) rc = sqlite3_step(pStmt);
  if (rc == SQLITE_ROW) {
    v = sqlite3_column_int64(pStmt, 0);
  } else {
    fail("%s [in: %.200s]", sqlite3_errmsg(db), zSql);
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return v;
}

static int db_prepare(sqlite3 *db, const char *zSql, sqlite3_stmt **ppStmt) {
  int rc = sqlite3_prepare_v2(db, zSql, -1, ppStmt, 0);
  if (rc != SQLITE_OK) fail("%s [in: %.200s]", sqlite3_errmsg(db), zSql);
  return rc;
}

/* Check that a query returns the expected count */
static int expect(sqlite3 *db, sqlite3_int64 nWant, const char *zSql) {
  sqlite3_int64 n = db_int(db, "%s", zSql);
  if (n < 0) return SQLITE_ERROR;
  if (n != nWant) {
    return fail("wrong result: %s gives %lld, expected %lld", zSql, n, nWant);
  }
  return SQLITE_OK;
}

/* SELECT rel_define(...) */
static int rel_define(sqlite3 *db, const char *zField, const char *zKind,
                      const char *zTarget, const char *zOpts) {
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db, "SELECT rel_define(?1,?2,?3,?4)", -1, &pStmt, 0);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(pStmt, 1, zField, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, zKind, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 3, zTarget, -1, SQLITE_STATIC);
    if (zOpts) sqlite3_bind_text(pStmt, 4, zOpts, -1, SQLITE_STATIC);
    rc = sqlite3_step(pStmt);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) {
    fail("rel_define('%s','%s','%s','%s'): %s", zField, zKind, zTarget,
         zOpts ? zOpts : "", sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  return rc;
}

/* Fill a table from the integers 1..n:
**   fill(db, "category(id,name)", n, "i, 'category '||i") */
static int fill(sqlite3 *db, const char *zInto, int n, const char *zSelect) {
  return db_exec(db,
                 "INSERT INTO %s WITH RECURSIVE s(i) AS "
                 "(SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i<%d) "
                 "SELECT %s FROM s",
                 zInto, n, zSelect);
}

/*
** Create zTab(zCols, <zField>_id) whose key refers to zParent.id with
** Django rule zRule (CASCADE, PROTECT, RESTRICT, SET_NULL), per variant:
**   A: plain column, then rel_define() (relext makes the index)
**   B: REFERENCES ... ON DELETE <native rule> [DEFERRABLE INITIALLY DEFERRED],
**      plus an index on the column
**   C: plain column plus the same index
*/
static int mk_child(sqlite3 *db, int v, const char *zTab, const char *zCols,
                    const char *zField, const char *zParent, const char *zRule,
                    int bNull, const char *zRelated, int bDeferred) {
  int rc;
  const char *zNotNull = bNull ? "" : " NOT NULL";
  if (v == V_A) {
    char zOpts[200];
    rc = db_exec(db, "CREATE TABLE \"%w\"(%s, \"%w_id\" INTEGER%s)", zTab, zCols,
                 zField, zNotNull);
    if (rc) return rc;
    snprintf(zOpts, sizeof(zOpts), "on_delete=%s%s, related_name=%s", zRule,
             bNull ? ", null=True" : "", zRelated);
    {
      char zFieldName[100];
      snprintf(zFieldName, sizeof(zFieldName), "%s.%s", zTab, zField);
      rc = rel_define(db, zFieldName, "ForeignKey",
                      strcmp(zTab, zParent) == 0 ? "self" : zParent, zOpts);
    }
    return rc;
  } else {
    const char *zNative = "";
    char zRef[200];
    if (v == V_B) {
      if (strcmp(zRule, "CASCADE") == 0) zNative = "CASCADE";
      else if (strcmp(zRule, "SET_NULL") == 0) zNative = "SET NULL";
      else zNative = "RESTRICT"; /* PROTECT and RESTRICT */
      snprintf(zRef, sizeof(zRef), " REFERENCES \"%s\"(id) ON DELETE %s%s", zParent,
               zNative, bDeferred ? " DEFERRABLE INITIALLY DEFERRED" : "");
    } else {
      zRef[0] = 0;
    }
    rc = db_exec(db,
                 "CREATE TABLE \"%w\"(%s, \"%w_id\" INTEGER%s%s);"
                 "CREATE INDEX \"%w_%w_id\" ON \"%w\"(\"%w_id\");",
                 zTab, zCols, zField, zNotNull, zRef, zTab, zField, zTab, zField);
    return rc;
  }
}

/* Every workload's tables get the same row layout in every variant */
#define COLS_CATEGORY "id INTEGER PRIMARY KEY, name TEXT NOT NULL"
#define COLS_ARTICLE "id INTEGER PRIMARY KEY, title TEXT NOT NULL"
#define COLS_COMMENT "id INTEGER PRIMARY KEY, body TEXT NOT NULL"

/* ---------------------------------------------------------------------
** Workloads
*/
typedef struct Workload Workload;
typedef struct Result Result;
struct Workload {
  const char *zId;    /* "W1" */
  const char *zTitle; /* one-line description */
  int (*xSetup)(sqlite3 *, int v, const Workload *);
  int (*xOp)(sqlite3 *, int v, const Workload *);     /* the timed part */
  int (*xCheck)(sqlite3 *, int v, const Workload *);  /* verify the result */
  int eTarget;        /* TARGET_* below */
  double rTarget;     /* the bound */
  int bMem;           /* report peak memory against native */
  int bDjango;        /* also run through Django's ORM */
  int iParam;         /* workload-specific (W7: 0 for W7a, 1 for W7b) */
  /* Scale rows (L, R, D, T, M): the whole run of variant v, timed by the
  ** row itself (NULL for the W rows, whose child times xOp) */
  int (*xRun)(const Workload *, int v, Result *p);
};
#define TARGET_NONE 0
#define TARGET_AC 1  /* A/C <= rTarget */
#define TARGET_AB 2  /* A/B <= rTarget */
#define TARGET_ROW 3 /* A per row <= rTarget x W1's A per row */
#define TARGET_MS 4  /* A <= rTarget ms */
#define TARGET_DIFF 5 /* A - B <= rTarget ms */
#define TARGET_MEM 6 /* A - B <= rTarget MiB (SQLite's memory in use) */

/* ---- W1: one-level cascade ---------------------------------------- */
static int w1_setup(sqlite3 *db, int v, const Workload *w) {
  int rc;
  (void)w;
  rc = db_exec(db, "CREATE TABLE category(" COLS_CATEGORY ")");
  if (!rc) rc = mk_child(db, v, "article", COLS_ARTICLE, "category", "category",
                         "CASCADE", 0, "articles", 0);
  if (!rc) rc = db_exec(db, "BEGIN");
  if (!rc) rc = fill(db, "category(id,name)", S.w1Cat, "i, 'category '||i");
  if (!rc) {
    char z[100];
    snprintf(z, sizeof(z), "i, 'article '||i, (i-1)/%d+1", S.w1Per);
    rc = fill(db, "article(id,title,category_id)", S.w1Cat * S.w1Per, z);
  }
  if (!rc) rc = db_exec(db, "COMMIT");
  return rc;
}
static int w1_op(sqlite3 *db, int v, const Workload *w) {
  (void)w;
  if (v == V_C) {
    return db_exec(db,
                   "BEGIN;"
                   "DELETE FROM article WHERE category_id IN "
                   "(SELECT id FROM category WHERE id%%10=0);"
                   "DELETE FROM category WHERE id%%10=0;"
                   "COMMIT;");
  }
  return db_exec(db, "DELETE FROM category WHERE id%%10=0");
}
static int w1_check(sqlite3 *db, int v, const Workload *w) {
  int rc;
  (void)v;
  (void)w;
  rc = expect(db, S.w1Cat - S.w1Del, "SELECT count(*) FROM category");
  if (!rc) rc = expect(db, (sqlite3_int64)(S.w1Cat - S.w1Del) * S.w1Per,
                       "SELECT count(*) FROM article");
  return rc;
}

/* ---- W2 and W8: category -> article -> comment ----------------------- */
static int w2_build(sqlite3 *db, int v, const char *zCommentRule, int bNull) {
  int rc;
  char z[100];
  rc = db_exec(db, "CREATE TABLE category(" COLS_CATEGORY ")");
  if (!rc) rc = mk_child(db, v, "article", COLS_ARTICLE, "category", "category",
                         "CASCADE", 0, "articles", 0);
  if (!rc) rc = mk_child(db, v, "comment", COLS_COMMENT, "article", "article",
                         zCommentRule, bNull, "comments", 0);
  if (!rc) rc = db_exec(db, "BEGIN");
  if (!rc) rc = fill(db, "category(id,name)", S.w2Cat, "i, 'category '||i");
  if (!rc) {
    snprintf(z, sizeof(z), "i, 'article '||i, (i-1)/%d+1", S.w2Per);
    rc = fill(db, "article(id,title,category_id)", S.w2Cat * S.w2Per, z);
  }
  if (!rc) {
    snprintf(z, sizeof(z), "i, 'comment '||i, (i-1)/%d+1", S.w2Com);
    rc = fill(db, "comment(id,body,article_id)", S.w2Cat * S.w2Per * S.w2Com, z);
  }
  if (!rc) rc = db_exec(db, "COMMIT");
  return rc;
}
static int w2_setup(sqlite3 *db, int v, const Workload *w) {
  (void)w;
  return w2_build(db, v, "CASCADE", 0);
}
static int w2_op(sqlite3 *db, int v, const Workload *w) {
  (void)w;
  if (v == V_C) {
    return db_exec(db,
                   "BEGIN;"
                   "DELETE FROM comment WHERE article_id IN (SELECT id FROM article "
                   "WHERE category_id IN (SELECT id FROM category WHERE id%%10=0));"
                   "DELETE FROM article WHERE category_id IN "
                   "(SELECT id FROM category WHERE id%%10=0);"
                   "DELETE FROM category WHERE id%%10=0;"
                   "COMMIT;");
  }
  return db_exec(db, "DELETE FROM category WHERE id%%10=0");
}
static int w2_check(sqlite3 *db, int v, const Workload *w) {
  int rc;
  sqlite3_int64 nCat = S.w2Cat - S.w2Del;
  (void)v;
  (void)w;
  rc = expect(db, nCat, "SELECT count(*) FROM category");
  if (!rc) rc = expect(db, nCat * S.w2Per, "SELECT count(*) FROM article");
  if (!rc) rc = expect(db, nCat * S.w2Per * S.w2Com, "SELECT count(*) FROM comment");
  return rc;
}
static int w8_setup(sqlite3 *db, int v, const Workload *w) {
  (void)w;
  return w2_build(db, v, "SET_NULL", 1);
}
static int w8_op(sqlite3 *db, int v, const Workload *w) {
  (void)w;
  if (v == V_C) {
    return db_exec(db,
                   "BEGIN;"
                   "UPDATE comment SET article_id=NULL WHERE article_id IN (SELECT id "
                   "FROM article WHERE category_id IN "
                   "(SELECT id FROM category WHERE id%%10=0));"
                   "DELETE FROM article WHERE category_id IN "
                   "(SELECT id FROM category WHERE id%%10=0);"
                   "DELETE FROM category WHERE id%%10=0;"
                   "COMMIT;");
  }
  return db_exec(db, "DELETE FROM category WHERE id%%10=0");
}
static int w8_check(sqlite3 *db, int v, const Workload *w) {
  int rc;
  sqlite3_int64 nCat = S.w2Cat - S.w2Del;
  (void)v;
  (void)w;
  rc = expect(db, nCat, "SELECT count(*) FROM category");
  if (!rc) rc = expect(db, nCat * S.w2Per, "SELECT count(*) FROM article");
  if (!rc) rc = expect(db, (sqlite3_int64)S.w2Cat * S.w2Per * S.w2Com,
                       "SELECT count(*) FROM comment");
  if (!rc) rc = expect(db, (sqlite3_int64)S.w2Del * S.w2Per * S.w2Com,
                       "SELECT count(*) FROM comment WHERE article_id IS NULL");
  return rc;
}

/* ---- W3: bulk insert of children, keys checked at commit -------------- */
static int w3_setup(sqlite3 *db, int v, const Workload *w) {
  int rc;
  (void)w;
  rc = db_exec(db, "CREATE TABLE category(" COLS_CATEGORY ")");
  if (!rc) rc = mk_child(db, v, "article", COLS_ARTICLE, "category", "category",
                         "CASCADE", 0, "articles", 1);
  if (!rc) rc = fill(db, "category(id,name)", S.w3Cat, "i, 'category '||i");
  return rc;
}
static int w3_op(sqlite3 *db, int v, const Workload *w) {
  sqlite3_stmt *pStmt = 0;
  int rc, i;
  char zTitle[32];
  (void)v;
  (void)w;
  rnd_seed(3);
  rc = db_exec(db, "BEGIN");
  if (!rc) rc = db_prepare(db, "INSERT INTO article(title,category_id) VALUES(?1,?2)", &pStmt);
  for (i = 1; rc == SQLITE_OK && i <= S.w3N; i++) {
    int n = snprintf(zTitle, sizeof(zTitle), "article %d", i);
    sqlite3_bind_text(pStmt, 1, zTitle, n, SQLITE_STATIC);
    sqlite3_bind_int(pStmt, 2, (int)(rnd() % (unsigned)S.w3Cat) + 1);
    rc = sqlite3_step(pStmt);
    if (rc == SQLITE_DONE) rc = sqlite3_reset(pStmt);
    else fail("insert %d: %s", i, sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  if (!rc) rc = db_exec(db, "COMMIT");
  else sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return rc;
}
static int w3_check(sqlite3 *db, int v, const Workload *w) {
  (void)v;
  (void)w;
  return expect(db, S.w3N, "SELECT count(*) FROM article");
}

/* ---- W4: refused deletes (PROTECT on odd ids, RESTRICT on even) ------- */
static int g_nRefused;
static int w4_setup(sqlite3 *db, int v, const Workload *w) {
  int rc;
  int nHalf = S.w4N / 2;
  char z[100];
  (void)w;
  rc = db_exec(db, "CREATE TABLE category(" COLS_CATEGORY ")");
  if (!rc) rc = mk_child(db, v, "article", COLS_ARTICLE, "category", "category",
                         "PROTECT", 0, "articles", 0);
  if (!rc) rc = mk_child(db, v, "badge", "id INTEGER PRIMARY KEY, label TEXT NOT NULL",
                         "category", "category", "RESTRICT", 0, "badges", 0);
  if (!rc) rc = db_exec(db, "BEGIN");
  if (!rc) rc = fill(db, "category(id,name)", S.w4N, "i, 'category '||i");
  snprintf(z, sizeof(z), "i, 'article '||i, 2*((i-1)%%%d)+1", nHalf);
  if (!rc) rc = fill(db, "article(id,title,category_id)", nHalf * 5, z);
  snprintf(z, sizeof(z), "i, 'badge '||i, 2*((i-1)%%%d)+2", nHalf);
  if (!rc) rc = fill(db, "badge(id,label,category_id)", nHalf * 5, z);
  if (!rc) rc = db_exec(db, "COMMIT");
  return rc;
}
static int w4_op(sqlite3 *db, int v, const Workload *w) {
  sqlite3_stmt *pStmt = 0;
  int rc, i;
  (void)w;
  g_nRefused = 0;
  rc = db_prepare(db,
                  v == V_C ? "DELETE FROM category WHERE id=?1"
                             " AND NOT EXISTS(SELECT 1 FROM article WHERE category_id=?1)"
                             " AND NOT EXISTS(SELECT 1 FROM badge WHERE category_id=?1)"
                           : "DELETE FROM category WHERE id=?1",
                  &pStmt);
  for (i = 1; rc == SQLITE_OK && i <= S.w4N; i++) {
    sqlite3_bind_int(pStmt, 1, i);
    rc = sqlite3_step(pStmt);
    if (rc == SQLITE_DONE) {
      if (sqlite3_changes(db) == 0) g_nRefused++;
      rc = SQLITE_OK;
    } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      g_nRefused++;
      if (i <= 2 && O.bVerbose) {
        snprintf(g_zNote + strlen(g_zNote), sizeof(g_zNote) - strlen(g_zNote),
                 "%s%s", i == 1 ? "" : " | ", sqlite3_errmsg(db));
      }
      rc = SQLITE_OK;
    } else {
      fail("delete category %d: %s", i, sqlite3_errmsg(db));
    }
    sqlite3_reset(pStmt);
  }
  sqlite3_finalize(pStmt);
  return rc;
}
static int w4_check(sqlite3 *db, int v, const Workload *w) {
  (void)v;
  (void)w;
  if (g_nRefused != S.w4N) {
    return fail("wrong result: %d of %d deletes refused", g_nRefused, S.w4N);
  }
  return expect(db, S.w4N, "SELECT count(*) FROM category");
}

/* ---- W5: many-to-many link inserts ------------------------------------ */
static int *g_aLinkA, *g_aLinkT; /* the pairs to insert, in order */
static int w5_setup(sqlite3 *db, int v, const Workload *w) {
  int rc, k, j = 0;
  (void)w;
  /* The pair sequence: distinct pair j is (j/9+1, (a*37 + (j%9)*101)%1000+1);
  ** every tenth insert repeats a random earlier pair. */
  g_aLinkA = malloc(sizeof(int) * (size_t)S.w5Links);
  g_aLinkT = malloc(sizeof(int) * (size_t)S.w5Links);
  if (!g_aLinkA || !g_aLinkT) return fail("out of memory");
  rnd_seed(5);
  for (k = 0; k < S.w5Links; k++) {
    int jj;
    if (k % 10 == 9) {
      jj = (int)(rnd() % (unsigned)j);
    } else {
      jj = j++;
    }
    g_aLinkA[k] = jj / 9 + 1;
    g_aLinkT[k] = (g_aLinkA[k] * 37 + (jj % 9) * 101) % S.w5Tags + 1;
  }
  rc = db_exec(db,
               "CREATE TABLE article(" COLS_ARTICLE ");"
               "CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  if (!rc) {
    if (v == V_A) {
      rc = rel_define(db, "article.tags", "ManyToManyField", "tag", 0);
      if (!rc) {
        sqlite3_int64 n = db_int(db, "SELECT count(*) FROM pragma_index_list('article_tags')");
        if (n != 2 - O.bPairOnly) {
          snprintf(g_zNote, sizeof(g_zNote), "relext's junction has %lld indexes; B and C have %s",
                   n, O.bPairOnly ? "1 (the unique pair)" : "2 (the unique pair, tag_id)");
        }
      }
    } else {
      const char *zRef = v == V_B ? "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED" : "";
      rc = db_exec(db,
                   "CREATE TABLE article_tags(id INTEGER PRIMARY KEY,"
                   " article_id INTEGER NOT NULL %s%s,"
                   " tag_id INTEGER NOT NULL %s%s,"
                   " UNIQUE(article_id, tag_id));"
                   "%s",
                   v == V_B ? "REFERENCES article(id) " : "", zRef,
                   v == V_B ? "REFERENCES tag(id) " : "", zRef,
                   O.bPairOnly ? "" : "CREATE INDEX article_tags_tag_id ON article_tags(tag_id)");
    }
  }
  if (!rc) rc = db_exec(db, "BEGIN");
  if (!rc) rc = fill(db, "article(id,title)", S.w5Art, "i, 'article '||i");
  if (!rc) rc = fill(db, "tag(id,name)", S.w5Tags, "i, 'tag '||i");
  if (!rc) rc = db_exec(db, "COMMIT");
  return rc;
}
static int w5_op(sqlite3 *db, int v, const Workload *w) {
  sqlite3_stmt *pStmt = 0;
  int rc, k;
  (void)w;
  rc = db_exec(db, "BEGIN");
  if (!rc) {
    rc = db_prepare(db,
                    v == V_A ? "INSERT INTO article_tags(article_id,tag_id) VALUES(?1,?2)"
                             : "INSERT OR IGNORE INTO article_tags(article_id,tag_id) VALUES(?1,?2)",
                    &pStmt);
  }
  for (k = 0; rc == SQLITE_OK && k < S.w5Links; k++) {
    sqlite3_bind_int(pStmt, 1, g_aLinkA[k]);
    sqlite3_bind_int(pStmt, 2, g_aLinkT[k]);
    rc = sqlite3_step(pStmt);
    if (rc == SQLITE_DONE) rc = sqlite3_reset(pStmt);
    else fail("link %d (%d,%d): %s", k, g_aLinkA[k], g_aLinkT[k], sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  if (!rc) rc = db_exec(db, "COMMIT");
  else sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  return rc;
}
static int w5_check(sqlite3 *db, int v, const Workload *w) {
  (void)v;
  (void)w;
  return expect(db, S.w5Distinct, "SELECT count(*) FROM article_tags");
}

/* ---- W6: point reads through the reverse accessor ---------------------- */
static sqlite3_int64 g_nRows, g_iSum;
static int w6_setup(sqlite3 *db, int v, const Workload *w) {
  int rc;
  char z[100];
  (void)w;
  rc = db_exec(db, "CREATE TABLE category(" COLS_CATEGORY ")");
  if (!rc) rc = mk_child(db, v, "article", COLS_ARTICLE, "category", "category",
                         "CASCADE", 0, "articles", 0);
  if (!rc) rc = db_exec(db, "BEGIN");
  if (!rc) rc = fill(db, "category(id,name)", S.w6Cat, "i, 'category '||i");
  snprintf(z, sizeof(z), "i, 'article '||i, (i-1)/%d+1", S.w6Per);
  if (!rc) rc = fill(db, "article(id,title,category_id)", S.w6Cat * S.w6Per, z);
  if (!rc) rc = db_exec(db, "COMMIT");
  return rc;
}
static int w6_op(sqlite3 *db, int v, const Workload *w) {
  sqlite3_stmt *pStmt = 0;
  int rc, q;
  (void)w;
  g_nRows = 0;
  g_iSum = 0;
  rnd_seed(6);
  rc = db_prepare(db,
                  v == V_A ? "SELECT * FROM category__articles(?1)"
                           : "SELECT * FROM article WHERE category_id=?1",
                  &pStmt);
  for (q = 0; rc == SQLITE_OK && q < S.w6Q; q++) {
    sqlite3_bind_int(pStmt, 1, (int)(rnd() % (unsigned)S.w6Cat) + 1);
    while ((rc = sqlite3_step(pStmt)) == SQLITE_ROW) {
      int i, n = sqlite3_column_count(pStmt);
      g_nRows++;
      for (i = 0; i < n; i++) {
        switch (sqlite3_column_type(pStmt, i)) {
          case SQLITE_INTEGER: g_iSum += sqlite3_column_int64(pStmt, i); break;
          case SQLITE_TEXT: g_iSum += sqlite3_column_bytes(pStmt, i); break;
          default: break;
        }
      }
    }
    if (rc == SQLITE_DONE) rc = sqlite3_reset(pStmt);
    else fail("query %d: %s", q, sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  return rc;
}
static int w6_check(sqlite3 *db, int v, const Workload *w) {
  sqlite3_int64 iWant = 0;
  int q, k;
  char z[32];
  (void)db;
  (void)v;
  (void)w;
  /* article ids of category c are (c-1)*per+1 .. c*per; each row adds
  ** its id, the length of 'article <id>' and category_id */
  rnd_seed(6);
  for (q = 0; q < S.w6Q; q++) {
    int c = (int)(rnd() % (unsigned)S.w6Cat) + 1;
    for (k = 0; k < S.w6Per; k++) {
      sqlite3_int64 id = (sqlite3_int64)(c - 1) * S.w6Per + k + 1;
      iWant += id + c + snprintf(z, sizeof(z), "article %lld", id);
    }
  }
  if (g_nRows != (sqlite3_int64)S.w6Q * S.w6Per) {
    return fail("wrong result: %lld rows read, expected %lld", g_nRows,
                (sqlite3_int64)S.w6Q * S.w6Per);
  }
  if (g_iSum != iWant) {
    return fail("wrong result: checksum %lld, expected %lld (columns differ?)", g_iSum,
                iWant);
  }
  return SQLITE_OK;
}

/* ---- W7: self-referencing chain ---------------------------------------- */
static int w7_n(const Workload *w) { return w->iParam ? S.w7b : S.w7a; }
static int w7_setup(sqlite3 *db, int v, const Workload *w) {
  int rc;
  rc = mk_child(db, v, "node", "id INTEGER PRIMARY KEY, name TEXT NOT NULL", "parent",
                "node", "CASCADE", 1, "children", 0);
  if (!rc) rc = db_exec(db, "BEGIN");
  if (!rc) rc = fill(db, "node(id,name,parent_id)", w7_n(w), "i, 'node '||i, nullif(i-1,0)");
  if (!rc) rc = db_exec(db, "COMMIT");
  return rc;
}
static int w7_op(sqlite3 *db, int v, const Workload *w) {
  (void)w;
  if (v == V_C) {
    return db_exec(db,
                   "WITH RECURSIVE sub(id) AS (SELECT 1 UNION ALL "
                   "SELECT node.id FROM node JOIN sub ON node.parent_id=sub.id) "
                   "DELETE FROM node WHERE id IN sub");
  }
  return db_exec(db, "DELETE FROM node WHERE id=1");
}
static int w7_check(sqlite3 *db, int v, const Workload *w) {
  (void)v;
  (void)w;
  return expect(db, 0, "SELECT count(*) FROM node");
}

/* ---- W9: one-row transactions: inserts ---------------------------------- */
static int w9_setup(sqlite3 *db, int v, const Workload *w) {
  int rc;
  (void)w;
  rc = db_exec(db, "CREATE TABLE category(" COLS_CATEGORY ")");
  if (!rc) rc = mk_child(db, v, "article", COLS_ARTICLE, "category", "category",
                         "CASCADE", 0, "articles", 0);
  if (!rc) rc = fill(db, "category(id,name)", S.w9Cat, "i, 'category '||i");
  return rc;
}
static int w9_op(sqlite3 *db, int v, const Workload *w) {
  sqlite3_stmt *pStmt = 0;
  int rc, i;
  (void)v;
  (void)w;
  rc = db_prepare(db, "INSERT INTO article(id, title, category_id) VALUES(?1, 'a', ?2)",
                  &pStmt);
  for (i = 1; rc == SQLITE_OK && i <= S.w9N; i++) {
    sqlite3_bind_int(pStmt, 1, i);
    sqlite3_bind_int(pStmt, 2, (int)(((unsigned)i * 2654435761u) % (unsigned)S.w9Cat) + 1);
    rc = sqlite3_step(pStmt);
    if (rc == SQLITE_DONE) rc = sqlite3_reset(pStmt);
    else fail("insert %d: %s", i, sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  return rc;
}
static int w9_check(sqlite3 *db, int v, const Workload *w) {
  (void)v;
  (void)w;
  return expect(db, S.w9N, "SELECT count(*) FROM article");
}

/* ---- W10: one-row transactions: deletes from a self-referencing tree --- */
static int w10_setup(sqlite3 *db, int v, const Workload *w) {
  int rc;
  (void)w;
  rc = mk_child(db, v, "node", "id INTEGER PRIMARY KEY, name TEXT NOT NULL", "parent",
                "node", "CASCADE", 1, "children", 0);
  if (!rc) rc = db_exec(db, "BEGIN");
  if (!rc) rc = fill(db, "node(id,name,parent_id)", S.w10N, "i, 'node '||i, nullif(i/2,0)");
  if (!rc) rc = db_exec(db, "COMMIT");
  return rc;
}
static int w10_op(sqlite3 *db, int v, const Workload *w) {
  sqlite3_stmt *pStmt = 0;
  int rc, i;
  (void)v;
  (void)w;
  rc = db_prepare(db, "DELETE FROM node WHERE id=?1", &pStmt);
  /* The leaves, the deepest first: nothing references any of them. */
  for (i = S.w10N; rc == SQLITE_OK && i > S.w10N / 2; i--) {
    sqlite3_bind_int(pStmt, 1, i);
    rc = sqlite3_step(pStmt);
    if (rc == SQLITE_DONE) rc = sqlite3_reset(pStmt);
    else fail("delete %d: %s", i, sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  return rc;
}
static int w10_check(sqlite3 *db, int v, const Workload *w) {
  (void)v;
  (void)w;
  return expect(db, S.w10N / 2, "SELECT count(*) FROM node");
}

/* ---- Scale rows: L, R, D, T, M; see "Scale rows" below ---- */
static int l_run(const Workload *w, int v, Result *p);
static int r_run(const Workload *w, int v, Result *p);
static int d_run(const Workload *w, int v, Result *p);
static int t_run(const Workload *w, int v, Result *p);
static int m_run(const Workload *w, int v, Result *p);

static Workload aWorkload[] = {
  {"W1", "cascade delete", w1_setup, w1_op, w1_check, TARGET_AC, 1.30, 1, 1, 0, 0},
  {"W2", "three-level cascade", w2_setup, w2_op, w2_check, TARGET_AC, 1.30, 0, 1, 0, 0},
  {"W3", "insert children, keys checked at commit", w3_setup, w3_op, w3_check,
   TARGET_AB, 1.10, 0, 0, 0, 0},
  {"W4", "refused deletes (PROTECT/RESTRICT)", w4_setup, w4_op, w4_check, TARGET_AB,
   0.75, 0, 0, 0, 0},
  {"W5", "M2M link inserts, 1 in 10 a repeat", w5_setup, w5_op, w5_check, TARGET_AC,
   1.30, 0, 0, 0, 0},
  {"W6", "point reads of the reverse accessor", w6_setup, w6_op, w6_check, TARGET_AC,
   1.30, 0, 0, 0, 0},
  {"W7a", "self-referencing chain from the root", w7_setup, w7_op, w7_check, TARGET_ROW,
   2.0, 1, 0, 0, 0},
  {"W7b", "self-referencing chain from the root", w7_setup, w7_op, w7_check, TARGET_ROW,
   2.0, 1, 0, 1, 0},
  {"W8", "cascade whose children have SET_NULL children", w8_setup, w8_op, w8_check,
   TARGET_NONE, 0, 0, 1, 0, 0},
  {"W9", "one-row transactions: inserts", w9_setup, w9_op, w9_check, TARGET_AB, 1.25, 0,
   0, 0, 0},
  {"W10", "one-row transactions: tree deletes", w10_setup, w10_op, w10_check,
   TARGET_AB, 1.25, 0, 0, 0, 0},
  /* iParam: L, R, M: the fixture (0: 100 relationships, 1: 1,000); D: 0
  ** autocommit, 1 one transaction, 2 one rel_define_many; T: the workload (W1, W9) */
  {"L100", "connection per request: open, load, one INSERT, COMMIT, close", 0, 0, 0,
   TARGET_MS, 5.0, 0, 0, 0, l_run},
  {"L1000", "connection per request: open, load, one INSERT, COMMIT, close", 0, 0, 0,
   TARGET_MS, 25.0, 0, 0, 1, l_run},
  {"R1000", "connection per request that only reads", 0, 0, 0, TARGET_DIFF, 1.0, 0, 0, 1,
   r_run},
  {"D1000a", "declare 1,000 relationships, each rel_define in autocommit", 0, 0, 0,
   TARGET_MS, 10000.0, 0, 0, 0, d_run},
  {"D1000t", "declare 1,000 relationships in one transaction", 0, 0, 0, TARGET_MS,
   3000.0, 0, 0, 1, d_run},
  {"D1000m", "declare 1,000 relationships in one rel_define_many", 0, 0, 0, TARGET_MS,
   3000.0, 0, 0, 2, d_run},
  {"T1000w1", "W1 with 1,000 unrelated relationships declared", 0, 0, 0, TARGET_AB, 1.05,
   0, 0, 0, t_run},
  {"T1000w9", "W9 with 1,000 unrelated relationships declared", 0, 0, 0, TARGET_AB, 1.05,
   0, 0, 1, t_run},
  {"M1000", "memory of one connection on a 1,000-relationship database", 0, 0, 0,
   TARGET_MEM, 8.0, 0, 0, 1, m_run},
};
#define N_WORKLOAD ((int)(sizeof(aWorkload) / sizeof(aWorkload[0])))

/* A line saying what a workload does at the current scale */
static void describe(const Workload *w, char *z, size_t n) {
  if (strcmp(w->zId, "W1") == 0) {
    snprintf(z, n, "%d categories x %d articles (CASCADE); delete %d categories (%d rows)",
             S.w1Cat, S.w1Per, S.w1Del, S.w1Del * (1 + S.w1Per));
  } else if (strcmp(w->zId, "W2") == 0) {
    snprintf(z, n, "%d categories x %d articles x %d comments; delete %d categories (%d rows)",
             S.w2Cat, S.w2Per, S.w2Com, S.w2Del,
             S.w2Del * (1 + S.w2Per + S.w2Per * S.w2Com));
  } else if (strcmp(w->zId, "W3") == 0) {
    snprintf(z, n, "insert %d articles over %d categories in one transaction", S.w3N,
             S.w3Cat);
  } else if (strcmp(w->zId, "W4") == 0) {
    snprintf(z, n, "%d refused single-row deletes (odd ids PROTECT, even RESTRICT)", S.w4N);
  } else if (strcmp(w->zId, "W5") == 0) {
    snprintf(z, n, "%d link inserts (%d distinct) over %d articles x %d tags; C: INSERT OR IGNORE",
             S.w5Links, S.w5Distinct, S.w5Art, S.w5Tags);
  } else if (strcmp(w->zId, "W6") == 0) {
    snprintf(z, n, "%d point reads of %d rows; %d categories", S.w6Q, S.w6Per, S.w6Cat);
  } else if (strncmp(w->zId, "W7", 2) == 0) {
    snprintf(z, n, "chain of %d nodes (CASCADE on parent) deleted from the root",
             w7_n(w));
  } else if (strcmp(w->zId, "W9") == 0) {
    snprintf(z, n, "%d single-row INSERTs of articles, each its own transaction", S.w9N);
  } else if (strcmp(w->zId, "W10") == 0) {
    snprintf(z, n, "%d single-row DELETEs of the leaves of a %d-node self-referencing tree, "
             "each its own transaction", S.w10N / 2, S.w10N);
  } else if (strcmp(w->zId, "W8") == 0) {
    snprintf(z, n, "%d categories x %d articles x %d comments (SET_NULL); delete %d categories",
             S.w2Cat, S.w2Per, S.w2Com, S.w2Del);
  } else if (w->zId[0] == 'L') {
    snprintf(z, n, "file database, %s relationships over %s tables (tool/schemagen.tcl); "
             "A relext, B without", w->iParam ? "1,000" : "100", w->iParam ? "300" : "30");
  } else if (w->zId[0] == 'R') {
    snprintf(z, n, "open, load relext (A only), one point SELECT, close; 1,000 "
             "relationships over 300 tables");
  } else if (w->zId[0] == 'D') {
    snprintf(z, n, "rel_define of tool/schemagen.tcl's 1,000 relationships over 300 "
             "tables, in memory%s", w->iParam ? "" : "; target 10 s");
  } else if (w->zId[0] == 'T') {
    snprintf(z, n, "A: %s where tool/schemagen.tcl's 1,000 relationships are declared too; "
             "B: %s alone (both relext)", w->iParam ? "W9" : "W1", w->iParam ? "W9" : "W1");
  } else if (w->zId[0] == 'M') {
    snprintf(z, n, "sqlite3_memory_used() after open, load, one INSERT, one accessor read "
             "(B: no relext, a table read), MiB");
  } else {
    z[0] = 0;
  }
}

/* Rows a workload deletes (for per-row costs) */
static double rows_of(const Workload *w) {
  if (strcmp(w->zId, "W1") == 0) return (double)S.w1Del * (1 + S.w1Per);
  if (strncmp(w->zId, "W7", 2) == 0) return (double)w7_n(w);
  return 0;
}

/* ---------------------------------------------------------------------
** Running one variant of one workload in a child process
*/
#define ST_OK 0      /* timed */
#define ST_ERROR 1   /* setup or operation failed */
#define ST_WRONG 2   /* ran, but the result is wrong */
#define ST_CRASH 3   /* the child died (signal) or timed out */
#define ST_SKIP 4    /* not run */

typedef struct Result Result;
struct Result {
  int eStatus;
  double ms;         /* the operation's wall time (M rows: MiB) */
  long maxrssKb;     /* ru_maxrss of the child */
  char zMsg[1024];   /* error text */
  char zNote[256];   /* remark */
};

/* The timed operation; a separate function so callgrind can count it alone
** (--toggle-collect=bench_timed_op) */
__attribute__((noinline)) int bench_timed_op(const Workload *w, sqlite3 *db, int v) {
  return w->xOp(db, v, w);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Open a fresh database for variant v; load relext for A */
static int open_db(int v, sqlite3 **pDb) {
  sqlite3 *db = 0;
  int rc = sqlite3_open(":memory:", &db);
  *pDb = db;
  if (rc != SQLITE_OK) return fail("cannot open :memory: (%s)", sqlite3_errstr(rc));
  if (v == V_A) {
    char *zErr = 0;
    sqlite3_enable_load_extension(db, 1);
    rc = sqlite3_load_extension(db, O.zExt, 0, &zErr);
    if (rc != SQLITE_OK) {
      fail("cannot load %s: %s", O.zExt, zErr ? zErr : sqlite3_errmsg(db));
      sqlite3_free(zErr);
      return rc;
    }
  } else if (v == V_B) {
    rc = db_exec(db, "PRAGMA foreign_keys=ON");
    if (!rc && db_int(db, "PRAGMA foreign_keys") != 1) {
      return fail("PRAGMA foreign_keys=ON has no effect");
    }
  }
  return rc;
}

/* Body of the child process: set up, time, check; result into *p */
static void child_run(const Workload *w, int v, Result *p) {
  sqlite3 *db = 0;
  int rc;
  double t0, t1;
  struct rusage ru;

  memset(p, 0, sizeof(*p));
  if (w && w->xRun) {
    rc = w->xRun(w, v, p);
    if (rc && p->eStatus == ST_OK) {
      p->eStatus = ST_ERROR;
      snprintf(p->zMsg, sizeof(p->zMsg), "%.1000s", g_zErr);
    }
    getrusage(RUSAGE_SELF, &ru);
    p->maxrssKb = ru.ru_maxrss;
    snprintf(p->zNote, sizeof(p->zNote), "%s", g_zNote);
    return;
  }
  rc = open_db(v, &db);
  if (!rc && w) rc = w->xSetup(db, v, w);
  if (rc) {
    p->eStatus = ST_ERROR;
    snprintf(p->zMsg, sizeof(p->zMsg), "setup: %.1000s", g_zErr);
  } else if (w) {
    t0 = now_ms();
    rc = bench_timed_op(w, db, v);
    t1 = now_ms();
    p->ms = t1 - t0;
    if (rc) {
      p->eStatus = ST_ERROR;
      snprintf(p->zMsg, sizeof(p->zMsg), "%s", g_zErr);
    } else if (w->xCheck(db, v, w)) {
      p->eStatus = ST_WRONG;
      snprintf(p->zMsg, sizeof(p->zMsg), "%s", g_zErr);
    }
  }
  getrusage(RUSAGE_SELF, &ru);
  p->maxrssKb = ru.ru_maxrss;
  snprintf(p->zNote, sizeof(p->zNote), "%s", g_zNote);
  /* the database is not closed: the process ends here */
}

/* Run workload w (NULL: just open and load) for variant v in a child */
static void run_forked(const Workload *w, int v, Result *p) {
  int fd[2];
  pid_t pid;
  int st = 0;
  size_t got = 0;

  memset(p, 0, sizeof(*p));
  fflush(stdout);
  fflush(stderr);
  if (pipe(fd) != 0) {
    p->eStatus = ST_ERROR;
    snprintf(p->zMsg, sizeof(p->zMsg), "pipe: %s", strerror(errno));
    return;
  }
  pid = fork();
  if (pid < 0) {
    p->eStatus = ST_ERROR;
    snprintf(p->zMsg, sizeof(p->zMsg), "fork: %s", strerror(errno));
    close(fd[0]);
    close(fd[1]);
    return;
  }
  if (pid == 0) {
    Result r;
    const char *z;
    size_t off = 0;
    close(fd[0]);
    {
      int nSec = w && w->xRun ? O.nScaleTimeout : O.nTimeout;
      if (nSec > 0) alarm((unsigned)nSec);
    }
    child_run(w, v, &r);
    z = (const char *)&r;
    while (off < sizeof(r)) {
      ssize_t n = write(fd[1], z + off, sizeof(r) - off);
      if (n <= 0) break;
      off += (size_t)n;
    }
    _exit(0);
  }
  close(fd[1]);
  while (got < sizeof(*p)) {
    ssize_t n = read(fd[0], (char *)p + got, sizeof(*p) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd[0]);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof(*p)) {
    memset(p, 0, sizeof(*p));
    p->eStatus = ST_CRASH;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
      if (w && w->xRun) {
        snprintf(p->zMsg, sizeof(p->zMsg), "TIMEOUT (over %d s; --scale-timeout)",
                 O.nScaleTimeout);
      } else {
        snprintf(p->zMsg, sizeof(p->zMsg), "TIMEOUT (over %d s; --timeout)", O.nTimeout);
      }
    } else if (WIFSIGNALED(st)) {
      snprintf(p->zMsg, sizeof(p->zMsg), "CRASH (signal %d: %s)", WTERMSIG(st),
               strsignal(WTERMSIG(st)));
    } else {
      snprintf(p->zMsg, sizeof(p->zMsg), "child exited (status %d) without a result",
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
  }
}

/* ---------------------------------------------------------------------
** Scale rows: a Django-shaped schema from tool/schemagen.tcl
**
**   L100, L1000  a connection per request (Django's CONN_MAX_AGE=0) on a
**                file database with 100 relationships over 30 tables /
**                1,000 over 300: open, load relext, one INSERT in its own
**                transaction, close; A relext, B the same without relext.
**                Target: A's median in ms.
**   R1000        a connection that only reads: open, (A: load relext),
**                one point SELECT, close. Target: A - B in ms.
**   D1000a/t     rel_define of the 1,000 relationships into the schema
**                (in memory), each in autocommit / all in one transaction.
**                Target: A in ms.
**   T1000w1/w9   W1 / W9 with relext where the 1,000 relationships are
**                declared too (A) and where they are not (B). Target: A/B.
**   M1000        SQLite's memory in use (sqlite3_memory_used) by one
**                connection on the 1,000-relationship database after one
**                INSERT and one read of an accessor (B: of the table), in
**                MiB. Target: A - B.
**
** The two file databases (the fixtures, in WAL mode) are built once per
** run, in a temporary directory (in /dev/shm when there is one: the disk's
** fsync would hide relext's cost), by declaring the relationships in one
** transaction
** (untimed; a fixture that cannot be built within --scale-timeout leaves
** its rows n/a). Every scale run has --scale-timeout (default 60 s), so a
** slow rel_define keeps the benchmark bounded. The sizes do not follow
** --scale, except W1's and W9's in the T rows.
*/
static int is_selected(const char *zId);

typedef struct Fixture Fixture;
struct Fixture {
  int nRels, nTables;
  char zPath[700];   /* the database file */
  char zPlain[700];  /* its twin without relext: same tables and rows */
  char zInsert[8192]; /* the INSERT of L and M: a row of app0_model1 */
  int bOk;           /* built */
  char zMsg[600];    /* why not */
  double ms;         /* how long the build took */
};
static Fixture g_aFix[2] = {{100, 30, "", "", "", 0, "", 0}, {1000, 300, "", "", "", 0, "", 0}};
static char g_zGen[1024];    /* path of tool/schemagen.tcl */
static char g_zTmpDir[200];  /* where the fixtures are */
#define D_RELS 1000
#define D_TABLES 300

/* The SQL tool/schemagen.tcl writes (caller frees), or NULL (g_zErr). */
static char *gen_sql(int nRels, int nTables, const char *zPart) {
  char zCmd[2048];
  FILE *f;
  char *z = 0;
  size_t n = 0, a = 0, got;
  int st;
  snprintf(zCmd, sizeof(zCmd), "'%s' '%s' -rels %d -tables %d -part %s", O.zTclsh,
           g_zGen, nRels, nTables, zPart);
  f = popen(zCmd, "r");
  if (f == 0) {
    fail("cannot run %s: %s", zCmd, strerror(errno));
    return 0;
  }
  for (;;) {
    if (n + 65536 + 1 > a) {
      char *zNew = realloc(z, a = (a ? a * 2 : 1 << 20));
      if (zNew == 0) break;
      z = zNew;
    }
    got = fread(z + n, 1, a - n - 1, f);
    if (got == 0) break;
    n += got;
  }
  st = pclose(f);
  if (z == 0 || st != 0 || n == 0) {
    fail("%s failed (status %d): is tclsh installed?", zCmd, st);
    free(z);
    return 0;
  }
  z[n] = 0;
  return z;
}

static int load_relext(sqlite3 *db) {
  char *zErr = 0;
  int rc;
  sqlite3_enable_load_extension(db, 1);
  rc = sqlite3_load_extension(db, O.zExt, 0, &zErr);
  if (rc != SQLITE_OK) fail("cannot load %s: %s", O.zExt, zErr ? zErr : sqlite3_errmsg(db));
  sqlite3_free(zErr);
  return rc;
}

/* Build fixture w->iParam (a run of its own, in a child). */
static int fixture_build(const Workload *w, int v, Result *p) {
  Fixture *f = &g_aFix[w->iParam];
  sqlite3 *db = 0;
  char *zSchema = 0, *zDefine = 0, *zData = 0;
  int rc = SQLITE_ERROR;
  double t0 = now_ms();
  (void)v;
  zSchema = gen_sql(f->nRels, f->nTables, "schema");
  if (zSchema) zDefine = gen_sql(f->nRels, f->nTables, "json") /* one rel_define_many */;
  if (zDefine) zData = gen_sql(f->nRels, f->nTables, "data");
  if (zData) {
    remove(f->zPlain);
    rc = sqlite3_open(f->zPlain, &db);
    if (rc) fail("cannot open %s", f->zPlain);
  }
  if (!rc) rc = db_exec(db, "PRAGMA journal_mode=WAL; %s %s", zSchema, zData);
  if (db) sqlite3_close(db);
  db = 0;
  if (!rc) {
    remove(f->zPath);
    rc = sqlite3_open(f->zPath, &db);
    if (rc) fail("cannot open %s", f->zPath);
  }
  if (!rc) rc = db_exec(db, "PRAGMA journal_mode=WAL; %s", zSchema);
  if (!rc) rc = load_relext(db);
  if (!rc) rc = db_exec(db, "BEGIN; %s COMMIT;", zDefine);
  if (!rc) rc = db_exec(db, "%s", zData);
  if (!rc) rc = expect(db, 0, "SELECT count(*) FROM rel_check");
  if (db) sqlite3_close(db);
  free(zSchema);
  free(zDefine);
  free(zData);
  p->ms = now_ms() - t0;
  return rc;
}

/* Build the fixtures the selected rows need (in the parent). */
static void fixtures_build(void) {
  static const char *azUser[2] = {"L100", "L1000,R1000,T1000w1,T1000w9,M1000"};
  int k;
  for (k = 0; k < 2; k++) {
    Fixture *f = &g_aFix[k];
    Workload w;
    Result res;
    char *zIns;
    int i, bNeed = 0;
    for (i = 0; i < N_WORKLOAD; i++) {
      if (aWorkload[i].xRun && aWorkload[i].xRun != d_run && aWorkload[i].iParam == k &&
          aWorkload[i].xRun != t_run && is_selected(aWorkload[i].zId))
        bNeed = 1;
      if (aWorkload[i].xRun == t_run && k == 1 && is_selected(aWorkload[i].zId)) bNeed = 1;
    }
    if (!bNeed) continue;
    snprintf(f->zPath, sizeof(f->zPath), "%s/schema%d.db",
             O.zFixtures ? O.zFixtures : g_zTmpDir, f->nRels);
    snprintf(f->zPlain, sizeof(f->zPlain), "%s/plain%d.db",
             O.zFixtures ? O.zFixtures : g_zTmpDir, f->nRels);
    zIns = gen_sql(f->nRels, f->nTables, "insert");
    if (zIns == 0) {
      snprintf(f->zMsg, sizeof(f->zMsg), "%.500s", g_zErr);
      printf("\nfixture: %d relationships: %s\n", f->nRels, f->zMsg);
      continue;
    }
    snprintf(f->zInsert, sizeof(f->zInsert), "%s", zIns);
    free(zIns);
    if (O.zFixtures && access(f->zPath, R_OK) == 0 && access(f->zPlain, R_OK) == 0) {
      f->bOk = 1;
      printf("\nfixture: %d relationships: %s (kept from an earlier run)\n", f->nRels,
             f->zPath);
      continue;
    }
    printf("\nfixture: %d relationships over %d tables (for %s) ...", f->nRels, f->nTables,
           azUser[k]);
    fflush(stdout);
    memset(&w, 0, sizeof(w));
    w.zId = "fixture";
    w.iParam = k;
    w.xRun = fixture_build;
    run_forked(&w, V_A, &res);
    if (res.eStatus == ST_OK) {
      f->bOk = 1;
      printf(" built in %.1f s\n", res.ms / 1e3);
    } else {
      snprintf(f->zMsg, sizeof(f->zMsg), "the %d-relationship database: %.500s", f->nRels,
               res.zMsg);
      printf(" %s\n", res.zMsg);
    }
  }
}

static int fixture_ok(const Fixture *f) {
  if (!f->bOk) return fail("n/a: %s", f->zMsg[0] ? f->zMsg : "fixture not built");
  return SQLITE_OK;
}

/* Open the fixture's database, or its twin without relext (bPlain). */
static int open_file(const Fixture *f, int bPlain, sqlite3 **pDb) {
  const char *zPath = bPlain ? f->zPlain : f->zPath;
  int rc = sqlite3_open_v2(zPath, pDb, SQLITE_OPEN_READWRITE, 0);
  if (rc) fail("cannot open %s: %s", zPath, sqlite3_errstr(rc));
  return rc;
}

static int l_run(const Workload *w, int v, Result *p) {
  const Fixture *f = &g_aFix[w->iParam];
  sqlite3 *db = 0;
  double t0;
  int rc = fixture_ok(f);
  if (rc) return rc;
  t0 = now_ms();
  rc = open_file(f, v != V_A, &db);
  if (!rc && v == V_A) rc = load_relext(db);
  if (!rc) rc = db_exec(db, "BEGIN; %s COMMIT;", f->zInsert);
  if (sqlite3_close(db) != SQLITE_OK && !rc) rc = fail("close: %s", sqlite3_errmsg(db));
  p->ms = now_ms() - t0;
  return rc;
}

static int r_run(const Workload *w, int v, Result *p) {
  const Fixture *f = &g_aFix[w->iParam];
  sqlite3 *db = 0;
  double t0;
  int rc = fixture_ok(f);
  if (rc) return rc;
  t0 = now_ms();
  rc = open_file(f, 0, &db);
  if (!rc && v == V_A) rc = load_relext(db);
  if (!rc && db_int(db, "SELECT length(name) FROM \"app0_model1\" WHERE id = 1") < 0)
    rc = SQLITE_ERROR;
  if (sqlite3_close(db) != SQLITE_OK && !rc) rc = fail("close: %s", sqlite3_errmsg(db));
  p->ms = now_ms() - t0;
  return rc;
}

static int d_run(const Workload *w, int v, Result *p) {
  sqlite3 *db = 0;
  char *zSchema = 0, *zDefine = 0;
  double t0;
  int rc = SQLITE_ERROR;
  (void)v;
  zSchema = gen_sql(D_RELS, D_TABLES, "schema");
  if (zSchema) zDefine = gen_sql(D_RELS, D_TABLES, w->iParam == 2 ? "json" : "define");
  if (zDefine) rc = sqlite3_open(":memory:", &db);
  if (!rc) rc = db_exec(db, "%s", zSchema);
  if (!rc) rc = load_relext(db);
  t0 = now_ms();
  if (!rc) {
    rc = w->iParam == 1 ? db_exec(db, "BEGIN; %s COMMIT;", zDefine) : db_exec(db, "%s", zDefine);
  }
  p->ms = now_ms() - t0;
  if (!rc) rc = expect(db, D_RELS, "SELECT count(*) FROM relext_relations");
  free(zSchema);
  free(zDefine);
  return rc;
}

static int t_run(const Workload *w, int v, Result *p) {
  const Workload *pW = &aWorkload[w->iParam ? 9 : 0]; /* W9 or W1 */
  const Fixture *f = &g_aFix[1];
  sqlite3 *db = 0;
  double t0;
  int rc;
  if (strcmp(pW->zId, w->iParam ? "W9" : "W1") != 0) return fail("T rows: aWorkload changed");
  if (v == V_A && (rc = fixture_ok(f)) != SQLITE_OK) return rc;
  rc = sqlite3_open(":memory:", &db);
  if (!rc && v == V_A) {
    /* the 1,000 relationships and their data, copied into memory */
    sqlite3 *pSrc = 0;
    sqlite3_backup *pB;
    rc = open_file(f, 0, &pSrc);
    pB = rc ? 0 : sqlite3_backup_init(db, "main", pSrc, "main");
    if (pB) {
      sqlite3_backup_step(pB, -1);
      rc = sqlite3_backup_finish(pB);
    } else if (!rc) {
      rc = fail("backup: %s", sqlite3_errmsg(db));
    }
    sqlite3_close(pSrc);
  }
  if (!rc) rc = load_relext(db);
  if (!rc) rc = pW->xSetup(db, V_A, pW);
  if (rc) return rc;
  t0 = now_ms();
  rc = bench_timed_op(pW, db, V_A);
  p->ms = now_ms() - t0;
  if (!rc && pW->xCheck(db, V_A, pW)) {
    p->eStatus = ST_WRONG;
    snprintf(p->zMsg, sizeof(p->zMsg), "%s", g_zErr);
  }
  return rc;
}

static int m_run(const Workload *w, int v, Result *p) {
  const Fixture *f = &g_aFix[w->iParam];
  sqlite3 *db = 0;
  int rc = fixture_ok(f);
  if (rc) return rc;
  rc = open_file(f, v != V_A, &db);
  if (!rc && v == V_A) rc = load_relext(db);
  if (!rc) rc = db_exec(db, "BEGIN; %s COMMIT;", f->zInsert);
  if (!rc) {
    sqlite3_int64 n =
        db_int(db, v == V_A ? "SELECT count(*) FROM \"app0_model0__app0_model1_set\"(1)"
                            : "SELECT count(*) FROM \"app0_model1\" WHERE up_id = 1");
    if (n < 1) rc = n < 0 ? SQLITE_ERROR : fail("the accessor read found no row");
  }
  p->ms = (double)sqlite3_memory_used() / (1024.0 * 1024.0);
  sqlite3_close(db);
  return rc;
}

/* ---------------------------------------------------------------------
** Collecting and printing
*/
typedef struct Tally Tally;
struct Tally {
  int nOk;
  double aMs[MAX_REPS];
  long maxrssKb;          /* max over the runs */
  int eStatus;            /* worst non-OK status seen, or ST_OK / ST_SKIP */
  char zMsg[1024];        /* first error */
  char zNote[256];
  int bNotLoaded;         /* variant A, relext did not load */
};

static double median(const double *a, int n) {
  double b[MAX_REPS];
  int i, j;
  if (n <= 0) return NAN;
  memcpy(b, a, sizeof(double) * (size_t)n);
  for (i = 1; i < n; i++) {
    double x = b[i];
    for (j = i; j > 0 && b[j - 1] > x; j--) b[j] = b[j - 1];
    b[j] = x;
  }
  return n % 2 ? b[n / 2] : (b[n / 2 - 1] + b[n / 2]) / 2;
}

static int is_selected(const char *zId) {
  const char *z = O.zOnly;
  size_t n;
  if (z == 0) return 1;
  while (*z) {
    n = strcspn(z, ",");
    /* W7 selects W7a and W7b, but W1 does not select W10 (nor L100
    ** L1000); a prefix without digits selects its group (L, D, T) */
    if (n > 0 && n <= strlen(zId) && strncasecmp(z, zId, n) == 0 &&
        !(zId[n] >= '0' && zId[n] <= '9' && z[n - 1] >= '0' && z[n - 1] <= '9'))
      return 1;
    z += n;
    if (*z == ',') z++;
  }
  return 0;
}

/* One word for a failed run */
static const char *status_word(int eStatus, const char *zMsg) {
  if (eStatus == ST_WRONG) return "WRONG";
  if (eStatus == ST_CRASH) return strncmp(zMsg, "TIMEOUT", 7) == 0 ? "TIMEOUT" : "CRASH";
  return "FAIL";
}

/* A median as a table cell */
static void cell_ms(char *z, size_t n, const Tally *t) {
  if (t->eStatus == ST_SKIP) snprintf(z, n, "-");
  else if (t->nOk == 0 && (t->bNotLoaded || strncmp(t->zMsg, "n/a", 3) == 0))
    snprintf(z, n, "n/a");
  else if (t->nOk == 0) snprintf(z, n, "%s", status_word(t->eStatus, t->zMsg));
  else snprintf(z, n, "%.2f", median(t->aMs, t->nOk));
}
static void cell_ratio(char *z, size_t n, const Tally *a, const Tally *b) {
  if (a->nOk == 0 || b->nOk == 0) snprintf(z, n, "-");
  else snprintf(z, n, "%.2f", median(a->aMs, a->nOk) / median(b->aMs, b->nOk));
}

/* Django's results, parsed from bench_django.py's output */
static double g_aDjangoMs[N_WORKLOAD];
static char g_zDjangoVersion[64];
static char g_zDjangoErr[512];

static int django_available(void) {
  char zCmd[1200];
  struct stat st;
  if (access(O.zPython, X_OK) != 0) return 0;
  if (stat(O.zDjangoScript, &st) != 0) return 0;
  snprintf(zCmd, sizeof(zCmd), "'%s' -c 'import django' >/dev/null 2>&1", O.zPython);
  return system(zCmd) == 0;
}

static void run_django(void) {
  char zCmd[1500], zOnly[64] = "", zLine[1024];
  FILE *f;
  int i;
  for (i = 0; i < N_WORKLOAD; i++) {
    g_aDjangoMs[i] = NAN;
    if (aWorkload[i].bDjango && is_selected(aWorkload[i].zId)) {
      if (zOnly[0]) strcat(zOnly, ",");
      strcat(zOnly, aWorkload[i].zId);
    }
  }
  if (zOnly[0] == 0) return;
  snprintf(zCmd, sizeof(zCmd), "'%s' '%s' --scale %.15g --reps %d --only %s 2>&1",
           O.zPython, O.zDjangoScript, O.scale, O.nReps, zOnly);
  printf("\nDjango: %s\n", zCmd);
  fflush(stdout);
  f = popen(zCmd, "r");
  if (f == 0) {
    snprintf(g_zDjangoErr, sizeof(g_zDjangoErr), "popen failed: %s", strerror(errno));
    return;
  }
  while (fgets(zLine, sizeof(zLine), f)) {
    char zId[16];
    double ms;
    if (sscanf(zLine, "%15s %lf", zId, &ms) == 2 && zId[0] == 'W') {
      for (i = 0; i < N_WORKLOAD; i++) {
        if (strcmp(aWorkload[i].zId, zId) == 0) g_aDjangoMs[i] = ms;
      }
    } else if (strncmp(zLine, "# django ", 9) == 0) {
      snprintf(g_zDjangoVersion, sizeof(g_zDjangoVersion), "%.*s",
               (int)strcspn(zLine + 9, "\n"), zLine + 9);
    }
    if (O.bVerbose || strncmp(zLine, "ERROR", 5) == 0 || strncmp(zLine, "Traceback", 9) == 0
        || (zLine[0] != '#' && zLine[0] != 'W')) {
      printf("  django: %s", zLine);
    }
  }
  i = pclose(f);
  if (i != 0) {
    snprintf(g_zDjangoErr, sizeof(g_zDjangoErr), "bench_django.py exited with status %d",
             WIFEXITED(i) ? WEXITSTATUS(i) : -1);
  }
}

static void usage(const char *zArgv0) {
  int i;
  printf("usage: %s [options]\n"
         "  --scale X       multiply the sizes by X (default 1.0)\n"
         "  --reps N        repetitions per variant (default 5; 9 below scale 0.5,\n"
         "                  where runs are short and noise matters more)\n"
         "  --only W1,W7    run only these workloads (prefixes: W7 = W7a,W7b)\n"
         "  --variants ABC  run only these variants (A relext, B native, C floor)\n"
         "  --ext PATH      the extension to load for A (default ./relext)\n"
         "  --django        run tool/bench_django.py for W1, W2, W8 (default: if\n"
         "                  /usr/bin/python3 can import django)\n"
         "  --no-django     do not\n"
         "  --python PATH   python for --django (default /usr/bin/python3)\n"
         "  --timeout SEC   per run; a run over it is reported TIMEOUT (default 600)\n"
         "  --scale-timeout SEC  per run of a scale row (L, R, D, T, M) and per\n"
         "                  fixture build (default 60)\n"
         "  --tclsh PATH    runs tool/schemagen.tcl for the scale rows (default tclsh)\n"
         "  --fixtures DIR  build the scale rows' databases in DIR and keep them; a\n"
         "                  later run reuses them (rebuild them when relext changes)\n"
         "  --w5-pair-only  W5's B and C junctions get only the unique pair index\n"
         "                  (default: also an index on tag_id, as relext makes)\n"
         "  --strict        exit 1 if a target fails or a variant errs\n"
         "  --verbose       print each run and every message\n"
         "  --list          list the workloads and exit\n"
         "callgrind (W1, the timed operation only):\n"
         "  valgrind --tool=callgrind --toggle-collect=bench_timed_op \\\n"
         "    %s --only W1 --variants A --reps 1 --no-django\n"
         "workloads:\n",
         zArgv0, zArgv0);
  for (i = 0; i < N_WORKLOAD; i++) {
    char z[200];
    describe(&aWorkload[i], z, sizeof(z));
    printf("  %-4s %s: %s\n", aWorkload[i].zId, aWorkload[i].zTitle, z);
  }
}

/* Repetitions of a row: D rows take seconds (3), L, R and M rows a few
** milliseconds, where noise matters more (at least 11) */
static int n_reps(const Workload *w) {
  if (w->xRun == d_run) return O.nReps < 3 ? O.nReps : 3;
  if (w->xRun && w->xRun != t_run) return O.nReps > 11 ? O.nReps : 11;
  return O.nReps;
}

int main(int argc, char **argv) {
  static Tally aT[N_WORKLOAD][N_VARIANT];
  int i, v, r;
  int bAOk = 1;
  char zAErr[1024] = "";
  int nFail = 0;
  double tStart = now_ms();
  static char zScript[1024];

  O.scale = 1.0;
  O.nReps = 0; /* default: 5, or 9 below scale 0.5 */
  O.zExt = "./relext";
  O.eDjango = -1;
  O.zPython = "/usr/bin/python3";
  O.nTimeout = 600;
  O.nScaleTimeout = 60;
  O.zTclsh = "tclsh";
  O.abVariant[0] = O.abVariant[1] = O.abVariant[2] = 1;
  {
    /* bench_django.py sits beside this program's source: tool/ */
    const char *zSlash = strrchr(argv[0], '/');
    if (zSlash) {
      snprintf(zScript, sizeof(zScript), "%.*s/bench_django.py", (int)(zSlash - argv[0]),
               argv[0]);
    } else {
      snprintf(zScript, sizeof(zScript), "tool/bench_django.py");
    }
    O.zDjangoScript = zScript;
    if (zSlash) {
      snprintf(g_zGen, sizeof(g_zGen), "%.*s/schemagen.tcl", (int)(zSlash - argv[0]),
               argv[0]);
    } else {
      snprintf(g_zGen, sizeof(g_zGen), "tool/schemagen.tcl");
    }
  }

  for (i = 1; i < argc; i++) {
    const char *z = argv[i];
    const char *zVal = i + 1 < argc ? argv[i + 1] : 0;
    if (z[0] == '-' && z[1] == '-') z++;
    if (strcmp(z, "-scale") == 0) {
      /* `make bench` passes --scale $(SCALE): a missing or empty value is 1 */
      O.scale = zVal && zVal[0] && zVal[0] != '-' ? atof(zVal) : 1.0;
      if (zVal && zVal[0] != '-') i++;
      if (!(O.scale > 0)) {
        fprintf(stderr, "--scale must be positive\n");
        return 2;
      }
    } else if (strcmp(z, "-reps") == 0 && zVal) {
      O.nReps = atoi(zVal);
      i++;
      if (O.nReps < 1 || O.nReps > MAX_REPS) {
        fprintf(stderr, "--reps must be 1..%d\n", MAX_REPS);
        return 2;
      }
    } else if (strcmp(z, "-only") == 0 && zVal) {
      O.zOnly = zVal;
      i++;
    } else if (strcmp(z, "-variants") == 0 && zVal) {
      O.abVariant[0] = strchr(zVal, 'A') || strchr(zVal, 'a');
      O.abVariant[1] = strchr(zVal, 'B') || strchr(zVal, 'b');
      O.abVariant[2] = strchr(zVal, 'C') || strchr(zVal, 'c');
      i++;
    } else if (strcmp(z, "-ext") == 0 && zVal) {
      O.zExt = zVal;
      i++;
    } else if (strcmp(z, "-python") == 0 && zVal) {
      O.zPython = zVal;
      i++;
    } else if (strcmp(z, "-timeout") == 0 && zVal) {
      O.nTimeout = atoi(zVal);
      i++;
    } else if (strcmp(z, "-scale-timeout") == 0 && zVal) {
      O.nScaleTimeout = atoi(zVal);
      i++;
    } else if (strcmp(z, "-fixtures") == 0 && zVal) {
      O.zFixtures = zVal;
      i++;
    } else if (strcmp(z, "-tclsh") == 0 && zVal) {
      O.zTclsh = zVal;
      i++;
    } else if (strcmp(z, "-django") == 0) {
      O.eDjango = 1;
    } else if (strcmp(z, "-no-django") == 0) {
      O.eDjango = 0;
    } else if (strcmp(z, "-w5-pair-only") == 0) {
      O.bPairOnly = 1;
    } else if (strcmp(z, "-strict") == 0) {
      O.bStrict = 1;
    } else if (strcmp(z, "-verbose") == 0 || strcmp(z, "-v") == 0) {
      O.bVerbose = 1;
    } else if (strcmp(z, "-list") == 0 || strcmp(z, "-help") == 0 || strcmp(z, "-h") == 0) {
      compute_sizes();
      usage(argv[0]);
      return 0;
    } else {
      fprintf(stderr, "unknown or incomplete option: %s (try --help)\n", argv[i]);
      return 2;
    }
  }
  compute_sizes();
  for (i = 0; i < N_WORKLOAD && !is_selected(aWorkload[i].zId); i++) {
  }
  if (i == N_WORKLOAD) {
    fprintf(stderr, "--only %s selects no workload (try --list)\n", O.zOnly);
    return 2;
  }
  if (O.nReps == 0) O.nReps = O.scale < 0.5 ? 9 : 5; /* short runs are noisier */
  signal(SIGPIPE, SIG_IGN);

  printf("relext benchmark: SQLite %s, scale %g, %d reps, in-memory databases\n",
         sqlite3_libversion(), O.scale, O.nReps);
  printf("variants: A relext (%s), B native foreign keys, C hand-written SQL (floor)\n",
         O.zExt);

  /* Can A run at all? Try to load relext in a child. */
  if (O.abVariant[V_A]) {
    Result res;
    run_forked(0, V_A, &res);
    if (res.eStatus != ST_OK) {
      bAOk = 0;
      snprintf(zAErr, sizeof(zAErr), "%s", res.zMsg);
      printf("A relext: ERROR: %s\n  (variant A is skipped; B and C still run)\n", res.zMsg);
    }
  }

  /* The scale rows' databases, in a directory removed at the end. */
  /* in memory (tmpfs) where there is one: a COMMIT's fsync on this
  ** machine's disk takes tens of ms, which would hide what relext costs */
  snprintf(g_zTmpDir, sizeof(g_zTmpDir), "%s/relext-bench-XXXXXX",
           access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (bAOk && O.abVariant[V_A]) {
    if (mkdtemp(g_zTmpDir) == 0) {
      snprintf(g_aFix[0].zMsg, sizeof(g_aFix[0].zMsg), "mkdtemp: %s", strerror(errno));
      snprintf(g_aFix[1].zMsg, sizeof(g_aFix[1].zMsg), "mkdtemp: %s", strerror(errno));
      g_zTmpDir[0] = 0;
    } else {
      fixtures_build();
    }
  } else {
    g_zTmpDir[0] = 0;
  }

  for (i = 0; i < N_WORKLOAD; i++) {
    Workload *w = &aWorkload[i];
    char zDesc[200];
    for (v = 0; v < N_VARIANT; v++) {
      aT[i][v].eStatus = ST_SKIP;
    }
    if (!is_selected(w->zId)) continue;
    describe(w, zDesc, sizeof(zDesc));
    printf("\n%s %s: %s\n", w->zId, w->zTitle, zDesc);
    for (v = 0; v < N_VARIANT; v++) {
      if (!O.abVariant[v]) continue;
      /* scale rows: A and B only (D: A only) */
      if (w->xRun && (v == V_C || (v == V_B && w->xRun == d_run))) continue;
      aT[i][v].eStatus = ST_OK;
      if (v == V_A && !bAOk) {
        aT[i][v].eStatus = ST_ERROR;
        aT[i][v].bNotLoaded = 1;
        snprintf(aT[i][v].zMsg, sizeof(aT[i][v].zMsg), "%s", zAErr);
      }
    }
    for (r = 0; r < n_reps(w); r++) {
      int k;
      printf("  rep %d:", r + 1);
      for (k = 0; k < N_VARIANT; k++) {
        Tally *t;
        Result res;
        v = (k + r) % N_VARIANT; /* ABC, BCA, CAB, ... */
        t = &aT[i][v];
        if (t->eStatus == ST_SKIP) continue;
        /* once a variant has failed, it is not run again */
        if (t->eStatus != ST_OK) {
          if (!t->bNotLoaded) printf("  %c -", "ABC"[v]);
          continue;
        }
        run_forked(w, v, &res);
        if (res.maxrssKb > t->maxrssKb) t->maxrssKb = res.maxrssKb;
        if (res.zNote[0] && t->zNote[0] == 0) snprintf(t->zNote, sizeof(t->zNote), "%s", res.zNote);
        if (res.eStatus == ST_OK) {
          t->aMs[t->nOk++] = res.ms;
          printf("  %c %.2f ms", "ABC"[v], res.ms);
        } else {
          t->eStatus = res.eStatus;
          snprintf(t->zMsg, sizeof(t->zMsg), "%s", res.zMsg);
          printf("  %c %s", "ABC"[v], status_word(res.eStatus, res.zMsg));
          if (O.bVerbose) printf(" (%s)", res.zMsg);
        }
        if (O.bVerbose) printf(" [%.1f MiB]", res.maxrssKb / 1024.0);
        fflush(stdout);
      }
      printf("\n");
    }
  }

  /* Django */
  if (O.eDjango != 0) {
    int bWant = 0;
    for (i = 0; i < N_WORKLOAD; i++) {
      if (aWorkload[i].bDjango && is_selected(aWorkload[i].zId)) bWant = 1;
    }
    if (bWant) {
      if (django_available()) {
        run_django();
      } else if (O.eDjango == 1) {
        snprintf(g_zDjangoErr, sizeof(g_zDjangoErr),
                 "cannot run %s with %s (is python3-django installed?)", O.zDjangoScript,
                 O.zPython);
      } else {
        O.eDjango = 0;
      }
    } else {
      O.eDjango = 0;
    }
  }

  /* The table */
  printf("\nResults: median ms of %d reps (scale %g, SQLite %s; scale rows: see "
         "their lines above)\n", O.nReps, O.scale, sqlite3_libversion());
  printf("%-7s %11s %11s %11s %7s %7s  %-17s %s\n", "", "A relext", "B native", "C floor",
         "A/B", "A/C", "target", "result");
  for (i = 0; i < N_WORKLOAD; i++) {
    Workload *w = &aWorkload[i];
    Tally *a = &aT[i][V_A], *b = &aT[i][V_B], *c = &aT[i][V_C];
    char zA[32], zB[32], zC[32], zAB[16], zAC[16], zTarget[40], zRes[16] = "-";
    char zExtra[200] = "";
    if (!is_selected(w->zId)) continue;
    cell_ms(zA, sizeof(zA), a);
    cell_ms(zB, sizeof(zB), b);
    cell_ms(zC, sizeof(zC), c);
    cell_ratio(zAB, sizeof(zAB), a, b);
    cell_ratio(zAC, sizeof(zAC), a, c);
    if (w->eTarget == TARGET_MEM) {
      /* cells in MiB */
      if (a->nOk) snprintf(zA, sizeof(zA), "%.2f MiB", median(a->aMs, a->nOk));
      if (b->nOk) snprintf(zB, sizeof(zB), "%.2f MiB", median(b->aMs, b->nOk));
    }
    switch (w->eTarget) {
      case TARGET_MS:
      case TARGET_DIFF:
      case TARGET_MEM: {
        const char *zUnit = w->eTarget == TARGET_MEM ? "MiB" : "ms";
        if (w->eTarget == TARGET_MS) {
          snprintf(zTarget, sizeof(zTarget), "A <= %g %s", w->rTarget, zUnit);
        } else {
          snprintf(zTarget, sizeof(zTarget), "A-B <= %g %s", w->rTarget, zUnit);
        }
        if (a->eStatus == ST_SKIP || a->bNotLoaded) {
          snprintf(zRes, sizeof(zRes), "n/a");
        } else if (a->nOk == 0 && strncmp(a->zMsg, "n/a", 3) == 0) {
          snprintf(zRes, sizeof(zRes), "n/a");
          snprintf(zA, sizeof(zA), "n/a");
        } else if (a->nOk == 0 || a->eStatus != ST_OK) {
          snprintf(zRes, sizeof(zRes), "FAIL");
        } else if (w->eTarget == TARGET_MS) {
          double x = median(a->aMs, a->nOk);
          snprintf(zRes, sizeof(zRes), "%s", x <= w->rTarget ? "PASS" : "FAIL");
        } else if (b->nOk == 0) {
          snprintf(zRes, sizeof(zRes), "n/a");
        } else {
          double d = median(a->aMs, a->nOk) - median(b->aMs, b->nOk);
          snprintf(zRes, sizeof(zRes), "%s", d <= w->rTarget ? "PASS" : "FAIL");
          snprintf(zExtra, sizeof(zExtra), "A-B: %+.2f %s", d, zUnit);
        }
        break;
      }
      case TARGET_AC:
      case TARGET_AB: {
        const Tally *d = w->eTarget == TARGET_AC ? c : b;
        snprintf(zTarget, sizeof(zTarget), "A/%c <= %.2f", w->eTarget == TARGET_AC ? 'C' : 'B',
                 w->rTarget);
        if (a->eStatus == ST_SKIP || d->eStatus == ST_SKIP || a->bNotLoaded ||
            (a->nOk == 0 && strncmp(a->zMsg, "n/a", 3) == 0)) {
          snprintf(zRes, sizeof(zRes), "n/a");
        } else if (a->nOk == 0 || a->eStatus != ST_OK) {
          snprintf(zRes, sizeof(zRes), "FAIL");
        } else if (d->nOk == 0) {
          snprintf(zRes, sizeof(zRes), "n/a");
        } else {
          double rr = median(a->aMs, a->nOk) / median(d->aMs, d->nOk);
          snprintf(zRes, sizeof(zRes), "%s", rr <= w->rTarget ? "PASS" : "FAIL");
        }
        break;
      }
      case TARGET_ROW: {
        Tally *t1 = &aT[0][V_A]; /* aWorkload[0] is W1 */
        snprintf(zTarget, sizeof(zTarget), "row <= %.0fx W1 row", w->rTarget);
        if (a->eStatus == ST_SKIP || a->bNotLoaded) {
          snprintf(zRes, sizeof(zRes), "n/a");
        } else if (a->nOk == 0 || a->eStatus != ST_OK) {
          snprintf(zRes, sizeof(zRes), "FAIL");
        } else if (t1->nOk == 0 || t1->eStatus != ST_OK) {
          snprintf(zRes, sizeof(zRes), "n/a");
          snprintf(zExtra, sizeof(zExtra), "A: %.3f us/row; W1's A per-row cost is not available (run W1 too)",
                   1e3 * median(a->aMs, a->nOk) / rows_of(w));
        } else {
          double r7 = median(a->aMs, a->nOk) / rows_of(w);
          double r1 = median(t1->aMs, t1->nOk) / rows_of(&aWorkload[0]);
          snprintf(zRes, sizeof(zRes), "%s", r7 <= w->rTarget * r1 ? "PASS" : "FAIL");
          snprintf(zExtra, sizeof(zExtra), "A: %.3f us/row, W1: %.3f us/row (%.2fx)", 1e3 * r7,
                   1e3 * r1, r7 / r1);
        }
        break;
      }
      default:
        snprintf(zTarget, sizeof(zTarget), w->bDjango ? "(Django, below)" : "(info)");
        break;
    }
    if (strcmp(zRes, "FAIL") == 0) nFail++;
    if (w->eTarget == TARGET_MEM) snprintf(zAB, sizeof(zAB), "-");
    printf("%-7s %11s %11s %11s %7s %7s  %-17s %s\n", w->zId, zA, zB, zC, zAB, zAC, zTarget,
           zRes);
    if (zExtra[0]) printf("        %s\n", zExtra);
    for (v = 0; v < N_VARIANT; v++) {
      Tally *t = &aT[i][v];
      if (t->eStatus == ST_SKIP) continue;
      if (t->eStatus != ST_OK) {
        if (t->bNotLoaded) {
          continue; /* said once, at the top */
        } else if (w->xRun && strncmp(t->zMsg, "n/a", 3) == 0) {
          printf("        %c: %s\n", "ABC"[v], t->zMsg);
          continue;
        } else if (v == V_B && strstr(t->zMsg, "too many levels of trigger recursion")) {
          /* expected: SQLite's own foreign keys stop at 1,000 levels */
          printf("        B: FAIL (too many levels of trigger recursion)\n");
        } else {
          printf("        %c: %s%s\n", "ABC"[v],
                 t->eStatus == ST_WRONG ? "WRONG: " : t->eStatus == ST_ERROR ? "ERROR: " : "",
                 t->zMsg);
          if (v != V_A) nFail++; /* A's failure is counted by its target */
        }
      }
      if (t->zNote[0]) printf("        %c: note: %s\n", "ABC"[v], t->zNote);
    }
  }

  /* Peak memory */
  {
    int bAny = 0;
    for (i = 0; i < N_WORKLOAD; i++) {
      if (aWorkload[i].bMem && is_selected(aWorkload[i].zId)) bAny = 1;
    }
    if (bAny) {
      printf("\nPeak memory: ru_maxrss of the child process, MiB, max over reps (data included)\n");
      printf("%-5s %11s %11s %11s %9s  %-17s %s\n", "", "A relext", "B native", "C floor",
             "A-B", "target", "result");
      for (i = 0; i < N_WORKLOAD; i++) {
        Workload *w = &aWorkload[i];
        char zCell[N_VARIANT][32], zDiff[32] = "-", zRes[8] = "n/a";
        Tally *a = &aT[i][V_A], *b = &aT[i][V_B];
        if (!w->bMem || !is_selected(w->zId)) continue;
        for (v = 0; v < N_VARIANT; v++) {
          Tally *t = &aT[i][v];
          if (t->maxrssKb > 0 && t->eStatus != ST_CRASH) snprintf(zCell[v], 32, "%.1f", t->maxrssKb / 1024.0);
          else snprintf(zCell[v], 32, "-");
        }
        if (a->maxrssKb > 0 && b->maxrssKb > 0 && a->eStatus != ST_CRASH) {
          double d = (a->maxrssKb - b->maxrssKb) / 1024.0;
          snprintf(zDiff, sizeof(zDiff), "%+.1f", d);
          snprintf(zRes, sizeof(zRes), "%s", (a->eStatus == ST_OK && d <= 64.0) ? "PASS" : "FAIL");
        } else if (a->eStatus != ST_SKIP && b->eStatus != ST_SKIP && bAOk) {
          snprintf(zRes, sizeof(zRes), "FAIL");
        }
        if (strcmp(zRes, "FAIL") == 0) nFail++;
        printf("%-5s %11s %11s %11s %9s  %-17s %s\n", w->zId, zCell[0], zCell[1], zCell[2], zDiff,
               "A <= B + 64 MiB", zRes);
      }
    }
  }

  /* Django */
  if (O.eDjango != 0) {
    printf("\nAgainst Django's ORM (QuerySet.delete(), in-memory SQLite, scale %g", O.scale);
    if (g_zDjangoVersion[0]) printf(", Django %s", g_zDjangoVersion);
    printf("): speed-up = Django ms / variant ms\n");
    if (g_zDjangoErr[0]) printf("  django: ERROR: %s\n", g_zDjangoErr);
    printf("%-5s %11s %11s %9s %11s %9s %11s %9s  %-12s %s\n", "", "Django", "A relext",
           "Django/A", "B native", "Django/B", "C floor", "Django/C", "target", "result");
    for (i = 0; i < N_WORKLOAD; i++) {
      Workload *w = &aWorkload[i];
      char zD[32], zCell[N_VARIANT][32], zSp[N_VARIANT][32], zRes[8] = "n/a";
      const char *zTarget = w->eTarget == TARGET_NONE ? "(info)" : "A faster";
      if (!w->bDjango || !is_selected(w->zId)) continue;
      if (isnan(g_aDjangoMs[i])) snprintf(zD, sizeof(zD), "-");
      else snprintf(zD, sizeof(zD), "%.2f", g_aDjangoMs[i]);
      for (v = 0; v < N_VARIANT; v++) {
        Tally *t = &aT[i][v];
        cell_ms(zCell[v], 32, t);
        if (t->nOk > 0 && t->eStatus == ST_OK && !isnan(g_aDjangoMs[i])) {
          snprintf(zSp[v], 32, "%.2fx", g_aDjangoMs[i] / median(t->aMs, t->nOk));
        } else {
          snprintf(zSp[v], 32, "-");
        }
      }
      if (strcmp(zSp[V_A], "-") != 0) {
        double sp = g_aDjangoMs[i] / median(aT[i][V_A].aMs, aT[i][V_A].nOk);
        snprintf(zRes, sizeof(zRes), "%s", sp > 1.0 ? "PASS" : "FAIL");
        if (w->eTarget == TARGET_NONE) snprintf(zRes, sizeof(zRes), "-");
      } else if (aT[i][V_A].eStatus != ST_SKIP && !aT[i][V_A].bNotLoaded
                 && w->eTarget != TARGET_NONE) {
        snprintf(zRes, sizeof(zRes), "FAIL");
      }
      if (strcmp(zRes, "FAIL") == 0) nFail++;
      printf("%-5s %11s %11s %9s %11s %9s %11s %9s  %-12s %s\n", w->zId, zD, zCell[0], zSp[0],
             zCell[1], zSp[1], zCell[2], zSp[2], zTarget, zRes);
    }
  }

  if (g_zTmpDir[0]) {
    int k;
    for (k = 0; k < 2 && !O.zFixtures; k++) {
      if (g_aFix[k].zPath[0]) {
        char z[800];
        remove(g_aFix[k].zPlain);
        remove(g_aFix[k].zPath);
        snprintf(z, sizeof(z), "%s-wal", g_aFix[k].zPath);
        remove(z);
        snprintf(z, sizeof(z), "%s-shm", g_aFix[k].zPath);
        remove(z);
        snprintf(z, sizeof(z), "%s-wal", g_aFix[k].zPlain);
        remove(z);
        snprintf(z, sizeof(z), "%s-shm", g_aFix[k].zPlain);
        remove(z);
      }
    }
    rmdir(g_zTmpDir);
  }
  if (!bAOk) nFail++;
  printf("\ntotal time %.1f s\n", (now_ms() - tStart) / 1e3);
  return (O.bStrict && nFail > 0) ? 1 : 0;
}
