/*
** engine.c -- the delete engine: on_delete rules where the order in which
** rows are deleted matters.
**
** WHEN IT RUNS
**   For a parent table whose rules cannot be plain SQL in its stored
**   delete guard (guard.c, relPlainMode: cascades that form a cycle, self
**   references, PROTECT or RESTRICT below a CASCADE), a TEMP BEFORE DELETE
**   trigger calls relext_on_delete(table, rowid) for every row deleted.
**
** THE MECHANISM
**   The engine works like Django's Collector, but set-based and iterative:
**   one recursive CTE collects the closure of rows reached through CASCADE
**   edges (no trigger recursion, so no depth limit and no dependence on
**   PRAGMA recursive_triggers); then PROTECT is checked against that
**   closure (any referencing row blocks, even one the same cascade would
**   delete), RESTRICT rows outside the closure are noted for the COMMIT
**   check (commit.c), SET_* updates run, and each table's share of the
**   closure goes in one DELETE ... WHERE rowid IN (...). While the engine
**   runs, the triggers of the rows it deletes return at once: those rows
**   were collected. Shortcuts: a row nothing references is left alone
**   after one probe per edge (relAnySql), and a self-referencing tree goes
**   in one recursive DELETE (relTreeSql). The statements are prepared
**   once per table (RelPlan) and kept while relext_close lets them.
**
** INVARIANTS
**   - PROTECT is decided before anything is changed for that row.
**   - RESTRICT is lifted by any deletion in the same statement (autocommit)
**     or transaction; a RESTRICT violation outside the closure of the row
**     is reported when the statement's transaction commits.
**   - The engine never holds the closure in C memory: it lives in the TEMP
**     table relext_victim (or the tree DELETE's own temporary tables) and
**     is cleared after each row.
**
** LIMITS
**   - Rows deleted by the application's own triggers while a relext
**     cascade runs are not followed by relext.
**   - REPLACE conflict resolution deletes rows without delete triggers
**     unless PRAGMA recursive_triggers is on: the parent's on_delete rules
**     do not run for such a row (the COMMIT check still refuses the
**     dangling keys it leaves).
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* The plan of a table: what deleting one of its rows involves. */
typedef struct RelPlan RelPlan;
struct RelPlan {
  int *aReach; /* tables reached through CASCADE, deepest first */
  int nReach;
  sqlite3_stmt **apDel; /* DELETE ... rowid IN victims, per aReach entry */
  sqlite3_stmt *pTree;  /* or, for a self-referencing tree, one DELETE */
  sqlite3_stmt *pAny;   /* a row if anything references row ?1 */
};

/* The state of this file, one per connection (REL_SLOT_ENGINE): the
** engine's statements, prepared on first use (see ctx.c for when they
** go). */
typedef struct RelEngine RelEngine;
struct RelEngine {
  sqlite3_stmt *pCollect;  /* the closure CTE */
  sqlite3_stmt *pClear;    /* DELETE FROM temp.relext_victim */
  sqlite3_stmt *pDropRoot; /* remove the root from the victims */
  sqlite3_stmt **apEdge;   /* per edge: the rule's statement (or NULL) */
  int nEdgeStmt;           /* entries in apEdge */
  int bPrepared;           /* statements match the loaded definitions */
  RelPlan *aPlan;          /* per table */
  int nPlan;
};

static RelEngine *relEngine(RelCtx *p) {
  return (RelEngine *)p->aSlot[REL_SLOT_ENGINE].pState;
}

/* ------------------------------------------------------------------ */
/* The delete engine                                                   */

static int relEnginePrepare(RelCtx *p, char **pzErr);

/* Step a statement that returns no rows; reset it. */
static int relStepDone(sqlite3 *db, sqlite3_stmt *pStmt, char **pzErr) {
  int rc;
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
  return rc;
}

/* Does pPlan reach table iTab (through CASCADE edges)? */
static int relPlanHas(const RelPlan *pPlan, int iTab) {
  int i;
  for (i = 0; i < pPlan->nReach; i++) {
    if (pPlan->aReach[i] == iTab) return 1;
  }
  return 0;
}

/* Run the engine for one row of table iRoot about to be deleted. */
static int relEngineRun(RelCtx *p, int iRoot, sqlite3_int64 iRowid,
                        char **pzErr) {
  RelEngine *e = relEngine(p);
  sqlite3 *db = p->db;
  const RelPlan *pPlan;
  int rc = SQLITE_OK;
  int i, pass;

  if (e == 0) return SQLITE_OK;
  if (!e->bPrepared) {
    relCloseHook(p);
    rc = relEnginePrepare(p, pzErr);
    if (rc) return rc;
  }
  if (iRoot < 0 || iRoot >= e->nPlan) {
    return relError(pzErr, SQLITE_INTERNAL,
                    "relext: internal error: no plan for table %d", iRoot);
  }
  pPlan = &e->aPlan[iRoot];
  /* Most rows deleted one at a time are referenced by nothing: then there
  ** is nothing to collect, check or set (one probe per relationship). */
  if (pPlan->pAny) {
    int bAny;
    sqlite3_bind_int64(pPlan->pAny, 1, iRowid);
    bAny = sqlite3_step(pPlan->pAny) == SQLITE_ROW;
    rc = sqlite3_reset(pPlan->pAny);
    if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(db));
    if (!bAny) return SQLITE_OK;
  }
  if (pPlan->pTree) {
    sqlite3_bind_int64(pPlan->pTree, 1, iRowid);
    return relStepDone(db, pPlan->pTree, pzErr);
  }

  /* 1. Collect the closure of CASCADE edges into temp.relext_victim. */
  sqlite3_bind_int(e->pCollect, 1, iRoot);
  sqlite3_bind_int64(e->pCollect, 2, iRowid);
  rc = relStepDone(db, e->pCollect, pzErr);

  /* 2. PROTECT first (it wins over RESTRICT), then RESTRICT, then SET_*,
  **    then DO_NOTHING notes. */
  for (pass = 0; rc == SQLITE_OK && pass < 4; pass++) {
    static const int aRule[4][3] = {{ON_PROTECT, -1, -1},
                                    {ON_RESTRICT, -1, -1},
                                    {ON_SET_NULL, ON_SET_DEFAULT, ON_SET},
                                    {ON_DO_NOTHING, -1, -1}};
    for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
      const RelEdge *pE = &p->aEdge[i];
      sqlite3_stmt *pStmt = e->apEdge[i];
      if (pStmt == 0) continue;
      if (pE->eRule != aRule[pass][0] && pE->eRule != aRule[pass][1] &&
          pE->eRule != aRule[pass][2])
        continue;
      if (!relPlanHas(pPlan, pE->iParent)) continue;
      if (pE->eRule == ON_PROTECT) {
        if (sqlite3_step(pStmt) == SQLITE_ROW) {
          char *zKey = relValueText(sqlite3_column_value(pStmt, 0));
          sqlite3_int64 n = sqlite3_column_int64(pStmt, 1);
          rc = SQLITE_NOMEM;
          if (zKey) {
            rc = relError(pzErr, SQLITE_CONSTRAINT,
                          "relext: PROTECT: cannot delete %s %s: referenced "
                          "by %lld row%s of %s",
                          p->azTable[pE->iParent], zKey, n, n == 1 ? "" : "s",
                          pE->zName);
          }
          sqlite3_free(zKey);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_reset(pStmt);
          if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
        } else {
          sqlite3_reset(pStmt);
        }
      } else if (pE->eRule == ON_RESTRICT || pE->eRule == ON_DO_NOTHING) {
        /* Keys still referenced from outside the closure. */
        while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
          if (pE->eRule == ON_RESTRICT || pE->bConstraint) {
            rc = relNoteAdd(
                p, i, pE->eRule == ON_RESTRICT ? NOTE_RESTRICT : NOTE_DANGLING,
                sqlite3_column_value(pStmt, 0), 1);
          }
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_reset(pStmt);
          if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
        } else {
          sqlite3_reset(pStmt);
        }
      } else {
        /* SET_NULL / SET_DEFAULT / SET(v): the statement has its value
        ** bound at install time. The new value may name a missing row or
        ** one this very delete removes: note it for the commit check. */
        rc = relStepDone(db, pStmt, pzErr);
        if (rc == SQLITE_OK && pE->bConstraint && pE->eRule != ON_SET_NULL &&
            sqlite3_changes(db) > 0) {
          const RelDef *d = &p->aDef[pE->iDef];
          rc =
              relNoteAddValue(p, i, NOTE_DANGLING,
                              pE->eRule == ON_SET ? &d->setVal : &d->defVal, 0);
        }
      }
    }
  }

  /* 3. Delete the closure, deepest tables first; the root row is left to
  **    the statement that is deleting it. */
  if (rc == SQLITE_OK) {
    sqlite3_bind_int(e->pDropRoot, 1, iRoot);
    sqlite3_bind_int64(e->pDropRoot, 2, iRowid);
    rc = relStepDone(db, e->pDropRoot, pzErr);
  }
  for (i = 0; rc == SQLITE_OK && i < pPlan->nReach; i++) {
    if (pPlan->apDel[i]) rc = relStepDone(db, pPlan->apDel[i], pzErr);
  }
  /* 4. Forget the closure. */
  {
    char *zIgnore = 0;
    int rc2 = relStepDone(db, e->pClear, rc ? &zIgnore : pzErr);
    sqlite3_free(zIgnore);
    if (rc == SQLITE_OK) rc = rc2;
  }
  return rc;
}

/* relext_on_delete(table, rowid): called by the BEFORE DELETE trigger. */
static void relOnDeleteFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  char *zErr = 0;
  int rc;
  (void)argc;
  if (p->nBusy > 0) return; /* a row the running engine collected */
  relCtxEnter(p);
  rc = relEngineRun(p, sqlite3_value_int(argv[0]), sqlite3_value_int64(argv[1]),
                    &zErr);
  relCtxLeave(p);
  if (rc) relResultError(ctx, rc, zErr);
}

static void relPlansFree(RelEngine *e) {
  int i, j;
  for (i = 0; i < e->nPlan; i++) {
    for (j = 0; e->aPlan[i].apDel && j < e->aPlan[i].nReach; j++)
      sqlite3_finalize(e->aPlan[i].apDel[j]);
    sqlite3_free(e->aPlan[i].apDel);
    sqlite3_free(e->aPlan[i].aReach);
    sqlite3_finalize(e->aPlan[i].pTree);
    sqlite3_finalize(e->aPlan[i].pAny);
  }
  sqlite3_free(e->aPlan);
  e->aPlan = 0;
  e->nPlan = 0;
}

/* Build the closure CTE over all CASCADE edges. */
static char *relCollectSql(RelCtx *p, const int *aRowidParent) {
  RelStr s = {0};
  int i;
  relStrPrintf(&s, "WITH RECURSIVE v(t, r) AS (VALUES(?1, ?2)");
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    if (pE->eRule != ON_CASCADE) continue;
    if (aRowidParent[i]) {
      relStrPrintf(&s,
                   " UNION SELECT %d, c.rowid FROM v JOIN main.\"%w\" AS c "
                   "ON c.\"%w\"=v.r WHERE v.t=%d",
                   pE->iChild, p->azTable[pE->iChild], pE->zChildCol,
                   pE->iParent);
    } else {
      relStrPrintf(&s,
                   " UNION SELECT %d, c.rowid FROM v JOIN main.\"%w\" AS p "
                   "ON p.rowid=v.r JOIN main.\"%w\" AS c ON c.\"%w\"=p.\"%w\" "
                   "WHERE v.t=%d",
                   pE->iChild, p->azTable[pE->iParent], p->azTable[pE->iChild],
                   pE->zChildCol, pE->zParentCol, pE->iParent);
    }
  }
  relStrPrintf(&s, ") INSERT OR IGNORE INTO temp.relext_victim(t, r) "
                   "SELECT t, r FROM v");
  return relStrFinish(&s);
}

/* Prepare the rule statement of edge i (NULL for CASCADE). */
static int relEdgeStmt(RelCtx *p, int i, sqlite3_stmt **pp, char **pzErr) {
  const RelEdge *pE = &p->aEdge[i];
  const char *zP = p->azTable[pE->iParent];
  const char *zC = p->azTable[pE->iChild];
  char *zKey = relColExpr("p", pE->zParentCol);
  int rc = SQLITE_OK;
  *pp = 0;
  if (zKey == 0) return SQLITE_NOMEM;
  switch (pE->eRule) {
  case ON_PROTECT:
    rc = relPreparef(p->db, pp, pzErr,
                     "SELECT %s, count(*) FROM temp.relext_victim AS v "
                     "JOIN main.\"%w\" AS p ON p.rowid=v.r "
                     "JOIN main.\"%w\" AS c ON c.\"%w\"=%s "
                     "WHERE v.t=%d GROUP BY 1 ORDER BY 1 LIMIT 1",
                     zKey, zP, zC, pE->zChildCol, zKey, pE->iParent);
    break;
  case ON_RESTRICT:
  case ON_DO_NOTHING:
    rc =
        relPreparef(p->db, pp, pzErr,
                    "SELECT DISTINCT %s FROM temp.relext_victim AS v "
                    "JOIN main.\"%w\" AS p ON p.rowid=v.r "
                    "JOIN main.\"%w\" AS c ON c.\"%w\"=%s "
                    "WHERE v.t=%d AND NOT EXISTS (SELECT 1 FROM "
                    "temp.relext_victim AS w WHERE w.t=%d AND w.r=c.rowid)",
                    zKey, zP, zC, pE->zChildCol, zKey, pE->iParent, pE->iChild);
    break;
  case ON_SET_NULL:
  case ON_SET_DEFAULT:
  case ON_SET: {
    const RelDef *d = &p->aDef[pE->iDef];
    rc = relPreparef(p->db, pp, pzErr,
                     "UPDATE main.\"%w\" SET \"%w\"=?1 WHERE \"%w\".\"%w\" IN "
                     "(SELECT %s FROM temp.relext_victim AS v JOIN "
                     "main.\"%w\" AS p ON p.rowid=v.r WHERE v.t=%d) AND "
                     "rowid NOT IN (SELECT r FROM temp.relext_victim WHERE "
                     "t=%d)",
                     zC, pE->zChildCol, zC, pE->zChildCol, zKey, zP,
                     pE->iParent, pE->iChild);
    if (rc == SQLITE_OK && pE->eRule == ON_SET_DEFAULT)
      relValueBind(*pp, 1, &d->defVal);
    if (rc == SQLITE_OK && pE->eRule == ON_SET)
      relValueBind(*pp, 1, &d->setVal);
    break;
  }
  default:
    break;
  }
  sqlite3_free(zKey);
  return rc;
}

/*
** The tree plan. When the only edges out of table t are CASCADE edges from
** t to itself (a self-referencing tree: replies to comments, subcategories),
** nothing is checked or set: the closure is deleted, whatever the order.
** Then one statement does it, with no victim table and no second pass:
**   WITH RECURSIVE v(r) AS (VALUES(?1) UNION SELECT c.rowid FROM v JOIN t
**   AS c ON c.key_column=v.r WHERE c.rowid<>?1)
**   DELETE FROM t WHERE rowid IN v AND rowid<>?1
** With one such edge whose key is the rowid, each row has one parent (its
** key column holds one value, and one value equals at most one rowid,
** whatever its type), so the walk from the root meets a row at most once
** unless it comes back to the root, which the WHERE excludes (the
** statement deleting the root deletes it): then UNION ALL, without the set
** that UNION keeps, is exact and ends. Any other key keeps UNION: one
** child value can equal several parent keys when the key's unique index
** is gone or compares otherwise (a NOCASE column, a unique index BINARY),
** or when affinity makes '1' and '01' both equal 1 (a hand-edited
** catalog), and UNION ALL would then walk forever. Returns the SQL, or
** NULL (with *pRc unchanged) when t's plan is not a tree.
*/
static char *relTreeSql(RelCtx *p, const RelPlan *pPlan, int t, int *pRc) {
  RelStr s = {0};
  int i, nSelf = 0;
  if (pPlan->nReach != 1) return 0;
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    if (pE->iParent != t) continue;
    if (pE->eRule != ON_CASCADE || pE->iChild != t) return 0;
    nSelf++;
  }
  if (nSelf == 0) return 0;
  relStrPrintf(&s, "WITH RECURSIVE v(r) AS (VALUES(?1)");
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    const char *zT = p->azTable[t];
    int bRowid = 0, rc;
    if (pE->iParent != t) continue;
    rc = relIsRowidAlias(p->db, zT, pE->zParentCol, &bRowid);
    if (rc && s.eRc == SQLITE_OK) s.eRc = rc;
    relStrPrintf(&s, " UNION%s SELECT c.rowid FROM v JOIN ",
                 nSelf == 1 && bRowid ? " ALL" : "");
    if (bRowid) {
      relStrPrintf(&s, "main.\"%w\" AS c ON c.\"%w\"=v.r", zT, pE->zChildCol);
    } else {
      char *zKey = relColExpr("p", pE->zParentCol);
      if (zKey == 0) s.eRc = SQLITE_NOMEM;
      relStrPrintf(&s,
                   "main.\"%w\" AS p ON p.rowid=v.r JOIN main.\"%w\" AS c ON "
                   "c.\"%w\"=%s",
                   zT, zT, pE->zChildCol, zKey ? zKey : "NULL");
      sqlite3_free(zKey);
    }
    relStrPrintf(&s, " WHERE c.rowid<>?1");
  }
  relStrPrintf(&s, ") DELETE FROM main.\"%w\" WHERE rowid IN v AND rowid<>?1",
               p->azTable[t]);
  if (s.eRc) *pRc = s.eRc;
  return relStrFinish(&s);
}

/* A query with a row when any row references row ?1 of table t, through
** any relationship; NULL (with *pRc unchanged) when t is no parent. */
static char *relAnySql(RelCtx *p, int t, int *pRc) {
  RelStr s = {0};
  int i, n = 0;
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    char *zKey;
    if (pE->iParent != t) continue;
    zKey = relColExpr("p", pE->zParentCol);
    if (zKey == 0) s.eRc = SQLITE_NOMEM;
    if (n++ == 0) {
      relStrPrintf(&s, "SELECT 1 FROM main.\"%w\" AS p WHERE p.rowid=?1 AND (",
                   p->azTable[t]);
    } else {
      relStrPrintf(&s, " OR ");
    }
    /* (c."col", not "col": a column renamed under the cached statement
    ** must be an error, not the string 'col', which matches nothing.) */
    relStrPrintf(&s,
                 "EXISTS (SELECT 1 FROM main.\"%w\" AS c WHERE c.\"%w\"=%s)",
                 p->azTable[pE->iChild], pE->zChildCol, zKey ? zKey : "NULL");
    sqlite3_free(zKey);
  }
  if (n == 0) return 0;
  relStrPrintf(&s, ")");
  if (s.eRc) *pRc = s.eRc;
  return relStrFinish(&s);
}

/* The per-root plans: tables reached through CASCADE edges. */
static int relBuildPlans(RelCtx *p, RelEngine *e, char **pzErr) {
  int t, rc = SQLITE_OK;
  e->aPlan = sqlite3_malloc64(sizeof(RelPlan) * (size_t)(p->nTable + 1));
  if (e->aPlan == 0) return SQLITE_NOMEM;
  memset(e->aPlan, 0, sizeof(RelPlan) * (size_t)(p->nTable + 1));
  e->nPlan = p->nTable;
  for (t = 0; rc == SQLITE_OK && t < p->nTable; t++) {
    RelPlan *pPlan = &e->aPlan[t];
    int *aQ = sqlite3_malloc64(sizeof(int) * (size_t)(p->nTable + 1));
    int nQ = 0, iHead = 0, i, k;
    if (aQ == 0) return SQLITE_NOMEM;
    aQ[nQ++] = t;
    while (iHead < nQ) {
      int iCur = aQ[iHead++];
      for (i = 0; i < p->nEdge; i++) {
        const RelEdge *pE = &p->aEdge[i];
        if (pE->eRule != ON_CASCADE || pE->iParent != iCur) continue;
        for (k = 0; k < nQ && aQ[k] != pE->iChild; k++) {
        }
        if (k == nQ) aQ[nQ++] = pE->iChild;
      }
    }
    /* Deepest first. */
    for (i = 0; i < nQ / 2; i++) {
      int tmp = aQ[i];
      aQ[i] = aQ[nQ - 1 - i];
      aQ[nQ - 1 - i] = tmp;
    }
    pPlan->aReach = aQ;
    pPlan->nReach = nQ;
    {
      char *zAny = relAnySql(p, t, &rc);
      if (zAny) rc = relPreparef(p->db, &pPlan->pAny, pzErr, "%s", zAny);
      sqlite3_free(zAny);
      if (rc) return rc;
    }
    {
      char *zTree = relTreeSql(p, pPlan, t, &rc);
      if (zTree) rc = relPreparef(p->db, &pPlan->pTree, pzErr, "%s", zTree);
      sqlite3_free(zTree);
      if (rc) return rc;
      if (pPlan->pTree) continue;
    }
    pPlan->apDel = sqlite3_malloc64(sizeof(sqlite3_stmt *) * (size_t)nQ);
    if (pPlan->apDel == 0) return SQLITE_NOMEM;
    memset(pPlan->apDel, 0, sizeof(sqlite3_stmt *) * (size_t)nQ);
    for (i = 0; rc == SQLITE_OK && i < nQ; i++) {
      /* Only tables that can hold victims other than the root. */
      int bChild = 0;
      for (k = 0; k < p->nEdge; k++) {
        if (p->aEdge[k].eRule == ON_CASCADE && p->aEdge[k].iChild == aQ[i])
          bChild = 1;
      }
      if (!bChild) continue;
      rc = relPreparef(p->db, &pPlan->apDel[i], pzErr,
                       "DELETE FROM main.\"%w\" WHERE rowid IN (SELECT r FROM "
                       "temp.relext_victim WHERE t=%d)",
                       p->azTable[aQ[i]], aQ[i]);
    }
  }
  return rc;
}

/* Prepare the engine's statements for the loaded definitions. */
static int relEnginePrepare(RelCtx *p, char **pzErr) {
  RelEngine *e = relEngine(p);
  sqlite3 *db = p->db;
  int rc = SQLITE_OK, i;
  int *aRowidParent;
  char *zSql;
  relCtxStmtsFree(p);
  aRowidParent = sqlite3_malloc64(sizeof(int) * (size_t)(p->nEdge + 1));
  if (aRowidParent == 0) return SQLITE_NOMEM;
  for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
    rc = relIsRowidAlias(db, p->azTable[p->aEdge[i].iParent],
                         p->aEdge[i].zParentCol, &aRowidParent[i]);
  }
  zSql = rc ? 0 : relCollectSql(p, aRowidParent);
  if (rc == SQLITE_OK && zSql == 0) rc = SQLITE_NOMEM;
  if (rc == SQLITE_OK) rc = relPreparef(db, &e->pCollect, pzErr, "%s", zSql);
  sqlite3_free(zSql);
  sqlite3_free(aRowidParent);
  if (rc == SQLITE_OK)
    rc = relPreparef(db, &e->pClear, pzErr, "DELETE FROM temp.relext_victim");
  if (rc == SQLITE_OK)
    rc = relPreparef(db, &e->pDropRoot, pzErr,
                     "DELETE FROM temp.relext_victim WHERE t=?1 AND r=?2");
  if (rc == SQLITE_OK) {
    e->apEdge =
        sqlite3_malloc64(sizeof(sqlite3_stmt *) * (size_t)(p->nEdge + 1));
    if (e->apEdge == 0)
      rc = SQLITE_NOMEM;
    else {
      memset(e->apEdge, 0, sizeof(sqlite3_stmt *) * (size_t)(p->nEdge + 1));
      e->nEdgeStmt = p->nEdge;
    }
  }
  for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
    rc = relEdgeStmt(p, i, &e->apEdge[i], pzErr);
  }
  if (rc == SQLITE_OK) rc = relBuildPlans(p, e, pzErr);
  if (rc == SQLITE_OK)
    e->bPrepared = 1;
  else
    relCtxStmtsFree(p);
  return rc;
}

/* xStmtsFree: finalize the engine's statements (see ctx.c). */
static void relEngineStmtsFree(RelCtx *p, void *pState) {
  RelEngine *e = (RelEngine *)pState;
  int i;
  (void)p;
  sqlite3_finalize(e->pCollect);
  sqlite3_finalize(e->pClear);
  sqlite3_finalize(e->pDropRoot);
  e->pCollect = e->pClear = e->pDropRoot = 0;
  if (e->apEdge) {
    for (i = 0; i < e->nEdgeStmt; i++)
      sqlite3_finalize(e->apEdge[i]);
    sqlite3_free(e->apEdge);
    e->apEdge = 0;
  }
  e->nEdgeStmt = 0;
  e->bPrepared = 0;
  relPlansFree(e);
}

/* xFree: the context dies (its statements are gone already). */
static void relEngineFree(RelCtx *p, void *pState) {
  (void)p;
  sqlite3_free(pState);
}

static const RelHooks engineHooks = {
    0,                  /* xRemap: the statements go (ctx.c) */
    0,                  /* xLoaded: prepared on first use */
    relEngineStmtsFree, /* xStmtsFree */
    relEngineFree,      /* xFree */
};

int relRegisterEngine(sqlite3 *db, RelCtx *p) {
  RelEngine *e = sqlite3_malloc64(sizeof(RelEngine));
  if (e == 0) return SQLITE_NOMEM;
  memset(e, 0, sizeof(*e));
  relCtxAttach(p, REL_SLOT_ENGINE, e, &engineHooks);
  /* Side effects: only TEMP triggers (which are trusted) may call it. */
  return sqlite3_create_function_v2(
      db, "relext_on_delete", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, relCtxRef(p),
      relOnDeleteFunc, 0, 0, relCtxUnref);
}
