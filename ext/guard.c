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
** THE MECHANISM
**   The catalog is reduced to rule edges (child.column -> parent.key, rule;
**   see catalog.c). For this connection, relGuardInstall() creates TEMP
**   triggers on the governed tables of the main schema:
**
**   - Where the order of deletion cannot matter (relPlainMode), a parent's
**     rules are plain SQL in its stored BEFORE DELETE guard trigger
**     (relext_guard_d_<table>, written by relGuardsWrite for catalog hash
**     G): DELETE for CASCADE, UPDATE for SET_*, one counting probe per
**     PROTECT/RESTRICT edge that calls relext_fail(G, ...). A stored
**     trigger, not a TEMP one, because the guard has to be there anyway
**     (see below) and one trigger per deleted row costs half of two. It
**     calls only SQLITE_INNOCUOUS functions. (A stored guard that does
**     not hold this catalog's rules -- missing with a table rebuilt
**     without its triggers, or written by a build that left them out --
**     gets a TEMP trigger relext_del_<table> that holds them until
**     rel_reload() rewrites the guards: see relGuardHoldsRules.)
**   - Elsewhere a TEMP BEFORE DELETE trigger on the parent calls
**     relext_on_delete(table, rowid): the delete engine (engine.c).
**   - A child's key columns are watched by stored guard indexes: an index
**     on the key column whose WHERE clause is
**     relext_must_be_loaded(G, edge, key [, row]) (one index per child
**     table: with several edges, (G, e1, key1, row1, e2, key2, row2...)). It
**     always returns 0, so the index stays empty, but SQLite evaluates it
**     inline for every row inserted, deleted, or updated in that column --
**     a function call, where a trigger would cost a whole sub-program per
**     row (measured: an empty AFTER INSERT trigger costs more per row than
**     SQLite's entire native foreign key check). The function (commit.c)
**     notes the key for the COMMIT check.
**   - The same kind of guard index on each referenced key column notes the
**     keys of parent rows written or deleted. (A bare rowid cannot be
**     indexed; for it an AFTER UPDATE TEMP trigger notes an old key still
**     referenced.)
**
**   Connections without relext: every write that could break a rule meets
**   a relext function: relext_must_be_loaded() in the guard indexes of
**   children and parents, and stored triggers (relext_guard_*) on every
**   DELETE and UPDATE of a parent (a trigger there, so that a DELETE
**   without WHERE cannot truncate past it). Without relext the write fails
**   with "no such function" (or "unknown function");
**   with relext loaded but holding definitions older than G (another
**   connection changed them), it fails with a message asking for
**   SELECT rel_reload(). Reads never involve them.
**
** INVARIANTS
**   - The stored guards carry G, the hash of the catalog they were written
**     for; a connection holding other definitions is refused by them.
**   - Plain-mode rules are decided in the pre-delete state, exactly
**     Django's answer (see relPlainMode).
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

/* relext_fail(G, kind, edge, key, count): a PROTECT (kind 2) or RESTRICT
** (kind 3) violation found by a plain-mode delete guard: key is the
** deleted row's key, count the number of rows referencing it. While the
** delete engine runs it returns NULL: the engine has decided. G is the
** catalog hash the guard was written for: with other definitions loaded,
** the edge numbers mean nothing here, and the error says to reload. */
static void relFailFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  int eKind = sqlite3_value_int(argv[1]);
  int iEdge = sqlite3_value_int(argv[2]);
  sqlite3_int64 n = sqlite3_value_int64(argv[4]);
  const RelEdge *pE;
  char zKey[24], zCount[24], zBuf[400];
  char *zErr, *zKeyAlloc = 0;
  const char *zRule;
  size_t nOut = 0;
  (void)argc;
  /* Rows the delete engine removes: it has decided already. */
  if (p->nBusy > 0) return;
  if (sqlite3_value_int64(argv[0]) != p->iGen || iEdge < 0 ||
      iEdge >= p->nEdge) {
    sqlite3_result_error(ctx, REL_STALE_MSG, -1);
    return;
  }
  pE = &p->aEdge[iEdge];
  /* An error path that W4 of make bench measures: the usual message is put
  ** together on the stack, without printf. */
  zRule = eKind == 2 ? "PROTECT" : "RESTRICT";
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
                            zRule,
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
  sqlite3_result_error(ctx, zErr, (int)nOut);
  sqlite3_result_error_code(ctx, SQLITE_CONSTRAINT);
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

/*
** The plain mode. Where the order in which rows are deleted cannot change
** the outcome, a table's delete rules compile to plain SQL in its BEFORE
** DELETE trigger, like a hand-written cascade, with no call into C:
**   - the tables reached from it through CASCADE edges form no cycle (so
**     trigger nesting is bounded by the number of tables, not rows);
**   - PROTECT and RESTRICT appear only on edges out of the table itself,
**     and only when nothing cascades from it: then no row this delete
**     removes can be a protecting or restricting row, and the check is a
**     single probe in the pre-delete state, exactly Django's answer.
**     (When the engine deletes such rows, it has decided already: the
**     checks stand aside while it runs: see relext_fail.)
** Everything else (cycles, self references, PROTECT below a CASCADE) goes
** through the delete engine.
*/
static int relPlainMode(RelCtx *p, int t, int *pRc) {
  int *aState; /* 0 unvisited, 1 on stack, 2 done */
  int *aStack;
  int *aEdgeAt;
  int nStack = 0, i, bOk = 1, bCascade = 0;
  for (i = 0; i < p->nEdge; i++) {
    if (p->aEdge[i].iParent == t && p->aEdge[i].eRule == ON_CASCADE)
      bCascade = 1;
  }
  aState = sqlite3_malloc64(sizeof(int) * (size_t)(p->nTable + 1) * 3);
  if (aState == 0) {
    *pRc = SQLITE_NOMEM;
    return 0;
  }
  memset(aState, 0, sizeof(int) * (size_t)(p->nTable + 1) * 3);
  aStack = &aState[p->nTable + 1];
  aEdgeAt = &aStack[p->nTable + 1];
  /* Depth-first over CASCADE edges from t, checking every edge met. */
  aStack[nStack] = t;
  aEdgeAt[nStack++] = 0;
  aState[t] = 1;
  while (nStack > 0 && bOk) {
    int iCur = aStack[nStack - 1];
    int e = aEdgeAt[nStack - 1]++;
    const RelEdge *pE;
    if (e >= p->nEdge) {
      aState[iCur] = 2;
      nStack--;
      continue;
    }
    pE = &p->aEdge[e];
    if (pE->iParent != iCur) continue;
    switch (pE->eRule) {
    case ON_PROTECT:
    case ON_RESTRICT:
      if (iCur != t || bCascade || pE->iChild == t) bOk = 0;
      break;
    case ON_CASCADE:
      if (aState[pE->iChild] == 1)
        bOk = 0; /* a cycle */
      else if (aState[pE->iChild] == 0) {
        aState[pE->iChild] = 1;
        aStack[nStack] = pE->iChild;
        aEdgeAt[nStack++] = 0;
      }
      break;
    default:
      break;
    }
  }
  sqlite3_free(aState);
  return bOk;
}

/* The statements of table t's BEFORE DELETE trigger in plain mode,
** appended to body. They call only SQLITE_INNOCUOUS functions, so that the
** trigger can be stored in the database (relGuardsWrite). */
static void relPlainBody(RelCtx *p, int t, RelStr *pBody) {
  int pass, i;
  /* Checks first (PROTECT before RESTRICT), then updates, then deletes. */
  for (pass = 0; pass < 5; pass++) {
    for (i = 0; i < p->nEdge; i++) {
      const RelEdge *pE = &p->aEdge[i];
      const RelDef *d = &p->aDef[pE->iDef];
      const char *zC = p->azTable[pE->iChild];
      char *zOld;
      if (pE->iParent != t) continue;
      zOld = relColExpr("OLD", pE->zParentCol);
      if (zOld == 0) {
        pBody->eRc = SQLITE_NOMEM;
        continue;
      }
      if ((pass == 0 && pE->eRule == ON_PROTECT) ||
          (pass == 1 && pE->eRule == ON_RESTRICT)) {
        /* One probe: count(*) of an empty index range is one seek. */
        relStrPrintf(pBody,
                     "SELECT relext_fail(%lld, %d, %d, %s, count(*)) FROM "
                     "main.\"%w\" AS c WHERE c.\"%w\"=%s HAVING count(*) > 0; ",
                     p->iGen, pE->eRule == ON_PROTECT ? 2 : 3, i, zOld, zC,
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
                         p->iGen, i, zVal);
          }
        }
        sqlite3_free(zVal);
      } else if (pass == 3 && pE->eRule == ON_DO_NOTHING && pE->bConstraint) {
        relStrPrintf(pBody,
                     "SELECT relext_must_be_loaded(%lld, %d, %s) WHERE EXISTS "
                     "(SELECT 1 FROM main.\"%w\" AS c WHERE c.\"%w\"=%s); ",
                     p->iGen, -1 - i, zOld, zC, pE->zChildCol, zOld);
      } else if (pass == 4 && pE->eRule == ON_CASCADE) {
        relStrPrintf(pBody, "DELETE FROM \"%w\" WHERE \"%w\".\"%w\"=%s; ", zC,
                     zC, pE->zChildCol, zOld);
      }
      sqlite3_free(zOld);
    }
  }
}

/* The stored BEFORE DELETE trigger of parent table t, appended to s: a
** connection whose definitions are not the ones of catalog hash G (or
** without relext) is refused; in plain mode the rules follow. */
static void relGuardDeleteSql(RelCtx *p, int t, RelStr *s) {
  const char *zT = p->azTable[t];
  RelStr body = {0};
  int i, bIndexed = 1;
  if (relPlainMode(p, t, &s->eRc)) relPlainBody(p, t, &body);
  /* The G check may be left to the parent guard indexes, which SQLite
  ** evaluates for every row deleted, when each key has one and the rules
  ** leave statements in the body (for the refusal of connections without
  ** relext). A stale connection running the body meets a G check in each
  ** path: relext_fail takes G, and the children's guard indexes see the
  ** rows the body deletes or changes. */
  for (i = 0; i < p->nEdge; i++) {
    if (p->aEdge[i].iParent == t && relIsRowid(p->aEdge[i].zParentCol))
      bIndexed = 0;
  }
  relStrPrintf(s,
               "CREATE TRIGGER main.\"relext_guard_d_%w\" BEFORE DELETE ON "
               "\"%w\" BEGIN ",
               zT, zT);
  if (!bIndexed || body.n == 0) {
    relStrPrintf(s,
                 "SELECT RAISE(ABORT, %Q) WHERE relext_must_be_loaded(%lld); ",
                 REL_STALE_MSG, p->iGen);
  }
  relStrPrintf(s, "%s/* relext %lld */ END;\n", body.z ? body.z : "", p->iGen);
  if (body.eRc) s->eRc = body.eRc;
  relStrReset(&body);
}

/* Does the stored delete guard of plain-mode table t hold its rules, as
** relGuardDeleteSql writes them for this catalog? It does not when it is
** missing (a table rebuilt without its triggers), written for other
** definitions, or written by a build of relext that left the rules to a
** TEMP trigger: then the rules come in a TEMP trigger (relTriggerSql) on
** this connection until rel_reload() rewrites the guards. */
static int relGuardHoldsRules(RelCtx *p, int t, int *pbHolds) {
  sqlite3_stmt *pStmt = 0;
  char *zMark = sqlite3_mprintf("/* relext %lld */ END", p->iGen);
  int rc;
  *pbHolds = 0;
  if (zMark == 0) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(p->db,
                          "SELECT instr(sql, ?2) > 0 FROM "
                          "main.sqlite_schema WHERE type='trigger' "
                          "AND name='relext_guard_d_' || ?1",
                          -1, &pStmt, 0);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(pStmt, 1, p->azTable[t], -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, zMark, -1, SQLITE_STATIC);
    if (sqlite3_step(pStmt) == SQLITE_ROW)
      *pbHolds = sqlite3_column_int(pStmt, 0);
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  sqlite3_free(zMark);
  return rc;
}

/* The TEMP trigger of plain-mode table t, for stored guards that do not
** hold its rules (see relGuardHoldsRules). */
static void relPlainDeleteSql(RelCtx *p, int t, RelStr *s) {
  const char *zT = p->azTable[t];
  RelStr body = {0};
  relPlainBody(p, t, &body);
  if (body.n > 0) {
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_del_%w\" BEFORE DELETE ON "
                 "main.\"%w\" BEGIN %sEND;\n",
                 zT, zT, body.z);
  }
  if (body.eRc) s->eRc = body.eRc;
  relStrReset(&body);
}

/* Append the TEMP triggers of table t to s. */
static void relTriggerSql(RelCtx *p, int t, RelStr *s) {
  const char *zT = p->azTable[t];
  int i, bParent = 0;
  RelStr body = {0};
  for (i = 0; i < p->nEdge; i++) {
    if (p->aEdge[i].iParent == t) bParent = 1;
  }
  if (!bParent) return;
  if (relPlainMode(p, t, &s->eRc)) {
    int bHolds = 1;
    int rc = relGuardHoldsRules(p, t, &bHolds);
    if (rc && s->eRc == SQLITE_OK) s->eRc = rc;
    if (!bHolds) relPlainDeleteSql(p, t, s);
  } else {
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_del_%w\" BEFORE DELETE ON "
                 "main.\"%w\" BEGIN SELECT relext_on_delete(%d, OLD.rowid); "
                 "INSERT INTO relext_txn(e, k) SELECT -1, NULL WHERE 0; END;\n",
                 zT, zT, t);
  }
  /* Key changes: an old key still referenced is noted. A key column has a
  ** guard index that notes changes (see relGuardsWrite); only a bare rowid
  ** needs the trigger. */
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    char *zOld, *zNew;
    if (pE->iParent != t || !relIsRowid(pE->zParentCol)) continue;
    zOld = relColExpr("OLD", pE->zParentCol);
    zNew = relColExpr("NEW", pE->zParentCol);
    if (zOld && zNew) {
      relStrPrintf(&body,
                   "INSERT INTO relext_txn(e, k) SELECT %d, %s WHERE %s IS "
                   "NOT %s AND EXISTS (SELECT 1 FROM main.\"%w\" AS c WHERE "
                   "c.\"%w\"=%s); ",
                   i, zOld, zOld, zNew, p->azTable[pE->iChild], pE->zChildCol,
                   zOld);
    } else {
      s->eRc = SQLITE_NOMEM;
    }
    sqlite3_free(zOld);
    sqlite3_free(zNew);
  }
  if (body.n) {
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_key_%w\" AFTER UPDATE ON "
                 "main.\"%w\" BEGIN %s END;\n",
                 zT, zT, body.z);
  }
  if (body.eRc) s->eRc = body.eRc;
  relStrReset(&body);
}

/* Extra TEMP triggers of M2M junctions: duplicate pairs as no-ops (when the
** table was not created with ON CONFLICT IGNORE) and symmetrical mirror. */
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
  if (d->bSymmetrical) {
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
                  "NOT NULL, r INTEGER NOT NULL, PRIMARY KEY(t, r)) WITHOUT "
                  "ROWID;"
                  "CREATE VIRTUAL TABLE IF NOT EXISTS temp.relext_txn USING "
                  "relext_txn;"
                  "CREATE VIRTUAL TABLE IF NOT EXISTS temp.relext_close USING "
                  "relext_close");
  }
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

/* Are the stored guards in place for the loaded definitions? 1 yes, 0 no
** (missing, or written for another catalog), <0 an error code negated. */
int relGuardsCurrent(RelCtx *p, int *pbCurrent) {
  sqlite3_stmt *pStmt = 0;
  int nWant = 0, nHave = -1, t, i, rc;
  *pbCurrent = 0;
  /* Two triggers per parent table, a guard index per child table, and one
  ** per referenced key column (relGuardsWrite). */
  for (t = 0; t < p->nTable; t++) {
    int bParent = 0, bChild = 0;
    for (i = 0; i < p->nEdge; i++) {
      if (p->aEdge[i].iParent == t) bParent = 1;
      if (p->aEdge[i].iChild == t) bChild = 1;
    }
    nWant += 2 * bParent + bChild;
  }
  for (i = 0; i < p->nEdge; i++) {
    if (!relIsRowid(p->aEdge[i].zParentCol)) nWant++;
  }
  rc = sqlite3_prepare_v2(p->db,
                          "SELECT count(*) FROM main.sqlite_schema WHERE type "
                          "IN ('trigger', 'index') AND name GLOB "
                          "'relext_guard_*' AND (instr(sql, "
                          "'relext_must_be_loaded(' || ?1) > 0 OR instr(sql, "
                          "'/* relext ' || ?1 || ' */') > 0)",
                          -1, &pStmt, 0);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(pStmt, 1, p->iGen);
    if (sqlite3_step(pStmt) == SQLITE_ROW) nHave = sqlite3_column_int(pStmt, 0);
    rc = sqlite3_finalize(pStmt);
  } else {
    sqlite3_finalize(pStmt);
  }
  if (rc || nHave != nWant) return rc;
  /* A delete guard of this catalog may still lack the rules (see
  ** relGuardHoldsRules). */
  for (t = 0; t < p->nTable; t++) {
    int bHolds = 1;
    for (i = 0; i < p->nEdge && p->aEdge[i].iParent != t; i++) {
    }
    if (i < p->nEdge && relPlainMode(p, t, &rc))
      rc = relGuardHoldsRules(p, t, &bHolds);
    if (rc || !bHolds) return rc;
  }
  *pbCurrent = 1;
  return SQLITE_OK;
}

int relGuardsWrite(RelCtx *p, char **pzErr) {
  sqlite3 *db = p->db;
  RelStr s = {0};
  char *zSql;
  int rc, t, i;
  rc = relDropByPrefix(db, "main", "trigger", "relext_guard_", pzErr);
  if (rc == SQLITE_OK)
    rc = relDropByPrefix(db, "main", "index", "relext_guard_", pzErr);
  if (rc) return rc;
  /* Parents: every DELETE, every UPDATE (a key may change). A trigger,
  ** not an index, so that DELETE without WHERE cannot truncate the table
  ** past it. */
  for (t = 0; t < p->nTable; t++) {
    const char *zT = p->azTable[t];
    int bParent = 0;
    for (i = 0; i < p->nEdge; i++) {
      if (p->aEdge[i].iParent == t) bParent = 1;
    }
    if (!bParent) continue;
    relGuardDeleteSql(p, t, &s);
    if (relPlainMode(p, t, &s.eRc)) {
      /* Its TEMP twin, if the guards it replaces had one. */
      relStrPrintf(&s, "DROP TRIGGER IF EXISTS temp.\"relext_del_%w\";\n", zT);
    }
    relStrPrintf(&s,
                 "CREATE TRIGGER main.\"relext_guard_u_%w\" BEFORE UPDATE "
                 "ON \"%w\" WHEN relext_must_be_loaded(%lld) BEGIN SELECT "
                 "RAISE(ABORT, %Q); END;\n",
                 zT, zT, p->iGen, REL_STALE_MSG);
  }
  /* Children: an always-empty partial index, whose WHERE clause SQLite
  ** evaluates for every row written (see the header). One per child table:
  ** a table that is the child of several edges (an M2M junction, a model
  ** with several ForeignKeys) gets one index whose WHERE names them all,
  ** since each index costs every statement a cursor. */
  for (t = 0; t < p->nTable; t++) {
    RelStr args = {0};
    int iFirst = -1, nChild = 0;
    char *zFirstRow = 0; /* the row argument of edge iFirst, or NULL */
    for (i = 0; i < p->nEdge; i++) {
      const RelEdge *pE = &p->aEdge[i];
      const RelDef *d = &p->aDef[pE->iDef];
      char *zRow = 0;
      if (pE->iChild != t) continue;
      if (iFirst < 0) iFirst = i;
      nChild++;
      if (d->eKind != REL_M2M && !d->bNull) {
        /* null=False: the row's key comes along, for the NOT NULL check. */
        int rcRow = relRowKey(db, p->azTable[t], &zRow);
        if (rcRow) s.eRc = rcRow;
      }
      relStrPrintf(&args, ", %d, \"%w\"", i, pE->zChildCol);
      if (zRow)
        relStrPrintf(&args, ", %s", zRow);
      else
        relStrPrintf(&args, ", NULL");
      if (i == iFirst)
        zFirstRow = zRow;
      else
        sqlite3_free(zRow);
    }
    if (args.eRc) s.eRc = args.eRc;
    if (iFirst >= 0) {
      const char *zC = p->azTable[t];
      if (nChild == 1) {
        /* The original form: relext_guard_<edge>_<table>, (G, e, key
        ** [, row]). */
        const RelEdge *pE = &p->aEdge[iFirst];
        const char *zRow = zFirstRow;
        relStrPrintf(&s,
                     "CREATE INDEX main.\"relext_guard_%d_%w\" ON "
                     "\"%w\"(\"%w\") WHERE relext_must_be_loaded(%lld, %d, "
                     "\"%w\"%s%s);\n",
                     iFirst, zC, zC, pE->zChildCol, p->iGen, iFirst,
                     pE->zChildCol, zRow ? ", " : "", zRow ? zRow : "");
      } else {
        relStrPrintf(&s,
                     "CREATE INDEX main.\"relext_guard_c_%w\" ON "
                     "\"%w\"(\"%w\") WHERE relext_must_be_loaded(%lld%s);\n",
                     zC, zC, p->aEdge[iFirst].zChildCol, p->iGen,
                     args.z ? args.z : "");
      }
    }
    relStrReset(&args);
    sqlite3_free(zFirstRow);
  }
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    /* The parent's key too: a key that goes (a changed key, a row that
    ** REPLACE removes without delete triggers) is a suspect as well. */
    if (!relIsRowid(pE->zParentCol)) {
      const char *zP = p->azTable[pE->iParent];
      relStrPrintf(&s,
                   "CREATE INDEX main.\"relext_guard_p%d_%w\" ON "
                   "\"%w\"(\"%w\") WHERE relext_must_be_loaded(%lld, %d, "
                   "\"%w\");\n",
                   i, zP, zP, pE->zParentCol, p->iGen, -1 - i, pE->zParentCol);
    }
  }
  zSql = relStrFinish(&s);
  if (zSql == 0) return SQLITE_NOMEM;
  /* Creating an index reads the existing rows: take no notes of them. */
  relCommitQuiet(p, 1);
  rc = relExecf(db, pzErr, "%s", zSql);
  relCommitQuiet(p, 0);
  sqlite3_free(zSql);
  return rc;
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
