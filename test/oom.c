/*
** oom.c -- out-of-memory injection for relext.
**
** relext's sources are compiled in (-DSQLITE_CORE) and registered with
** sqlite3_auto_extension(). Before sqlite3_initialize() the driver installs
** an allocator (SQLITE_CONFIG_MALLOC) that wraps the default one, counts
** allocations, and can fail the Nth (transient mode) or the Nth and every
** later one (persistent mode). Lookaside is off, so every allocation SQLite
** and relext make goes through it.
**
** For each scenario and N = 1, 2, ... until a run completes without an
** injected failure:
**   1. a fresh copy of the scenario's database (a file in a temp dir);
**   2. open it (with injection on for the "reopen" scenario), run the
**      scenario's SQL with the Nth allocation failing; on error ROLLBACK;
**   3. the run must end with success or an error code (a crash ends the
**      driver, a hang is killed by alarm());
**   4. with injection off, on a second connection: integrity_check ok,
**      rel_check empty, and the data (schema + every row) equals the
**      state before or after the scenario; a success must give exactly
**      the clean run's result;
**   5. the first connection, still open, runs the scenario again without
**      injection and must reach the clean run's outcome (no state inside
**      relext was left broken by the failure); it closes with SQLITE_OK
**      and every allocation is freed (leak check by live-allocation count).
**
** Usage: oom [-persist] [-stride K] [-quiet] [SCENARIO...]
** Prints "oom: <scenario>: <n> OOM points" per scenario and a total line;
** exits 1 on any failure.
*/
#define _DEFAULT_SOURCE
#include "relfault.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The failing allocator                                               */

static sqlite3_mem_methods gOrig;
static int gFailAt = 0;   /* 0: no injection */
static int gPersist = 0;  /* fail every allocation after gFailAt too */
static int gCount = 0;    /* allocations since arming */
static int gHits = 0;     /* injected failures since arming */
static long gLive = 0;    /* live allocations */

static int oomFail(void) {
  if (gFailAt == 0) return 0;
  gCount++;
  if (gCount == gFailAt || (gPersist && gCount > gFailAt)) {
    gHits++;
    return 1;
  }
  return 0;
}
static void *oomMalloc(int n) {
  void *p;
  if (oomFail()) return 0;
  p = gOrig.xMalloc(n);
  if (p) gLive++;
  return p;
}
static void oomFree(void *p) {
  if (p) gLive--;
  gOrig.xFree(p);
}
static void *oomRealloc(void *p, int n) {
  if (oomFail()) return 0;
  return gOrig.xRealloc(p, n);
}
static int oomSize(void *p) { return gOrig.xSize(p); }
static int oomRoundup(int n) { return gOrig.xRoundup(n); }
static int oomInit(void *p) { return gOrig.xInit(p); }
static void oomShutdown(void *p) { gOrig.xShutdown(p); }

static void oomArm(int n, int bPersist) {
  gFailAt = n;
  gPersist = bPersist;
  gCount = 0;
  gHits = 0;
}
static void oomDisarm(void) { gFailAt = 0; }

/* RELEXT_OOM_LOG=N: log SQLite's errors during run N (debugging). */
static int gLogAt = 0;
static void oomLog(void *p, int rc, const char *z) {
  (void)p;
  if (gFailAt && gFailAt == gLogAt)
    fprintf(stderr, "  log (alloc %d): %d %s\n", gCount, rc, z);
}

static void oomInstall(void) {
  static sqlite3_mem_methods m;
  if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &gOrig) != SQLITE_OK) {
    fprintf(stderr, "oom: SQLITE_CONFIG_GETMALLOC failed\n");
    exit(2);
  }
  m = gOrig;
  m.xMalloc = oomMalloc;
  m.xFree = oomFree;
  m.xRealloc = oomRealloc;
  m.xSize = oomSize;
  m.xRoundup = oomRoundup;
  m.xInit = oomInit;
  m.xShutdown = oomShutdown;
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK ||
      sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) != SQLITE_OK) {
    fprintf(stderr, "oom: SQLITE_CONFIG_MALLOC failed\n");
    exit(2);
  }
  if (getenv("RELEXT_OOM_LOG")) {
    gLogAt = atoi(getenv("RELEXT_OOM_LOG"));
    sqlite3_config(SQLITE_CONFIG_LOG, oomLog, (void *)0);
  }
  if (sqlite3_initialize() != SQLITE_OK) {
    fprintf(stderr, "oom: sqlite3_initialize failed\n");
    exit(2);
  }
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */

#define SETUP_SCHEMA 0 /* tables and a few rows, nothing defined */
#define SETUP_FULL 1   /* rf_build_full() */

typedef struct Scenario Scenario;
struct Scenario {
  const char *zName;
  int eSetup;
  int bInjectOpen; /* injection starts before sqlite3_open_v2 */
  const char *zSql;
  int nCompound; /* SQLITE_LIMIT_COMPOUND_SELECT of the connection running
                 ** zSql (0: SQLite's default) */
};

static const char *zSchemaData =
    "INSERT INTO category(id, title) VALUES (1,'a'),(2,'b');"
    "INSERT INTO author(id, name) VALUES (1,'ann');"
    "INSERT INTO article(id, title) VALUES (1,'x'),(2,'y');"
    "INSERT INTO tag(id, name) VALUES (1,'t');"
    "INSERT INTO profile(id, bio) VALUES (1,'p');";

static Scenario aScenario[] = {
    {"define_fk", SETUP_SCHEMA, 0,
     "SELECT rel_define('article.category', 'ForeignKey', 'category', "
     "'on_delete=models.CASCADE, related_name=\"articles\", null=True')", 0},
    {"define_o2o", SETUP_SCHEMA, 0,
     "SELECT rel_define('profile.user', 'OneToOneField', 'author', "
     "'on_delete=SET_NULL, null=True')", 0},
    {"define_m2m", SETUP_SCHEMA, 0,
     "SELECT rel_define('article.tags', 'ManyToManyField', 'tag', "
     "'related_name=\"articles\"')", 0},
    {"define_pasted", SETUP_SCHEMA, 0,
     "SELECT rel_define('article', 'author = models.ForeignKey(\"author\", "
     "on_delete=models.PROTECT, null=True, related_name=\"articles\")')", 0},
    {"define_m2m_self", SETUP_SCHEMA, 0,
     "SELECT rel_define('author.friends', 'm2m', 'self')", 0},
    /* several at once: each item's objects, then one load */
    {"define_many", SETUP_SCHEMA, 0,
     "SELECT rel_define_many('["
     "[\"article.category\", \"fk\", \"category\", \"on_delete=CASCADE, "
     "null=True\"],"
     "[\"article\", \"tags = models.ManyToManyField(\\\"tag\\\")\"],"
     "[\"profile.user\", \"o2o\", \"author\", \"on_delete=SET_NULL, "
     "null=True\"]]')", 0},
    {"undefine", SETUP_FULL, 0, "SELECT rel_undefine('article.tags')", 0},
    {"cascade", SETUP_FULL, 0, "DELETE FROM category WHERE id = 1", 0},
    {"set_null_o2o", SETUP_FULL, 0, "DELETE FROM author WHERE id = 3", 0},
    {"protect", SETUP_FULL, 0, "DELETE FROM author WHERE id = 1", 0},
    {"restrict", SETUP_FULL, 0, "DELETE FROM category WHERE id = 3", 0},
    {"dangling_commit", SETUP_FULL, 0,
     "BEGIN; INSERT INTO article(id, title, category_id) VALUES (100, 'x', 999);"
     " DELETE FROM category WHERE id = 4; COMMIT", 0},
    {"txn_commit", SETUP_FULL, 0,
     "BEGIN; INSERT INTO article(id, title, category_id) VALUES (100, 'x', 5);"
     " INSERT INTO category(id, title) VALUES (5, 'late');"
     " DELETE FROM category WHERE id = 2; COMMIT", 0},
    {"m2m_add", SETUP_FULL, 0,
     "INSERT INTO article_tags(article_id, tag_id) VALUES (2,1),(1,1),(9,4)", 0},
    {"m2m_symmetrical", SETUP_FULL, 0,
     "INSERT INTO author_friends(from_author_id, to_author_id) VALUES (2,3)", 0},
    {"m2m_accessor", SETUP_FULL, 0,
     "INSERT INTO article__tags(article, id) VALUES (2, 3)", 0},
    {"reopen", SETUP_FULL, 1, "DELETE FROM category WHERE id = 1", 0},
    /* RESTRICT decided at the end of the statement, inside a transaction:
    ** refused (comment 13 replies to 1), then lifted by another row of the
    ** same statement */
    {"restrict_stmt", SETUP_FULL, 0,
     "BEGIN; DELETE FROM comment WHERE id = 1; COMMIT", 0},
    {"restrict_lift", SETUP_FULL, 0,
     "BEGIN; DELETE FROM comment WHERE id IN (1, 13); COMMIT", 0},
    /* the same through an accessor: decided at its last row */
    {"restrict_acc", SETUP_FULL, 0,
     "BEGIN; DELETE FROM article__comment_set WHERE article = 2 AND id = 1; "
     "COMMIT", 0},
    {"restrict_acc_lift", SETUP_FULL, 0,
     "BEGIN; DELETE FROM article__comment_set WHERE article = 2; COMMIT", 0},
    /* rel_flush: every table, PROTECT and RESTRICT among them */
    {"flush", SETUP_FULL, 0,
     "SELECT rel_flush('category', 'author', 'article', 'tag', 'comment', "
     "'profile', '[\"article_tags\", \"author_friends\"]')", 0},
    /* the first uses of accessors, whose xConnect reads the listed tables
    ** (at first use), inside a transaction whose schema change an OOM rolls
    ** back: the schema being parsed must survive it */
    {"accessor_first", SETUP_FULL, 0,
     "BEGIN; CREATE TABLE scratch(x); "
     "INSERT INTO article__tags(article, id) VALUES (2, 3); "
     "INSERT INTO scratch SELECT count(*) FROM category__articles(1) "
     "JOIN tag__articles(1) ON 1; COMMIT", 0},
    /* an accessor read with guarded conditions (=, IN, < on a TEXT
    ** column with values that are not constants) feeding a write */
    {"accessor_guarded", SETUP_FULL, 0,
     "INSERT INTO author(id, name) SELECT DISTINCT 100 + t.id, t.name "
     "FROM tag AS g JOIN article__tags AS t ON t.name = g.name "
     "WHERE t.name IN ('x', 'y', 'q') AND t.name < g.name || 'z'", 0},
    /* ON CONFLICT on accessor writes: REPLACE deletes with the rules
    ** (article 1's comments cascade), IGNORE skips */
    {"accessor_conflict", SETUP_FULL, 0,
     "BEGIN; INSERT OR REPLACE INTO category__articles(category, id, title) "
     "VALUES (2, 1, 'new1'), (3, 20, 'n20');"
     " INSERT OR REPLACE INTO author__profile(author, id, bio) "
     "VALUES (1, 9, 'new');"
     " INSERT OR IGNORE INTO category__articles(category, id, title) "
     "VALUES (1, 2, 'dup'), (1, 30, 'n30'); COMMIT", 0},
    /* the cascade of "cascade" with SQLite's compound SELECT limit at 2:
    ** the engine collects the closure in rounds of one edge per CTE
    ** (engine.c, relCollectPrepare), every statement of every round
    ** under OOM */
    {"cascade_rounds", SETUP_FULL, 0, "DELETE FROM category WHERE id = 1", 2},
};
#define N_SCENARIO ((int)(sizeof(aScenario) / sizeof(aScenario[0])))

static char gDir[1024];
static int gQuiet = 0;
static int gReloads = 0; /* retries that needed rel_reload() */

static void scenarioSetup(const Scenario *s, const char *zPath) {
  sqlite3 *db = 0;
  rf_unlink_db(zPath);
  if (sqlite3_open(zPath, &db) != SQLITE_OK) {
    fprintf(stderr, "oom: cannot create %s\n", zPath);
    exit(2);
  }
  if (s->eSetup == SETUP_FULL) {
    rf_build_full(db);
  } else {
    rf_must(db, rf_schema_sql);
    rf_must(db, zSchemaData);
  }
  if (sqlite3_close(db) != SQLITE_OK) exit(2);
}

static char *fingerprintFile(const char *zPath) {
  sqlite3 *db = 0;
  char *z = 0;
  if (sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE, 0) == SQLITE_OK)
    z = rf_fingerprint(db);
  sqlite3_close(db);
  return z;
}

/* Run the scenario's SQL; returns rc and the message in *pzErr. */
static int runSql(sqlite3 *db, const char *zSql, char **pzErr) {
  int rc = rf_exec(db, zSql, pzErr);
  if (rc != SQLITE_OK && !sqlite3_get_autocommit(db)) {
    sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  }
  return rc;
}

static int same(const char *a, const char *b) {
  return (a == 0 && b == 0) || (a && b && strcmp(a, b) == 0);
}

/* Run scenario s with every OOM point; returns the number of failures. */
static int runScenario(const Scenario *s, int bPersist, int nStride,
                       int *pnPoint) {
  char zTmpl[1200], zWork[1200];
  char *zBefore, *zAfter, *zCleanErr = 0;
  int cleanRc, n, nFail = 0, nPoint = 0;
  sqlite3 *db = 0;
  long nBase;

  snprintf(zTmpl, sizeof zTmpl, "%s/%s.tmpl.db", gDir, s->zName);
  snprintf(zWork, sizeof zWork, "%s/%s.db", gDir, s->zName);
  scenarioSetup(s, zTmpl);
  zBefore = fingerprintFile(zTmpl);

  /* The clean run: its outcome and the "after" state. */
  rf_unlink_db(zWork);
  rf_copy_file(zTmpl, zWork);
  sqlite3_open(zWork, &db);
  if (s->nCompound)
    sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, s->nCompound);
  cleanRc = runSql(db, s->zSql, &zCleanErr);
  sqlite3_close(db);
  db = 0;
  if (cleanRc != SQLITE_OK && zCleanErr &&
      strstr(zCleanErr, "no such table") != 0) {
    printf("oom: %s: skipped (%s)\n", s->zName, zCleanErr);
    free(zCleanErr);
    free(zBefore);
    *pnPoint = 0;
    return 0;
  }
  zAfter = fingerprintFile(zWork);
  if (!zBefore || !zAfter) {
    fprintf(stderr, "oom: %s: cannot fingerprint\n", s->zName);
    exit(2);
  }
  if (!gQuiet) {
    printf("oom: %s: clean run: %s\n", s->zName,
           cleanRc ? zCleanErr : "ok");
  }

  n = getenv("RELEXT_OOM_ONLY") ? atoi(getenv("RELEXT_OOM_ONLY")) : 1;
  for (;; n += nStride) {
    char *zErr = 0, *zState = 0, *zRetryErr = 0;
    int rc, rcOpen = SQLITE_OK, nHit, retryRc, rcClose;
    sqlite3 *db2 = 0;
    char zWhat[256];
    snprintf(zWhat, sizeof zWhat, "%s N=%d%s", s->zName, n,
             bPersist ? " persistent" : "");

    rf_unlink_db(zWork);
    rf_copy_file(zTmpl, zWork);
    nBase = gLive;
    alarm(60);
    db = 0;
    if (s->bInjectOpen) oomArm(n, bPersist);
    rcOpen = sqlite3_open_v2(zWork, &db, SQLITE_OPEN_READWRITE, 0);
    if (!s->bInjectOpen) oomArm(n, bPersist);
    if (rcOpen == SQLITE_OK && s->nCompound)
      sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, s->nCompound);
    if (rcOpen == SQLITE_OK) {
      rc = runSql(db, s->zSql, &zErr);
    } else {
      rc = rcOpen;
      zErr = strdup(db ? sqlite3_errmsg(db) : "open failed");
    }
    nHit = gHits;
    oomDisarm();
    alarm(0);
    /* What an application does after an error: roll back a transaction the
    ** failure left open. Under persistent injection the ROLLBACK runSql
    ** tried could not run (rolling back needs memory too). */
    if (rcOpen == SQLITE_OK && !sqlite3_get_autocommit(db))
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);

    if (nHit == 0) {
      /* Past the last allocation: the run must be the clean one. */
      if (rc != cleanRc || !same(zErr, zCleanErr)) {
        fprintf(stderr, "%s: uninjected run differs: %d %s\n", zWhat, rc,
                zErr ? zErr : "");
        nFail++;
      }
      free(zErr);
      sqlite3_close(db);
      break;
    }
    nPoint++;

    /* The outcome. A success must be the clean result; a rule error
    ** must be the clean run's. */
    if (rc == SQLITE_OK && cleanRc != SQLITE_OK) {
      fprintf(stderr, "%s: succeeded under OOM where the clean run fails\n",
              zWhat);
      nFail++;
    }
    if (rc != SQLITE_OK && zErr && strncmp(zErr, "relext: ", 8) == 0 &&
        strstr(zErr, "out of memory") == 0 && !same(zErr, zCleanErr)) {
      fprintf(stderr, "%s: wrong error under OOM: %s\n", zWhat, zErr);
      nFail++;
    }

    /* The state, seen by a second connection. */
    if (sqlite3_open_v2(zWork, &db2, SQLITE_OPEN_READWRITE, 0) != SQLITE_OK) {
      fprintf(stderr, "%s: cannot reopen: %s\n", zWhat, sqlite3_errmsg(db2));
      nFail++;
    } else {
      sqlite3_busy_timeout(db2, 2000);
      nFail += rf_check_db(db2, zWhat);
      zState = rf_fingerprint(db2);
      if (!zState) {
        fprintf(stderr, "%s: cannot read the state: %s\n", zWhat,
                sqlite3_errmsg(db2));
        nFail++;
      } else if (rc == SQLITE_OK ? strcmp(zState, zAfter) != 0
                                 : (strcmp(zState, zBefore) != 0 &&
                                    strcmp(zState, zAfter) != 0)) {
        fprintf(stderr, "%s: state is neither before nor after (rc=%d %s)\n",
                zWhat, rc, zErr ? zErr : "");
        nFail++;
        if (getenv("RELEXT_OOM_DUMP")) { /* debugging: diff the files */
          FILE *f;
          if ((f = fopen("/tmp/oom-before.txt", "w"))) fputs(zBefore, f), fclose(f);
          if ((f = fopen("/tmp/oom-after.txt", "w"))) fputs(zAfter, f), fclose(f);
          if ((f = fopen("/tmp/oom-state.txt", "w"))) fputs(zState, f), fclose(f);
        }
      }
    }
    sqlite3_close(db2);
    db2 = 0;

    /* The same connection, injection off: the scenario again must reach
    ** the clean outcome (relext's state survived the failure). */
    if (rcOpen == SQLITE_OK) {
      /* (A run that did the work already -- an allocation that failed
      ** was absorbed, as when SQLite runs a statement again -- makes a
      ** second run differ for its own reasons: no reload is asked.) */
      int bDone = zState && strcmp(zState, zAfter) == 0 && cleanRc == SQLITE_OK;
      sqlite3_busy_timeout(db, 2000);
      retryRc = runSql(db, s->zSql, &zRetryErr);
      if (!bDone && (retryRc != cleanRc || !same(zRetryErr, zCleanErr))) {
        /* The failure may have left this connection's copy of the catalog
        ** out of step with the (rolled back) database: relext then refuses
        ** writes until rel_reload(). Fail-safe; counted, not a failure. */
        free(zRetryErr);
        zRetryErr = 0;
        if (sqlite3_exec(db, "SELECT rel_reload()", 0, 0, 0) == SQLITE_OK) {
          gReloads++;
          retryRc = runSql(db, s->zSql, &zRetryErr);
        }
      }
      if (bDone) {
        /* Already done: a second run may be a no-op or fail on a missing
        ** row; only the state below matters. */
      } else if (retryRc != cleanRc || !same(zRetryErr, zCleanErr)) {
        fprintf(stderr, "%s: retry on the same connection: %d %s (clean: %s)\n",
                zWhat, retryRc, zRetryErr ? zRetryErr : "ok",
                zCleanErr ? zCleanErr : "ok");
        nFail++;
      }
      free(zRetryErr);
    }
    rcClose = sqlite3_close(db);
    db = 0;
    if (rcClose != SQLITE_OK) {
      fprintf(stderr, "%s: sqlite3_close: %s (unfinalized statements?)\n",
              zWhat, sqlite3_errstr(rcClose));
      nFail++;
      sqlite3_close_v2(db);
    }
    if (gLive != nBase) {
      fprintf(stderr, "%s: %ld allocations leaked\n", zWhat, gLive - nBase);
      nFail++;
    }
    if (rcOpen == SQLITE_OK) {
      char *zFinal = fingerprintFile(zWork);
      if (!zFinal || strcmp(zFinal, zAfter) != 0) {
        fprintf(stderr, "%s: state after the retry is not the clean result\n",
                zWhat);
        nFail++;
        if (getenv("RELEXT_OOM_DUMP") && zFinal) { /* debugging */
          FILE *f;
          if ((f = fopen("/tmp/oom-after.txt", "w"))) fputs(zAfter, f), fclose(f);
          if ((f = fopen("/tmp/oom-final.txt", "w"))) fputs(zFinal, f), fclose(f);
        }
      }
      free(zFinal);
    }
    free(zState);
    free(zErr);
    if (getenv("RELEXT_OOM_ONLY")) break; /* debugging: that N only */
    if (nFail > 20) {
      fprintf(stderr, "%s: too many failures, stopping\n", zWhat);
      break;
    }
  }
  free(zBefore);
  free(zAfter);
  free(zCleanErr);
  rf_unlink_db(zWork);
  rf_unlink_db(zTmpl);
  *pnPoint = nPoint;
  return nFail;
}

int main(int argc, char **argv) {
  int i, j, nFail = 0, nTotal = 0, nStride = 1;
  int bPersist = 0, bBoth = 0;
  const char *zTmp = getenv("RELEXT_TMP");
  char **azOnly = 0;
  int nOnly = 0;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-persist") == 0) bPersist = 1;
    else if (strcmp(argv[i], "-both") == 0) bBoth = 1;
    else if (strcmp(argv[i], "-quiet") == 0) gQuiet = 1;
    else if (strcmp(argv[i], "-stride") == 0 && i + 1 < argc)
      nStride = atoi(argv[++i]);
    else {
      azOnly = &argv[i];
      nOnly = argc - i;
      break;
    }
  }
  if (nStride < 1) nStride = 1;
  setvbuf(stdout, 0, _IOLBF, 0);
  oomInstall();
  rf_register();
  snprintf(gDir, sizeof gDir, "%s/relext-oom-XXXXXX", zTmp ? zTmp : "/tmp");
  if (mkdtemp(gDir) == 0) {
    perror("mkdtemp");
    return 2;
  }
  for (j = 0; j < (bBoth ? 2 : 1); j++) {
    int bP = bBoth ? j : bPersist;
    for (i = 0; i < N_SCENARIO; i++) {
      int k, keep = (nOnly == 0), nPoint = 0, f;
      for (k = 0; k < nOnly; k++) {
        if (strcmp(azOnly[k], aScenario[i].zName) == 0) keep = 1;
      }
      if (!keep) continue;
      f = runScenario(&aScenario[i], bP, nStride, &nPoint);
      nFail += f;
      nTotal += nPoint;
      printf("oom: %s%s: %d OOM points%s%s\n", aScenario[i].zName,
             bP ? " (persistent)" : "", nPoint,
             nStride > 1 ? " (strided)" : "", f ? ", FAILED" : "");
      fflush(stdout);
    }
  }
  rmdir(gDir);
  printf("oom: total %d OOM points, %d failures (%d runs left the "
         "connection needing rel_reload())\n", nTotal, nFail, gReloads);
  return nFail ? 1 : 0;
}
