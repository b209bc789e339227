/*
** engine.c -- the delete engine: on_delete rules where the order in which
** rows are deleted matters.
**
** WHEN IT RUNS
**   For a parent table whose rules cannot be plain SQL in its stored
**   delete guards (catalog.c, relRulesPlain: cascades that form a cycle,
**   self references, PROTECT or RESTRICT below a CASCADE), a TEMP AFTER
**   DELETE trigger calls relext_on_delete(table, row, key...) for every
**   row deleted, once it has really gone (an application trigger that keeps
**   the row with RAISE(IGNORE) keeps its children), with the row's name
**   (rowid, or the key of a WITHOUT ROWID table) and the values of the
**   columns its relationships reference: the row itself can no longer be
**   read.
**
** THE MECHANISM
**   The engine works like Django's Collector, but set-based and iterative:
**   one recursive CTE, seeded with the deleted row's keys, collects the
**   closure of rows reached through CASCADE edges (no trigger recursion,
**   so no depth limit and no dependence on PRAGMA recursive_triggers); then
**   PROTECT is checked against that closure (any referencing row blocks,
**   even one the same cascade would delete, or one the same statement
**   deleted earlier: relext_gone), RESTRICT rows outside the closure are
**   decided (below), SET_* updates run, and each table's share of the
**   closure goes in one DELETE ... WHERE rowid IN (...), deepest tables
**   first. While the engine runs, the triggers of the rows it deletes stand
**   aside: those rows were collected. Shortcuts: a row nothing references
**   is left alone after one probe per edge (relAnySql), and a
**   self-referencing tree goes in one recursive DELETE (relTreeSql). The
**   statements are prepared once per table (RelPlan) and kept while
**   relext_close lets them.
**
**   The CTE has one term per CASCADE edge it may follow, and SQLite
**   allows a compound SELECT at most SQLITE_LIMIT_COMPOUND_SELECT terms
**   (500 by default; an application or the shell's .limit may lower it;
**   relCompoundMax). When the edges do not fit in one CTE (a table at the
**   root of thousands of relationships, or a lowered limit), the closure
**   is collected in rounds (relCollectPrepare): statements seeded with the
**   deleted row and its keys run once, then CTEs of at most limit-1 edges,
**   each starting from the rows already collected of its edges' parents,
**   run in turn until a whole round adds no row (the sum of their
**   sqlite3_changes is 0). The closure is the same: every row collected
**   is reached from the root, and when a round adds nothing no edge leads
**   out of the rows collected. Plans are made for the limit of the moment
**   and made again when it changes.
**
**   A RESTRICT is refused at once when no later row of the statement can
**   delete the referencing rows (their table is not reached from the
**   statement's through CASCADE). Otherwise it waits for the end of the
**   statement (relRestrictWhen): the COMMIT check of an autocommit
**   statement, or, inside a transaction, SQLite's immediate foreign-key
**   counter through relext_pending (stmtend.c). A table whose delete
**   may meet both a RESTRICT and a PROTECT lets even a certain RESTRICT
**   wait, so that a later row's PROTECT wins, and then skips the row's own
**   updates and deletes, so that no other error pre-empts the refusal.
**
**   Careful mode (relEngineCareful): where an application trigger fires on
**   rows the engine writes, notes are taken meanwhile, rows that trigger
**   deletes get their rules, and a collected row it kept refuses the
**   statement.
**
** INVARIANTS
**   - PROTECT and RESTRICT are decided for a row before any of its rules
**     act; a later statement never lifts a RESTRICT.
**   - The engine never holds the closure in C memory: it lives in the TEMP
**     table relext_victim (or the tree DELETE's own temporary tables) and
**     is cleared after each row.
**
** LIMITS
**   - A compound limit of 1 leaves no room for the engine's statements:
**     SQLite refuses them ("too many terms in compound SELECT"). Rounds
**     cost one pass over the collected rows of the parents per CTE and
**     round: a closure deep across many CTEs takes that many rounds.
**   - Without foreign keys on, inside a transaction, a RESTRICT that may
**     still be lifted is left to the COMMIT check. One found by an
**     accessor's DELETE waits for its last row (accwrite.c); an accessor
**     nested in another accessor's write leaves it to the COMMIT check.
**   - In careful mode a row of an engine-mode table deleted by an
**     application trigger is refused: the engine runs one closure at a
**     time.
**   - REPLACE conflict resolution deletes rows without delete triggers
**     unless PRAGMA recursive_triggers is on: the parent's on_delete rules
**     do not run for such a row; the COMMIT check refuses the dangling keys
**     it leaves, and says so.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* The plan of a table: what deleting one of its rows involves. */
typedef struct RelPlan RelPlan;
struct RelPlan {
  int *aReach; /* tables reached through CASCADE, deepest first */
  int nReach;
  sqlite3_stmt **apCollect; /* the closure from a row of this table: the
                            ** seeds, then the rounds (relCollectPrepare) */
  int nCollect;             /* entries in apCollect */
  int nSeed;                /* of which the first nSeed run once */
  sqlite3_stmt **apDel;     /* DELETE ... rowid IN victims, per aReach entry */
  sqlite3_stmt *pTree;      /* or, for a self-referencing tree, one DELETE */
  sqlite3_stmt *pAny;       /* a row if anything references the keys ?2.. */
  int bCareful;             /* an application trigger fires on rows it writes */
  int nReprepare;           /* pAny's re-preparations when bCareful was set */
};

/* The state of this file, one per connection (REL_SLOT_ENGINE): the
** engine's statements, prepared on first use (see ctx.c for when they
** go). */
typedef struct RelEngine RelEngine;
struct RelEngine {
  sqlite3_stmt *pClear;    /* DELETE FROM temp.relext_victim */
  sqlite3_stmt *pDropRoot; /* remove the root from the victims */
  sqlite3_stmt **apEdge;   /* per edge: the rule's statement (or NULL) */
  int nEdgeStmt;           /* entries in apEdge */
  int bPrepared;           /* statements match the loaded definitions */
  RelPlan *aPlan;          /* per table */
  int nPlan;
  sqlite3_stmt **apGone;   /* per edge: is key ?3 among those deleted */
  char **azRow;            /* per table: how SQL names a row of it (rowid,
                           ** or the key of a WITHOUT ROWID table) */
  int nRow;                /* entries in azRow */
  int iLevel;              /* the savepoint depth of the statement running
                           ** the engine (relext_gone) */
  sqlite3_stmt *pVictim;   /* is row ?2 of table ?1 collected? */
  int nCompound;           /* relCompoundMax when the plans were made */
};

static RelEngine *relEngine(RelCtx *p) {
  return (RelEngine *)p->aSlot[REL_SLOT_ENGINE].pState;
}

/* ------------------------------------------------------------------ */
/* The delete engine                                                   */

static int relEnginePrepare(RelCtx *p, char **pzErr);

/* How a row of table t is named in the engine's SQL: rowid, or the
** primary key column of a WITHOUT ROWID table (quoted). The victims'
** column r holds it. */
static const char *relRow(const RelEngine *e, int t) {
  return e->azRow && e->azRow[t] ? e->azRow[t] : "rowid";
}

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

/* PROTECT edge iEdge, whose protecting rows the running statement may
** have deleted before this row: is any key they protected among those
** this delete removes (pRootKey: the root's own, when it is the parent)?
** Then the PROTECT holds, as in Django. */
static int relGoneCheck(RelCtx *p, RelEngine *e, int iEdge, int iRoot,
                        sqlite3_value *pRootKey, char **pzErr) {
  const RelEdge *pE = &p->aEdge[iEdge];
  const RelValue *pKey;
  sqlite3_stmt *pStmt = e->apGone[iEdge];
  int iPos = 0, rc = SQLITE_OK;
  while (rc == SQLITE_OK && (pKey = relGoneNext(p, iEdge, &iPos)) != 0) {
    int bHit;
    sqlite3_bind_int(pStmt, 1, iRoot);
    if (pRootKey)
      sqlite3_bind_value(pStmt, 2, pRootKey);
    else
      sqlite3_bind_null(pStmt, 2);
    relValueBind(pStmt, 3, pKey);
    bHit = sqlite3_step(pStmt) == SQLITE_ROW;
    rc = sqlite3_reset(pStmt);
    if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
    if (bHit) {
      char *zKey = relValueFormat(pKey, REL_FMT_MSG);
      if (zKey == 0) return SQLITE_NOMEM;
      rc = relError(pzErr, SQLITE_CONSTRAINT,
                    "relext: PROTECT: cannot delete %s %s: referenced by 1 "
                    "row of %s",
                    p->azTable[pE->iParent], zKey, pE->zName);
      sqlite3_free(zKey);
    }
  }
  return rc;
}

/* When a RESTRICT found while deleting a row is decided. */
#define REL_WHEN_NOW 0       /* at once: nothing can lift it any more */
#define REL_WHEN_STATEMENT 1 /* at the end of the statement (stmtend.c) */
#define REL_WHEN_COMMIT 2    /* by the COMMIT check */
#define REL_WHEN_ACCESSOR 3  /* at the last row of an accessor's DELETE */

/* When to decide a RESTRICT of edge pE, found while deleting a row of the
** plan's table. A later row of the same statement can delete a referencing
** row only if its table is reached from the plan's through CASCADE (the
** plan's own table included): else the refusal is certain now. If it may
** be lifted: in autocommit the statement's end is the COMMIT check; in a
** transaction, SQLite's immediate foreign-key counter fails the statement
** at its end (stmtend.c), when foreign keys are on and not deferred; the
** statement of an accessor's DELETE (p->iAccTag), at its last row, where
** the accessor can fail it (accwrite.c); else the COMMIT check decides. */
static int relRestrictWhen(RelCtx *p, int iRoot, const RelPlan *pPlan,
                           const RelEdge *pE, int *pbCertain) {
  *pbCertain = !relPlanHas(pPlan, pE->iChild);
  /* A certain RESTRICT still waits for the end of the statement when a
  ** later row of it may meet a PROTECT, which Django reports instead. */
  if (*pbCertain && !p->aTab[iRoot].bDoomable) return REL_WHEN_NOW;
  switch (relRestrictWait(p)) {
  case REL_WAIT_COMMIT:
    return REL_WHEN_COMMIT;
  case REL_WAIT_STATEMENT:
    return REL_WHEN_STATEMENT;
  case REL_WAIT_ACCESSOR:
    return REL_WHEN_ACCESSOR;
  }
  return *pbCertain ? REL_WHEN_NOW : REL_WHEN_COMMIT;
}

/*
** Careful mode. The engine deletes its closure and sets keys with
** statements of its own, while the triggers of the rows it deletes stand
** aside and the guard function takes no notes: those rows were collected
** and checked. An application trigger that fires on such a row breaks
** that: it may keep the row (RAISE(IGNORE)), write keys, or delete other
** governed rows. So a plan whose writes reach a table with a trigger of
** the application's is careful: notes are taken meanwhile, a governed row
** that was not collected gets its rules (plain-mode checks decide, a row
** of the engine's own is refused: see relCollected), and a collected row
** that is still there afterwards refuses the statement with its dangling
** key. Which tables have such triggers is read again whenever SQLite
** re-prepared the plan's first statement (a schema change).
*/
static int relEngineCareful(RelCtx *p, RelEngine *e, char **pzErr) {
  sqlite3_stmt *pStmt = 0;
  unsigned char *aTrig;
  int rc, t, i, k;
  aTrig = sqlite3_malloc64((size_t)p->nTable + 1);
  if (aTrig == 0) return SQLITE_NOMEM;
  memset(aTrig, 0, (size_t)p->nTable + 1);
  rc = relPreparef(p->db, &pStmt, pzErr,
                   "SELECT tbl_name FROM main.sqlite_schema WHERE "
                   "type='trigger' AND name NOT GLOB 'relext_*' UNION ALL "
                   "SELECT tbl_name FROM temp.sqlite_schema WHERE "
                   "type='trigger' AND name NOT GLOB 'relext_*'");
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(pStmt, 0);
    int iTab = z ? relCtxTable(p, z) : -1;
    if (iTab >= 0) aTrig[iTab] = 1;
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_finalize(pStmt);
    if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  }
  for (t = 0; rc == SQLITE_OK && t < e->nPlan; t++) {
    RelPlan *pPlan = &e->aPlan[t];
    pPlan->bCareful = 0;
    for (i = 0; i < pPlan->nReach; i++) {
      const RelTable *pT = &p->aTab[pPlan->aReach[i]];
      if (aTrig[pPlan->aReach[i]]) pPlan->bCareful = 1;
      /* The children its SET_* rules update. */
      for (k = 0; k < pT->nParent; k++) {
        const RelEdge *pE = &p->aEdge[pT->aParent[k]];
        if ((pE->eRule == ON_SET_NULL || pE->eRule == ON_SET_DEFAULT ||
             pE->eRule == ON_SET) &&
            aTrig[pE->iChild])
          pPlan->bCareful = 1;
      }
    }
    if (pPlan->pAny)
      pPlan->nReprepare =
          sqlite3_stmt_status(pPlan->pAny, SQLITE_STMTSTATUS_REPREPARE, 0);
  }
  sqlite3_free(aTrig);
  return rc;
}

/* Is row pRow of table t one the running engine collected (careful mode:
** the rows it deletes are its own; others an application trigger
** touched)? */
static int relCollected(RelCtx *p, int t, sqlite3_value *pRow, int *pbYes,
                        char **pzErr) {
  RelEngine *e = relEngine(p);
  int rc = SQLITE_OK;
  *pbYes = 0;
  if (e->pVictim == 0) {
    rc = relPreparef(p->db, &e->pVictim, pzErr,
                     "SELECT 1 FROM temp.relext_victim WHERE t=?1 AND r=?2");
    if (rc) return rc;
  }
  sqlite3_bind_int(e->pVictim, 1, t);
  sqlite3_bind_value(e->pVictim, 2, pRow);
  *pbYes = sqlite3_step(e->pVictim) == SQLITE_ROW;
  rc = sqlite3_reset(e->pVictim);
  if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  return rc;
}

/* Careful mode, after the deletes: a collected row still there was kept
** by an application trigger, and its key would dangle. */
static int relSurvivors(RelCtx *p, RelEngine *e, const RelPlan *pPlan,
                        char **pzErr) {
  int i, k, rc = SQLITE_OK;
  for (i = 0; rc == SQLITE_OK && i < pPlan->nReach; i++) {
    int t = pPlan->aReach[i];
    const RelTable *pT = &p->aTab[t];
    for (k = 0; rc == SQLITE_OK && k < pT->nChild; k++) {
      const RelEdge *pE = &p->aEdge[pT->aChild[k]];
      sqlite3_stmt *pStmt = 0;
      char *zPKey;
      if (pE->eRule != ON_CASCADE || !relPlanHas(pPlan, pE->iParent)) continue;
      zPKey = relColExpr("q", pE->zParentCol);
      if (zPKey == 0) return SQLITE_NOMEM;
      rc = relPreparef(p->db, &pStmt, pzErr,
                       "SELECT c.%s, c.\"%w\" FROM temp.relext_victim AS v "
                       "JOIN main.\"%w\" AS c ON c.%s=v.r WHERE v.t=%d AND "
                       "c.\"%w\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                       "main.\"%w\" AS q WHERE %s=c.\"%w\") LIMIT 1",
                       relRow(e, t), pE->zChildCol, p->azTable[t],
                       relRow(e, t), t, pE->zChildCol,
                       p->azTable[pE->iParent], zPKey, pE->zChildCol);
      sqlite3_free(zPKey);
      if (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
        char *zRow = relValueText(sqlite3_column_value(pStmt, 0));
        char *zKey = relValueText(sqlite3_column_value(pStmt, 1));
        rc = zRow && zKey
                 ? relError(pzErr, SQLITE_CONSTRAINT,
                            "relext: FOREIGN KEY: %s %s: %s=%s points at no "
                            "row of %s (%s)",
                            p->azTable[t], zRow, pE->zChildCol, zKey,
                            p->azTable[pE->iParent], pE->zName)
                 : SQLITE_NOMEM;
        sqlite3_free(zRow);
        sqlite3_free(zKey);
      }
      if (pStmt) {
        int rc2 = sqlite3_finalize(pStmt);
        if (rc == SQLITE_OK && rc2) rc = relError(pzErr, rc2, "%s",
                                                  sqlite3_errmsg(p->db));
      }
    }
  }
  return rc;
}

/* Bind the root's keys: ?2, ?3, ... are the values of the referenced
** columns of table iRoot (RelTable.azKey) in the row deleted. */
static void relBindKeys(sqlite3_stmt *pStmt, int iFirst, int nKey,
                        sqlite3_value **apKey) {
  int k;
  for (k = 0; k < nKey; k++)
    sqlite3_bind_value(pStmt, iFirst + k, apKey[k]);
}

/* Run the engine for one row of table iRoot that has just been deleted:
** iRowid was its rowid, apKey[] (nKey of them) the values of the columns
** its relationships reference. */
static int relEngineCarefulRun(RelCtx *p, int iRoot, sqlite3_value *pRow,
                               int nKey, sqlite3_value **apKey, char **pzErr);
static int relEngineRunX(RelCtx *p, int iRoot, sqlite3_value *pRow, int nKey,
                         sqlite3_value **apKey, int bCareful, char **pzErr);
static int relCollectRun(sqlite3 *db, const RelPlan *pPlan, sqlite3_value *pRow,
                         int nKey, sqlite3_value **apKey, char **pzErr);

static int relEngineRun(RelCtx *p, int iRoot, sqlite3_value *pRow, int nKey,
                        sqlite3_value **apKey, char **pzErr) {
  return relEngineRunX(p, iRoot, pRow, nKey, apKey, 0, pzErr);
}

/* relEngineRun: bCareful runs the general plan (collect, check, act) with
** the application's triggers in mind (see relEngineCareful). */
static int relEngineRunX(RelCtx *p, int iRoot, sqlite3_value *pRow, int nKey,
                         sqlite3_value **apKey, int bCareful, char **pzErr) {
  RelEngine *e = relEngine(p);
  sqlite3 *db = p->db;
  const RelPlan *pPlan;
  int rc = SQLITE_OK;
  int i, pass, bDoomed = 0;

  if (e == 0) return SQLITE_OK;
  /* Plans made for another compound limit (sqlite3_limit) might not
  ** prepare again when SQLite re-prepares them: made anew. */
  if (e->bPrepared && e->nCompound != relCompoundMax(db)) e->bPrepared = 0;
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
  if (nKey != p->aTab[iRoot].nKey) {
    return relError(pzErr, SQLITE_INTERNAL,
                    "relext: internal error: %d keys for table %d", nKey,
                    iRoot);
  }
  /* Most rows deleted one at a time are referenced by nothing: then there
  ** is nothing to collect, check or set (one probe per relationship). */
  if (pPlan->pAny) {
    int bAny;
    relBindKeys(pPlan->pAny, 2, nKey, apKey);
    bAny = sqlite3_step(pPlan->pAny) == SQLITE_ROW;
    rc = sqlite3_reset(pPlan->pAny);
    if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(db));
    /* (Unless a row this statement deleted protected it.) */
    for (i = 0; !bAny && i < p->aTab[iRoot].nParent; i++) {
      int iPos = 0;
      const RelEdge *pE = &p->aEdge[p->aTab[iRoot].aParent[i]];
      if (pE->bGoneTracked && relGoneNext(p, p->aTab[iRoot].aParent[i], &iPos))
        bAny = 1;
    }
    if (!bAny) return SQLITE_OK;
    /* A schema change (SQLite re-prepared the probe): are there
    ** application triggers now? */
    if (sqlite3_stmt_status(pPlan->pAny, SQLITE_STMTSTATUS_REPREPARE, 0) !=
        pPlan->nReprepare) {
      rc = relEngineCareful(p, e, pzErr);
      if (rc) return rc;
    }
  }
  /* Something to do: relext_txn joins the transaction now (its COMMIT
  ** check, its savepoints), not for every row deleted (the TEMP trigger no
  ** longer enrols it): a leaf deleted in a transaction of its own leaves
  ** nothing for COMMIT. */
  if (!bCareful) {
    rc = relCommitEnrol(p);
    if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(db));
    e->iLevel = relCommitLevel(p);
  }
  if (pPlan->bCareful && !bCareful) {
    return relEngineCarefulRun(p, iRoot, pRow, nKey, apKey, pzErr);
  }
  if (pPlan->pTree && !bCareful) {
    sqlite3_bind_value(pPlan->pTree, 1, pRow);
    relBindKeys(pPlan->pTree, 2, nKey, apKey);
    return relStepDone(db, pPlan->pTree, pzErr);
  }

  /* 1. Collect the closure of CASCADE edges into temp.relext_victim. */
  rc = relCollectRun(db, pPlan, pRow, nKey, apKey, pzErr);

  /* 2. PROTECT first (it wins over RESTRICT), then RESTRICT, then SET_*,
  **    then DO_NOTHING notes. */
  for (pass = 0; rc == SQLITE_OK && pass < 4 && !(pass >= 2 && bDoomed);
       pass++) {
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
      /* ?1, ?2: the root's table and its key for this edge (the root row
      ** is gone: the statements cannot read its key from it). */
      sqlite3_bind_int(pStmt, 1, iRoot);
      if (pE->iParent == iRoot)
        sqlite3_bind_value(pStmt, 2, apKey[pE->iKey]);
      else
        sqlite3_bind_null(pStmt, 2);
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
        if (rc == SQLITE_OK && pE->bGoneTracked)
          rc = relGoneCheck(p, e, i, iRoot, pE->iParent == iRoot
                                                ? apKey[pE->iKey]
                                                : 0,
                            pzErr);
      } else if (pE->eRule == ON_RESTRICT) {
        /* Keys still referenced from outside the closure: refused, unless
        ** a later row of the same statement may yet delete the referencing
        ** rows (their table is reached from the statement's; Django lifts
        ** the RESTRICT then). */
        int eWhen = -1, bCertain = 0;
        while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
          sqlite3_value *pKey = sqlite3_column_value(pStmt, 0);
          sqlite3_int64 n = sqlite3_column_int64(pStmt, 1);
          char *zKey = relValueText(pKey);
          char *zMsg = zKey ? sqlite3_mprintf(
                                  "relext: RESTRICT: cannot delete %s %s: "
                                  "referenced by %lld row%s of %s",
                                  p->azTable[pE->iParent], zKey, n,
                                  n == 1 ? "" : "s", pE->zName)
                            : 0;
          sqlite3_free(zKey);
          if (zMsg == 0) {
            rc = SQLITE_NOMEM;
            break;
          }
          if (eWhen < 0) eWhen = relRestrictWhen(p, iRoot, pPlan, pE, &bCertain);
          /* Refused for sure, later: none of its own changes happen, so
          ** that no other error pre-empts the refusal. */
          if (bCertain) bDoomed = 1;
          switch (eWhen) {
          case REL_WHEN_NOW:
            rc = relError(pzErr, SQLITE_CONSTRAINT, "%s", zMsg);
            break;
          case REL_WHEN_STATEMENT:
            rc = relNoteRestrict(p, i, pKey, zMsg, 1, bCertain);
            break;
          case REL_WHEN_ACCESSOR:
            rc = relNoteRestrict(p, i, pKey, zMsg, REL_PENDING_ACC, bCertain);
            break;
          default: /* at COMMIT: the end of an autocommit statement */
            rc = relNoteRestrict(p, i, pKey, zMsg, 0, bCertain);
            break;
          }
          sqlite3_free(zMsg);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_reset(pStmt);
          if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
        } else {
          sqlite3_reset(pStmt);
        }
      } else if (pE->eRule == ON_DO_NOTHING) {
        /* Keys still referenced from outside the closure. */
        while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
          if (pE->bConstraint) {
            rc = relNoteAdd(p, i, NOTE_DANGLING,
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
    sqlite3_bind_value(e->pDropRoot, 2, pRow);
    rc = relStepDone(db, e->pDropRoot, pzErr);
  }
  for (i = 0; rc == SQLITE_OK && !bDoomed && i < pPlan->nReach; i++) {
    if (pPlan->apDel[i]) rc = relStepDone(db, pPlan->apDel[i], pzErr);
  }
  if (rc == SQLITE_OK && bCareful && !bDoomed)
    rc = relSurvivors(p, e, pPlan, pzErr);
  /* 4. Forget the closure. */
  {
    char *zIgnore = 0;
    int rc2 = relStepDone(db, e->pClear, rc ? &zIgnore : pzErr);
    sqlite3_free(zIgnore);
    if (rc == SQLITE_OK) rc = rc2;
  }
  return rc;
}

/* The careful run: the general plan, notes taken meanwhile (p->nCareful:
** admit.c's guard function, guard.c's relext_fail). */
static int relEngineCarefulRun(RelCtx *p, int iRoot, sqlite3_value *pRow,
                               int nKey, sqlite3_value **apKey, char **pzErr) {
  int rc;
  p->nCareful++;
  rc = relEngineRunX(p, iRoot, pRow, nKey, apKey, 1, pzErr);
  p->nCareful--;
  return rc;
}

/* relext_on_delete(table, rowid, key...): called by the AFTER DELETE
** trigger of a table whose rules are not plain SQL, with the values of the
** columns its relationships reference. */
static void relOnDeleteFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  char *zErr = 0;
  int rc, t;
  if (argc < 2) return;
  if (p->zBroken) {
    sqlite3_result_error(ctx, p->zBroken, -1);
    return;
  }
  /* rel_flush empties the table and every table still referencing it. */
  if (relCtxFlushing(p, relCtxTableByGen(p, sqlite3_value_int64(argv[0]))))
    return;
  if (p->nBusy > 0) {
    /* A row the running engine collected; in careful mode, one an
    ** application trigger deleted meanwhile is refused: the engine runs
    ** one closure at a time. */
    int bYes = 1;
    t = relCtxTableByGen(p, sqlite3_value_int64(argv[0]));
    if (p->nCareful > 0 && t >= 0) {
      rc = relCollected(p, t, argv[1], &bYes, &zErr);
      if (rc == SQLITE_OK && !bYes) {
        rc = relError(&zErr, SQLITE_CONSTRAINT,
                      "relext: cannot delete %s: an application trigger "
                      "deleted it while relext cascaded; delete it in a "
                      "statement of its own",
                      p->azTable[t]);
      }
      if (rc) relResultError(ctx, rc, zErr);
    }
    return;
  }
  /* The engine names tables and columns: in step with the database first
  ** (an ALTER TABLE since the last rule ran). A row of a DELETE that has
  ** changed no schema yet (triggers do not run in a DROP TABLE's implicit
  ** DELETE): relCtxSyncRow. */
  rc = relCtxSyncRow(p, &zErr);
  t = rc ? -1 : relGuardFire(p, sqlite3_value_int64(argv[0]), &zErr);
  if (t < 0 || p->aTab[t].nParent == 0 || p->aTab[t].bPlain) {
    /* A TEMP trigger of rules this connection no longer holds. */
    if (t >= 0) rc = relError(&zErr, SQLITE_CONSTRAINT, "%s", REL_STALE_MSG);
    relResultError(ctx, zErr ? SQLITE_CONSTRAINT : SQLITE_NOMEM, zErr);
    return;
  }
  relCtxEnter(p);
  rc = relEngineRun(p, t, argv[1], argc - 2, &argv[2], &zErr);
  relCtxLeave(p);
  if (rc == SQLITE_CONSTRAINT && zErr) relCtxSetLastError(p, zErr);
  if (rc) relResultError(ctx, rc, zErr);
}

/* relext_gone(edge, key): a row on the child side of PROTECT edge `edge`,
** protecting key `key`, was deleted (the TEMP trigger of its table). The
** key stays protected until the statement that deleted it ends, also when
** the engine deleted it (then at the depth of the statement that ran the
** engine). */
static void relGoneFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  RelEngine *e = relEngine(p);
  int t = relCtxTableByGen(p, sqlite3_value_int64(argv[0]));
  int k = sqlite3_value_int(argv[1]);
  int rc;
  (void)argc;
  if (t < 0 || k < 0 || k >= p->aTab[t].nChild || e == 0) return;
  /* rel_flush empties both ends: nothing is left to protect. */
  if (relCtxFlushing(p, p->aEdge[p->aTab[t].aChild[k]].iChild) &&
      relCtxFlushing(p, p->aEdge[p->aTab[t].aChild[k]].iParent))
    return;
  rc = relGoneAdd(p, p->aTab[t].aChild[k], argv[2],
                  p->nBusy > 0 ? e->iLevel : relCommitLevel(p));
  if (rc) relResultError(ctx, rc, 0);
}

/* relext_pending(): how many RESTRICTs of this statement are still
** standing; the engine's TEMP trigger program keeps one row in
** relext_pending while there are any (see stmtend.c). */
static void relPendingFunc(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  char *zErr = 0;
  int n = 0, rc;
  (void)argc;
  (void)argv;
  if (p->nBusy > 0) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  rc = relPendingCount(p, &n, &zErr);
  if (rc)
    relResultError(ctx, rc, zErr);
  else
    sqlite3_result_int(ctx, n);
}

static void relPlansFree(RelEngine *e) {
  int i, j;
  for (i = 0; i < e->nPlan; i++) {
    for (j = 0; e->aPlan[i].apDel && j < e->aPlan[i].nReach; j++)
      sqlite3_finalize(e->aPlan[i].apDel[j]);
    sqlite3_free(e->aPlan[i].apDel);
    sqlite3_free(e->aPlan[i].aReach);
    for (j = 0; e->aPlan[i].apCollect && j < e->aPlan[i].nCollect; j++)
      sqlite3_finalize(e->aPlan[i].apCollect[j]);
    sqlite3_free(e->aPlan[i].apCollect);
    sqlite3_finalize(e->aPlan[i].pTree);
    sqlite3_finalize(e->aPlan[i].pAny);
  }
  sqlite3_free(e->aPlan);
  e->aPlan = 0;
  e->nPlan = 0;
}

/* Append to s the term of the closure that follows CASCADE edge pE: from
** the deleted root, by its key (bRoot: the root row is gone, so its keys
** ?2, ... stand for it), or from the rows collected in v.
** bRowidParent: the edge's parent key is the rowid. Each names its row
** COLLATE BINARY: the UNION of a recursive CTE compares rows with the
** collation of the first recursive term that has one, and a NOCASE key of
** one table would make rows 'x' and 'X' of another table one, and leave
** one of them behind. */
static void relCollectTerm(RelStr *s, RelCtx *p, const RelEngine *e,
                           const RelEdge *pE, int bRoot, int bRowidParent) {
  if (bRoot) {
    relStrPrintf(s,
                 "SELECT %d, c.%s COLLATE BINARY FROM main.\"%w\" AS c "
                 "WHERE c.\"%w\"=?%d",
                 pE->iChild, relRow(e, pE->iChild), p->azTable[pE->iChild],
                 pE->zChildCol, 2 + pE->iKey);
  } else if (bRowidParent) {
    relStrPrintf(s,
                 "SELECT %d, c.%s COLLATE BINARY FROM v JOIN main.\"%w\" "
                 "AS c ON c.\"%w\"=v.r WHERE v.t=%d",
                 pE->iChild, relRow(e, pE->iChild), p->azTable[pE->iChild],
                 pE->zChildCol, pE->iParent);
  } else {
    relStrPrintf(s,
                 "SELECT %d, c.%s COLLATE BINARY FROM v JOIN main.\"%w\" "
                 "AS p ON p.%s=v.r JOIN main.\"%w\" AS c ON c.\"%w\"=p.\"%w\" "
                 "WHERE v.t=%d",
                 pE->iChild, relRow(e, pE->iChild), p->azTable[pE->iParent],
                 relRow(e, pE->iParent), p->azTable[pE->iChild],
                 pE->zChildCol, pE->zParentCol, pE->iParent);
  }
}

/* The statements that collect the closure from a deleted row of table t
** into temp.relext_victim (pPlan->apCollect). Its rowid ?1 and its keys
** ?2, ... seed it (the row itself is gone), then every CASCADE edge whose
** parent the plan reaches is followed from the rows collected (the others
** can never fire). aRowidParent[i]: edge i's parent key is the rowid.
**
** Each edge is a term of a compound SELECT, of which SQLite allows nMax
** (relCompoundMax). When the seed and every edge fit, one recursive CTE
** collects it all (nSeed = nCollect = 1). Otherwise the seed and the edges
** from the root's keys go in statements of at most nMax terms, run once
** (the first nSeed); then the edges from collected rows, at most nMax-1
** to a recursive CTE whose first term is the rows already collected of
** those edges' parent tables. Those run in rounds until a round collects
** no new row: then no edge leads out of the rows collected, which are all
** reached from the root, so they are the closure the one CTE collects. */
static int relCollectPrepare(RelCtx *p, const RelEngine *e, int t,
                             RelPlan *pPlan, const int *aRowidParent, int nMax,
                             char **pzErr) {
  const RelTable *pT = &p->aTab[t];
  char *aIn = sqlite3_malloc64((size_t)p->nTable + 1);
  int *aTerm = sqlite3_malloc64(sizeof(int) *
                                ((size_t)pT->nParent + (size_t)p->nEdge + 1));
  int nRoot = 0, nTerm = 0, nStmt, iStmt, i, k, rc = SQLITE_OK;
  if (aIn == 0 || aTerm == 0) {
    rc = SQLITE_NOMEM;
    goto collect_done;
  }
  memset(aIn, 0, (size_t)p->nTable + 1);
  for (i = 0; i < pPlan->nReach; i++) aIn[pPlan->aReach[i]] = 1;
  /* The terms: the edges from the root's keys, then from collected rows. */
  for (k = 0; k < pT->nParent; k++) {
    if (p->aEdge[pT->aParent[k]].eRule == ON_CASCADE)
      aTerm[nTerm++] = pT->aParent[k];
  }
  nRoot = nTerm;
  for (i = 0; i < p->nEdge; i++) {
    if (p->aEdge[i].eRule == ON_CASCADE && aIn[p->aEdge[i].iParent])
      aTerm[nTerm++] = i;
  }
  if (1 + nTerm <= nMax) {
    nStmt = pPlan->nSeed = 1;
  } else {
    pPlan->nSeed = nRoot ? (nRoot + nMax - 2) / (nMax - 1) : 1;
    nStmt = pPlan->nSeed + (nTerm - nRoot + nMax - 2) / (nMax - 1);
  }
  pPlan->apCollect = sqlite3_malloc64(sizeof(sqlite3_stmt *) * (size_t)nStmt);
  if (pPlan->apCollect == 0) {
    rc = SQLITE_NOMEM;
    goto collect_done;
  }
  memset(pPlan->apCollect, 0, sizeof(sqlite3_stmt *) * (size_t)nStmt);
  pPlan->nCollect = nStmt;
  for (iStmt = 0; rc == SQLITE_OK && iStmt < nStmt; iStmt++) {
    RelStr s = {0};
    int lo, hi, bSeed = iStmt < pPlan->nSeed;
    char *zSql;
    if (nStmt == 1) {
      lo = 0;
      hi = nTerm;
    } else if (bSeed) {
      lo = iStmt * (nMax - 1);
      hi = lo + nMax - 1 < nRoot ? lo + nMax - 1 : nRoot;
    } else {
      lo = nRoot + (iStmt - pPlan->nSeed) * (nMax - 1);
      hi = lo + nMax - 1 < nTerm ? lo + nMax - 1 : nTerm;
    }
    if (bSeed) {
      relStrPrintf(&s, "WITH RECURSIVE v(t, r) AS (VALUES(%d, ?1)", t);
    } else {
      /* A round starts from the rows collected of the parent tables. */
      relStrPrintf(&s, "WITH RECURSIVE v(t, r) AS (SELECT t, r FROM "
                       "temp.relext_victim WHERE t IN (");
      for (i = lo; i < hi; i++) {
        int iParent = p->aEdge[aTerm[i]].iParent;
        for (k = lo; k < i && p->aEdge[aTerm[k]].iParent != iParent; k++) {
        }
        if (k == i) relStrPrintf(&s, "%s%d", i > lo ? ", " : "", iParent);
      }
      relStrPrintf(&s, ")");
    }
    for (i = lo; i < hi; i++) {
      relStrPrintf(&s, " UNION ");
      relCollectTerm(&s, p, e, &p->aEdge[aTerm[i]], i < nRoot,
                     aRowidParent[aTerm[i]]);
    }
    relStrPrintf(&s, ") INSERT OR IGNORE INTO temp.relext_victim(t, r) "
                     "SELECT t, r FROM v");
    zSql = relStrFinish(&s);
    if (zSql == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    rc = relPreparef(p->db, &pPlan->apCollect[iStmt], pzErr, "%s", zSql);
    sqlite3_free(zSql);
  }
collect_done:
  sqlite3_free(aIn);
  sqlite3_free(aTerm);
  return rc;
}

/* Collect the closure of plan pPlan from the deleted row pRow (its keys
** apKey): the seeds once, then the rounds until one adds no row (see
** relCollectPrepare). */
static int relCollectRun(sqlite3 *db, const RelPlan *pPlan, sqlite3_value *pRow,
                         int nKey, sqlite3_value **apKey, char **pzErr) {
  int i, nNew, rc = SQLITE_OK;
  for (i = 0; rc == SQLITE_OK && i < pPlan->nSeed; i++) {
    sqlite3_bind_value(pPlan->apCollect[i], 1, pRow);
    relBindKeys(pPlan->apCollect[i], 2, nKey, apKey);
    rc = relStepDone(db, pPlan->apCollect[i], pzErr);
  }
  if (pPlan->nCollect == pPlan->nSeed) return rc;
  do {
    nNew = 0;
    for (i = pPlan->nSeed; rc == SQLITE_OK && i < pPlan->nCollect; i++) {
      rc = relStepDone(db, pPlan->apCollect[i], pzErr);
      if (rc == SQLITE_OK) nNew += sqlite3_changes(db);
    }
  } while (rc == SQLITE_OK && nNew > 0);
  return rc;
}

/* Prepare the rule statement of edge i (NULL for CASCADE). The keys of
** the parent rows the delete removes are those of the collected rows
** still there, and the deleted root's own (?2 when its table ?1 is the
** parent): UNION, so that a key counts once. */
static int relEdgeStmt(RelCtx *p, const RelEngine *e, int i,
                       sqlite3_stmt **pp, sqlite3_stmt **ppGone,
                       char **pzErr) {
  const RelEdge *pE = &p->aEdge[i];
  const char *zRowP = relRow(e, pE->iParent);
  const char *zRowC = relRow(e, pE->iChild);
  const char *zP = p->azTable[pE->iParent];
  const char *zC = p->azTable[pE->iChild];
  char *zKey = relColExpr("p", pE->zParentCol);
  char *zKeys;
  int rc = SQLITE_OK;
  *pp = 0;
  if (zKey == 0) return SQLITE_NOMEM;
  zKeys = sqlite3_mprintf("(SELECT %s AS key FROM temp.relext_victim AS v "
                          "JOIN main.\"%w\" AS p ON p.%s=v.r WHERE v.t=%d "
                          "UNION SELECT ?2 WHERE ?1=%d) AS k",
                          zKey, zP, zRowP, pE->iParent, pE->iParent);
  sqlite3_free(zKey);
  if (zKeys == 0) return SQLITE_NOMEM;
  switch (pE->eRule) {
  case ON_PROTECT:
    rc = relPreparef(p->db, pp, pzErr,
                     "SELECT k.key, count(*) FROM %s "
                     "JOIN main.\"%w\" AS c ON c.\"%w\"=k.key "
                     "GROUP BY 1 ORDER BY 1 LIMIT 1",
                     zKeys, zC, pE->zChildCol);
    if (rc == SQLITE_OK && pE->bGoneTracked) {
      rc = relPreparef(p->db, ppGone, pzErr,
                       "SELECT 1 FROM %s WHERE k.key=?3", zKeys);
    }
    break;
  case ON_RESTRICT:
  case ON_DO_NOTHING:
    /* The keys still referenced from outside the closure (RESTRICT: with
    ** how many rows, for the message). */
    rc = relPreparef(p->db, pp, pzErr,
                     "SELECT k.key, count(*) FROM %s "
                     "JOIN main.\"%w\" AS c ON c.\"%w\"=k.key "
                     "WHERE NOT EXISTS (SELECT 1 FROM "
                     "temp.relext_victim AS w WHERE w.t=%d AND w.r=c.%s) "
                     "GROUP BY 1 ORDER BY 1",
                     zKeys, zC, pE->zChildCol, pE->iChild, zRowC);
    break;
  case ON_SET_NULL:
  case ON_SET_DEFAULT:
  case ON_SET: {
    const RelDef *d = &p->aDef[pE->iDef];
    rc = relPreparef(p->db, pp, pzErr,
                     "UPDATE main.\"%w\" SET \"%w\"=?3 WHERE \"%w\".\"%w\" "
                     "IN (SELECT key FROM %s) AND \"%w\".%s NOT IN (SELECT r "
                     "FROM temp.relext_victim WHERE t=%d)",
                     zC, pE->zChildCol, zC, pE->zChildCol, zKeys, zC, zRowC,
                     pE->iChild);
    if (rc == SQLITE_OK && pE->eRule == ON_SET_DEFAULT)
      relValueBind(*pp, 3, &d->defVal);
    if (rc == SQLITE_OK && pE->eRule == ON_SET)
      relValueBind(*pp, 3, &d->setVal);
    break;
  }
  default:
    break;
  }
  sqlite3_free(zKeys);
  return rc;
}

/*
** The tree plan. When the only edges out of table t are CASCADE edges from
** t to itself (a self-referencing tree: replies to comments, subcategories),
** nothing is checked or set: the closure is deleted, whatever the order.
** Then one statement does it, with no victim table and no second pass. The
** walk carries each row's referenced keys (k1, ...), so that children are
** found by their key column alone; the deleted root's keys seed it:
**   WITH RECURSIVE v(r, k1) AS (VALUES(?1, ?2) UNION SELECT c.rowid,
**   c.key_column FROM v JOIN t AS c ON c.parent_column=v.k1 WHERE
**   c.rowid<>?1)
**   DELETE FROM t WHERE rowid IN (SELECT r FROM v) AND rowid<>?1
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
** NULL (with *pRc unchanged) when t's plan is not a tree, or when its
** edges and seed are more terms than a compound SELECT may have (nMax:
** then the general plan collects the closure in rounds).
*/
static char *relTreeSql(RelCtx *p, const RelEngine *e, const RelPlan *pPlan,
                        int t, int nMax, int *pRc) {
  const RelTable *pT = &p->aTab[t];
  const char *zT = p->azTable[t];
  const char *zRow = relRow(e, t);
  RelStr s = {0};
  int k, j;
  int bAll = 0;
  if (pPlan->nReach != 1 || pT->nParent == 0 || 1 + pT->nParent > nMax)
    return 0;
  for (k = 0; k < pT->nParent; k++) {
    const RelEdge *pE = &p->aEdge[pT->aParent[k]];
    if (pE->eRule != ON_CASCADE || pE->iChild != t) return 0;
  }
  if (pT->nParent == 1) {
    int rc = relIsRowidAlias(p->db, zT, p->aEdge[pT->aParent[0]].zParentCol,
                             &bAll);
    if (rc) {
      *pRc = rc;
      return 0;
    }
  }
  relStrPrintf(&s, "WITH RECURSIVE v(r");
  for (j = 0; j < pT->nKey; j++)
    relStrPrintf(&s, ", k%d", j);
  relStrPrintf(&s, ") AS (VALUES(?1");
  for (j = 0; j < pT->nKey; j++)
    relStrPrintf(&s, ", ?%d", 2 + j);
  relStrPrintf(&s, ")");
  for (k = 0; k < pT->nParent; k++) {
    const RelEdge *pE = &p->aEdge[pT->aParent[k]];
    relStrPrintf(&s, " UNION%s SELECT c.%s", bAll ? " ALL" : "", zRow);
    for (j = 0; j < pT->nKey; j++) {
      char *zKey = relColExpr("c", pT->azKey[j]);
      if (zKey == 0) s.eRc = SQLITE_NOMEM;
      relStrPrintf(&s, ", %s", zKey ? zKey : "NULL");
      sqlite3_free(zKey);
    }
    relStrPrintf(&s,
                 " FROM v JOIN main.\"%w\" AS c ON c.\"%w\"=v.k%d WHERE "
                 "c.%s<>?1",
                 zT, pE->zChildCol, pE->iKey, zRow);
  }
  relStrPrintf(&s,
               ") DELETE FROM main.\"%w\" WHERE %s IN (SELECT r FROM v) "
               "AND %s<>?1",
               zT, zRow, zRow);
  if (s.eRc) *pRc = s.eRc;
  return relStrFinish(&s);
}

/* Append to s the probes of table pT's edges aParent[lo..hi) ORed as a
** balanced tree, "(A OR B)" nested, so that its depth grows as the log of
** their number: SQLite refuses an expression deeper than
** SQLITE_LIMIT_EXPR_DEPTH (1000), which a chain of a thousand ORs (a
** table a thousand ForeignKeys point at) reached. Evaluated left to
** right, as the chain was. */
static void relAnyTerms(RelStr *s, RelCtx *p, const RelTable *pT, int lo,
                        int hi) {
  if (hi - lo == 1) {
    const RelEdge *pE = &p->aEdge[pT->aParent[lo]];
    /* (c."col", not "col": a column renamed under the cached statement
    ** must be an error, not the string 'col', which matches nothing.) */
    relStrPrintf(s,
                 "EXISTS (SELECT 1 FROM main.\"%w\" AS c WHERE "
                 "c.\"%w\"=?%d)",
                 p->azTable[pE->iChild], pE->zChildCol, 2 + pE->iKey);
  } else {
    int mid = lo + (hi - lo) / 2;
    relStrPrintf(s, "(");
    relAnyTerms(s, p, pT, lo, mid);
    relStrPrintf(s, " OR ");
    relAnyTerms(s, p, pT, mid, hi);
    relStrPrintf(s, ")");
  }
}

/* A query with a row when any row references the deleted row of table t
** (its keys ?2, ...), through any relationship; NULL (with *pRc unchanged)
** when t is no parent. */
static char *relAnySql(RelCtx *p, int t, int *pRc) {
  const RelTable *pT = &p->aTab[t];
  RelStr s = {0};
  if (pT->nParent == 0) return 0;
  relStrPrintf(&s, "SELECT 1 WHERE ");
  relAnyTerms(&s, p, pT, 0, pT->nParent);
  if (s.eRc) *pRc = s.eRc;
  return relStrFinish(&s);
}

/* The per-root plans: tables reached through CASCADE edges. */
static int relBuildPlans(RelCtx *p, RelEngine *e, const int *aRowidParent,
                         char **pzErr) {
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
      char *zTree = relTreeSql(p, e, pPlan, t, e->nCompound, &rc);
      if (zTree) rc = relPreparef(p->db, &pPlan->pTree, pzErr, "%s", zTree);
      sqlite3_free(zTree);
      if (rc) return rc;
      if (pPlan->pTree) continue;
    }
    rc = relCollectPrepare(p, e, t, pPlan, aRowidParent, e->nCompound, pzErr);
    if (rc) return rc;
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
                       "DELETE FROM main.\"%w\" WHERE %s IN (SELECT r FROM "
                       "temp.relext_victim WHERE t=%d)",
                       p->azTable[aQ[i]], relRow(e, aQ[i]), aQ[i]);
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
  relCtxStmtsFree(p);
  e->nCompound = relCompoundMax(db);
  e->azRow = sqlite3_malloc64(sizeof(char *) * (size_t)(p->nTable + 1));
  if (e->azRow == 0) return SQLITE_NOMEM;
  memset(e->azRow, 0, sizeof(char *) * (size_t)(p->nTable + 1));
  e->nRow = p->nTable;
  for (i = 0; rc == SQLITE_OK && i < p->nTable; i++) {
    rc = relRowKey(db, p->azTable[i], &e->azRow[i]);
    if (rc == SQLITE_OK && e->azRow[i] == 0) {
      rc = relError(pzErr, SQLITE_ERROR,
                    "relext: %s has no single-column key to name its rows",
                    p->azTable[i]);
    }
  }
  if (rc) {
    relCtxStmtsFree(p);
    return rc;
  }
  aRowidParent = sqlite3_malloc64(sizeof(int) * (size_t)(p->nEdge + 1));
  if (aRowidParent == 0) return SQLITE_NOMEM;
  for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
    rc = relIsRowidAlias(db, p->azTable[p->aEdge[i].iParent],
                         p->aEdge[i].zParentCol, &aRowidParent[i]);
  }
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
  if (rc == SQLITE_OK) {
    e->apGone =
        sqlite3_malloc64(sizeof(sqlite3_stmt *) * (size_t)(p->nEdge + 1));
    if (e->apGone == 0)
      rc = SQLITE_NOMEM;
    else
      memset(e->apGone, 0, sizeof(sqlite3_stmt *) * (size_t)(p->nEdge + 1));
  }
  for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
    rc = relEdgeStmt(p, e, i, &e->apEdge[i], &e->apGone[i], pzErr);
  }
  if (rc == SQLITE_OK) rc = relBuildPlans(p, e, aRowidParent, pzErr);
  sqlite3_free(aRowidParent);
  if (rc == SQLITE_OK) rc = relEngineCareful(p, e, pzErr);
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
  sqlite3_finalize(e->pClear);
  sqlite3_finalize(e->pDropRoot);
  sqlite3_finalize(e->pVictim);
  e->pClear = e->pDropRoot = e->pVictim = 0;
  if (e->apEdge) {
    for (i = 0; i < e->nEdgeStmt; i++)
      sqlite3_finalize(e->apEdge[i]);
    sqlite3_free(e->apEdge);
    e->apEdge = 0;
  }
  if (e->apGone) {
    for (i = 0; i < e->nEdgeStmt; i++)
      sqlite3_finalize(e->apGone[i]);
    sqlite3_free(e->apGone);
    e->apGone = 0;
  }
  for (i = 0; e->azRow && i < e->nRow; i++)
    sqlite3_free(e->azRow[i]);
  sqlite3_free(e->azRow);
  e->azRow = 0;
  e->nRow = 0;
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
  int rc;
  RelEngine *e = sqlite3_malloc64(sizeof(RelEngine));
  if (e == 0) return SQLITE_NOMEM;
  memset(e, 0, sizeof(*e));
  relCtxAttach(p, REL_SLOT_ENGINE, e, &engineHooks);
  /* Side effects: only TEMP triggers (which are trusted) may call it. */
  rc = sqlite3_create_function_v2(db, "relext_on_delete", -1,
                                  SQLITE_UTF8 | SQLITE_DIRECTONLY, relCtxRef(p),
                                  relOnDeleteFunc, 0, 0, relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "relext_gone", 3,
                                    SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                    relCtxRef(p), relGoneFunc, 0, 0,
                                    relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "relext_pending", 0,
                                    SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                    relCtxRef(p), relPendingFunc, 0, 0,
                                    relCtxUnref);
  return rc;
}
