/*
** iofault.c -- I/O error injection for relext.
**
** A VFS shim ("iofault") wraps the default VFS. Once armed, it counts the
** calls to xRead, xWrite, xSync and xTruncate on every file (database,
** journal, WAL, temp files) and fails the Nth with SQLITE_IOERR_READ /
** _WRITE / _FSYNC / _TRUNCATE (transient mode), or the Nth and every later
** one (persistent mode: a disk that went away).
**
** Scenarios, each in journal_mode=DELETE and WAL, on a fresh copy of a
** file database for every N = 1, 2, ... until a run completes without an
** injected fault:
**   cascade   DELETE of a category: cascades over ~2,000 rows (autocommit)
**   commit    a transaction of inserts and cascades, then COMMIT
**   refused   a transaction whose COMMIT relext refuses (dangling key)
** The action runs with a tiny page cache, so pages spill during the
** transaction. Afterwards the database is reopened with the real VFS:
** integrity_check ok, rel_check empty, and the data equals the state
** before or after the scenario (a success: exactly after).
**
** Usage: iofault [-persist|-both] [-stride K] [SCENARIO...]
*/
#define _DEFAULT_SOURCE
#include "relfault.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The VFS shim                                                        */

static sqlite3_vfs *gReal;
static int gFailAt = 0, gPersist = 0, gCount = 0, gHits = 0;

typedef struct FFile FFile;
struct FFile {
  sqlite3_file base;
  sqlite3_file *pReal; /* follows this struct in the same allocation */
};

static int ioFail(void) {
  if (gFailAt == 0) return 0;
  gCount++;
  if (gCount == gFailAt || (gPersist && gCount > gFailAt)) {
    gHits++;
    return 1;
  }
  return 0;
}

#define REAL(f) (((FFile *)(f))->pReal)
static int fClose(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int fRead(sqlite3_file *f, void *p, int n, sqlite3_int64 o) {
  if (ioFail()) return SQLITE_IOERR_READ;
  return REAL(f)->pMethods->xRead(REAL(f), p, n, o);
}
static int fWrite(sqlite3_file *f, const void *p, int n, sqlite3_int64 o) {
  if (ioFail()) return SQLITE_IOERR_WRITE;
  return REAL(f)->pMethods->xWrite(REAL(f), p, n, o);
}
static int fTruncate(sqlite3_file *f, sqlite3_int64 n) {
  if (ioFail()) return SQLITE_IOERR_TRUNCATE;
  return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int fSync(sqlite3_file *f, int flags) {
  if (ioFail()) return SQLITE_IOERR_FSYNC;
  return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int fFileSize(sqlite3_file *f, sqlite3_int64 *p) {
  return REAL(f)->pMethods->xFileSize(REAL(f), p);
}
static int fLock(sqlite3_file *f, int e) { return REAL(f)->pMethods->xLock(REAL(f), e); }
static int fUnlock(sqlite3_file *f, int e) {
  return REAL(f)->pMethods->xUnlock(REAL(f), e);
}
static int fCheckReservedLock(sqlite3_file *f, int *p) {
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), p);
}
static int fFileControl(sqlite3_file *f, int op, void *p) {
  return REAL(f)->pMethods->xFileControl(REAL(f), op, p);
}
static int fSectorSize(sqlite3_file *f) {
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int fDeviceCharacteristics(sqlite3_file *f) {
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int fShmMap(sqlite3_file *f, int i, int sz, int b, void volatile **pp) {
  return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, b, pp);
}
static int fShmLock(sqlite3_file *f, int o, int n, int fl) {
  return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl);
}
static void fShmBarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int fShmUnmap(sqlite3_file *f, int d) {
  return REAL(f)->pMethods->xShmUnmap(REAL(f), d);
}

static const sqlite3_io_methods gMethods = {
    2, fClose, fRead, fWrite, fTruncate, fSync, fFileSize, fLock, fUnlock,
    fCheckReservedLock, fFileControl, fSectorSize, fDeviceCharacteristics,
    fShmMap, fShmLock, fShmBarrier, fShmUnmap, 0, 0};

static int vOpen(sqlite3_vfs *v, const char *zName, sqlite3_file *f, int flags,
                 int *pOut) {
  FFile *p = (FFile *)f;
  int rc;
  p->pReal = (sqlite3_file *)&p[1];
  rc = gReal->xOpen(gReal, zName, p->pReal, flags, pOut);
  p->base.pMethods = p->pReal->pMethods ? &gMethods : 0;
  return rc;
}

static sqlite3_vfs gVfs;

static void ioInstall(void) {
  gReal = sqlite3_vfs_find(0);
  gVfs = *gReal;
  gVfs.iVersion = gReal->iVersion;
  gVfs.zName = "iofault";
  gVfs.szOsFile = (int)sizeof(FFile) + gReal->szOsFile;
  gVfs.xOpen = vOpen;
  gVfs.pNext = 0;
  /* The other methods (xDelete, xAccess, ...) are the real VFS's own and
  ** take the real VFS as first argument: wrap them. */
  if (sqlite3_vfs_register(&gVfs, 0) != SQLITE_OK) {
    fprintf(stderr, "iofault: cannot register the VFS\n");
    exit(2);
  }
}
/* The unix VFS ignores its sqlite3_vfs argument except in xOpen (pAppData
** is NULL for "unix"), so its other methods work unchanged in the copy. */

static void ioArm(int n, int bPersist) {
  gFailAt = n;
  gPersist = bPersist;
  gCount = 0;
  gHits = 0;
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */

typedef struct Scenario Scenario;
struct Scenario {
  const char *zName;
  const char *zSql;
};
static const Scenario aScenario[] = {
    {"cascade", "DELETE FROM category WHERE id = 1"},
    {"commit",
     "BEGIN; INSERT INTO article(id, title, category_id) VALUES (5000, 'x', 5);"
     " INSERT INTO category(id, title) VALUES (5, 'late');"
     " DELETE FROM category WHERE id = 1; DELETE FROM author WHERE id = 3;"
     " INSERT INTO article_tags(article_id, tag_id) VALUES (5000, 1);"
     " COMMIT"},
    {"refused",
     "BEGIN; DELETE FROM category WHERE id = 1;"
     " INSERT INTO article(id, title, category_id) VALUES (5000, 'x', 999);"
     " COMMIT"},
};
#define N_SCENARIO ((int)(sizeof(aScenario) / sizeof(aScenario[0])))

/* Extra rows so that the cascade spans many pages. */
static const char *zBulk =
    "WITH RECURSIVE c(i) AS (SELECT 13 UNION ALL SELECT i+1 FROM c WHERE i<1200)"
    " INSERT INTO article(id, title, category_id, editor_id)"
    " SELECT i, printf('%.100c', 'a'), 1+(i%4), 1+(i%3) FROM c;"
    "WITH RECURSIVE c(i) AS (SELECT 25 UNION ALL SELECT i+1 FROM c WHERE i<2400)"
    " INSERT INTO comment(id, body, article_id, author_id)"
    " SELECT i, printf('%.80c', 'c'), 1+(i%1200), 1+(i%2) FROM c;"
    "INSERT INTO article_tags(article_id, tag_id)"
    " SELECT id, 1+(id%4) FROM article WHERE id>12;";

static char gDir[1024];

static char *fingerprintFile(const char *zPath) {
  sqlite3 *db = 0;
  char *z = 0;
  if (sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE, 0) == SQLITE_OK)
    z = rf_fingerprint(db);
  sqlite3_close(db);
  return z;
}

static int runAction(const char *zPath, const char *zSql, int n, int bPersist,
                     char **pzErr, int *pnHit) {
  sqlite3 *db = 0;
  int rc;
  rc = sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE, "iofault");
  if (rc == SQLITE_OK) rc = rf_exec(db, "PRAGMA cache_size=5", 0);
  if (rc != SQLITE_OK) {
    fprintf(stderr, "iofault: cannot open %s: %s\n", zPath, sqlite3_errmsg(db));
    exit(2);
  }
  ioArm(n, bPersist);
  rc = rf_exec(db, zSql, pzErr);
  if (rc != SQLITE_OK && !sqlite3_get_autocommit(db))
    sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  *pnHit = gHits;
  if (sqlite3_close(db) != SQLITE_OK) {
    fprintf(stderr, "iofault: sqlite3_close failed (unfinalized statements)\n");
    rc = -1;
  }
  ioArm(0, 0);
  return rc;
}

static int runScenario(const Scenario *s, const char *zMode, int bPersist,
                       int nStride, int *pnPoint) {
  char zTmpl[1200], zWork[1200], zWhat[300];
  char *zBefore, *zAfter, *zCleanErr = 0;
  int cleanRc, n, nHit, nFail = 0, nPoint = 0;
  sqlite3 *db = 0;

  snprintf(zTmpl, sizeof zTmpl, "%s/%s-%s.tmpl.db", gDir, s->zName, zMode);
  snprintf(zWork, sizeof zWork, "%s/%s-%s.db", gDir, s->zName, zMode);
  rf_unlink_db(zTmpl);
  if (sqlite3_open(zTmpl, &db) != SQLITE_OK) exit(2);
  if (strcmp(zMode, "wal") == 0) rf_must(db, "PRAGMA journal_mode=WAL");
  rf_build_full(db);
  rf_must(db, zBulk);
  sqlite3_close(db);
  zBefore = fingerprintFile(zTmpl);

  rf_unlink_db(zWork);
  rf_copy_file(zTmpl, zWork);
  cleanRc = runAction(zWork, s->zSql, 0, 0, &zCleanErr, &nHit);
  zAfter = fingerprintFile(zWork);
  if (!zBefore || !zAfter) exit(2);

  for (n = 1;; n += nStride) {
    char *zErr = 0, *zState = 0;
    int rc;
    snprintf(zWhat, sizeof zWhat, "%s/%s N=%d%s", s->zName, zMode, n,
             bPersist ? " persistent" : "");
    rf_unlink_db(zWork);
    rf_copy_file(zTmpl, zWork);
    alarm(60);
    rc = runAction(zWork, s->zSql, n, bPersist, &zErr, &nHit);
    alarm(0);
    if (rc == -1) nFail++;
    if (nHit == 0) {
      if (rc != cleanRc) {
        fprintf(stderr, "%s: uninjected run differs: %s\n", zWhat,
                zErr ? zErr : "ok");
        nFail++;
      }
      free(zErr);
      break;
    }
    nPoint++;
    if (rc == SQLITE_OK && cleanRc != SQLITE_OK) {
      fprintf(stderr, "%s: succeeded under an I/O error where the clean run "
                      "fails\n", zWhat);
      nFail++;
    }
    if (rc != SQLITE_OK && zErr && strncmp(zErr, "relext: ", 8) == 0 &&
        (zCleanErr == 0 || strcmp(zErr, zCleanErr) != 0) &&
        strstr(zErr, "I/O") == 0 && strstr(zErr, "disk") == 0) {
      fprintf(stderr, "%s: wrong error under an I/O error: %s\n", zWhat, zErr);
      nFail++;
    }
    /* Reopen with the real VFS (hot journal / WAL recovery happens here). */
    if (sqlite3_open_v2(zWork, &db, SQLITE_OPEN_READWRITE, 0) != SQLITE_OK) {
      fprintf(stderr, "%s: cannot reopen: %s\n", zWhat, sqlite3_errmsg(db));
      nFail++;
    } else {
      nFail += rf_check_db(db, zWhat);
      zState = rf_fingerprint(db);
      if (!zState) {
        fprintf(stderr, "%s: cannot read: %s\n", zWhat, sqlite3_errmsg(db));
        nFail++;
      } else if (rc == SQLITE_OK ? strcmp(zState, zAfter) != 0
                                 : (strcmp(zState, zBefore) != 0 &&
                                    strcmp(zState, zAfter) != 0)) {
        fprintf(stderr, "%s: state is neither before nor after (rc=%d %s)\n",
                zWhat, rc, zErr ? zErr : "");
        nFail++;
      }
    }
    sqlite3_close(db);
    db = 0;
    free(zState);
    free(zErr);
    if (nFail > 20) break;
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
  int i, j, m, nFail = 0, nTotal = 0, nStride = 1, bPersist = 0, bBoth = 0;
  const char *zTmp = getenv("RELEXT_TMP");
  const char *azMode[] = {"delete", "wal"};
  char **azOnly = 0;
  int nOnly = 0;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-persist") == 0) bPersist = 1;
    else if (strcmp(argv[i], "-both") == 0) bBoth = 1;
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
  rf_register();
  ioInstall();
  snprintf(gDir, sizeof gDir, "%s/relext-io-XXXXXX", zTmp ? zTmp : "/tmp");
  if (mkdtemp(gDir) == 0) {
    perror("mkdtemp");
    return 2;
  }
  for (j = 0; j < (bBoth ? 2 : 1); j++) {
    int bP = bBoth ? j : bPersist;
    for (i = 0; i < N_SCENARIO; i++) {
      int k, keep = (nOnly == 0);
      for (k = 0; k < nOnly; k++)
        if (strcmp(azOnly[k], aScenario[i].zName) == 0) keep = 1;
      if (!keep) continue;
      for (m = 0; m < 2; m++) {
        int nPoint = 0;
        int f = runScenario(&aScenario[i], azMode[m], bP, nStride, &nPoint);
        nFail += f;
        nTotal += nPoint;
        printf("iofault: %s (%s%s): %d I/O fault points%s%s\n",
               aScenario[i].zName, azMode[m], bP ? ", persistent" : "", nPoint,
               nStride > 1 ? " (strided)" : "", f ? ", FAILED" : "");
      }
    }
  }
  rmdir(gDir);
  printf("iofault: total %d I/O fault points, %d failures\n", nTotal, nFail);
  return nFail ? 1 : 0;
}
