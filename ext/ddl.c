/*
** ddl.c -- keeping the rules through schema changes: the repairs a load
** writes, table rebuilds, and the approval of a catalog edited by hand.
**
**   SELECT rel_rebuild_begin('article');   -- inside a transaction
**   CREATE TABLE new__article(...); INSERT INTO new__article SELECT ...;
**   DROP TABLE article; ALTER TABLE new__article RENAME TO article;
**   SELECT rel_rebuild_end('article');     -- before COMMIT
**   SELECT rel_approve();                  -- adopt a catalog edited by hand
**
** CONTRACT
**   - Renames need nothing: stored.c follows them, and the repair here
**     writes the names into relext_relations at the next load or call that
**     may write. A table rebuild (create, copy, drop, rename: what Django's
**     schema editor does for most ALTERs on SQLite) needs the two calls
**     around it: the stored triggers of other tables name the rebuilt table
**     (a parent's CASCADE, the catalog's witness), and SQLite refuses every
**     ALTER TABLE ... RENAME while a trigger names a table that does not
**     exist. rel_rebuild_begin(t) rewrites those triggers so that none names
**     t (the parents of t refuse writes meanwhile); rel_rebuild_end(t)
**     writes every guard again for t as it now is, and has every key of
**     every relationship of t checked at COMMIT (its rows were copied past
**     relext). COMMIT refuses a transaction whose rebuild has not ended; a
**     rollback takes everything back.
**   - The repair (p->xRepair, called by a load in REL_SYNC_WRITE mode):
**     renames followed in memory are written into relext_relations, and
**     the stored guards that are missing or out of date are written again
**     (a dump restored without relext, a table dropped and created again,
**     a BROKEN definition's blocked form) -- for a catalog relext trusts
**     only (stored.c). A read-only database is not written: its tables
**     whose guards are out of date refuse writes instead (guard.c).
**   - rel_approve() is the one way to make relext enforce a catalog edited
**     by hand: it writes the guards and the witness for relext_relations as
**     it stands (after refusing records it cannot read). rel_reload() never
**     does.
**
** INVARIANTS
**   - Every write here runs in a savepoint: all or nothing.
**   - The functions are SQLITE_DIRECTONLY: a view or trigger stored in a
**     database file cannot call them.
**
** LIMITS
**   - A rebuild that drops a key column cannot end while a definition
**     needs it: rel_undefine it first (Django's RemoveField does).
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Write the names followed in memory into relext_relations: every
** definition's record again (they are few, and a rename may touch any
** name of a record), then read it back. */
static int ddlWriteRenames(RelCtx *p, char **pzErr) {
  int i, rc = SQLITE_OK;
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    rc = relCatalogDelete(p->db, d->zCatModel ? d->zCatModel : d->zModel,
                          d->zField, pzErr);
  }
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++)
    rc = relCatalogInsert(p->db, &p->aDef[i], pzErr);
  if (rc == SQLITE_OK) rc = relCtxReloadDefs(p, pzErr);
  return rc;
}

/* p->xRepair: see the header. */
static int ddlRepair(RelCtx *p, char **pzErr) {
  sqlite3 *db = p->db;
  RelSavepoint sp;
  int bCurrent = 0, rc;
  char *zErr = 0;
  if (p->zTamper) return SQLITE_OK; /* nothing is written for it */
  /* Compared first, so that a load whose guards are current opens no
  ** savepoint; not after rel_define and the like changed the catalog
  ** (bCatalogOpen): they are not, and relGuardsWrite compares anyway. */
  if (!p->bRenamed && !p->bCatalogOpen) {
    rc = relGuardsCurrent(p, &bCurrent);
    if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(db));
    if (bCurrent) {
      p->bGuardsCurrent = 1;
      return SQLITE_OK;
    }
  }
  if (sqlite3_db_readonly(db, "main") == 1) return SQLITE_OK;
  rc = relSavepointOpen(db, "relext_ddl", &sp, &zErr);
  if (rc == SQLITE_OK) {
    p->bCatalogOpen++;
    /* (The renames are catalog rows, not stored objects: the load's set
    ** of those, relStoredReadMain, stays true; the reload reads it anew.) */
    if (p->bRenamed) rc = ddlWriteRenames(p, &zErr);
    if (rc == SQLITE_OK) rc = relGuardsWrite(p, &zErr);
    p->bCatalogOpen--;
    if (rc == SQLITE_OK)
      rc = relSavepointClose(db, &sp, 1, &zErr);
    else
      relSavepointClose(db, &sp, 0, &zErr);
    if (rc == SQLITE_OK) p->bGuardsCurrent = 1;
  }
  if (rc && p->bRepairSoft && rc != SQLITE_NOMEM) {
    /* Loading: the database could not be written (locked, ...); the
    ** tables concerned refuse writes instead (guard.c). */
    sqlite3_free(zErr);
    zErr = 0;
    rc = relCtxReloadDefs(p, pzErr);
  }
  if (rc) {
    if (pzErr && *pzErr == 0) {
      *pzErr = zErr;
      zErr = 0;
    }
    if (rc == SQLITE_NOMEM && (pzErr == 0 || *pzErr == 0))
      rc = relError(pzErr, rc, "out of memory");
  }
  sqlite3_free(zErr);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Table rebuilds                                                      */

/* Set the list of tables being rebuilt to what the witness says, plus
** zAdd, minus zDel. */
static int ddlRebuildList(RelCtx *p, const char *zAdd, const char *zDel) {
  int i, j;
  for (i = j = 0; i < p->nRebuild; i++) {
    if (zDel && sqlite3_stricmp(p->azRebuild[i], zDel) == 0) {
      sqlite3_free(p->azRebuild[i]);
      continue;
    }
    p->azRebuild[j++] = p->azRebuild[i];
  }
  p->nRebuild = j;
  if (zAdd) {
    char **az =
        sqlite3_realloc64(p->azRebuild, sizeof(char *) * (size_t)(j + 1));
    if (az == 0) return SQLITE_NOMEM;
    p->azRebuild = az;
    az[j] = relStrdup(zAdd);
    if (az[j] == 0) return SQLITE_NOMEM;
    p->nRebuild++;
  }
  return SQLITE_OK;
}

static int ddlIsRebuilding(const RelCtx *p, const char *zTab) {
  int i;
  for (i = 0; i < p->nRebuild; i++) {
    if (sqlite3_stricmp(p->azRebuild[i], zTab) == 0) return 1;
  }
  return 0;
}

/* The stored guards for the list of rebuilt tables as p->azRebuild now
** has it, in a savepoint; then this connection in step with them. */
static int ddlRebuildWrite(RelCtx *p, int bEnd, const char *zTab,
                           char **pzErr) {
  RelSavepoint sp;
  int rc = relSavepointOpen(p->db, "relext_ddl", &sp, pzErr), i;
  if (rc) return rc;
  p->bRebuildSet = 1;
  rc = relCtxReloadDefs(p, pzErr);
  if (rc == SQLITE_OK && bEnd) {
    /* The rebuilt table must hold every definition of it again. */
    for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
      const RelDef *d = &p->aDef[i];
      if (d->zWhy == 0) continue;
      if (sqlite3_stricmp(d->zModel, zTab) == 0 ||
          sqlite3_stricmp(d->zTarget, zTab) == 0 ||
          (d->zDbTable && sqlite3_stricmp(d->zDbTable, zTab) == 0)) {
        rc = relError(pzErr, SQLITE_CONSTRAINT,
                      "relext: the rebuild of %s cannot end: %s.%s cannot be "
                      "enforced on it (%s); give the table what it needs, or "
                      "SELECT rel_undefine('%s.%s') first",
                      zTab, d->zModel, d->zField, d->zWhy, d->zModel,
                      d->zField);
      }
    }
  }
  if (rc == SQLITE_OK) rc = relGuardsWrite(p, pzErr);
  p->bRebuildSet = 0;
  if (rc == SQLITE_OK)
    rc = relSavepointClose(p->db, &sp, 1, pzErr);
  else
    relSavepointClose(p->db, &sp, 0, pzErr);
  /* Whatever happened, this connection holds what the database says. */
  if (rc == SQLITE_OK) {
    rc = relCtxReload(p, pzErr);
  } else {
    char *zIgnore = 0;
    relCtxReload(p, &zIgnore);
    sqlite3_free(zIgnore);
  }
  return rc;
}

/* rel_rebuild_begin(table): 1 when a rebuild of a governed table began, 0
** for a table relext does not govern (nothing to do). */
static void ddlRebuildBeginFunc(sqlite3_context *ctx, int argc,
                                sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  const char *zArg = (const char *)sqlite3_value_text(argv[0]);
  char *zErr = 0, *zTab = 0;
  int rc = SQLITE_OK, t;
  (void)argc;
  if (zArg == 0 || zArg[0] == 0) {
    rc = relError(&zErr, SQLITE_ERROR, "relext: rel_rebuild_begin() needs a table");
  } else if (sqlite3_get_autocommit(p->db)) {
    rc = relError(&zErr, SQLITE_ERROR,
                  "relext: rel_rebuild_begin('%s') must run inside a "
                  "transaction (BEGIN first): the rules around %s stand "
                  "aside until rel_rebuild_end('%s'), which COMMIT requires",
                  zArg, zArg, zArg);
  }
  if (rc == SQLITE_OK) rc = relCtxSync(p, REL_SYNC_WRITE, &zErr);
  if (rc == SQLITE_OK && p->zTamper)
    rc = relError(&zErr, SQLITE_CONSTRAINT, "%s", p->zTamper);
  t = rc == SQLITE_OK ? relCtxTable(p, zArg) : -1;
  if (rc == SQLITE_OK && t < 0) {
    sqlite3_result_int(ctx, 0); /* not governed: rebuild it freely */
    return;
  }
  if (rc == SQLITE_OK && ddlIsRebuilding(p, zArg)) {
    sqlite3_result_int(ctx, 1);
    return;
  }
  if (rc == SQLITE_OK) {
    zTab = relStrdup(p->azTable[t]);
    if (zTab == 0) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK) rc = relCommitEnrol(p);
  if (rc == SQLITE_OK) rc = ddlRebuildList(p, zTab, 0);
  if (rc == SQLITE_OK) rc = ddlRebuildWrite(p, 0, zTab, &zErr);
  if (rc == SQLITE_OK) {
    p->bRebuildTxn = 1;
    sqlite3_result_int(ctx, 1);
  } else {
    relResultError(ctx, rc, zErr);
  }
  sqlite3_free(zTab);
}

/* rel_rebuild_end(table): the table rebuilt is governed again. */
static void ddlRebuildEndFunc(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  const char *zArg = (const char *)sqlite3_value_text(argv[0]);
  char *zErr = 0, *zTab = 0;
  int rc = SQLITE_OK, bExists = 0, i, t;
  (void)argc;
  if (zArg == 0) zArg = "";
  rc = relCtxSync(p, REL_SYNC_TEMP, &zErr);
  if (rc == SQLITE_OK && !ddlIsRebuilding(p, zArg)) {
    rc = relError(&zErr, SQLITE_ERROR,
                  "relext: no rebuild of %s is going on (rel_rebuild_begin)",
                  zArg);
  }
  if (rc == SQLITE_OK) rc = relTableExists(p->db, zArg, &bExists);
  if (rc == SQLITE_OK && !bExists) {
    rc = relError(&zErr, SQLITE_ERROR,
                  "relext: the rebuild of %s cannot end: there is no table "
                  "%s yet (rename the new table first)",
                  zArg, zArg);
  }
  if (rc == SQLITE_OK) {
    zTab = relStrdup(zArg);
    if (zTab == 0) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK) rc = ddlRebuildList(p, 0, zTab);
  if (rc == SQLITE_OK) {
    rc = ddlRebuildWrite(p, 1, zTab, &zErr);
    if (rc) {
      /* The rebuild stays going on (the savepoint took everything back). */
      char *zIgnore = 0;
      relCtxReload(p, &zIgnore);
      sqlite3_free(zIgnore);
    }
  }
  /* Its rows were copied past relext: every key of every relationship of
  ** the table is checked at COMMIT. */
  t = rc == SQLITE_OK ? relCtxTable(p, zTab) : -1;
  for (i = 0; rc == SQLITE_OK && t >= 0 && i < p->nEdge; i++) {
    if (p->aEdge[i].iChild == t || p->aEdge[i].iParent == t)
      rc = relCommitWhole(p, i);
  }
  if (rc == SQLITE_OK)
    sqlite3_result_int(ctx, 1);
  else
    relResultError(ctx, rc, zErr);
  sqlite3_free(zTab);
}

/* ------------------------------------------------------------------ */
/* Approving a catalog edited by hand                                  */

/* rel_approve(): enforce relext_relations as it stands; returns the number
** of definitions (0 and nothing written when there was nothing to
** approve). */
static void ddlApproveFunc(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  char *zErr = 0, *zBad = 0;
  RelSavepoint sp;
  int rc;
  (void)argc;
  (void)argv;
  rc = relCtxReload(p, &zErr);
  if (rc == SQLITE_OK && p->zTamper == 0) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  if (rc == SQLITE_OK) {
    /* A record relext cannot read is not a rule to adopt. */
    RelCtx probe;
    memset(&probe, 0, sizeof(probe));
    probe.db = p->db;
    rc = relCatalogRead(&probe, &zBad);
    relCtxClearDefs(&probe);
    if (rc == SQLITE_OK && zBad) {
      rc = relError(&zErr, SQLITE_CONSTRAINT,
                    "%s: correct or delete that record first (DROP TRIGGER "
                    "relext_catalog_u / _d lets you), then SELECT "
                    "rel_approve()",
                    zBad);
    }
    sqlite3_free(zBad);
  }
  if (rc == SQLITE_OK) rc = relSavepointOpen(p->db, "relext_ddl", &sp, &zErr);
  if (rc == SQLITE_OK) {
    p->bCatalogOpen++; /* trusted: what it holds is approved */
    rc = relCtxReloadDefs(p, &zErr);
    if (rc == SQLITE_OK && p->bRenamed) rc = ddlWriteRenames(p, &zErr);
    if (rc == SQLITE_OK) rc = relGuardsWrite(p, &zErr);
    p->bCatalogOpen--;
    if (rc == SQLITE_OK)
      rc = relSavepointClose(p->db, &sp, 1, &zErr);
    else
      relSavepointClose(p->db, &sp, 0, &zErr);
  }
  if (rc == SQLITE_OK) {
    rc = relCtxReload(p, &zErr);
  } else {
    char *zIgnore = 0;
    relCtxReload(p, &zIgnore);
    sqlite3_free(zIgnore);
  }
  if (rc == SQLITE_OK)
    sqlite3_result_int(ctx, p->nDef);
  else
    relResultError(ctx, rc, zErr);
}

int relRegisterDdl(sqlite3 *db, RelCtx *p) {
  const int f = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  int rc;
  p->xRepair = ddlRepair;
  rc = sqlite3_create_function_v2(db, "rel_rebuild_begin", 1, f, relCtxRef(p),
                                  ddlRebuildBeginFunc, 0, 0, relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "rel_rebuild_end", 1, f, relCtxRef(p),
                                    ddlRebuildEndFunc, 0, 0, relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "rel_approve", 0, f, relCtxRef(p),
                                    ddlApproveFunc, 0, 0, relCtxUnref);
  return rc;
}
