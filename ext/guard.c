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
**     key: a key that goes is a suspect too). The function (commit.c) notes
**     the keys for the COMMIT check. One index per table: each index costs
**     every statement a cursor.
**   - relext_guard_d_<t> BEFORE DELETE: in plain mode (catalog.c,
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
**   (REL_PENDING_SQL, commit.c); relext_gone_<t> tells the engine of a
**   deleted row that protected another (engine.c); M2M junctions get their
**   duplicate and mirror triggers.
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
  char *zErr, *zKeyAlloc = 0;
  size_t nOut = 0;
  int t, bDefer = 0, bAuto = 0;
  (void)argc;
  /* Rows the delete engine removes: it has decided already. */
  if (p->nBusy > 0 && p->nCareful == 0) return;
  t = relCtxTableByGen(p, sqlite3_value_int64(argv[0]));
  if (t < 0 || iEdge < 0 || iEdge >= p->aTab[t].nParent) {
    sqlite3_result_error(ctx, p->zBroken ? p->zBroken : REL_STALE_MSG, -1);
    return;
  }
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
  ** statement waits for its end (Django's order: PROTECT wins), unless
  ** only the COMMIT check could then decide it. */
  if (eKind == 3 && p->aTab[t].bDoomable) {
    bAuto = sqlite3_get_autocommit(p->db);
    bDefer = bAuto || relFkImmediate(p->db);
  }
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
                                     zErr, 1, 1);
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

/* Drop every object of schema zDb whose name starts with zPrefix and whose
** type is zType. */
static int relDropByPrefix(sqlite3 *db, const char *zDb, const char *zType,
                           const char *zPrefix, char **pzErr) {
  char *zCond =
      sqlite3_mprintf("substr(name, 1, length(%Q))=%Q", zPrefix, zPrefix);
  int rc;
  if (zCond == 0) return SQLITE_NOMEM;
  rc = relDropObjects(db, zDb, zType, zCond, pzErr);
  sqlite3_free(zCond);
  return rc;
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
                     "THEN RAISE(IGNORE) END FROM main.\"%w\" WHERE "
                     "\"%w\"=%s HAVING count(*) > 0; ",
                     pT->iGen, k, zOld, zC, pE->zChildCol, zOld);
      } else if ((pass == 0 && pE->eRule == ON_PROTECT) ||
                 (pass == 1 && pE->eRule == ON_RESTRICT)) {
        /* One probe: count(*) of an empty index range is one seek. */
        relStrPrintf(pBody,
                     "SELECT relext_fail(%lld, %d, %d, %s, count(*)) FROM "
                     "main.\"%w\" AS c WHERE c.\"%w\"=%s HAVING count(*) > 0; ",
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
                     "(SELECT 1 FROM main.\"%w\" AS c WHERE c.\"%w\"=%s); ",
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
static char *relGuardDeleteName(const char *zT) {
  return sqlite3_mprintf("relext_guard_d_%s", zT);
}
static char *relGuardAfterName(const char *zT) {
  return sqlite3_mprintf("relext_guard_a_%s", zT);
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
  for (k = 0; k < pT->nChild; k++) {
    const RelEdge *pE = &p->aEdge[pT->aChild[k]];
    const RelDef *d = &p->aDef[pE->iDef];
    char *zRow = 0;
    if (d->eKind != REL_M2M && !d->bNull) {
      /* null=False: the row's key comes along, for the NOT NULL check. */
      int rcRow = relRowKey(p->db, zT, &zRow);
      if (rcRow) rc = rcRow;
    }
    relGuardArgsNext(&args, &nArg, 3, pT->iGen);
    relStrPrintf(&args, ", %d, \"%w\", %s", k, pE->zChildCol,
                 zRow ? zRow : "NULL");
    sqlite3_free(zRow);
    if (zIdxCol == 0) zIdxCol = relStrdup(pE->zChildCol);
  }
  for (k = 0; k < pT->nParent; k++) {
    const RelEdge *pE = &p->aEdge[pT->aParent[k]];
    char *zKey = relColExpr(0, pE->zParentCol);
    if (zKey == 0) rc = SQLITE_NOMEM;
    relGuardArgsNext(&args, &nArg, 2, pT->iGen);
    relStrPrintf(&args, ", %d, %s", -1 - k, zKey ? zKey : "NULL");
    sqlite3_free(zKey);
    if (zIdxCol == 0 && !relIsRowid(pE->zParentCol))
      zIdxCol = relStrdup(pE->zParentCol);
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
** counter fails the statement (commit.c). The trigger program itself
** writes it: a nested statement's count would not be the statement's. */
#define REL_PENDING_SQL                                                        \
  "INSERT INTO relext_txn(e, k) SELECT -1, NULL WHERE 0; "                     \
  "INSERT OR IGNORE INTO relext_pending(k, n) SELECT 1, 1 WHERE "              \
  "relext_pending() > 0; DELETE FROM relext_pending WHERE "                    \
  "relext_pending() = 0; "

/* Append the TEMP triggers of table t to s: a parent whose rules are not
** plain SQL calls the delete engine for every row deleted, once the row
** has gone (so that an application trigger that keeps the row keeps its
** children), with the row's rowid and its referenced keys. */
static void relTriggerSql(RelCtx *p, int t, RelStr *s) {
  const RelTable *pT = &p->aTab[t];
  const char *zT = p->azTable[t];
  int k, nGone = 0;
  /* A deleted row that protected another through a PROTECT edge both of
  ** whose ends one statement can delete: the engine must know, until the
  ** statement ends (commit.c, relGoneAdd). Created first: TEMP triggers
  ** fire in the order of their creation, and the engine's own of this row
  ** must see it. */
  for (k = 0; k < pT->nChild; k++) {
    const RelEdge *pE = &p->aEdge[pT->aChild[k]];
    if (!pE->bGoneTracked) continue;
    if (nGone++ == 0) {
      relStrPrintf(s,
                   "CREATE TEMP TRIGGER \"relext_gone_%w\" AFTER DELETE ON "
                   "main.\"%w\" BEGIN INSERT INTO relext_txn(e, k) SELECT -1, "
                   "NULL WHERE 0; ",
                   zT, zT);
    }
    relStrPrintf(s, "SELECT relext_gone(%d, OLD.\"%w\"); ", pT->aChild[k],
                 pE->zChildCol);
  }
  if (nGone) relStrPrintf(s, "END;\n");
  if (pT->nParent == 0) return;
  if (pT->bPlain) {
    /* A plain-mode table whose RESTRICT may wait for a PROTECT of a later
    ** row (relext_fail) keeps the statement's pending row in step. */
    if (pT->bDoomable) {
      relStrPrintf(s,
                   "CREATE TEMP TRIGGER \"relext_del_%w\" AFTER DELETE ON "
                   "main.\"%w\" BEGIN %s END;\n",
                   zT, zT, REL_PENDING_SQL);
    }
    return;
  }
  {
    char *zRow = 0;
    int rc = relRowKey(p->db, zT, &zRow);
    if (rc && s->eRc == SQLITE_OK) s->eRc = rc;
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_del_%w\" AFTER DELETE ON "
                 "main.\"%w\" BEGIN SELECT relext_on_delete(%d, OLD.%s",
                 zT, zT, t, zRow ? zRow : "rowid");
    sqlite3_free(zRow);
  }
  for (k = 0; k < pT->nKey; k++) {
    char *zOld = relColExpr("OLD", pT->azKey[k]);
    if (zOld == 0) s->eRc = SQLITE_NOMEM;
    relStrPrintf(s, ", %s", zOld ? zOld : "NULL");
    sqlite3_free(zOld);
  }
  relStrPrintf(s, "); INSERT INTO relext_txn(e, k) SELECT -1, NULL WHERE 0; ");
  if (pT->bLiftable || pT->bDoomable) relStrPrintf(s, "%s", REL_PENDING_SQL);
  relStrPrintf(s, "END;\n");
}

/* Extra TEMP triggers of M2M junctions: duplicate pairs as no-ops (when the
** table was not created with ON CONFLICT IGNORE) and symmetrical mirror.
** A through table (Django's through model) gets neither: it is a table like
** any other, and Django mirrors a symmetrical relation through it only in
** add() and remove(), which write both rows themselves; a row created on
** its own (Friendship.objects.create()) stays one-way. */
static void relJunctionSql(RelCtx *p, const RelDef *d, RelStr *s) {
  const char *zJ = d->zDbTable;
  if (d->zThrough == 0) {
    int bIgnore = 0;
    int rc = relTableDeclLike(p->db, zJ, "%ON CONFLICT IGNORE%", &bIgnore);
    if (rc && s->eRc == SQLITE_OK) s->eRc = rc;
    if (rc == SQLITE_OK && !bIgnore) {
      relStrPrintf(s,
                   "CREATE TEMP TRIGGER \"relext_dup_%w\" BEFORE INSERT ON "
                   "main.\"%w\" WHEN EXISTS (SELECT 1 FROM main.\"%w\" AS j "
                   "WHERE j.\"%w\"=NEW.\"%w\" AND j.\"%w\"=NEW.\"%w\") BEGIN "
                   "SELECT RAISE(IGNORE); END;\n",
                   zJ, zJ, zJ, d->zSrcCol, d->zSrcCol, d->zDstCol, d->zDstCol);
    }
  }
  if (d->bSymmetrical && d->zThrough == 0) {
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_symi_%w\" AFTER INSERT ON "
                 "main.\"%w\" BEGIN INSERT INTO \"%w\"(\"%w\", \"%w\") SELECT "
                 "NEW.\"%w\", NEW.\"%w\" WHERE NOT EXISTS (SELECT 1 FROM "
                 "main.\"%w\" AS j WHERE j.\"%w\"=NEW.\"%w\" AND "
                 "j.\"%w\"=NEW.\"%w\"); END;\n",
                 zJ, zJ, zJ, d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol, zJ,
                 d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol);
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_symd_%w\" AFTER DELETE ON "
                 "main.\"%w\" BEGIN DELETE FROM \"%w\" WHERE "
                 "\"%w\".\"%w\"=OLD.\"%w\" AND \"%w\".\"%w\"=OLD.\"%w\"; "
                 "END;\n",
                 zJ, zJ, zJ, zJ, d->zSrcCol, d->zDstCol, zJ, d->zDstCol,
                 d->zSrcCol);
  }
}

/* A RESTRICT decided at the end of a statement inside a transaction
** needs SQLite's foreign keys (engine.c). Turned on when that changes
** nothing else: outside a transaction (where the setting can change), with
** relationships declared, and when no table of the schema declares a
** REFERENCES clause of its own, which would then be enforced too. An
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
                         "type='table' AND sql LIKE '%REFERENCES%'",
                         -1, &pStmt, 0) == SQLITE_OK &&
      sqlite3_step(pStmt) == SQLITE_ROW)
    bRefs = sqlite3_column_int(pStmt, 0) > 0;
  rc = sqlite3_finalize(pStmt);
  if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(db));
  if (!bRefs) sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, &bOn);
  return SQLITE_OK;
}

/* xLoaded: (re)create the TEMP triggers and tables of this connection for
** the loaded definitions. */
static int relGuardInstall(RelCtx *p, void *pState, char **pzErr) {
  sqlite3 *db = p->db;
  int rc, i;
  char *zSql = 0;
  RelStr s = {0};

  (void)pState;
  relCtxStmtsFree(p);
  rc = relDropByPrefix(db, "temp", "trigger", "relext_", pzErr);
  if (rc == SQLITE_OK && p->nDef == 0) return SQLITE_OK;
  if (rc == SQLITE_OK) {
    rc = relExecf(db, pzErr,
                  "CREATE TEMP TABLE IF NOT EXISTS relext_victim(t INTEGER "
                  "NOT NULL, r NOT NULL, PRIMARY KEY(t, r)) WITHOUT ROWID;"
                  "CREATE VIRTUAL TABLE IF NOT EXISTS temp.relext_txn USING "
                  "relext_txn;"
                  "CREATE VIRTUAL TABLE IF NOT EXISTS temp.relext_close USING "
                  "relext_close;"
                  "CREATE TEMP TABLE IF NOT EXISTS relext_nowhere(id INTEGER "
                  "PRIMARY KEY);"
                  "CREATE TEMP TABLE IF NOT EXISTS relext_pending(k INTEGER "
                  "PRIMARY KEY, n INTEGER REFERENCES relext_nowhere(id))");
  }
  if (rc) return rc;

  rc = relGuardForeignKeys(p, pzErr);
  if (rc) return rc;
  for (i = 0; i < p->nTable; i++)
    relTriggerSql(p, i, &s);
  for (i = 0; i < p->nDef; i++) {
    if (p->aDef[i].eKind == REL_M2M) relJunctionSql(p, &p->aDef[i], &s);
  }
  zSql = relStrFinish(&s);
  if (zSql == 0) rc = SQLITE_NOMEM;
  if (rc == SQLITE_OK) rc = relExecf(db, pzErr, "%s", zSql);
  sqlite3_free(zSql);
  return rc;
}

/* A stored guard object, as sqlite_schema lists it. */
typedef struct RelStored RelStored;
struct RelStored {
  char *zType;        /* "index" or "trigger" */
  char *zName;        /* relext_guard_... */
  char *zTbl;         /* the table it is on */
  sqlite3_int64 iGen; /* the generation it carries, or 0 */
};

static void relStoredFree(RelStored *a, int n) {
  int i;
  for (i = 0; i < n; i++) {
    sqlite3_free(a[i].zType);
    sqlite3_free(a[i].zName);
    sqlite3_free(a[i].zTbl);
  }
  sqlite3_free(a);
}

/* The generation a guard's SQL carries: the first argument of
** relext_must_be_loaded, or the number in its end marker; 0 when none. */
static sqlite3_int64 relStoredGen(const char *zSql) {
  static const char *azMark[] = {"relext_must_be_loaded(", "/* relext "};
  sqlite3_int64 v = 0;
  size_t i;
  for (i = 0; zSql && i < sizeof(azMark) / sizeof(azMark[0]); i++) {
    const char *z = strstr(zSql, azMark[i]);
    if (z) {
      z += strlen(azMark[i]);
      while (*z >= '0' && *z <= '9' && v < (sqlite3_int64)1 << 58)
        v = v * 10 + (*z++ - '0');
      return v;
    }
  }
  return 0;
}

/* Every stored guard object of main. */
static int relStoredLoad(sqlite3 *db, RelStored **paObj, int *pnObj) {
  sqlite3_stmt *pStmt = 0;
  RelStored *a = 0;
  int n = 0, rc;
  *paObj = 0;
  *pnObj = 0;
  rc = sqlite3_prepare_v2(db,
                          "SELECT type, name, tbl_name, sql FROM "
                          "main.sqlite_schema WHERE type IN ('index', "
                          "'trigger') AND name GLOB 'relext_guard_*'",
                          -1, &pStmt, 0);
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    RelStored *aNew = sqlite3_realloc64(a, sizeof(RelStored) * (size_t)(n + 1));
    if (aNew == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    a = aNew;
    memset(&a[n], 0, sizeof(a[n]));
    a[n].zType = relStrdup((const char *)sqlite3_column_text(pStmt, 0));
    a[n].zName = relStrdup((const char *)sqlite3_column_text(pStmt, 1));
    a[n].zTbl = relStrdup((const char *)sqlite3_column_text(pStmt, 2));
    a[n].iGen = relStoredGen((const char *)sqlite3_column_text(pStmt, 3));
    n++;
    if (!a[n - 1].zType || !a[n - 1].zName || !a[n - 1].zTbl) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc) {
    relStoredFree(a, n);
    return rc;
  }
  *paObj = a;
  *pnObj = n;
  return SQLITE_OK;
}

/* Does aObj hold an object of type zType named zName, on zTbl, carrying
** generation iGen? Marks it found (iGen set to -1). */
static int relStoredTake(RelStored *aObj, int nObj, const char *zType,
                         const char *zName, const char *zTbl,
                         sqlite3_int64 iGen) {
  int i;
  for (i = 0; i < nObj; i++) {
    if (strcmp(aObj[i].zName, zName) == 0) {
      int bOk = strcmp(aObj[i].zType, zType) == 0 &&
                sqlite3_stricmp(aObj[i].zTbl, zTbl) == 0 &&
                aObj[i].iGen == iGen;
      return bOk;
    }
  }
  return 0;
}

/*
** Bring the stored guards in line with the loaded rules, table by table
** (bWrite), or only say whether they are (*pbCurrent). A table's guards are
** current when its guard index and, for a parent, its delete trigger exist
** with its generation, and no other guard object is on it; only the tables
** that are not are rewritten, so that declaring a relationship rewrites the
** guards of the tables it touches (and of those whose mode it changes), not
** of the whole schema. Guards of tables no longer governed are dropped.
*/
static int relGuardsSync(RelCtx *p, int bWrite, int *pbCurrent, char **pzErr) {
  RelStored *aObj = 0;
  int nObj = 0, t, i, rc;
  unsigned char *aStale = 0;
  RelStr s = {0};
  *pbCurrent = 0;
  rc = relStoredLoad(p->db, &aObj, &nObj);
  if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  if (p->nTable > 0) {
    aStale = sqlite3_malloc64((size_t)p->nTable);
    if (aStale == 0) rc = SQLITE_NOMEM;
  }
  *pbCurrent = 1;
  for (t = 0; rc == SQLITE_OK && t < p->nTable; t++) {
    const char *zT = p->azTable[t];
    char *zIdx = relGuardIndexName(zT);
    char *zDel = relGuardDeleteName(zT);
    char *zAft = relGuardAfterName(zT);
    sqlite3_int64 iGen = p->aTab[t].iGen;
    int bD, bA, nWant, nHave = 0;
    relGuardTriggers(p, t, &bD, &bA);
    nWant = 1 + bD + bA;
    if (zIdx == 0 || zDel == 0 || zAft == 0) rc = SQLITE_NOMEM;
    aStale[t] = 1;
    if (rc == SQLITE_OK) {
      int bOk = relStoredTake(aObj, nObj, "index", zIdx, zT, iGen);
      if (bOk && bD) bOk = relStoredTake(aObj, nObj, "trigger", zDel, zT, iGen);
      if (bOk && bA) bOk = relStoredTake(aObj, nObj, "trigger", zAft, zT, iGen);
      for (i = 0; i < nObj; i++) {
        if (sqlite3_stricmp(aObj[i].zTbl, zT) == 0) nHave++;
      }
      aStale[t] = !bOk || nHave != nWant;
    }
    sqlite3_free(zIdx);
    sqlite3_free(zDel);
    sqlite3_free(zAft);
    if (aStale[t]) *pbCurrent = 0;
  }
  /* Guards left on tables that are no longer governed. */
  for (i = 0; rc == SQLITE_OK && i < nObj; i++) {
    t = relCtxTable(p, aObj[i].zTbl);
    if (t < 0 || aStale[t]) {
      if (t < 0) *pbCurrent = 0;
      relStrPrintf(&s, "DROP %s IF EXISTS main.\"%w\";\n",
                   strcmp(aObj[i].zType, "index") == 0 ? "INDEX" : "TRIGGER",
                   aObj[i].zName);
    }
  }
  relStoredFree(aObj, nObj);
  if (rc == SQLITE_OK && bWrite && !*pbCurrent) {
    for (t = 0; t < p->nTable; t++) {
      if (aStale[t]) relGuardTableSql(p, t, &s);
    }
    if (s.eRc) rc = s.eRc;
    if (rc == SQLITE_OK && s.n > 0) {
      /* Creating an index reads the existing rows: take no notes of them. */
      relCommitQuiet(p, 1);
      rc = relExecf(p->db, pzErr, "%s", s.z);
      relCommitQuiet(p, 0);
    }
  }
  sqlite3_free(aStale);
  relStrReset(&s);
  if (rc == SQLITE_NOMEM) rc = relError(pzErr, rc, "out of memory");
  return rc;
}

/* Are the stored guards those of the loaded rules? */
int relGuardsCurrent(RelCtx *p, int *pbCurrent) {
  return relGuardsSync(p, 0, pbCurrent, 0);
}

/* Rewrite the stored guards of the tables whose rules changed. */
int relGuardsWrite(RelCtx *p, char **pzErr) {
  int bCurrent = 0;
  return relGuardsSync(p, 1, &bCurrent, pzErr);
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
  return sqlite3_create_function_v2(
      db, "relext_fail", 5, SQLITE_UTF8 | SQLITE_INNOCUOUS, relCtxRef(p),
      relFailFunc, 0, 0, relCtxUnref);
}
