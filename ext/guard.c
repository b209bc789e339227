/*
** guard.c -- holding every write to Django's rules: what relext installs
** on a connection, and the guards it stores in the database.
**
** WHAT IS ENFORCED
**   on_delete (CASCADE, PROTECT, RESTRICT, SET_NULL, SET_DEFAULT, SET(v),
**   DO_NOTHING) for every DELETE of a row that a relationship references;
**   no dangling key at COMMIT (db_constraint=True); NOT NULL for keys with
**   null=False; M2M junction link rows going with either end; symmetrical
**   junctions mirrored.
**
** THE STORED GUARDS (relGuardsWrite), per governed table t, each carrying
** t's generation T (RelTable.iGen: a hash of everything t's guards encode,
** catalog.c), edges named by their position among t's edges:
**   - relext_guard_i_<t>: an always-empty partial index whose WHERE clause
**     relext_must_be_loaded(T, k, key, row, ..., -1-k, key, ...) SQLite
**     evaluates inline for every row written or deleted -- a function
**     call, where a trigger would cost a whole sub-program per row
**     (measured: an empty AFTER INSERT trigger costs more per row than
**     SQLite's entire native foreign key check). It names t's edges as a
**     child (k, key, the row's key where null=False) and as a parent (-1-k,
**     key: a key that goes is a suspect too). The function (admit.c) notes
**     the keys for the COMMIT check. One index per table: each index costs
**     every statement a cursor.
**   - relext_guard_d_<t> BEFORE DELETE (this and the next are named with
**     REL_MISSING_HINT at the end: they name other tables, and SQLite's
**     refusal of a rename while one is missing names the trigger): in
**     plain mode (catalog.c,
**     relRulesPlain: the order of deletion cannot matter) the checks, one
**     counting probe per PROTECT/RESTRICT edge that calls relext_fail; else
**     only the refusal of a connection that does not hold t's rules.
**   - relext_guard_a_<t> AFTER DELETE: in plain mode the actions, plain SQL
**     like a hand-written cascade (UPDATE for SET_*, notes for DO_NOTHING,
**     DELETE for CASCADE), run once the row has really gone, so that an
**     application trigger that keeps it (RAISE(IGNORE)) keeps its children.
**   Every parent has at least one of the two triggers, so that a DELETE
**   without WHERE cannot truncate it. They are stored, not TEMP, because
**   the guards have to be there anyway (for connections without relext)
**   and one trigger per deleted row costs half of two; they call only
**   SQLITE_INNOCUOUS functions. Declaring a relationship rewrites only the
**   guards of the tables whose generation changed (relGuardsSync).
**
** THE TEMP TRIGGERS (relGuardInstall), per connection: relext_del_<t>
**   AFTER DELETE on a table whose rules are not plain SQL calls the delete
**   engine (engine.c), and keeps a statement's pending row in step
**   (REL_PENDING_FMT, stmtend.c); relext_gone_<t> tells the engine of a
**   deleted row that protected another (engine.c), as the first part of
**   relext_del_<t> when the table has both (one trigger fewer: SQLite
**   scans temp.sqlite_schema for each one created); M2M junctions get
**   their duplicate and mirror triggers. A load that finds none there (a
**   connection's first; a rollback took them back) leaves them to the
**   first write that needs them (relLazyLeave, RelTable.eLazy; ctx.c's
**   relLazyBounce sends that write back until they are made): until then
**   no engine runs, so no gone trigger is missed.
**
** CONNECTIONS WITHOUT RELEXT: every write that could break a rule meets a
**   relext function -- in a guard index (compiled into the statement, so
**   "no such function" refuses it) or a delete trigger. With relext loaded
**   but holding other rules for t (another connection changed them), the
**   guards refuse with a message asking for SELECT rel_reload(). Reads never
**   involve them; writes to columns no relationship uses go through.
**
** INVARIANTS
**   - A connection writes a governed table only while it holds the rules
**     that table's guards were written for (generation T).
**   - Plain-mode checks are decided in the pre-delete state, exactly
**     Django's answer; a RESTRICT of a table that can also meet a PROTECT
**     waits for the statement's end (relext_fail), so that PROTECT wins.
**
** LIMITS
**   - Without relext, PRAGMA integrity_check and VACUUM cannot evaluate the
**     guard indexes of governed tables: run them with relext loaded.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Decimal text of x into z (at least 21 bytes). */
static void relFormatInt(char *z, sqlite3_int64 x) {
  char aTmp[24];
  int n = 0, i = 0;
  sqlite3_uint64 u =
      x < 0 ? (sqlite3_uint64)0 - (sqlite3_uint64)x : (sqlite3_uint64)x;
  do {
    aTmp[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  if (x < 0) z[i++] = '-';
  while (n > 0)
    z[i++] = aTmp[--n];
  z[i] = 0;
}

/* relRowKey of table zT, from the load's schema memo when there is one. */
static int relCtxRowKey(RelCtx *p, const char *zT, char **pzKey) {
  if (p->pMemo) return relMemoRowKey(p->pMemo, p->db, zT, pzKey);
  return relRowKey(p->db, zT, pzKey);
}

/* Is the row of table t whose referenced column of edge pE holds pKey
** one the running delete engine collected? */
static int relGuardCollected(RelCtx *p, int t, const RelEdge *pE,
                             sqlite3_value *pKey, int *pbYes) {
  sqlite3_stmt *pStmt = 0;
  char *zRow = 0, *zKey = relColExpr("p", pE->zParentCol);
  int rc = zKey ? relRowKey(p->db, p->azTable[t], &zRow) : SQLITE_NOMEM;
  *pbYes = 0;
  if (rc == SQLITE_OK && zRow == 0) rc = SQLITE_ERROR;
  if (rc == SQLITE_OK) {
    rc = relPreparef(p->db, &pStmt, 0,
                     "SELECT 1 FROM temp.relext_victim AS v JOIN main.\"%w\" "
                     "AS p ON p.%s=v.r WHERE v.t=%d AND %s=?1",
                     p->azTable[t], zRow, t, zKey);
  }
  if (rc == SQLITE_OK) {
    sqlite3_bind_value(pStmt, 1, pKey);
    *pbYes = sqlite3_step(pStmt) == SQLITE_ROW;
    rc = sqlite3_finalize(pStmt);
  }
  sqlite3_free(zRow);
  sqlite3_free(zKey);
  return rc;
}

/* relext_fail(T, kind, k, key, count): a PROTECT (kind 2) or RESTRICT
** (kind 3) violation found by a plain-mode delete guard of the table of
** generation T, on its k-th edge as a parent: key is the deleted row's key,
** count the number of rows referencing it. While the delete engine runs it
** returns NULL: the engine has decided. A connection that does not hold
** generation T holds other rules for the table, and the error says to
** reload. */
static void relFailFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  int eKind = sqlite3_value_int(argv[1]);
  int iEdge = sqlite3_value_int(argv[2]);
  sqlite3_int64 n = sqlite3_value_int64(argv[4]);
  const RelEdge *pE;
  char zKey[24], zCount[24], zBuf[400];
  char *zErr = 0, *zKeyAlloc = 0;
  size_t nOut = 0;
  int t, bDefer = 0, bAuto = 0;
  (void)argc;
  /* Rows the delete engine removes: it has decided already. */
  if (p->nBusy > 0 && p->nCareful == 0) return;
  /* A refusal names tables: in step with the database first. */
  if (relCtxSyncRow(p, &zErr) == SQLITE_OK) {
    t = relGuardFire(p, sqlite3_value_int64(argv[0]), &zErr);
  } else {
    t = -1;
  }
  if (t >= 0 && (iEdge < 0 || iEdge >= p->aTab[t].nParent)) {
    t = -1;
    relError(&zErr, SQLITE_CONSTRAINT, "%s", REL_STALE_MSG);
  }
  if (t < 0) {
    relResultError(ctx, zErr ? SQLITE_CONSTRAINT : SQLITE_NOMEM, zErr);
    return;
  }
  zErr = 0;
  /* rel_flush empties the table and every table still referencing it. */
  if (relCtxFlushing(p, t)) return;
  pE = &p->aEdge[p->aTab[t].aParent[iEdge]];
  if (p->nBusy > 0) {
    /* The engine runs in careful mode (engine.c): a row it collected is
    ** its own; one an application trigger deletes gets the check. */
    int bYes = 0, rc = relGuardCollected(p, t, pE, argv[3], &bYes);
    if (rc) {
      relResultError(ctx, rc, 0);
      return;
    }
    if (bYes) return;
  }
  /* A RESTRICT of a table that may meet a PROTECT at a later row of the
  ** statement waits for its end (Django's order: PROTECT wins): the COMMIT
  ** check of an autocommit statement, the last row of an accessor's
  ** DELETE, or SQLite's foreign-key counter; not the COMMIT check of a
  ** transaction. */
  if (eKind == 3 && p->aTab[t].bDoomable) {
    int eWait = relRestrictWait(p);
    bAuto = eWait == REL_WAIT_COMMIT;
    bDefer = eWait == REL_WAIT_ACCESSOR ? REL_PENDING_ACC : eWait != REL_WAIT_NONE;
  }
  /* Waiting in a transaction needs the TEMP trigger that keeps the
  ** statement's pending row: made first (relLazyBounce). */
  if (bDefer && !bAuto && p->aTab[t].eLazy && relLazyBounceResult(p, t, ctx))
    return;
  /* An error path that W4 of make bench measures: the message is put
  ** together on the stack, without printf. */
  if (sqlite3_value_type(argv[3]) == SQLITE_INTEGER) {
    relFormatInt(zKey, sqlite3_value_int64(argv[3]));
  } else {
    zKeyAlloc = relValueText(argv[3]);
    if (zKeyAlloc == 0) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  relFormatInt(zCount, n);
  {
    const char *azPart[] = {"relext: ",
                            eKind == 2 ? "PROTECT" : "RESTRICT",
                            ": cannot delete ",
                            p->azTable[pE->iParent],
                            " ",
                            zKeyAlloc ? zKeyAlloc : zKey,
                            ": referenced by ",
                            zCount,
                            n == 1 ? " row of " : " rows of ",
                            pE->zName};
    size_t k;
    zErr = zBuf;
    for (k = 0; k < sizeof(azPart) / sizeof(azPart[0]); k++)
      nOut += strlen(azPart[k]);
    if (nOut >= sizeof(zBuf)) zErr = sqlite3_malloc64(nOut + 1);
    if (zErr == 0) {
      sqlite3_free(zKeyAlloc);
      sqlite3_result_error_nomem(ctx);
      return;
    }
    for (nOut = 0, k = 0; k < sizeof(azPart) / sizeof(azPart[0]); k++) {
      size_t m = strlen(azPart[k]);
      memcpy(&zErr[nOut], azPart[k], m);
      nOut += m;
    }
    zErr[nOut] = 0;
  }
  relCtxSetLastError(p, zErr);
  if (bDefer) {
    int rc = bAuto ? relCommitDoom(p, zErr)
                   : relNoteRestrict(p, p->aTab[t].aParent[iEdge], argv[3],
                                     zErr, bDefer, 1);
    if (rc)
      relResultError(ctx, rc, 0);
    else
      /* In autocommit the row stays (RAISE(IGNORE)): the COMMIT check
      ** refuses the statement at its end, so none of the row's rules need
      ** to run. In a transaction it goes, for the TEMP trigger that keeps
      ** the statement's pending row to see. */
      sqlite3_result_int(ctx, bAuto);
  } else {
    sqlite3_result_error(ctx, zErr, (int)nOut);
    sqlite3_result_error_code(ctx, SQLITE_CONSTRAINT);
  }
  if (zErr != zBuf) sqlite3_free(zErr);
  sqlite3_free(zKeyAlloc);
}

/* Is rule eRule a check (decided before the row goes) or an action (done
** after it went)? */
static int relRuleIsCheck(int eRule) {
  return eRule == ON_PROTECT || eRule == ON_RESTRICT;
}
static int relEdgeIsAction(const RelEdge *pE) {
  return pE->eRule == ON_CASCADE || pE->eRule == ON_SET_NULL ||
         pE->eRule == ON_SET_DEFAULT || pE->eRule == ON_SET ||
         (pE->eRule == ON_DO_NOTHING && pE->bConstraint);
}

/* Which stored delete triggers table t has: the BEFORE DELETE trigger
** (*pbD) holds the checks of a plain-mode table, or only the refusal of a
** connection that does not hold its rules; the AFTER DELETE trigger (*pbA)
** holds the actions of a plain-mode table. Every parent table has at least
** one of them, so that a DELETE without WHERE cannot truncate it. */
static void relGuardTriggers(const RelCtx *p, int t, int *pbD, int *pbA) {
  const RelTable *pT = &p->aTab[t];
  int k, bCheck = 0, bAction = 0;
  for (k = 0; k < pT->nParent; k++) {
    const RelEdge *pE = &p->aEdge[pT->aParent[k]];
    if (relRuleIsCheck(pE->eRule)) bCheck = 1;
    if (relEdgeIsAction(pE)) bAction = 1;
  }
  *pbA = pT->nParent > 0 && pT->bPlain && bAction;
  *pbD = pT->nParent > 0 && (!pT->bPlain || bCheck || !bAction);
}

/* The statements of table t's stored delete triggers in plain mode,
** appended to body: the checks (bChecks: PROTECT before RESTRICT, for the
** BEFORE DELETE trigger) or the actions (updates, notes, then deletes, for
** the AFTER DELETE trigger: the children go only once their parent has
** really gone). They call only SQLITE_INNOCUOUS functions, so that the
** triggers can be stored in the database (relGuardsWrite); edges are named
** by their position among t's edges as a parent, under t's generation. */
static void relPlainBody(RelCtx *p, int t, int bChecks, RelStr *pBody) {
  const RelTable *pT = &p->aTab[t];
  int pass, k;
  for (pass = bChecks ? 0 : 2; pass < (bChecks ? 2 : 5); pass++) {
    for (k = 0; k < pT->nParent; k++) {
      const RelEdge *pE = &p->aEdge[pT->aParent[k]];
      const RelDef *d = &p->aDef[pE->iDef];
      const char *zC = p->azTable[pE->iChild];
      char *zOld = relColExpr("OLD", pE->zParentCol);
      if (zOld == 0) {
        pBody->eRc = SQLITE_NOMEM;
        continue;
      }
      if (pass == 1 && pE->eRule == ON_RESTRICT && pT->bDoomable) {
        /* A RESTRICT that must let a later row's PROTECT win: relext_fail
        ** may leave it to the end of the statement, and then says whether
        ** the row stays (1: it cannot go, its statement will fail anyway)
        ** or goes (0). */
        relStrPrintf(pBody,
                     "SELECT CASE WHEN relext_fail(%lld, 3, %d, %s, count(*)) "
                     "THEN RAISE(IGNORE) END FROM \"%w\" WHERE "
                     "\"%w\"=%s HAVING count(*) > 0; ",
                     pT->iGen, k, zOld, zC, pE->zChildCol, zOld);
      } else if ((pass == 0 && pE->eRule == ON_PROTECT) ||
                 (pass == 1 && pE->eRule == ON_RESTRICT)) {
        /* One probe: count(*) of an empty index range is one seek. */
        relStrPrintf(pBody,
                     "SELECT relext_fail(%lld, %d, %d, %s, count(*)) FROM "
                     "\"%w\" AS c WHERE c.\"%w\"=%s HAVING count(*) > 0; ",
                     pT->iGen, pE->eRule == ON_PROTECT ? 2 : 3, k, zOld, zC,
                     pE->zChildCol, zOld);
      } else if (pass == 2 &&
                 (pE->eRule == ON_SET_NULL || pE->eRule == ON_SET_DEFAULT ||
                  pE->eRule == ON_SET)) {
        char *zVal =
            pE->eRule == ON_SET_NULL
                ? sqlite3_mprintf("NULL")
                : relValueFormat(pE->eRule == ON_SET ? &d->setVal : &d->defVal,
                                 REL_FMT_SQL);
        if (zVal == 0) {
          pBody->eRc = SQLITE_NOMEM;
        } else {
          relStrPrintf(pBody,
                       "UPDATE \"%w\" SET \"%w\"=%s WHERE \"%w\".\"%w\"=%s; ",
                       zC, pE->zChildCol, zVal, zC, pE->zChildCol, zOld);
          if (pE->eRule != ON_SET_NULL && pE->bConstraint) {
            /* The new value may name this very row: check at COMMIT. */
            relStrPrintf(pBody,
                         "SELECT relext_must_be_loaded(%lld, %d, %s) WHERE "
                         "changes() > 0; ",
                         pT->iGen, -1 - k, zVal);
          }
        }
        sqlite3_free(zVal);
      } else if (pass == 3 && pE->eRule == ON_DO_NOTHING && pE->bConstraint) {
        relStrPrintf(pBody,
                     "SELECT relext_must_be_loaded(%lld, %d, %s) WHERE EXISTS "
                     "(SELECT 1 FROM \"%w\" AS c WHERE c.\"%w\"=%s); ",
                     pT->iGen, -1 - k, zOld, zC, pE->zChildCol, zOld);
      } else if (pass == 4 && pE->eRule == ON_CASCADE) {
        relStrPrintf(pBody, "DELETE FROM \"%w\" WHERE \"%w\".\"%w\"=%s; ", zC,
                     zC, pE->zChildCol, zOld);
      }
      sqlite3_free(zOld);
    }
  }
}

/* The names of the stored guard objects of table zT: its guard index and
** its delete triggers (before, after). Caller frees. */
static char *relGuardIndexName(const char *zT) {
  return sqlite3_mprintf("relext_guard_i_%s", zT);
}
/* (The delete triggers name other tables: their names end in the hint a
** refused rename shows; see REL_MISSING_HINT.) */
static char *relGuardDeleteName(const char *zT) {
  return sqlite3_mprintf("relext_guard_d_%s" REL_MISSING_HINT, zT);
}
static char *relGuardAfterName(const char *zT) {
  return sqlite3_mprintf("relext_guard_a_%s" REL_MISSING_HINT, zT);
}

/* The blocked form of table t's stored guards, for a table that a BROKEN
** definition involves: an index whose clause refuses every row written
** (relext_must_be_loaded(T, NULL): the rules cannot be held) and a BEFORE
** DELETE trigger that refuses every row deleted, with the reason, on any
** connection. Neither names a column or another table: the schema that
** broke the definition cannot break them. */
static void relGuardBlockedSql(RelCtx *p, int t, RelStr *s) {
  const RelTable *pT = &p->aTab[t];
  const char *zT = p->azTable[t];
  char *zIdx = relGuardIndexName(zT), *zDel = relGuardDeleteName(zT);
  char **az = 0;
  int n = 0, rc;
  rc = relColumnNames(p->db, zT, &az, &n);
  if (rc == SQLITE_OK && (n == 0 || !zIdx || !zDel)) rc = SQLITE_NOMEM;
  if (rc == SQLITE_OK) {
    relStrPrintf(s,
                 "CREATE INDEX \"%w\" ON \"%w\"(\"%w\") WHERE "
                 "relext_must_be_loaded(%lld, NULL);\n"
                 "CREATE TRIGGER \"%w\" BEFORE DELETE ON \"%w\" BEGIN SELECT "
                 "RAISE(ABORT, %Q); /* relext %lld blocked */ END;\n",
                 zIdx, zT, az[0], pT->iGen, zDel, zT,
                 pT->zBlock ? pT->zBlock : "relext: cannot be enforced",
                 pT->iGen);
  }
  relColumnNamesFree(az, n);
  sqlite3_free(zIdx);
  sqlite3_free(zDel);
  if (rc && s->eRc == SQLITE_OK) s->eRc = rc;
}

/* The most arguments one call of relext_must_be_loaded takes in a guard
** index. SQLite refuses more than SQLITE_LIMIT_FUNCTION_ARG (127 in the
** builds of SQLite before 3.48, and a connection may set it lower) when
** it parses the schema, so a table with more edges gets a chain of calls,
** f(T, ...) OR f(T, ...), each naming some of them: every call returns 0,
** so the index stays empty, and every one checks T. */
#define REL_GUARD_MAX_ARGS 100

/* Before nNew more arguments of a guard index's call (its arguments so far
** in *pnArg, T included): close the call and open the next when they would
** not fit. */
static void relGuardArgsNext(RelStr *pArgs, int *pnArg, int nNew,
                             sqlite3_int64 iGen) {
  if (*pnArg + nNew > REL_GUARD_MAX_ARGS) {
    relStrPrintf(pArgs, ") OR relext_must_be_loaded(%lld", iGen);
    *pnArg = 1;
  }
  *pnArg += nNew;
}

/* The stored guards of table t, appended to s as CREATE statements:
**   - the guard index, on every governed table: an always-empty partial
**     index whose WHERE clause relext_must_be_loaded(T, ...) SQLite
**     evaluates for every row written or deleted (a chain of such calls
**     joined by OR when the table has many edges: REL_GUARD_MAX_ARGS). It names the table's
**     edges as a child (k, key, row: the row's key comes along where
**     null=False, for the NOT NULL check) and as a parent (-1-k, key: a
**     key that goes -- a changed key, a row REPLACE removes without delete
**     triggers -- is a suspect too). One index per table, since each index
**     costs every statement a cursor.
**   - the delete trigger, on every parent table: in plain mode the rules
**     (relPlainBody); else only the refusal of a connection that does not
**     hold these rules. A trigger, not only the index, so that a DELETE
**     without WHERE cannot truncate the table past it.
** Every object carries T: "relext_must_be_loaded(T" or "relext T". */
static void relGuardTableSql(RelCtx *p, int t, RelStr *s) {
  const RelTable *pT = &p->aTab[t];
  const char *zT = p->azTable[t];
  RelStr args = {0};
  char *zIdxCol = 0, *zName;
  int k, rc = SQLITE_OK, bD, bA, nArg = 1;
  if (pT->bBlocked) {
    relGuardBlockedSql(p, t, s);
    return;
  }
  for (k = 0; k < pT->nChild; k++) {
    const RelEdge *pE = &p->aEdge[pT->aChild[k]];
    const RelDef *d = &p->aDef[pE->iDef];
    char *zRow = 0;
    if (d->eKind != REL_M2M && !d->bNull) {
      /* null=False: the row's key comes along, for the NOT NULL check. */
      int rcRow = relCtxRowKey(p, zT, &zRow);
      if (rcRow) rc = rcRow;
    }
    relGuardArgsNext(&args, &nArg, 3, pT->iGen);
    relStrPrintf(&args, ", %d, \"%w\", %s", k, pE->zChildCol,
                 zRow ? zRow : "NULL");
    sqlite3_free(zRow);
    if (zIdxCol == 0) {
      zIdxCol = relStrdup(pE->zChildCol);
      if (zIdxCol == 0) rc = SQLITE_NOMEM;
    }
  }
  for (k = 0; k < pT->nParent; k++) {
    const RelEdge *pE = &p->aEdge[pT->aParent[k]];
    char *zKey = relColExpr(0, pE->zParentCol);
    if (zKey == 0) rc = SQLITE_NOMEM;
    relGuardArgsNext(&args, &nArg, 2, pT->iGen);
    relStrPrintf(&args, ", %d, %s", -1 - k, zKey ? zKey : "NULL");
    sqlite3_free(zKey);
    if (zIdxCol == 0 && !relIsRowid(pE->zParentCol)) {
      /* (An out-of-memory here must not let another column be indexed:
      ** the guard's text must be what a clean run writes.) */
      zIdxCol = relStrdup(pE->zParentCol);
      if (zIdxCol == 0) rc = SQLITE_NOMEM;
    }
  }
  if (zIdxCol == 0 && rc == SQLITE_OK) {
    /* Only bare rowid keys: index the first column. */
    char **az = 0;
    int n = 0;
    rc = relColumnNames(p->db, zT, &az, &n);
    if (rc == SQLITE_OK && n > 0) zIdxCol = relStrdup(az[0]);
    relColumnNamesFree(az, n);
  }
  if (rc == SQLITE_OK && zIdxCol == 0) rc = SQLITE_NOMEM;
  zName = relGuardIndexName(zT);
  if (zName == 0) rc = SQLITE_NOMEM;
  relStrPrintf(s,
               "CREATE INDEX \"%w\" ON \"%w\"(\"%w\") WHERE "
               "relext_must_be_loaded(%lld%s);\n",
               zName ? zName : "", zT, zIdxCol ? zIdxCol : "", pT->iGen,
               args.z ? args.z : "");
  sqlite3_free(zName);
  sqlite3_free(zIdxCol);
  if (args.eRc) rc = args.eRc;
  relStrReset(&args);
  relGuardTriggers(p, t, &bD, &bA);
  for (k = 0; k < 2; k++) {
    RelStr body = {0};
    if (k == 0 ? !bD : !bA) continue;
    if (pT->bPlain) relPlainBody(p, t, k == 0, &body);
    zName = k == 0 ? relGuardDeleteName(zT) : relGuardAfterName(zT);
    if (zName == 0) rc = SQLITE_NOMEM;
    relStrPrintf(s, "CREATE TRIGGER \"%w\" %s DELETE ON \"%w\" BEGIN ",
                 zName ? zName : "", k == 0 ? "BEFORE" : "AFTER", zT);
    /* The guard index refuses a connection that does not hold these rules
    ** for every row deleted; an empty body needs the refusal here. */
    if (body.n == 0) {
      relStrPrintf(s,
                   "SELECT RAISE(ABORT, %Q) WHERE relext_must_be_loaded(%lld); ",
                   REL_STALE_MSG, pT->iGen);
    }
    relStrPrintf(s, "%s/* relext %lld */ END;\n", body.z ? body.z : "",
                 pT->iGen);
    sqlite3_free(zName);
    if (body.eRc) rc = body.eRc;
    relStrReset(&body);
  }
  if (rc && s->eRc == SQLITE_OK) s->eRc = rc;
}

/* A RESTRICT left to the end of the statement (engine.c, relext_fail):
** one row in relext_pending while any stands, so that SQLite's foreign-key
** counter fails the statement (stmtend.c). The trigger program itself
** writes it: a nested statement's count would not be the statement's.
** The row's key, and the missing parent it names, are this connection's
** own (RelCtx.iPendingKey, thrice): a row some other writer left in the
** table is neither taken for it (the count would not move) nor deleted
** (its delete would move it down), and a row written into relext_nowhere
** cannot make it a row with a parent. */
#define REL_PENDING_FMT                                                        \
  "INSERT INTO relext_txn(e, k) SELECT -1, NULL WHERE 0; "                     \
  "INSERT OR IGNORE INTO relext_pending(k, n) SELECT %lld, %lld WHERE "        \
  "relext_pending() > 0; DELETE FROM relext_pending WHERE k = %lld AND "       \
  "relext_pending() = 0; "

/* ------------------------------------------------------------------ */
/* This connection's TEMP triggers                                     */

/* One TEMP trigger relext wants on this connection. Its identity is the
** closing comment "relext T role" (T: the generation of the table it is
** on) and the table it is on: an ALTER TABLE of this connection rewrites
** the trigger's text and table, and it stays the same trigger; one made
** for other rules, or left on a table's old name by another connection's
** rename, is not. */
typedef struct RelTemp RelTemp;
struct RelTemp {
  char *zSql;         /* CREATE TEMP TRIGGER ... */
  char *zName;        /* its name */
  int iTab;           /* the table it is on (index into azTable) */
  sqlite3_int64 iGen; /* that table's generation */
  char zRole[24];     /* what it does: del, gone, dup, symi, symd, symu,
                      ** blocki/blocku/blockd + the hash of the message */
};
typedef struct RelTempList RelTempList;
struct RelTempList {
  RelTemp *a;
  int n;
  int rc;
};

static void relTempListClear(RelTempList *p) {
  int i;
  for (i = 0; i < p->n; i++) {
    sqlite3_free(p->a[i].zSql);
    sqlite3_free(p->a[i].zName);
  }
  sqlite3_free(p->a);
  memset(p, 0, sizeof(*p));
}

/* Add a TEMP trigger to pList: named zName, on table t, doing zRole, whose
** SQL (zHead, then the body, the marker and END) is made from zBody (taken:
** freed here). */
static void relTempAdd(RelCtx *p, RelTempList *pList, int t, const char *zName,
                       const char *zRole, const char *zHead, char *zBody) {
  RelTemp *a;
  if (pList->rc == SQLITE_OK && (zBody == 0 || zHead == 0))
    pList->rc = SQLITE_NOMEM;
  if (pList->rc) {
    sqlite3_free(zBody);
    return;
  }
  a = sqlite3_realloc64(pList->a, sizeof(RelTemp) * (size_t)(pList->n + 1));
  if (a == 0) {
    pList->rc = SQLITE_NOMEM;
    sqlite3_free(zBody);
    return;
  }
  pList->a = a;
  a = &a[pList->n];
  memset(a, 0, sizeof(*a));
  a->iTab = t;
  a->iGen = p->aTab[t].iGen;
  sqlite3_snprintf((int)sizeof(a->zRole), a->zRole, "%s", zRole);
  a->zName = relStrdup(zName);
  a->zSql = sqlite3_mprintf("%s BEGIN %s/* relext %lld %s */ END", zHead, zBody,
                            a->iGen, a->zRole);
  sqlite3_free(zBody);
  pList->n++;
  if (a->zName == 0 || a->zSql == 0) pList->rc = SQLITE_NOMEM;
}

/* The TEMP triggers of table t: a parent whose rules are not plain SQL
** calls the delete engine for every row deleted, once the row has gone (so
** that an application trigger that keeps the row keeps its children), with
** its generation, the row's key and its referenced keys. A table whose
** writes are refused (zBlock) gets three triggers that refuse them, in
** case its stored guards are missing. */
static void relTriggerSql(RelCtx *p, int t, RelTempList *pList) {
  const RelTable *pT = &p->aTab[t];
  const char *zT = p->azTable[t];
  int k, nGone = 0;
  RelStr body = {0};
  char *zName, *zHead;
  if (pT->bMissing) return;
  if (pT->zBlock) {
    static const char *azEvent[] = {"INSERT", "UPDATE", "DELETE"};
    static const char *azRole[] = {"blocki", "blocku", "blockd"};
    unsigned h = 0;
    const char *z;
    for (z = pT->zBlock; *z; z++)
      h = h * 31 + (unsigned char)*z;
    for (k = 0; k < 3; k++) {
      char zRole[24];
      sqlite3_snprintf((int)sizeof(zRole), zRole, "%s%08x", azRole[k], h);
      zName = sqlite3_mprintf("relext_%s_%s", azRole[k], zT);
      zHead = sqlite3_mprintf("CREATE TEMP TRIGGER \"%w\" BEFORE %s ON main.\"%w\"",
                              zName ? zName : "", azEvent[k], zT);
      relTempAdd(p, pList, t, zName ? zName : "", zRole, zHead,
                 sqlite3_mprintf("SELECT RAISE(ABORT, %Q); ", pT->zBlock));
      sqlite3_free(zName);
      sqlite3_free(zHead);
    }
    return;
  }
  /* A deleted row that protected another through a PROTECT edge both of
  ** whose ends one statement can delete: the engine must know, until the
  ** statement ends (stmtend.c, relGoneAdd). Created first: TEMP triggers
  ** fire in the order of their creation, and the engine's own of this row
  ** must see it. */
  for (k = 0; k < pT->nChild; k++) {
    const RelEdge *pE = &p->aEdge[pT->aChild[k]];
    if (!pE->bGoneTracked) continue;
    if (nGone++ == 0)
      relStrPrintf(&body, "INSERT INTO relext_txn(e, k) SELECT -1, NULL WHERE 0; ");
    relStrPrintf(&body, "SELECT relext_gone(%lld, %d, OLD.\"%w\"); ", pT->iGen,
                 k, pE->zChildCol);
  }
  /* A table that also gets relext_del_<t> gets one trigger for both, the
  ** gone part first: every CREATE TEMP TRIGGER makes SQLite scan
  ** temp.sqlite_schema, so the count of triggers costs its square. */
  if (nGone && (pT->nParent == 0 || (pT->bPlain && !pT->bDoomable))) {
    zName = sqlite3_mprintf("relext_gone_%s", zT);
    zHead = sqlite3_mprintf("CREATE TEMP TRIGGER \"%w\" AFTER DELETE ON main.\"%w\"",
                            zName ? zName : "", zT);
    relTempAdd(p, pList, t, zName ? zName : "", "gone", zHead, relStrFinish(&body));
    sqlite3_free(zName);
    sqlite3_free(zHead);
    relStrReset(&body);
  }
  if (pT->nParent == 0) return;
  if (pT->bPlain && !pT->bDoomable) return;
  if (pT->bPlain) {
    /* A plain-mode table whose RESTRICT may wait for a PROTECT of a later
    ** row (relext_fail) keeps the statement's pending row in step. */
    relStrPrintf(&body, REL_PENDING_FMT, p->iPendingKey, p->iPendingKey,
                 p->iPendingKey);
  } else {
    char *zRow = 0;
    int rc = relCtxRowKey(p, zT, &zRow);
    if (rc && pList->rc == SQLITE_OK) pList->rc = rc;
    relStrPrintf(&body, "SELECT relext_on_delete(%lld, OLD.%s", pT->iGen,
                 zRow ? zRow : "rowid");
    sqlite3_free(zRow);
    for (k = 0; k < pT->nKey; k++) {
      char *zOld = relColExpr("OLD", pT->azKey[k]);
      if (zOld == 0) body.eRc = SQLITE_NOMEM;
      relStrPrintf(&body, ", %s", zOld ? zOld : "NULL");
      sqlite3_free(zOld);
    }
    /* (The engine enrols relext_txn when it has something to do.) */
    relStrPrintf(&body, "); ");
    if (pT->bLiftable || pT->bDoomable)
      relStrPrintf(&body, REL_PENDING_FMT, p->iPendingKey, p->iPendingKey,
                   p->iPendingKey);
  }
  zName = sqlite3_mprintf("relext_del_%s", zT);
  zHead = sqlite3_mprintf("CREATE TEMP TRIGGER \"%w\" AFTER DELETE ON main.\"%w\"",
                          zName ? zName : "", zT);
  relTempAdd(p, pList, t, zName ? zName : "", nGone ? "delgone" : "del", zHead,
             relStrFinish(&body));
  sqlite3_free(zName);
  sqlite3_free(zHead);
  relStrReset(&body);
}

/* Extra TEMP triggers of M2M junctions: duplicate pairs as no-ops (when the
** table was not created with ON CONFLICT IGNORE), and the mirror of a
** symmetrical one on INSERT, DELETE and UPDATE. A through table (Django's
** through model) gets neither: it is a table like any other, and Django
** mirrors a symmetrical relation through it only in add() and remove(),
** which write both rows themselves; a row created on its own
** (Friendship.objects.create()) stays one-way. Every column is qualified
** by its table, so a renamed one is an error, never a string literal. */
static void relJunctionSql(RelCtx *p, const RelDef *d, char **azIgnore,
                           int nIgnore, RelTempList *pList) {
  const char *zJ = d->zDbTable;
  int t = relCtxTable(p, zJ);
  char *zName, *zHead;
  if (t < 0 || p->aTab[t].bMissing || p->aTab[t].zBlock || d->zWhy) return;
  if (d->zThrough == 0) {
    /* azIgnore: the tables created with ON CONFLICT IGNORE. */
    int bIgnore = 0, k;
    for (k = 0; k < nIgnore; k++) {
      if (sqlite3_stricmp(azIgnore[k], zJ) == 0) bIgnore = 1;
    }
    if (!bIgnore) {
      zName = sqlite3_mprintf("relext_dup_%s", zJ);
      zHead = sqlite3_mprintf(
          "CREATE TEMP TRIGGER \"%w\" BEFORE INSERT ON main.\"%w\" WHEN EXISTS "
          "(SELECT 1 FROM main.\"%w\" AS j WHERE j.\"%w\"=NEW.\"%w\" AND "
          "j.\"%w\"=NEW.\"%w\")",
          zName ? zName : "", zJ, zJ, d->zSrcCol, d->zSrcCol, d->zDstCol,
          d->zDstCol);
      relTempAdd(p, pList, t, zName ? zName : "", "dup", zHead,
                 sqlite3_mprintf("SELECT RAISE(IGNORE); "));
      sqlite3_free(zName);
      sqlite3_free(zHead);
    }
  }
  if (d->bSymmetrical && d->zThrough == 0) {
    zName = sqlite3_mprintf("relext_symi_%s", zJ);
    zHead = sqlite3_mprintf("CREATE TEMP TRIGGER \"%w\" AFTER INSERT ON main.\"%w\"",
                            zName ? zName : "", zJ);
    relTempAdd(p, pList, t, zName ? zName : "", "symi", zHead,
               sqlite3_mprintf("INSERT INTO \"%w\"(\"%w\", \"%w\") SELECT "
                               "NEW.\"%w\", NEW.\"%w\" WHERE NOT EXISTS "
                               "(SELECT 1 FROM main.\"%w\" AS j WHERE "
                               "j.\"%w\"=NEW.\"%w\" AND j.\"%w\"=NEW.\"%w\"); ",
                               zJ, d->zSrcCol, d->zDstCol, d->zDstCol,
                               d->zSrcCol, zJ, d->zSrcCol, d->zDstCol,
                               d->zDstCol, d->zSrcCol));
    sqlite3_free(zName);
    sqlite3_free(zHead);
    zName = sqlite3_mprintf("relext_symd_%s", zJ);
    zHead = sqlite3_mprintf("CREATE TEMP TRIGGER \"%w\" AFTER DELETE ON main.\"%w\"",
                            zName ? zName : "", zJ);
    relTempAdd(p, pList, t, zName ? zName : "", "symd", zHead,
               sqlite3_mprintf("DELETE FROM \"%w\" WHERE \"%w\".\"%w\"=OLD.\"%w\" "
                               "AND \"%w\".\"%w\"=OLD.\"%w\"; ",
                               zJ, zJ, d->zSrcCol, d->zDstCol, zJ, d->zDstCol,
                               d->zSrcCol));
    sqlite3_free(zName);
    sqlite3_free(zHead);
    /* An UPDATE of a link moves its mirror along (keeping the mirror's
    ** other columns, a through table's), or drops the old mirror when the
    ** new pair's mirror is there already; a missing mirror is made. */
    zName = sqlite3_mprintf("relext_symu_%s", zJ);
    zHead = sqlite3_mprintf("CREATE TEMP TRIGGER \"%w\" AFTER UPDATE OF \"%w\", "
                            "\"%w\" ON main.\"%w\"",
                            zName ? zName : "", d->zSrcCol, d->zDstCol, zJ);
    relTempAdd(
        p, pList, t, zName ? zName : "", "symu", zHead,
        sqlite3_mprintf(
            "UPDATE \"%w\" SET \"%w\"=NEW.\"%w\", \"%w\"=NEW.\"%w\" WHERE "
            "\"%w\".\"%w\"=OLD.\"%w\" AND \"%w\".\"%w\"=OLD.\"%w\" AND "
            "OLD.\"%w\" IS NOT OLD.\"%w\" AND NOT EXISTS (SELECT 1 FROM "
            "main.\"%w\" AS j WHERE j.\"%w\"=NEW.\"%w\" AND "
            "j.\"%w\"=NEW.\"%w\"); "
            "DELETE FROM \"%w\" WHERE \"%w\".\"%w\"=OLD.\"%w\" AND "
            "\"%w\".\"%w\"=OLD.\"%w\" AND OLD.\"%w\" IS NOT OLD.\"%w\"; "
            "INSERT INTO \"%w\"(\"%w\", \"%w\") SELECT NEW.\"%w\", NEW.\"%w\" "
            "WHERE NOT EXISTS (SELECT 1 FROM main.\"%w\" AS j WHERE "
            "j.\"%w\"=NEW.\"%w\" AND j.\"%w\"=NEW.\"%w\"); ",
            /* move the old mirror */
            zJ, d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol, zJ,
            d->zSrcCol, d->zDstCol, zJ, d->zDstCol, d->zSrcCol, d->zSrcCol,
            d->zDstCol, zJ, d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol,
            /* or drop it */
            zJ, zJ, d->zSrcCol, d->zDstCol, zJ, d->zDstCol, d->zSrcCol,
            d->zSrcCol, d->zDstCol,
            /* the new pair's mirror */
            zJ, d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol, zJ,
            d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol));
    sqlite3_free(zName);
    sqlite3_free(zHead);
  }
}

/* A RESTRICT decided at the end of a statement inside a transaction
** needs SQLite's foreign keys (engine.c). Turned on when that changes
** nothing else: outside a transaction (where the setting can change), with
** relationships declared, and when no table of the schema declares a
** REFERENCES clause of its own, which would then be enforced too
** (relext_pending's is relext's: relCatalogEnsure). An
** application that turns them off gets the COMMIT check for such a
** RESTRICT instead. */
int relGuardForeignKeys(RelCtx *p, char **pzErr) {
  sqlite3 *db = p->db;
  sqlite3_stmt *pStmt = 0;
  int bOn = 0, bRefs = 1, rc;
  if (p->nDef == 0 || !sqlite3_get_autocommit(db)) return SQLITE_OK;
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &bOn);
  if (bOn) return SQLITE_OK;
  if (sqlite3_prepare_v2(db,
                         "SELECT count(*) FROM main.sqlite_schema WHERE "
                         "type='table' AND sql LIKE '%REFERENCES%' AND "
                         "name <> 'relext_pending'",
                         -1, &pStmt, 0) == SQLITE_OK &&
      sqlite3_step(pStmt) == SQLITE_ROW)
    bRefs = sqlite3_column_int(pStmt, 0) > 0;
  rc = sqlite3_finalize(pStmt);
  if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(db));
  if (!bRefs) sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, &bOn);
  return SQLITE_OK;
}

/* A TEMP trigger present on this connection: the identity its text and
** table give (see RelTemp). */
typedef struct RelTempHave RelTempHave;
struct RelTempHave {
  char *zName;
  char *zTbl;
  sqlite3_int64 iGen;
  char zRole[24];
  int bWanted; /* matched by a wanted trigger */
};

/* The TEMP triggers relext made on this connection. */
static int relTempRead(sqlite3 *db, RelTempHave **paHave, int *pnHave) {
  sqlite3_stmt *pStmt = 0;
  RelTempHave *a = 0;
  int n = 0, rc;
  rc = sqlite3_prepare_v2(db,
                          "SELECT name, tbl_name, sql FROM temp.sqlite_schema "
                          "WHERE type='trigger' AND name GLOB 'relext_*'",
                          -1, &pStmt, 0);
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *zSql = (const char *)sqlite3_column_text(pStmt, 2);
    const char *z = zSql ? strstr(zSql, "/* relext ") : 0;
    RelTempHave *aNew = sqlite3_realloc64(a, sizeof(*a) * (size_t)(n + 1));
    int i = 0;
    if (aNew == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    a = aNew;
    memset(&a[n], 0, sizeof(a[n]));
    a[n].zName = relStrdup((const char *)sqlite3_column_text(pStmt, 0));
    a[n].zTbl = relStrdup((const char *)sqlite3_column_text(pStmt, 1));
    n++;
    if (!a[n - 1].zName || !a[n - 1].zTbl) {
      rc = SQLITE_NOMEM;
      break;
    }
    /* The last marker: a trigger's body may quote anything before it. */
    while (z) {
      const char *zNext = strstr(z + 1, "/* relext ");
      if (zNext == 0) break;
      z = zNext;
    }
    if (z) {
      z += 10;
      while (*z >= '0' && *z <= '9' && a[n - 1].iGen < ((sqlite3_int64)1 << 62))
        a[n - 1].iGen = a[n - 1].iGen * 10 + (*z++ - '0');
      if (*z == ' ') z++;
      while (*z && *z != ' ' && i < (int)sizeof(a[n - 1].zRole) - 1)
        a[n - 1].zRole[i++] = *z++;
    }
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  *paHave = a;
  *pnHave = n;
  return rc;
}

static void relTempHaveFree(RelTempHave *a, int n) {
  int i;
  for (i = 0; i < n; i++) {
    sqlite3_free(a[i].zName);
    sqlite3_free(a[i].zTbl);
  }
  sqlite3_free(a);
}

/* The message of a table while a table (or view) named relext_txn hides
** relext's (relGuardInstall; admit.c words the same for an attached
** database). */
#define REL_TXN_SHADOW_MSG                                                     \
  "relext: cannot write %s: a table named relext_txn in the main or temp "    \
  "database hides relext's own (the name is relext's): drop or rename it, "   \
  "then run SELECT rel_reload()"

/* Refuse writes to table t (zFmt names it), unless refused already. */
static int relTableBlock(RelCtx *p, int t, int eBlock, const char *zFmt) {
  if (t < 0 || t >= p->nTable || p->aTab[t].zBlock) return SQLITE_OK;
  p->aTab[t].eBlock = eBlock;
  p->aTab[t].zBlock = sqlite3_mprintf(zFmt, p->azTable[t]);
  return p->aTab[t].zBlock ? SQLITE_OK : SQLITE_NOMEM;
}

/* The stored guards of table t are missing or out of date, and cannot be
** written now. */
#define REL_GUARD_STALE_MSG                                                    \
  "relext: the stored guards of %s are missing or out of date (restored "     \
  "from a dump without relext? dropped and created again?): run SELECT "      \
  "rel_reload() to restore them"

static int relGuardsSync(RelCtx *p, int bWrite, int *pbCurrent,
                         unsigned char *aStale, char **pzErr);

/* ------------------------------------------------------------------ */
/* TEMP triggers made at the first write that needs them              */

/* Leave the TEMP triggers wanted (want, TEMP triggers there: nHave) to the
** first write that needs them, if each is one relLazyBounce can stand in
** for: a table's delete engine and its gone part (its stored BEFORE
** DELETE guard calls relext_must_be_loaded(T) for every row; before they
** are made, no engine runs, so no gone trigger has anything to tell), a
** plain table's pending row (relext_fail of a RESTRICT that waits), a
** junction's own triggers (every write). Only when none is there yet (a
** connection's first load, or a rollback that took them all back). 1: left
** (RelTable.eLazy set, p->bLazyWant). */
static int relLazyLeave(RelCtx *p, const RelTempList *pWant, int nHave) {
  int i, t, bAny = 0;
  if (!p->bLazyLoad || nHave > 0 || !relLazyAvailable() || p->zBroken ||
      pWant->n == 0)
    return 0;
  for (i = 0; i < pWant->n; i++) {
    const char *z = pWant->a[i].zRole;
    if (strcmp(z, "del") != 0 && strcmp(z, "delgone") != 0 &&
        strcmp(z, "gone") != 0 && strcmp(z, "dup") != 0 &&
        strcmp(z, "symi") != 0 && strcmp(z, "symd") != 0 &&
        strcmp(z, "symu") != 0)
      return 0;
  }
  /* Without a journal, a write could not be sent back: made now. */
  if (relLazyJournalOff(p->db)) return 0;
  for (t = 0; t < p->nTable; t++)
    p->aTab[t].eLazy = 0;
  for (i = 0; i < pWant->n; i++) {
    const RelTemp *w = &pWant->a[i];
    RelTable *pT = &p->aTab[w->iTab];
    int e = w->zRole[0] == 'd' && w->zRole[1] == 'e' ? REL_LAZY_DELETE
            : w->zRole[0] == 'g'                     ? 0
                                                     : REL_LAZY_WRITE;
    if (e > pT->eLazy) pT->eLazy = e;
    bAny = 1;
  }
  p->bLazyWant = bAny;
  return bAny;
}

/* xLoaded: make this connection's TEMP triggers and tables those of the
** loaded rules, changing only what differs. In REL_SYNC_MEM mode (a load
** inside a running statement, a COMMIT) nothing is changed: the tables
** whose triggers would change refuse writes until rel_reload(). Tables
** whose stored guards are stale (and could not be repaired: the load
** could not write) refuse writes too. */
static int relGuardInstall(RelCtx *p, void *pState, char **pzErr) {
  sqlite3 *db = p->db;
  RelTempList want;
  RelTempHave *aHave = 0;
  char **azIgnore = 0;
  int nIgnore = 0;
  int nHave = 0, rc = SQLITE_OK, i, j, t, bCurrent = 1;
  int bMainPending = 0, bTempPending = 0, bShadow = 0;
  unsigned char *aStale = 0;
  RelStr s = {0};

  (void)pState;
  memset(&want, 0, sizeof(want));
  /* (p->bLazyWant changes only when this load succeeds: a failed one
  ** leaves the writes that need TEMP triggers sent back.) */
  /* Stored guards out of step: refused until they are written again. */
  if (p->nTable > 0 && !p->zTamper && !p->bRestoring &&
      !p->bGuardsCurrent) {
    aStale = sqlite3_malloc64((size_t)p->nTable);
    if (aStale == 0) return SQLITE_NOMEM;
    rc = relGuardsSync(p, 0, &bCurrent, aStale, pzErr);
    for (t = 0; rc == SQLITE_OK && t < p->nTable; t++) {
      if (aStale[t] && !p->aTab[t].bMissing)
        rc = relTableBlock(p, t, REL_BLOCK_GUARDS, REL_GUARD_STALE_MSG);
    }
    sqlite3_free(aStale);
    if (rc) return rc;
  }
  p->bStale = !bCurrent;
  for (t = 0; t < p->nTable; t++)
    relTriggerSql(p, t, &want);
  for (i = 0; i < p->nDef; i++) {
    if (p->aDef[i].eKind == REL_M2M && p->aDef[i].zThrough == 0) break;
  }
  if (i < p->nDef) {
    /* The junctions made with ON CONFLICT IGNORE, in one read. */
    rc = relTablesDeclLike(db, "%ON CONFLICT IGNORE%", &azIgnore, &nIgnore);
    if (rc) want.rc = rc;
  }
  for (i = 0; want.rc == SQLITE_OK && i < p->nDef; i++) {
    if (p->aDef[i].eKind == REL_M2M)
      relJunctionSql(p, &p->aDef[i], azIgnore, nIgnore, &want);
  }
  relColumnNamesFree(azIgnore, nIgnore);
  rc = want.rc;
  if (rc == SQLITE_OK) rc = relTempRead(db, &aHave, &nHave);
  if (rc == SQLITE_OK) {
    /* The TEMP tables relext's notes need (made by a load that may). */
    int bTxn = 0;
    sqlite3_stmt *pStmt = 0;
    /* And where relext_pending is: main's (relCatalogEnsure) once a
    ** rel_define made them, if they are still what relext made (the text
    ** relext wrote, no trigger on either: another writer could have made
    ** the REFERENCES deferred, or a trigger swallow the row); else TEMP
    ** ones, which SQLite finds first. */
    rc = sqlite3_prepare_v2(
        db,
        "SELECT (SELECT count(*) FROM temp.sqlite_schema WHERE "
        "name='relext_victim'), (SELECT count(*) FROM main.sqlite_schema "
        "WHERE type='table' AND ((name='relext_nowhere' AND sql = 'CREATE "
        "TABLE relext_nowhere' || ?1) OR (name='relext_pending' AND sql = "
        "'CREATE TABLE relext_pending' || ?2))) - (SELECT count(*) FROM "
        "main.sqlite_schema WHERE type='trigger' AND tbl_name IN "
        "('relext_pending', 'relext_nowhere') COLLATE NOCASE) - (SELECT "
        "count(*) FROM temp.sqlite_schema WHERE type='trigger' AND tbl_name "
        "IN ('relext_pending', 'relext_nowhere') COLLATE NOCASE), (SELECT "
        "count(*) FROM temp.sqlite_schema WHERE "
        "name IN ('relext_pending', 'relext_nowhere')), (SELECT count(*) "
        "FROM main.sqlite_schema WHERE name='relext_txn' COLLATE NOCASE "
        "AND type IN ('table', 'view')) + (SELECT count(*) FROM "
        "temp.sqlite_schema WHERE name='relext_txn' COLLATE NOCASE AND type "
        "IN ('table', 'view'))",
        -1, &pStmt, 0);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(pStmt, 1, relNowhereCols, -1, SQLITE_STATIC);
      sqlite3_bind_text(pStmt, 2, relPendingCols, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
      bTxn = sqlite3_column_int(pStmt, 0) > 0;
      bMainPending = sqlite3_column_int(pStmt, 1) == 2;
      bTempPending = sqlite3_column_int(pStmt, 2) > 0;
      bShadow = sqlite3_column_int(pStmt, 3) > 0;
    }
    if (rc == SQLITE_OK)
      rc = sqlite3_finalize(pStmt);
    else
      sqlite3_finalize(pStmt);
    /* (A read that failed says nothing: the load fails.) */
    if (rc == SQLITE_OK) p->bInfra = bTxn;
  }
  /* A table named relext_txn would take the notes relext's TEMP triggers
  ** address to its own (an eponymous table, found after every table). */
  for (t = 0; rc == SQLITE_OK && bShadow && t < p->nTable; t++)
    rc = relTableBlock(p, t, REL_BLOCK_TEMP, REL_TXN_SHADOW_MSG);
  /* What is there already and wanted stays. */
  for (i = 0; rc == SQLITE_OK && i < want.n; i++) {
    RelTemp *w = &want.a[i];
    for (j = 0; j < nHave; j++) {
      if (!aHave[j].bWanted && aHave[j].iGen == w->iGen &&
          strcmp(aHave[j].zRole, w->zRole) == 0 &&
          sqlite3_stricmp(aHave[j].zTbl, p->azTable[w->iTab]) == 0) {
        aHave[j].bWanted = 1;
        sqlite3_free(w->zSql);
        w->zSql = 0; /* nothing to do */
        break;
      }
    }
  }
  if (rc == SQLITE_OK && p->bRestoring) {
    /* Inside a dump's CREATE INDEX: nothing may change (SQLite aborts a
    ** statement inside which a TEMP object is made, in a transaction), and
    ** nothing is refused yet (the guards are being restored); the next
    ** load, once the restore is done, judges. */
  } else if (rc == SQLITE_OK && p->eLoad == REL_SYNC_MEM) {
    /* Nothing may change now: refuse writes to the tables concerned (all
    ** of them while the TEMP tables of the notes are missing), unless the
    ** TEMP triggers, none of them there (a rollback took them back), can
    ** wait for the first write that needs them. */
    int bLazy;
    for (t = 0; rc == SQLITE_OK && p->nDef > 0 && t < p->nTable &&
                (!p->bInfra || (!bMainPending && !bTempPending));
         t++)
      rc = relTableBlock(p, t, REL_BLOCK_TEMP, REL_TEMP_STALE_MSG);
    p->bLazyLoad++;
    bLazy = rc == SQLITE_OK && relLazyLeave(p, &want, nHave);
    p->bLazyLoad--;
    if (rc == SQLITE_OK && !bLazy) p->bLazyWant = 0; /* refused instead */
    for (i = 0; rc == SQLITE_OK && !bLazy && i < want.n; i++) {
      if (want.a[i].zSql)
        rc = relTableBlock(p, want.a[i].iTab, REL_BLOCK_TEMP, REL_TEMP_STALE_MSG);
    }
    for (j = 0; rc == SQLITE_OK && j < nHave; j++) {
      if (aHave[j].bWanted) continue;
      t = relCtxTable(p, aHave[j].zTbl);
      rc = relTableBlock(p, t, REL_BLOCK_TEMP, REL_TEMP_STALE_MSG);
    }
  } else if (rc == SQLITE_OK) {
    for (j = 0; j < nHave; j++) {
      if (!aHave[j].bWanted)
        relStrPrintf(&s, "DROP TRIGGER IF EXISTS temp.\"%w\";\n", aHave[j].zName);
    }
    /* The TEMP tables, once something is declared (not before: the first
    ** TEMP table fixes the encoding of a database not yet created). */
    if (p->nDef > 0) {
      relStrPrintf(&s,
                   "CREATE TEMP TABLE IF NOT EXISTS relext_victim(t INTEGER "
                   "NOT NULL, r NOT NULL, PRIMARY KEY(t, r)) WITHOUT ROWID;\n"
                   "CREATE VIRTUAL TABLE IF NOT EXISTS temp.relext_close USING "
                   "relext_close;\n");
      /* The TEMP trigger programs name relext_pending unqualified: TEMP
      ** first, then main. */
      if (!bMainPending) {
        relStrPrintf(&s,
                     "CREATE TEMP TABLE IF NOT EXISTS relext_nowhere%s;\n"
                     "CREATE TEMP TABLE IF NOT EXISTS relext_pending%s;\n",
                     relNowhereCols, relPendingCols);
      } else if (bTempPending) {
        relStrPrintf(&s, "DROP TABLE IF EXISTS temp.relext_pending;\n"
                         "DROP TABLE IF EXISTS temp.relext_nowhere;\n");
      }
    }
    /* The TEMP triggers may wait for the first write that needs them (a
    ** connection's first load: one that only reads, or only inserts into
    ** tables whose triggers are their deletes', never makes them). */
    int bLeave = relLazyLeave(p, &want, nHave);
    for (i = 0; !bLeave && i < want.n; i++) {
      /* A trigger of the same name left over (made for other rules): it
      ** went above; one on another table that has the name is dropped
      ** first. */
      if (want.a[i].zSql) {
        relStrPrintf(&s, "DROP TRIGGER IF EXISTS temp.\"%w\";\n%s;\n",
                     want.a[i].zName, want.a[i].zSql);
      }
    }
    if (s.eRc) rc = s.eRc;
    if (rc == SQLITE_OK && s.n > 0 && p->bLazyBusy) {
      /* Made for the write that needs them (ctx.c, relLazyProfile): all
      ** or none, so that a failure leaves none there, and the next write
      ** that needs them tries again. */
      RelSavepoint sp;
      relCtxStmtsRelease(p);
      rc = relSavepointOpen(db, "relext_temp", &sp, pzErr);
      if (rc == SQLITE_OK) {
        rc = relExecf(db, pzErr, "%s", s.z);
        if (rc == SQLITE_OK)
          rc = relSavepointClose(db, &sp, 1, pzErr);
        else
          relSavepointClose(db, &sp, 0, 0);
      }
    } else if (rc == SQLITE_OK && s.n > 0) {
      relCtxStmtsRelease(p);
      rc = relExecf(db, pzErr, "%s", s.z);
    }
    if (rc == SQLITE_OK && p->nDef > 0) p->bInfra = 1;
    if (rc == SQLITE_OK && p->nDef > 0) rc = relGuardForeignKeys(p, pzErr);
    if (rc == SQLITE_OK && !bLeave) {
      p->bLazyWant = 0;
      /* Made: a failure to make them before is over. Made inside a
      ** transaction, a ROLLBACK (TO) may take them back: writes catch up
      ** with the database first until it is seen to end. */
      sqlite3_free(p->zLazyErr);
      p->zLazyErr = 0;
      p->nLazyTries = 0;
      for (i = 0; i < want.n && want.a[i].zSql == 0; i++) {
      }
      if (i < want.n && !sqlite3_get_autocommit(db)) p->bLazyTxn = 1;
    }
  }
  relStrReset(&s);
  relTempHaveFree(aHave, nHave);
  relTempListClear(&want);
  return rc;
}

/* ------------------------------------------------------------------ */
/* The stored guards and the catalog's witness                        */

/* The witness of the catalog: triggers on relext_relations. Three (_i,
** _u, _d) refuse any write to it but relext's own (relext_catalog_open()
** is 1 only while rel_define, rel_undefine or a repair writes) and carry
** G, the hash of its rows as relext wrote them (p->iCatHash), for the
** next load to compare. The fourth never runs (WHEN 0): it names every
** governed table, so that a raw DROP TABLE of one makes SQLite refuse
** every later ALTER TABLE ... RENAME (a table rebuild) until the table is
** back, rel_rebuild_begin() names it, or the definition goes. SQLite's
** refusal reads "error in trigger <name>: no such table: main.<t>", so
** the trigger's name is the explanation (REL_WITNESS_TABLES). It carries
** no G: it changes only when the governed tables do, so that declaring a
** relationship between tables already governed rewrites three small
** triggers, not one that names every table (each CREATE and DROP of a
** stored trigger scans sqlite_schema). aW[k] gets the k-th trigger's
** SQL, without the closing semicolon (as sqlite_schema keeps it). */
#define REL_WITNESS_TABLES "relext_catalog_tables" REL_MISSING_HINT
#define REL_N_WITNESS 4
static const char *const azWitnessName[REL_N_WITNESS] = {
    "relext_catalog_i", "relext_catalog_u", "relext_catalog_d",
    REL_WITNESS_TABLES};
static void relWitnessSql(RelCtx *p, RelStr *aW) {
  static const char *azEvent[] = {"INSERT", "UPDATE", "DELETE"};
  RelStr *s = &aW[3];
  int k, t;
  for (k = 0; k < 3; k++) {
    relStrPrintf(&aW[k],
                 "CREATE TRIGGER %s BEFORE %s ON relext_relations BEGIN "
                 "SELECT RAISE(ABORT, 'relext: relext_relations is written "
                 "only by rel_define, rel_undefine and rel_approve') WHERE "
                 "relext_catalog_open() = 0; "
                 "/* relext catalog %lld */ END",
                 azWitnessName[k], azEvent[k], p->iCatHash);
  }
  relStrPrintf(s,
               "CREATE TRIGGER \"%w\" BEFORE DELETE ON relext_relations "
               "WHEN 0 BEGIN SELECT 1 WHERE 0; ",
               REL_WITNESS_TABLES);
  for (t = 0; t < p->nTable; t++) {
    if (p->aTab[t].bMissing || relCtxRebuilding(p, t)) continue;
    relStrPrintf(s, "SELECT 1 FROM \"%w\" WHERE 0; ", p->azTable[t]);
  }
  for (t = 0; t < p->nRebuild; t++)
    relStrPrintf(s, "/* relext rebuild \"%w\" */ ", p->azRebuild[t]);
  relStrPrintf(s, "END");
}

/*
** Compare the stored guards with the loaded rules, table by table, and
** (bWrite) bring them in line. A table's guards are current when its guard
** index and the delete triggers its mode needs are there, on it, with its
** generation (the blocked form for a table a BROKEN definition involves),
** and nothing else of relext's is on it; aStale[t] (may be NULL) says
** which are not. Only the tables that are not are rewritten, so that
** declaring a relationship rewrites the guards of the tables it touches,
** not of the whole schema. Guards left on tables no longer governed go;
** the witness is rewritten when it is not the one of the catalog.
*/
static int relGuardsSync(RelCtx *p, int bWrite, int *pbCurrent,
                         unsigned char *aStaleOut, char **pzErr) {
  RelStoredSet set;
  int t, i, rc;
  unsigned char *aStale = 0, *aUsed = 0;
  /* Per table: guards found (nHave), and which of them are current
  ** (REL_HAVE_xxx bits). */
  int *anHave = 0;
  unsigned char *aHave = 0;
  RelStr s = {0}, wNew = {0};
  RelStr aW[REL_N_WITNESS];
  int k;
  memset(aW, 0, sizeof(aW));
  *pbCurrent = 0;
  rc = relStoredReadMain(p, &set);
  if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  if (p->nTable > 0) {
    aStale = sqlite3_malloc64((size_t)p->nTable);
    aHave = sqlite3_malloc64((size_t)p->nTable);
    anHave = sqlite3_malloc64(sizeof(int) * (size_t)p->nTable);
  }
  if (set.n > 0) aUsed = sqlite3_malloc64((size_t)set.n);
  if ((p->nTable > 0 && (aStale == 0 || aHave == 0 || anHave == 0)) ||
      (set.n > 0 && aUsed == 0))
    rc = SQLITE_NOMEM;
  if (aUsed) memset(aUsed, 0, (size_t)set.n);
  if (aHave) memset(aHave, 0, (size_t)p->nTable);
  if (anHave) memset(anHave, 0, sizeof(int) * (size_t)p->nTable);
  *pbCurrent = 1;
  /* The stored objects, each to its table (one pass: a scan of the
  ** objects per table made a load at 1,000 relationships compare names
  ** 300,000 times). The last object of a kind decides, as in set order. */
#define REL_HAVE_IDX 1
#define REL_HAVE_BEF 2
#define REL_HAVE_AFT 4
  for (i = 0; rc == SQLITE_OK && i < set.n; i++) {
    const RelStoredObj *o = &set.a[i];
    const RelTable *pT;
    unsigned char m = 0, v = 0;
    if (o->eKind == REL_OBJ_CATALOG) continue;
    t = relCtxTable(p, o->zTbl);
    if (t < 0) continue;
    pT = &p->aTab[t];
    if (pT->bMissing || relCtxRebuilding(p, t)) continue;
    aUsed[i] = 1;
    anHave[t]++;
    if (o->iGen != pT->iGen) continue;
    /* A trigger written by a relext that named main (its database then
    ** failed to attach under another name): written again. */
    if (!o->bIndex && strstr(o->zSql, "FROM main.") != 0) continue;
    if (o->eKind == REL_OBJ_INDEX) {
      m = REL_HAVE_IDX;
      v = o->bBlocked == pT->bBlocked;
    } else if (o->eKind == REL_OBJ_BEFORE) {
      m = REL_HAVE_BEF;
      v = o->bBlocked == pT->bBlocked;
    } else if (o->eKind == REL_OBJ_AFTER) {
      m = REL_HAVE_AFT;
      v = !o->bBlocked;
    }
    aHave[t] = (unsigned char)((aHave[t] & ~m) | (v ? m : 0));
  }
  for (t = 0; rc == SQLITE_OK && t < p->nTable; t++) {
    const RelTable *pT = &p->aTab[t];
    int bD, bA;
    aStale[t] = 0;
    if (pT->bMissing || relCtxRebuilding(p, t)) continue;
    relGuardTriggers(p, t, &bD, &bA);
    if (pT->bBlocked) {
      bD = 1;
      bA = 0;
    }
    aStale[t] = !(aHave[t] & REL_HAVE_IDX) ||
                (bD && !(aHave[t] & REL_HAVE_BEF)) ||
                (bA && !(aHave[t] & REL_HAVE_AFT)) || anHave[t] != 1 + bD + bA;
    if (aStale[t]) *pbCurrent = 0;
  }
#undef REL_HAVE_IDX
#undef REL_HAVE_BEF
#undef REL_HAVE_AFT
  /* The witness wanted, against the one stored, trigger by trigger. */
  if (rc == SQLITE_OK && p->bCatalog && p->nDef > 0) relWitnessSql(p, aW);
  for (k = 0; rc == SQLITE_OK && k < REL_N_WITNESS; k++) {
    if (aW[k].eRc) rc = aW[k].eRc;
  }
  if (rc == SQLITE_OK) {
    unsigned char aWitHave[REL_N_WITNESS] = {0};
    for (i = 0; i < set.n; i++) {
      const RelStoredObj *o = &set.a[i];
      if (o->eKind != REL_OBJ_CATALOG) continue;
      for (k = 0; k < REL_N_WITNESS; k++) {
        if (strcmp(o->zName, azWitnessName[k]) == 0) break;
      }
      if (k < REL_N_WITNESS && aW[k].n > 0 && strcmp(aW[k].z, o->zSql) == 0) {
        aWitHave[k] = 1;
        continue;
      }
      *pbCurrent = 0;
      relStrPrintf(&s, "DROP TRIGGER IF EXISTS main.\"%w\";\n", o->zName);
    }
    for (k = 0; k < REL_N_WITNESS; k++) {
      if (aW[k].n == 0 || aWitHave[k]) continue;
      *pbCurrent = 0;
      relStrPrintf(&wNew, "%s;\n", aW[k].z);
    }
  }
  /* Guards on tables no longer governed (or of a governed table that is
  ** out of date) go first: their names may be wanted. */
  for (i = 0; rc == SQLITE_OK && i < set.n; i++) {
    const RelStoredObj *o = &set.a[i];
    if (o->eKind == REL_OBJ_CATALOG) continue;
    t = relCtxTable(p, o->zTbl);
    if (aUsed[i] && t >= 0 && !aStale[t]) continue;
    if (t >= 0 && relCtxRebuilding(p, t)) continue;
    *pbCurrent = 0;
    relStrPrintf(&s, "DROP %s IF EXISTS main.\"%w\";\n",
                 o->bIndex ? "INDEX" : "TRIGGER", o->zName);
  }
  relStoredClear(&set);
  /* The witness's new triggers come after every DROP: a drop above may be
  ** of a trigger of the same name. */
  if (rc == SQLITE_OK && wNew.eRc) rc = wNew.eRc;
  if (rc == SQLITE_OK && wNew.n > 0) relStrPrintf(&s, "%s", wNew.z);
  if (rc == SQLITE_OK && bWrite && !*pbCurrent) {
    RelStr c = {0};
    for (t = 0; t < p->nTable; t++) {
      if (aStale[t]) relGuardTableSql(p, t, &c);
    }
    if (c.eRc) rc = c.eRc;
    if (rc == SQLITE_OK && c.n) relStrPrintf(&s, "%s", c.z);
    relStrReset(&c);
    if (s.eRc) rc = s.eRc;
    if (rc == SQLITE_OK && s.n > 0) {
      /* Creating an index reads the existing rows: take no notes of them. */
      relCommitQuiet(p, 1);
      rc = relExecf(p->db, pzErr, "%s", s.z);
      relCommitQuiet(p, 0);
    }
    if (rc == SQLITE_OK) *pbCurrent = 1;
  }
  if (rc == SQLITE_OK && bWrite && !p->bCatalog) {
    /* No catalog (rel_approve of one dropped): relext_pending and
    ** relext_nowhere (relCatalogEnsure) go with it. */
    sqlite3_stmt *pStmt = 0;
    int bThere = 0;
    rc = sqlite3_prepare_v2(p->db,
                            "SELECT 1 FROM main.sqlite_schema WHERE type = "
                            "'table' AND name IN ('relext_pending', "
                            "'relext_nowhere')",
                            -1, &pStmt, 0);
    if (rc == SQLITE_OK) bThere = sqlite3_step(pStmt) == SQLITE_ROW;
    sqlite3_finalize(pStmt);
    if (rc == SQLITE_OK && bThere)
      rc = relExecf(p->db, pzErr,
                    "DROP TABLE IF EXISTS main.relext_pending; "
                    "DROP TABLE IF EXISTS main.relext_nowhere;");
    if (rc && rc != SQLITE_NOMEM && pzErr && *pzErr == 0)
      rc = relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  }
  if (aStaleOut && aStale && p->nTable > 0)
    memcpy(aStaleOut, aStale, (size_t)p->nTable);
  sqlite3_free(aStale);
  sqlite3_free(aUsed);
  sqlite3_free(aHave);
  sqlite3_free(anHave);
  relStrReset(&s);
  relStrReset(&wNew);
  for (k = 0; k < REL_N_WITNESS; k++) relStrReset(&aW[k]);
  if (rc == SQLITE_NOMEM) rc = relError(pzErr, rc, "out of memory");
  return rc;
}

/* Are the stored guards those of the loaded rules? */
int relGuardsCurrent(RelCtx *p, int *pbCurrent) {
  return relGuardsSync(p, 0, pbCurrent, 0, 0);
}

/* Rewrite the stored guards of the tables whose rules changed. */
int relGuardsWrite(RelCtx *p, char **pzErr) {
  int bCurrent = 0;
  return relGuardsSync(p, 1, &bCurrent, 0, pzErr);
}

/* relext_catalog_open(): 1 while relext itself writes relext_relations
** (the witness triggers let only that through), else 0. */
static void relCatalogOpenFunc(sqlite3_context *ctx, int argc,
                               sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  (void)argc;
  (void)argv;
  sqlite3_result_int(ctx, p->bCatalogOpen > 0);
}

static const RelHooks guardHooks = {
    0,               /* xRemap */
    relGuardInstall, /* xLoaded: the TEMP triggers */
    0,               /* xStmtsFree */
    0,               /* xFree: no state */
};

int relRegisterGuard(sqlite3 *db, RelCtx *p) {
  relCtxAttach(p, REL_SLOT_GUARD, 0, &guardHooks);
  /* No side effect but an error: the stored delete guards of plain-mode
  ** tables call it, also under trusted_schema=OFF. */
  int rc = sqlite3_create_function_v2(
      db, "relext_fail", 5, SQLITE_UTF8 | SQLITE_INNOCUOUS, relCtxRef(p),
      relFailFunc, 0, 0, relCtxUnref);
  /* A getter the witness triggers call: no side effect. */
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "relext_catalog_open", 0,
                                    SQLITE_UTF8 | SQLITE_INNOCUOUS,
                                    relCtxRef(p), relCatalogOpenFunc, 0, 0,
                                    relCtxUnref);
  return rc;
}
