/*
** flush.c -- rel_flush(): emptying a set of tables at once, as Django's
** flush does.
**
**   SELECT rel_flush('article', 'category', 'tag', 'article_tags');
**   SELECT rel_flush('["article", "category", "tag", "article_tags"]');
**
** CONTRACT
**   Every row of the named tables goes, all or nothing, and the call
**   returns how many rows went.
**   - Relationships between two named tables impose nothing: PROTECT and
**     RESTRICT do not refuse, CASCADE and SET_* have nothing left to do,
**     since every row of both ends goes (Django's flush relies on its
**     deferred constraints for the same effect).
**   - Relationships from a table outside the set still hold: if a row
**     outside references a row of a named table, the flush is refused
**     before anything changes, whatever the relationship's rule (as
**     Django's deferred constraint refuses its flush at COMMIT):
**       relext: rel_flush: cannot empty category: 2 rows of article
**       reference it (article.category); flush article too
**     with SQLITE_CONSTRAINT. Only a DO_NOTHING with db_constraint=False
**     is no obstacle: deleting its target touches nothing.
**   - Arguments: table names, or JSON arrays of table names (an argument
**     whose text starts with '['), in any mix; a name may repeat. A name
**     that is not an ordinary table of main, or one of relext's or
**     SQLite's own tables, is an error, and nothing is deleted.
**   - It runs in a savepoint of its own: inside a transaction it is part
**     of it (the COMMIT check runs at COMMIT); in autocommit mode it
**     commits before it returns, and a COMMIT check failure refuses it.
**   - Tables without relationships are emptied like the others; rel_flush
**     works with no relationship declared at all.
**
** MECHANISM
**   1. Resolve the names; refuse outside references, one query per
**      relationship whose target is named and whose source is not.
**   2. Inside SAVEPOINT relext_flush, set RelCtx.aFlush: one flag per
**      governed table, read by the delete machinery, which then stands
**      aside for rows of flagged tables only. The guard indexes take no
**      notes for them (commit.c); relext_fail lets their rows go (guard.c);
**      the delete engine and relext_gone return at once (engine.c). No
**      trigger is dropped, and every other table keeps all its rules: an
**      application trigger that writes outside the set meets them.
**   3. One DELETE per table, the sources of relationships before their
**      targets where the relationships among the named tables allow such
**      an order, so that a plain-mode parent's stored AFTER DELETE actions
**      find no child left (cycles: any order; the actions are then plain
**      SQL on rows that go anyway).
**   4. Clear the flags. A named table that still has rows (an application
**      trigger kept or wrote some) gets its relationships checked whole at
**      COMMIT: the guard indexes took no notes of those rows.
**
** INVARIANTS
**   - aFlush is set only while this file's DELETEs run, and cleared on
**     every path before the savepoint closes.
**   - Outside references are decided before anything is deleted.
**
** LIMITS
**   - A call takes at most SQLite's limit of function arguments (127 by
**     default): pass a JSON array for more tables. JSON arrays need
**     SQLite's JSON functions (built in since 3.38).
**   - sqlite_sequence is left alone (Django resets sequences itself).
**   - SQLITE_DIRECTONLY: triggers and views cannot call it, and it refuses
**     to run inside another rel_flush or while relext deletes rows.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* The tables of one call. */
typedef struct RelFlush RelFlush;
struct RelFlush {
  char **azName;  /* the tables, real spelling, distinct */
  int *aiTab;     /* per table: its index in RelCtx.azTable, or -1 */
  int nName;      /* tables in azName */
  int nAlloc;     /* slots allocated in azName and aiTab */
};

static void relFlushClear(RelFlush *pF) {
  int i;
  for (i = 0; i < pF->nName; i++)
    sqlite3_free(pF->azName[i]);
  sqlite3_free(pF->azName);
  sqlite3_free(pF->aiTab);
  memset(pF, 0, sizeof(*pF));
}

/* Add table zName (as the caller spelled it) to the set. */
static int relFlushAdd(RelCtx *p, RelFlush *pF, const char *zName,
                       char **pzErr) {
  char *zReal = 0;
  int i, rc;
  if (zName == 0) {
    return relError(pzErr, SQLITE_ERROR,
                    "relext: rel_flush: a table name cannot be NULL");
  }
  rc = relTableName(p->db, zName, REL_TABLE_ORDINARY, &zReal);
  if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  if (zReal == 0) {
    return relError(pzErr, SQLITE_ERROR, "relext: rel_flush: no such table: %s",
                    zName);
  }
  if (relIsReservedName(zReal)) {
    rc = relError(pzErr, SQLITE_ERROR,
                  "relext: rel_flush: %s is not a model's table", zReal);
    sqlite3_free(zReal);
    return rc;
  }
  for (i = 0; i < pF->nName; i++) {
    if (strcmp(pF->azName[i], zReal) == 0) {
      sqlite3_free(zReal);
      return SQLITE_OK;
    }
  }
  if (pF->nName >= pF->nAlloc) {
    int nNew = pF->nAlloc ? pF->nAlloc * 2 : 8;
    char **az = sqlite3_realloc64(pF->azName, sizeof(char *) * (size_t)nNew);
    int *ai;
    if (az) pF->azName = az;
    ai = az ? sqlite3_realloc64(pF->aiTab, sizeof(int) * (size_t)nNew) : 0;
    if (ai == 0) {
      sqlite3_free(zReal);
      return SQLITE_NOMEM;
    }
    pF->aiTab = ai;
    pF->nAlloc = nNew;
  }
  pF->azName[pF->nName] = zReal;
  pF->aiTab[pF->nName] = relCtxTable(p, zReal);
  pF->nName++;
  return SQLITE_OK;
}

/* Add the tables of one argument: a name, or a JSON array of names. */
static int relFlushArg(RelCtx *p, RelFlush *pF, sqlite3_value *pArg,
                       char **pzErr) {
  const char *z = (const char *)sqlite3_value_text(pArg);
  sqlite3_stmt *pStmt = 0;
  int rc;
  if (z == 0 && sqlite3_value_type(pArg) != SQLITE_NULL) return SQLITE_NOMEM;
  if (z == 0 || z[0] != '[') return relFlushAdd(p, pF, z, pzErr);
  rc = relPreparef(p->db, &pStmt, pzErr,
                   "SELECT value, type FROM json_each(?1)");
  if (rc) return rc;
  sqlite3_bind_value(pStmt, 1, pArg);
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *zType = (const char *)sqlite3_column_text(pStmt, 1);
    if (zType == 0 || strcmp(zType, "text") != 0) {
      rc = relError(pzErr, SQLITE_ERROR,
                    "relext: rel_flush: a JSON array of table names "
                    "expected: %s",
                    z);
    } else {
      rc = relFlushAdd(p, pF, (const char *)sqlite3_column_text(pStmt, 0),
                       pzErr);
    }
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_finalize(pStmt);
    if (rc) {
      rc = relError(pzErr, rc, "relext: rel_flush: %s: %s",
                    sqlite3_errmsg(p->db), z);
    }
  } else {
    sqlite3_finalize(pStmt);
  }
  return rc;
}

/* Refuse the flush when a row outside the set references a row of a
** flushed table (aFlag: the flushed governed tables). */
static int relFlushOutside(RelCtx *p, const unsigned char *aFlag,
                           char **pzErr) {
  int i, rc = SQLITE_OK;
  for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    const char *zC = p->azTable[pE->iChild];
    sqlite3_stmt *pStmt = 0;
    sqlite3_int64 n = 0;
    char *zKey;
    if (!aFlag[pE->iParent] || aFlag[pE->iChild]) continue;
    if (pE->eRule == ON_DO_NOTHING && !pE->bConstraint) continue;
    zKey = relColExpr("p", pE->zParentCol);
    if (zKey == 0) return SQLITE_NOMEM;
    /* Compared as everywhere else: the target key on the left, so its
    ** affinity and collation decide (see the COMMIT check). */
    rc = relPreparef(p->db, &pStmt, pzErr,
                     "SELECT count(*) FROM main.\"%w\" AS c WHERE EXISTS "
                     "(SELECT 1 FROM main.\"%w\" AS p WHERE %s=c.\"%w\")",
                     zC, p->azTable[pE->iParent], zKey, pE->zChildCol);
    sqlite3_free(zKey);
    if (rc) return rc;
    if (sqlite3_step(pStmt) == SQLITE_ROW) n = sqlite3_column_int64(pStmt, 0);
    rc = sqlite3_finalize(pStmt);
    if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
    if (n > 0) {
      rc = relError(pzErr, SQLITE_CONSTRAINT,
                    "relext: rel_flush: cannot empty %s: %lld %s of %s %s it "
                    "(%s); flush %s too",
                    p->azTable[pE->iParent], n, n == 1 ? "row" : "rows", zC,
                    n == 1 ? "references" : "reference", pE->zName, zC);
    }
  }
  return rc;
}

/* The order of the DELETEs (aOrder, indexes into pF->azName): a table
** after every named table that references it (sources before targets),
** where cycles among them allow. */
static void relFlushOrder(RelCtx *p, const RelFlush *pF,
                          const unsigned char *aFlag, const int *aNameOf,
                          unsigned char *aDone, int *aOrder) {
  int k, i, j;
  memset(aDone, 0, (size_t)pF->nName);
  for (k = 0; k < pF->nName; k++) {
    int iPick = -1, iFirst = -1;
    for (i = 0; i < pF->nName && iPick < 0; i++) {
      int t = pF->aiTab[i], bBlocked = 0;
      if (aDone[i]) continue;
      if (iFirst < 0) iFirst = i;
      for (j = 0; t >= 0 && j < p->aTab[t].nParent && !bBlocked; j++) {
        int c = p->aEdge[p->aTab[t].aParent[j]].iChild;
        if (c != t && aFlag[c] && !aDone[aNameOf[c]]) bBlocked = 1;
      }
      if (!bBlocked) iPick = i;
    }
    if (iPick < 0) iPick = iFirst; /* a cycle */
    aDone[iPick] = 1;
    aOrder[k] = iPick;
  }
}

/* The number of rows of each named table, summed. */
static int relFlushCount(RelCtx *p, const RelFlush *pF, sqlite3_int64 *aRow,
                         sqlite3_int64 *pnAll, char **pzErr) {
  int i, rc = SQLITE_OK;
  *pnAll = 0;
  for (i = 0; rc == SQLITE_OK && i < pF->nName; i++) {
    sqlite3_stmt *pStmt = 0;
    rc = relPreparef(p->db, &pStmt, pzErr, "SELECT count(*) FROM main.\"%w\"",
                     pF->azName[i]);
    if (rc) break;
    aRow[i] = sqlite3_step(pStmt) == SQLITE_ROW ? sqlite3_column_int64(pStmt, 0)
                                                : 0;
    rc = sqlite3_finalize(pStmt);
    if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
    *pnAll += aRow[i];
  }
  return rc;
}

/* Empty the tables of pF (see the header comment); *pnGone gets the
** number of rows that went. */
static int relFlushRun(RelCtx *p, RelFlush *pF, sqlite3_int64 *pnGone,
                       char **pzErr) {
  sqlite3 *db = p->db;
  unsigned char *aFlag = 0, *aDone = 0;
  int *aNameOf = 0, *aOrder = 0;
  sqlite3_int64 *aRow = 0, nBefore = 0, nAfter = 0;
  RelSavepoint sp;
  int i, j, k, rc = SQLITE_OK;

  *pnGone = 0;
  aFlag = sqlite3_malloc64((size_t)p->nTable + 1);
  aNameOf = sqlite3_malloc64(sizeof(int) * ((size_t)p->nTable + 1));
  aDone = sqlite3_malloc64((size_t)pF->nName + 1);
  aOrder = sqlite3_malloc64(sizeof(int) * ((size_t)pF->nName + 1));
  aRow = sqlite3_malloc64(sizeof(sqlite3_int64) * ((size_t)pF->nName + 1));
  if (!aFlag || !aNameOf || !aDone || !aOrder || !aRow) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  memset(aFlag, 0, (size_t)p->nTable + 1);
  for (i = 0; i < p->nTable; i++)
    aNameOf[i] = -1;
  for (i = 0; i < pF->nName; i++) {
    if (pF->aiTab[i] >= 0) {
      aFlag[pF->aiTab[i]] = 1;
      aNameOf[pF->aiTab[i]] = i;
    }
  }
  rc = relFlushOutside(p, aFlag, pzErr);
  if (rc) goto done;
  relFlushOrder(p, pF, aFlag, aNameOf, aDone, aOrder);

  rc = relSavepointOpen(db, "relext_flush", &sp, pzErr);
  if (rc) goto done;
  rc = relFlushCount(p, pF, aRow, &nBefore, pzErr);
  if (rc == SQLITE_OK) {
    p->aFlush = aFlag;
    p->nFlush = p->nTable;
    for (k = 0; rc == SQLITE_OK && k < pF->nName; k++) {
      rc = relExecf(db, pzErr, "DELETE FROM main.\"%w\"",
                    pF->azName[aOrder[k]]);
    }
    p->aFlush = 0;
    p->nFlush = 0;
  }
  if (rc == SQLITE_OK) rc = relTxnLost(db, pzErr);
  if (rc == SQLITE_OK) rc = relFlushCount(p, pF, aRow, &nAfter, pzErr);
  /* Rows left in a flushed table were written or kept unnoted. */
  for (i = 0; rc == SQLITE_OK && i < pF->nName; i++) {
    int t = pF->aiTab[i];
    if (t < 0 || aRow[i] == 0) continue;
    for (j = 0; rc == SQLITE_OK && j < p->aTab[t].nChild; j++)
      rc = relCommitWhole(p, p->aTab[t].aChild[j]);
  }
  if (rc == SQLITE_OK) rc = relTxnLost(db, pzErr);
  if (rc == SQLITE_OK) {
    rc = relSavepointClose(db, &sp, 1, pzErr);
  } else {
    relSavepointClose(db, &sp, 0, pzErr);
  }
  if (rc == SQLITE_OK) *pnGone = nBefore - nAfter;

done:
  sqlite3_free(aFlag);
  sqlite3_free(aNameOf);
  sqlite3_free(aDone);
  sqlite3_free(aOrder);
  sqlite3_free(aRow);
  return rc;
}

/* rel_flush(table, ...): see the header comment. */
static void relFlushFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  RelFlush f;
  char *zErr = 0;
  sqlite3_int64 nGone = 0;
  int i, rc = SQLITE_OK;
  memset(&f, 0, sizeof(f));
  if (p->zBroken) {
    sqlite3_result_error(ctx, p->zBroken, -1);
    return;
  }
  /* Its own statements delete: the TEMP triggers first (guard.c). */
  if (relLazyCatchUp(p, &zErr) != SQLITE_OK) {
    relResultError(ctx, zErr ? SQLITE_ERROR : SQLITE_NOMEM, zErr);
    return;
  }
  if (relLazyBounceResult(p, -1, ctx)) {
    return;
  }
  if (p->aFlush || p->nBusy > 0) {
    sqlite3_result_error(ctx,
                         "relext: rel_flush cannot run while relext deletes "
                         "rows",
                         -1);
    return;
  }
  if (argc == 0) {
    sqlite3_result_error(ctx, "relext: rel_flush: no table given", -1);
    return;
  }
  /* The rules as the database has them now (another connection's
  ** rel_define, a rename): the tables are named by their index in them. */
  rc = relCtxSync(p, REL_SYNC_TEMP, &zErr);
  for (i = 0; rc == SQLITE_OK && i < argc; i++)
    rc = relFlushArg(p, &f, argv[i], &zErr);
  if (rc == SQLITE_OK) rc = relFlushRun(p, &f, &nGone, &zErr);
  relFlushClear(&f);
  if (rc) {
    if (rc == SQLITE_CONSTRAINT && zErr) relCtxSetLastError(p, zErr);
    relResultError(ctx, rc, zErr);
    return;
  }
  sqlite3_result_int64(ctx, nGone);
}

int relRegisterFlush(sqlite3 *db, RelCtx *p) {
  /* It deletes rows: SQLITE_DIRECTONLY keeps it out of reach of views and
  ** triggers planted in an untrusted database. */
  return sqlite3_create_function_v2(db, "rel_flush", -1,
                                    SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                    relCtxRef(p), relFlushFunc, 0, 0,
                                    relCtxUnref);
}
