/*
** accwrite.c -- the accessor virtual tables' writes (xUpdate): INSERT,
** DELETE and UPDATE through category__articles, article__tags, ...
**
** WRITES (xUpdate), all as plain SQL on the real tables, so relext's
** triggers enforce every rule and their errors reach the user unchanged:
**   INSERT  reverse FK/O2O: a row of the source table whose key is the
**           owner (the hidden column, or else the key column itself);
**           M2M: if the row's key column names an existing target row it
**           is linked (add()), otherwise the row is created and linked
**           (create()); linking an existing pair is a no-op. SQLite
**           hands a virtual table NULL for every column an INSERT leaves
**           out, so a NULL for a column that has a DEFAULT is left out of
**           the inner INSERT: the column gets its default (an explicit
**           NULL there cannot be told apart and gets the default too).
**   DELETE  M2M: the junction row goes (remove()); reverse FK/O2O with
**           null=True: the key becomes NULL; without: the row is deleted
**           with its own on_delete rules. Inside a transaction, a RESTRICT
**           that a later row of the statement may lift waits for its last
**           row (accDeleteRow), which fails the whole statement if it still
**           stands: SQLite undoes every row of it.
**   UPDATE  the listed row's changed columns (only those: SQLite tells
**           unchanged ones through sqlite3_vtab_nochange). Changing the
**           hidden column moves the row to another owner: a reverse FK/O2O
**           row gets the new key; an M2M link is re-pointed (refused for
**           symmetrical relations, whose mirror row would not follow).
**   Forward FK/O2O accessors are read-only.
**   ON CONFLICT clauses mean what they mean on a table (see
**   accUpdateMethod): OR IGNORE skips a row the real table would not
**   take (or the accessor refuses), OR ROLLBACK/ABORT/FAIL act as on a
**   table, and INSERT OR REPLACE deletes each row the new one conflicts
**   with (rowid or any UNIQUE constraint) with that row's delete rules,
**   which a table's REPLACE skips unless PRAGMA recursive_triggers is on.
**   UPDATE OR REPLACE runs as on the table.
**
** LIMITS
**   - The last row of a DELETE is the one with the largest rowid an open
**     cursor of the table gave: when the statement's condition reads the
**     rowid of a row it keeps, or it reads the table twice, a RESTRICT
**     that waits may be left to the COMMIT check (refused there, with the
**     whole transaction).
**   - Tables WITHOUT ROWID can be listed but their accessors are read-only.
**   - An M2M target keyed by its rowid only (no primary key column) cannot
**     be linked by INSERT: every INSERT creates a new row.
**   - A multi-row write that fails part-way under ABORT (the default)
**     inside an explicit transaction keeps its earlier rows, as FAIL would
**     (SQLite gives virtual tables no statement rollback over other
**     tables); in autocommit mode the whole statement is rolled back.
**   - Under IGNORE, an error IGNORE does not skip on a table (a trigger's
**     RAISE(ABORT), a native foreign key) fails the statement with
**     SQLITE_ERROR, not its constraint code, which SQLite would take for
**     a row to skip.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3
#include "accessor_int.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* The OR clause that passes ON CONFLICT mode eConflict on to an INSERT or
** UPDATE of a real table: IGNORE skips the row there; ROLLBACK, ABORT and
** FAIL act in SQLite on the constraint error the write returns (see
** accUpdateMethod); REPLACE of an INSERT is accInsertListed's own. */
static const char *accOrClause(int eConflict) {
  switch (eConflict) {
  case SQLITE_IGNORE:
    return " OR IGNORE";
  case SQLITE_REPLACE:
    return " OR REPLACE";
  }
  return "";
}

/* Values equal for the purpose of "conflicting owner" checks. */
static int accValueEq(sqlite3_value *a, sqlite3_value *b) {
  int ta = sqlite3_value_type(a), tb = sqlite3_value_type(b);
  if (ta == SQLITE_NULL || tb == SQLITE_NULL) return ta == tb;
  if ((ta == SQLITE_INTEGER || ta == SQLITE_FLOAT) &&
      (tb == SQLITE_INTEGER || tb == SQLITE_FLOAT)) {
    if (ta == SQLITE_INTEGER && tb == SQLITE_INTEGER)
      return sqlite3_value_int64(a) == sqlite3_value_int64(b);
    return sqlite3_value_double(a) == sqlite3_value_double(b);
  }
  if (ta != tb) return 0;
  return sqlite3_value_bytes(a) == sqlite3_value_bytes(b) &&
         memcmp(sqlite3_value_blob(a), sqlite3_value_blob(b),
                (size_t)sqlite3_value_bytes(a)) == 0;
}

/* ------------------------------------------------------------------ */
/* Running statements for writes                                       */

/* Run zSql (sqlite3_mprintf'd by the caller, freed here) with the nArg
** values of apArg bound to ?1..?N. If ppOut is not NULL, the first column
** of the first row returned is copied there (sqlite3_value_dup; caller
** frees with sqlite3_value_free). On failure the vtab holds the message
** of the underlying statement and its extended code is returned. */
static int accRun(AccVtab *pTab, char *zSql, int nArg, sqlite3_value **apArg,
                  sqlite3_value **ppOut, sqlite3_int64 *piOut2) {
  sqlite3_stmt *pStmt = 0;
  int rc, i, bFirst = 1, bNested = 0;
  if (ppOut) *ppOut = 0;
  if (zSql == 0) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(pTab->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if (rc) {
    rc = accDbErr(pTab);
    goto done;
  }
  for (i = 0; i < nArg; i++)
    sqlite3_bind_value(pStmt, i + 1, apArg[i]);
  /* Its own statement: the end of it is not the end of the application's
  ** (see the delete engine's RESTRICT). */
  if (pTab->pCtx) pTab->pCtx->nNested++;
  bNested = pTab->pCtx != 0;
  while ((rc = sqlite3_step(pStmt)) == SQLITE_ROW) {
    if (bFirst && ppOut) {
      *ppOut = sqlite3_value_dup(sqlite3_column_value(pStmt, 0));
      if (*ppOut == 0) {
        rc = SQLITE_NOMEM;
        goto done;
      }
      if (piOut2) *piOut2 = sqlite3_column_int64(pStmt, 1);
    }
    bFirst = 0;
  }
  if (rc != SQLITE_DONE) {
    rc = accDbErr(pTab);
    goto done;
  }
  rc = SQLITE_OK;
done:
  if (bNested) pTab->pCtx->nNested--;
  sqlite3_finalize(pStmt);
  if (rc && ppOut && *ppOut) {
    sqlite3_value_free(*ppOut);
    *ppOut = 0;
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* Writes                                                              */

/* DELETE of the accessor row with rowid pRowid by zSql (freed here), which
** deletes a row of a real table. Inside a transaction, a RESTRICT that a
** later row of the application's statement may lift waits for its last
** row (engine.c notes it with the statement's tag, relAccTag): at the row
** with the largest rowid the statement read (accLastRowid), it is refused
** if it still stands, and SQLite undoes the whole statement. A statement
** whose last row is not that one (its condition names the rowid, or it
** reads this accessor table twice) leaves it to the COMMIT check. */
static int accDeleteRow(AccVtab *pTab, char *zSql, sqlite3_value *pRowid) {
  RelCtx *p = pTab->pCtx;
  unsigned iTag = 0;
  int rc = SQLITE_OK;
  /* Only the application's own statement (an accessor written from inside
  ** another's nested statement leaves its RESTRICTs to the COMMIT check,
  ** and the outer one's tag in place). */
  if (p && p->nNested > 0) p = 0;
  if (p) rc = relAccTag(p, &iTag);
  if (rc) {
    sqlite3_free(zSql);
    return relError(&pTab->base.zErrMsg, rc, "%s", sqlite3_errmsg(pTab->db));
  }
  if (p) p->iAccTag = iTag;
  rc = accRun(pTab, zSql, 1, &pRowid, 0, 0);
  if (p) p->iAccTag = 0;
  if (rc == SQLITE_OK && p && relAccWaiting(p, iTag) &&
      accLastRowid(pTab, sqlite3_value_int64(pRowid))) {
    char *zErr = 0;
    rc = relAccDecide(p, iTag, &zErr);
    if (rc) {
      sqlite3_free(pTab->base.zErrMsg);
      pTab->base.zErrMsg = zErr;
    }
  }
  return rc;
}

/* DELETE of the accessor row with rowid pRowid. */
static int accDelete(AccVtab *pTab, sqlite3_value *pRowid) {
  if (pTab->eAcc == ACC_M2M) {
    return accDeleteRow(pTab,
                        sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE rowid=?1",
                                        pTab->zJunction),
                        pRowid);
  }
  if (pTab->bNull) {
    return accRun(pTab,
                  sqlite3_mprintf("UPDATE main.\"%w\" SET \"%w\"=NULL WHERE "
                                  "rowid=?1",
                                  pTab->zListed, pTab->zKeyCol),
                  1, &pRowid, 0, 0);
  }
  return accDeleteRow(
      pTab,
      sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE rowid=?1", pTab->zListed),
      pRowid);
}

/* Where relext_acc_conflict() notes the row an INSERT conflicts with. */
typedef struct AccConflict AccConflict;
struct AccConflict {
  int bSeen;            /* a conflicting row was found */
  sqlite3_int64 iRowid; /* its rowid */
};

/* relext_acc_conflict(P, rowid), in the DO UPDATE ... WHERE of the UPSERT
** accInsertReplace() runs: notes the rowid of the conflicting row in the
** AccConflict that P points to (sqlite3_bind_pointer, so no other SQL can
** name one) and returns 0, so that nothing is updated. */
void accConflictFunc(sqlite3_context *ctx, int argc,
                     sqlite3_value **argv) {
  AccConflict *p =
      (AccConflict *)sqlite3_value_pointer(argv[0], "relext_acc_conflict");
  (void)argc;
  if (p && !p->bSeen) {
    p->bSeen = 1;
    p->iRowid = sqlite3_value_int64(argv[1]);
  }
  sqlite3_result_int(ctx, 0);
}

/* INSERT OR REPLACE as on a table, but a row that goes is deleted with its
** delete rules: zSql (an INSERT ... ON CONFLICT DO UPDATE ... WHERE
** relext_acc_conflict(?nArg+1, rowid) RETURNING key, rowid) inserts the
** row or names a row it conflicts with (on the rowid or any UNIQUE
** constraint, as SQLite itself checks them); that row is deleted with a
** DELETE statement, so relext's rules run (PROTECT can refuse), and the
** INSERT is tried again. *ppKey: the RETURNING key, NULL when a trigger
** skipped the row. */
static int accInsertReplace(AccVtab *pTab, const char *zSql, int nArg,
                            sqlite3_value **apArg, sqlite3_value **ppKey,
                            sqlite3_int64 *piRowid) {
  sqlite3_stmt *pStmt = 0;
  int i, iTry, rc;
  *ppKey = 0;
  if (zSql == 0) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(pTab->db, zSql, -1, &pStmt, 0);
  if (rc) return accDbErr(pTab);
  for (iTry = 0; rc == SQLITE_OK; iTry++) {
    AccConflict c = {0, 0};
    for (i = 0; i < nArg; i++)
      sqlite3_bind_value(pStmt, i + 1, apArg[i]);
    sqlite3_bind_pointer(pStmt, nArg + 1, &c, "relext_acc_conflict", 0);
    while ((rc = sqlite3_step(pStmt)) == SQLITE_ROW) {
      if (*ppKey) continue;
      *ppKey = sqlite3_value_dup(sqlite3_column_value(pStmt, 0));
      if (*ppKey == 0) break;
      if (piRowid) *piRowid = sqlite3_column_int64(pStmt, 1);
    }
    if (rc == SQLITE_ROW) {
      rc = SQLITE_NOMEM;
    } else if (rc != SQLITE_DONE) {
      rc = accDbErr(pTab);
    } else if (*ppKey || !c.bSeen) {
      rc = SQLITE_OK;
      break; /* inserted, or skipped by a trigger */
    } else if (iTry >= 100) {
      rc = relError(&pTab->base.zErrMsg, SQLITE_CONSTRAINT,
                    "relext: %s: REPLACE: too many conflicting rows",
                    pTab->zName);
    } else {
      sqlite3_reset(pStmt);
      rc = accRun(pTab,
                  sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE rowid=%lld",
                                  pTab->zListed, c.iRowid),
                  0, 0, 0, 0);
      if (rc == SQLITE_OK && sqlite3_changes(pTab->db) == 0) {
        rc = relError(&pTab->base.zErrMsg, SQLITE_CONSTRAINT,
                      "relext: %s: REPLACE: row %lld of %s was not deleted "
                      "(a trigger skipped it)",
                      pTab->zName, c.iRowid, pTab->zListed);
      }
    }
  }
  sqlite3_finalize(pStmt);
  if (rc && *ppKey) {
    sqlite3_value_free(*ppKey);
    *ppKey = 0;
  }
  return rc;
}

/* INSERT INTO main.zListed(columns) VALUES(apVal) RETURNING zRet, rowid,
** under the statement's ON CONFLICT mode: OR IGNORE passed on, REPLACE by
** accInsertReplace(), the others as they are (SQLite acts on the error).
** SQLite gives a virtual table NULL for every column an INSERT leaves out
** (declared defaults are not applied), so a NULL for a column that has a
** DEFAULT is left out of the inner INSERT and the real default applies.
** *ppKey gets zRet (NULL: no row was inserted, as IGNORE or a trigger
** decided); *piRowid the rowid. */
static int accInsertListed(AccVtab *pTab, sqlite3_value *pNewRowid,
                           sqlite3_value **apVal, const char *zRet,
                           sqlite3_value **ppKey, sqlite3_int64 *piRowid) {
  RelStr s = {0};
  sqlite3_value **apArg;
  int i, n = 0, rc;
  int bReplace = pTab->eConflict == SQLITE_REPLACE;
  /* Qualified: a name that is no column is an error, not a string. */
  char *zRetExpr = relIsRowid(zRet)
                       ? sqlite3_mprintf("rowid")
                       : sqlite3_mprintf("\"%w\".\"%w\"", pTab->zListed, zRet);
  *ppKey = 0;
  apArg = sqlite3_malloc64(sizeof(sqlite3_value *) * (size_t)(pTab->nCol + 1));
  if (apArg == 0 || zRetExpr == 0) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  relStrPrintf(&s, "INSERT%s INTO main.\"%w\"",
               bReplace ? "" : accOrClause(pTab->eConflict), pTab->zListed);
  if (pNewRowid && sqlite3_value_type(pNewRowid) != SQLITE_NULL) {
    relStrPrintf(&s, "%srowid", n ? ", " : "(");
    apArg[n++] = pNewRowid;
  }
  for (i = 0; i < pTab->nCol; i++) {
    /* NULL into a column with a DEFAULT: leave it to the default. */
    if (pTab->aCol[i].bDefault && sqlite3_value_type(apVal[i]) == SQLITE_NULL)
      continue;
    relStrPrintf(&s, "%s\"%w\"", n ? ", " : "(", pTab->aCol[i].zName);
    apArg[n++] = apVal[i];
  }
  if (n == 0) {
    /* an UPSERT cannot follow DEFAULT VALUES; a NULL rowid is the same */
    relStrPrintf(&s, bReplace ? "(rowid) VALUES(NULL)" : " DEFAULT VALUES");
  } else {
    relStrPrintf(&s, ") VALUES(");
    for (i = 0; i < n; i++)
      relStrPrintf(&s, "%s?%d", i ? ", " : "", i + 1);
    relStrPrintf(&s, ")");
  }
  if (bReplace) {
    relStrPrintf(&s,
                 " ON CONFLICT DO UPDATE SET \"%w\"=\"%w\" WHERE "
                 "relext_acc_conflict(?%d, rowid)",
                 pTab->aCol[0].zName, pTab->aCol[0].zName, n + 1);
  }
  relStrPrintf(&s, " RETURNING %s, rowid", zRetExpr);
  if (bReplace) {
    char *zSql = relStrFinish(&s);
    rc = accInsertReplace(pTab, zSql, n, apArg, ppKey, piRowid);
    sqlite3_free(zSql);
  } else {
    rc = accRun(pTab, relStrFinish(&s), n, apArg, ppKey, piRowid);
  }
done:
  relStrReset(&s);
  sqlite3_free(apArg);
  sqlite3_free(zRetExpr);
  return rc;
}

/* INSERT on a reverse FK/O2O accessor: a source row bound to the owner. */
static int accInsertRev(AccVtab *pTab, sqlite3_value *pNewRowid,
                        sqlite3_value **apVal, sqlite3_int64 *pRowid) {
  sqlite3_value *pOwner = apVal[pTab->nCol];
  sqlite3_value *pKey = pTab->iKeyCol >= 0 ? apVal[pTab->iKeyCol] : 0;
  sqlite3_value *pRet = 0;
  sqlite3_value **apCopy = 0;
  int rc;
  if (sqlite3_value_type(pOwner) == SQLITE_NULL) {
    if (pKey == 0 || sqlite3_value_type(pKey) == SQLITE_NULL) {
      return relError(&pTab->base.zErrMsg, SQLITE_CONSTRAINT,
                      "relext: %s: an inserted row needs its owner: set %s",
                      pTab->zName, pTab->zHidden);
    }
    pOwner = pKey;
  } else if (pKey && sqlite3_value_type(pKey) != SQLITE_NULL &&
             !accValueEq(pKey, pOwner)) {
    return relError(&pTab->base.zErrMsg, SQLITE_CONSTRAINT,
                    "relext: %s: %s and %s disagree about the owner",
                    pTab->zName, pTab->zHidden, pTab->zKeyCol);
  }
  apCopy = sqlite3_malloc64(sizeof(sqlite3_value *) * (size_t)(pTab->nCol + 1));
  if (apCopy == 0) return SQLITE_NOMEM;
  memcpy(apCopy, apVal, sizeof(sqlite3_value *) * (size_t)pTab->nCol);
  if (pTab->iKeyCol >= 0) apCopy[pTab->iKeyCol] = pOwner;
  rc = accInsertListed(pTab, pNewRowid, apCopy, "rowid", &pRet, 0);
  if (rc == SQLITE_OK && pRet) *pRowid = sqlite3_value_int64(pRet);
  /* nothing inserted (IGNORE, or a trigger's RAISE(IGNORE)): SQLite skips
  ** the row on SQLITE_CONSTRAINT under IGNORE, as a table would */
  if (rc == SQLITE_OK && pRet == 0 && pTab->eConflict == SQLITE_IGNORE)
    rc = SQLITE_CONSTRAINT;
  sqlite3_value_free(pRet);
  sqlite3_free(apCopy);
  return rc;
}

/* INSERT on an M2M accessor: link an existing row (add) or create one and
** link it (create). *pRowid gets the junction row's rowid. */
static int accInsertM2M(AccVtab *pTab, sqlite3_value *pNewRowid,
                        sqlite3_value **apVal, sqlite3_int64 *pRowid) {
  sqlite3_value *pOwner = apVal[pTab->nCol];
  sqlite3_value *pKey = 0; /* the listed row's key (owned) */
  sqlite3_value *apArg[2];
  sqlite3_value *pJRowid = 0;
  sqlite3_int64 iCreated = 0;
  int bCreated = 0, rc = SQLITE_OK;
  char *zKeyExpr = relColExpr("t", pTab->zListedKey);
  if (zKeyExpr == 0) return SQLITE_NOMEM;
  if (pNewRowid && sqlite3_value_type(pNewRowid) != SQLITE_NULL) {
    rc = relError(&pTab->base.zErrMsg, SQLITE_CONSTRAINT,
                  "relext: %s: the rowid of a link is chosen by %s",
                  pTab->zName, pTab->zJunction);
    goto done;
  }
  if (sqlite3_value_type(pOwner) == SQLITE_NULL) {
    rc = relError(&pTab->base.zErrMsg, SQLITE_CONSTRAINT,
                  "relext: %s: an inserted row needs its owner: set %s",
                  pTab->zName, pTab->zHidden);
    goto done;
  }
  /* An existing row named by its key is linked as it is. */
  if (pTab->iListedKey >= 0 &&
      sqlite3_value_type(apVal[pTab->iListedKey]) != SQLITE_NULL) {
    rc = accRun(pTab,
                sqlite3_mprintf("SELECT %s FROM main.\"%w\" AS t WHERE %s=?1",
                                zKeyExpr, pTab->zListed, zKeyExpr),
                1, &apVal[pTab->iListedKey], &pKey, 0);
    if (rc) goto done;
  }
  if (pKey == 0) {
    rc = accInsertListed(pTab, 0, apVal, pTab->zListedKey, &pKey, &iCreated);
    if (rc) goto done;
    if (pKey == 0) {
      /* ignored (IGNORE, or by a trigger): nothing to link */
      if (pTab->eConflict == SQLITE_IGNORE) rc = SQLITE_CONSTRAINT;
      goto done;
    }
    bCreated = 1;
  }
  apArg[0] = pOwner;
  apArg[1] = pKey;
  rc = accRun(pTab,
              sqlite3_mprintf("INSERT INTO main.\"%w\"(\"%w\", \"%w\") "
                              "VALUES(?1, ?2)",
                              pTab->zJunction, pTab->zJOwner, pTab->zJListed),
              2, apArg, 0, 0);
  if (rc && bCreated) {
    /* Undo the create; keep the link's error for the user. */
    char *zKeep = pTab->base.zErrMsg;
    pTab->base.zErrMsg = 0;
    {
      sqlite3_stmt *pStmt = 0;
      char *zSql = sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE rowid=%lld",
                                   pTab->zListed, iCreated);
      if (zSql && sqlite3_prepare_v2(pTab->db, zSql, -1, &pStmt, 0) == 0)
        sqlite3_step(pStmt);
      sqlite3_finalize(pStmt);
      sqlite3_free(zSql);
    }
    sqlite3_free(pTab->base.zErrMsg);
    pTab->base.zErrMsg = zKeep;
  }
  if (rc) goto done;
  rc = accRun(pTab,
              sqlite3_mprintf("SELECT j.rowid FROM main.\"%w\" AS j WHERE "
                              "j.\"%w\"=?1 AND j.\"%w\"=?2",
                              pTab->zJunction, pTab->zJOwner, pTab->zJListed),
              2, apArg, &pJRowid, 0);
  if (rc == SQLITE_OK) *pRowid = pJRowid ? sqlite3_value_int64(pJRowid) : 0;
done:
  sqlite3_value_free(pKey);
  sqlite3_value_free(pJRowid);
  sqlite3_free(zKeyExpr);
  return rc;
}

/* UPDATE of the accessor row with rowid pOld (new rowid pNew). */
static int accUpdate(AccVtab *pTab, sqlite3_value *pOld, sqlite3_value *pNew,
                     sqlite3_value **apVal) {
  RelStr s = {0};
  sqlite3_value **apArg = 0;
  sqlite3_value *pOwner = apVal[pTab->nCol];
  int bOwner = !sqlite3_value_nochange(pOwner);
  int bRowid = !accValueEq(pOld, pNew);
  int i, n = 0, rc = SQLITE_OK;

  apArg = sqlite3_malloc64(sizeof(sqlite3_value *) * (size_t)(pTab->nCol + 3));
  if (apArg == 0) return SQLITE_NOMEM;
  if (pTab->eAcc == ACC_M2M && bRowid) {
    rc = relError(&pTab->base.zErrMsg, SQLITE_CONSTRAINT,
                  "relext: %s: the rowid of a link cannot change", pTab->zName);
    goto done;
  }
  if (pTab->eAcc == ACC_M2M && bOwner && pTab->bSymmetrical) {
    rc = relError(
        &pTab->base.zErrMsg, SQLITE_CONSTRAINT,
        "relext: %s: a symmetrical link cannot be moved; delete it and "
        "insert the new one",
        pTab->zName);
    goto done;
  }
  if (pTab->eAcc == ACC_REV && bOwner && pTab->iKeyCol >= 0 &&
      !sqlite3_value_nochange(apVal[pTab->iKeyCol]) &&
      !accValueEq(apVal[pTab->iKeyCol], pOwner)) {
    rc = relError(&pTab->base.zErrMsg, SQLITE_CONSTRAINT,
                  "relext: %s: %s and %s disagree about the owner", pTab->zName,
                  pTab->zHidden, pTab->zKeyCol);
    goto done;
  }
  /* The listed row's own columns. */
  relStrPrintf(&s, "UPDATE%s main.\"%w\" SET ", accOrClause(pTab->eConflict),
               pTab->zListed);
  for (i = 0; i < pTab->nCol; i++) {
    sqlite3_value *v = apVal[i];
    if (pTab->eAcc == ACC_REV && i == pTab->iKeyCol && bOwner)
      v = pOwner;
    else if (sqlite3_value_nochange(v))
      continue;
    relStrPrintf(&s, "%s\"%w\"=?%d", n ? ", " : "", pTab->aCol[i].zName, n + 1);
    apArg[n++] = v;
  }
  if (pTab->eAcc == ACC_REV && bRowid) {
    relStrPrintf(&s, "%srowid=?%d", n ? ", " : "", n + 1);
    apArg[n++] = pNew;
  }
  if (pTab->eAcc == ACC_REV && bOwner && pTab->iKeyCol < 0) {
    relStrPrintf(&s, "%s\"%w\"=?%d", n ? ", " : "", pTab->zKeyCol, n + 1);
    apArg[n++] = pOwner;
  }
  if (n > 0) {
    if (pTab->eAcc == ACC_REV) {
      relStrPrintf(&s, " WHERE rowid=?%d", n + 1);
    } else {
      /* The key qualified by the table's name: a name that is no column
      ** is an error, not a string that matches nothing. */
      char *zKey = relIsRowid(pTab->zListedKey)
                       ? sqlite3_mprintf("rowid")
                       : sqlite3_mprintf("\"%w\".\"%w\"", pTab->zListed,
                                         pTab->zListedKey);
      relStrPrintf(&s,
                   " WHERE %s=(SELECT j.\"%w\" FROM main.\"%w\" AS j WHERE "
                   "j.rowid=?%d)",
                   zKey ? zKey : "", pTab->zJListed, pTab->zJunction, n + 1);
      if (zKey == 0) s.eRc = SQLITE_NOMEM;
      sqlite3_free(zKey);
    }
    apArg[n++] = pOld;
    rc = accRun(pTab, relStrFinish(&s), n, apArg, 0, 0);
    /* not written under OR IGNORE: SQLite skips the row */
    if (rc == SQLITE_OK && pTab->eConflict == SQLITE_IGNORE &&
        sqlite3_changes(pTab->db) == 0)
      rc = SQLITE_CONSTRAINT;
    if (rc) goto done;
  }
  /* Moving an M2M link to another owner. */
  if (pTab->eAcc == ACC_M2M && bOwner) {
    apArg[0] = pOwner;
    apArg[1] = pOld;
    rc = accRun(pTab,
                sqlite3_mprintf("UPDATE main.\"%w\" SET \"%w\"=?1 WHERE "
                                "rowid=?2",
                                pTab->zJunction, pTab->zJOwner),
                2, apArg, 0, 0);
  }
done:
  relStrReset(&s);
  sqlite3_free(apArg);
  return rc;
}

/* The write of accUpdateMethod, under ON CONFLICT mode pTab->eConflict. */
static int accWrite(AccVtab *pTab, int argc, sqlite3_value **argv,
                    sqlite3_int64 *pRowid) {
  int rc = accGone(pTab);
  if (rc) return rc;
  if (pTab->eAcc == ACC_FWD) {
    return relError(
        &pTab->base.zErrMsg, SQLITE_READONLY,
        "relext: %s is read-only: it shows the %s row of each %s; set "
        "%s.%s instead",
        pTab->zName, pTab->zListed, pTab->zOwnerTab, pTab->zOwnerTab,
        pTab->zKeyCol);
  }
  if (pTab->bNoRowid) {
    return relError(&pTab->base.zErrMsg, SQLITE_READONLY,
                    "relext: %s is read-only: its rows have no rowid",
                    pTab->zName);
  }
  if (argc == 1) return accDelete(pTab, argv[0]);
  if (argc != pTab->nCol + 3) {
    return relError(&pTab->base.zErrMsg, SQLITE_ERROR,
                    "relext: %s: unexpected number of columns", pTab->zName);
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    if (pTab->eAcc == ACC_REV)
      return accInsertRev(pTab, argv[1], argv + 2, pRowid);
    return accInsertM2M(pTab, argv[1], argv + 2, pRowid);
  }
  return accUpdate(pTab, argv[0], argv[1], argv + 2);
}

/*
** xUpdate: argc==1 is DELETE of rowid argv[0]; argv[0] NULL is INSERT
** (argv[1] the rowid asked for, usually NULL); otherwise UPDATE of rowid
** argv[0] to rowid argv[1]. argv[2..] are the listed columns, then the
** hidden owner column.
**
** ON CONFLICT (sqlite3_vtab_on_conflict; the table declares
** SQLITE_VTAB_CONSTRAINT_SUPPORT): every error that makes a row fail comes
** before anything is changed for it (an M2M row created for a link that
** then fails is deleted again), so SQLite can act on SQLITE_CONSTRAINT as
** on a table: ROLLBACK, ABORT and FAIL as they say; IGNORE skips the row
** (the inner INSERT or UPDATE runs OR IGNORE, and a row it did not write
** is reported as a constraint error for SQLite to skip); REPLACE of an
** INSERT deletes each conflicting row with its delete rules
** (accInsertReplace); UPDATE OR REPLACE runs as OR REPLACE on the table.
*/
int accUpdateMethod(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                    sqlite3_int64 *pRowid) {
  AccVtab *pTab = (AccVtab *)pVtab;
  int rc;
  /* Its own statements write the tables: the TEMP triggers they may need
  ** are made first, before anything is written (guard.c). */
  if (pTab->pCtx && (pTab->pCtx->bLazyWant || pTab->pCtx->bLazyTxn ||
                     pTab->pCtx->bSyncForce)) {
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = 0;
    rc = relLazyCatchUp(pTab->pCtx, &pVtab->zErrMsg);
    if (rc == SQLITE_OK) rc = relLazyBounce(pTab->pCtx, -1, &pVtab->zErrMsg);
    if (rc) return rc;
  }
  pTab->eConflict = sqlite3_vtab_on_conflict(pTab->db);
  rc = accWrite(pTab, argc, argv, pRowid);
  pTab->eConflict = 0;
  return rc;
}
