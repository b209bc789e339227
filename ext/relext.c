/*
** relext.c -- the entry point: sqlite3_relext_init(), relext_version().
**
** CONTRACT
**   Loading relext on a connection:
**   1. creates the connection's RelCtx (ctx.c);
**   2. registers the SQL functions and virtual table modules of each part
**      (commit.c, admit.c, engine.c, guard.c, define.c, flush.c,
**      accessor.c, inspect.c, lookup.c), each holding a reference to the
**      context;
**   3. reads the catalog and installs this connection's TEMP triggers and
**      accessor tables (relCtxReload), so every declared rule is in force.
**   Loading twice finds the first context and only reloads the catalog. A
**   TEMP object that would hide an accessor fails the load before anything
**   is registered (a catalog edited by hand or BROKEN loads all the same;
**   see stored.c).
**
** MECHANISM
**   A failed load takes back everything it registered (aRegistered, which
**   must list what the relRegister* functions register): SQLite unloads
**   the library after a failed init, and its destructors live in it.
**
** INVARIANTS
**   - Nothing here writes to the main schema, so loading works on
**     read-only databases and replicas.
**   - Nothing calls up into this file: it is the top of the module graph
**     (see relext_int.h).
**
** LIMITS
**   - Needs SQLite 3.40 or newer at run time.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT1

#include <string.h>

/* Everything relext registers, so that a failed load can take it all back
** before SQLite unloads the library (the destructors live in it). Keep in
** step with the relRegister* functions. */
static const struct {
  const char *zName;
  int nArg; /* -2: a module */
} aRegistered[] = {
    {"relext_version", 0},
    {"rel_define", 2},
    {"rel_define", 3},
    {"rel_define", 4},
    {"rel_undefine", 1},
    {"rel_reload", 0},
    {"rel_rebuild_begin", 1},
    {"rel_rebuild_end", 1},
    {"rel_approve", 0},
    {"rel_flush", -1},
    {"relext_on_delete", -1},
    {"relext_pending", 0},
    {"relext_gone", 3},
    {"rel_last_error", 0},
    {"relext_fail", 5},
    {"relext_catalog_open", 0},
    {"relext_must_be_loaded", 1},
    {"relext_must_be_loaded", 3},
    {"relext_must_be_loaded", 4},
    {"relext_must_be_loaded", -1},
    {"rel_graph", 1},
    {"relext_acc_conflict", 2},
    {"relext_txn", -2},
    {"relext_notes", -2},
    {"relext_close", -2},
    {"rel_collect", -2},
    {"rel_check", -2},
    {"rel_lookup", -2},
};

/* Take back everything relext registered; SQLITE_OK when all of it went.
** (SQLite refuses to delete a function or module while a statement runs:
** SELECT load_extension(...) is one.) */
static int relUnregisterAll(RelCtx *p) {
  sqlite3 *db = p->db;
  int rcAll = SQLITE_OK;
  size_t i;
  char *zIgnore = 0;
  /* TEMP objects first: they refer to the functions and modules. */
  sqlite3_stmt *pStmt = 0;
  if (sqlite3_prepare_v2(db,
                         "SELECT type, name FROM temp.sqlite_schema WHERE "
                         "name GLOB 'relext_*' OR sql GLOB "
                         "'CREATE VIRTUAL TABLE * USING relext_*'",
                         -1, &pStmt, 0) == SQLITE_OK) {
    RelStr s = {0};
    char *zSql;
    while (sqlite3_step(pStmt) == SQLITE_ROW) {
      const char *zType = (const char *)sqlite3_column_text(pStmt, 0);
      const char *zName = (const char *)sqlite3_column_text(pStmt, 1);
      if (zType && zName && strcmp(zType, "index") != 0) {
        relStrPrintf(&s, "DROP %s IF EXISTS temp.\"%w\";",
                     strcmp(zType, "trigger") == 0 ? "TRIGGER" : "TABLE",
                     zName);
      }
    }
    sqlite3_finalize(pStmt);
    zSql = relStrFinish(&s);
    if (zSql) sqlite3_exec(db, zSql, 0, 0, &zIgnore);
    sqlite3_free(zSql);
    sqlite3_free(zIgnore);
  }
  relAccessorUnregister(p);
  for (i = 0; i < sizeof(aRegistered) / sizeof(aRegistered[0]); i++) {
    int rc;
    if (aRegistered[i].nArg == -2) {
      rc = sqlite3_create_module_v2(db, aRegistered[i].zName, 0, 0, 0);
    } else {
      rc = sqlite3_create_function_v2(db, aRegistered[i].zName,
                                      aRegistered[i].nArg, SQLITE_UTF8, 0, 0,
                                      0, 0, 0);
    }
    if (rc && rcAll == SQLITE_OK) rcAll = rc;
  }
  return rcAll;
}

/* Would this connection's TEMP tables hide an accessor (a TEMP table
** named like one, say)? Accessors are eponymous modules, which a table of
** the same name hides. Checked before anything is registered: a load that
** fails afterwards cannot always take its registrations back (see
** relUnregisterAll). A connection rarely has TEMP tables when it loads
** relext, and then this reads nothing, and the catalog is not read here
** (the load after registration reads it: reading it twice was a third
** of loading at 1,000 relationships). */
static int relTempClash(RelCtx *p, char **pzErr) {
  sqlite3_stmt *pStmt = 0;
  int rc, i, bRead = 0;
  rc = sqlite3_prepare_v2(p->db,
                          "SELECT name FROM temp.sqlite_schema WHERE "
                          "type IN ('table', 'view') AND name GLOB '*__*'",
                          -1, &pStmt, 0);
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    if (!bRead) {
      /* (A catalog that is edited or BROKEN loads all the same: see
      ** stored.c.) */
      bRead = 1;
      rc = relStoredLoad(p, 0, pzErr);
    }
    const char *zTemp = (const char *)sqlite3_column_text(pStmt, 0);
    for (i = 0; zTemp && rc == SQLITE_OK && i < p->nDef * 2; i++) {
      const RelDef *d = &p->aDef[i / 2];
      char *zName = i % 2 ? relAccessorReverse(d) : relAccessorForward(d);
      if (zName == 0 && i % 2 == 0) rc = SQLITE_NOMEM;
      if (zName && sqlite3_stricmp(zName, zTemp) == 0) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: cannot load: a TEMP object of this connection "
                      "is named %s, the accessor table of %s.%s: drop it "
                      "first",
                      zName, d->zModel, d->zField);
      }
      sqlite3_free(zName);
    }
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_finalize(pStmt);
  } else {
    sqlite3_finalize(pStmt);
  }
  return rc;
}

/* A failed load: zErr (NULL, or a message this takes), or else a message
** made from rc, becomes *pzErrMsg. Returns rc. */
static int relInitError(char **pzErrMsg, int rc, char *zErr) {
  if (zErr == 0)
    rc = relError(&zErr, rc, "relext: cannot load: %s", sqlite3_errstr(rc));
  if (pzErrMsg) {
    *pzErrMsg = zErr;
    zErr = 0;
  }
  sqlite3_free(zErr);
  return rc;
}

/* Load the catalog for a connection that opens: repaired in the database
** where that is needed and possible (renames written into the catalog,
** stored guards written again: the database is written to), else in force
** in memory, with the tables whose guards are out of date refusing writes
** (a read-only database, a lock held elsewhere). */
static int relCtxLoadAtOpen(RelCtx *p, char **pzErr) {
  int rc;
  p->bRepairSoft = 1;
  /* The TEMP triggers wait for the first write that needs them. */
  p->bLazyLoad = 1;
  rc = relCtxLoad(p,
                  sqlite3_db_readonly(p->db, "main") == 0 ? REL_SYNC_WRITE
                                                          : REL_SYNC_TEMP,
                  pzErr);
  p->bLazyLoad = 0;
  p->bRepairSoft = 0;
  return rc;
}

/* relext_version() */
static void relVersionFunc(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  sqlite3_result_text(ctx, RELEXT_VERSION, -1, SQLITE_STATIC);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
    int sqlite3_relext_init(sqlite3 *db, char **pzErrMsg,
                            const sqlite3_api_routines *pApi) {
  RelCtx *p;
  int rc;
  char *zErr = 0;
  SQLITE_EXTENSION_INIT2(pApi);
  if (sqlite3_libversion_number() < 3040000) {
    return relError(pzErrMsg, SQLITE_ERROR,
                    "relext: needs SQLite 3.40 or newer");
  }
  /* Loaded before on this connection: bring the definitions up to date. */
  p = relCtxFind(db);
  if (p) {
    /* The registry knows connections by address: a context left behind by
    ** a closed connection (one an error kept alive) may match a new one at
    ** the same address. Only a connection that has relext's functions is
    ** really loaded. */
    sqlite3_stmt *pProbe = 0;
    if (sqlite3_prepare_v2(db, "SELECT relext_version()", -1, &pProbe, 0) !=
        SQLITE_OK) {
      relCtxForget(p);
      p = 0;
      /* Leave no error on the connection (it would fail an open). */
      sqlite3_finalize(pProbe);
      pProbe = 0;
      sqlite3_prepare_v2(db, "SELECT 1", -1, &pProbe, 0);
    }
    sqlite3_finalize(pProbe);
  }
  if (p) {
    rc = relCtxLoadAtOpen(p, &zErr);
    if (rc != SQLITE_OK && pzErrMsg) {
      *pzErrMsg = zErr;
      zErr = 0;
    }
    sqlite3_free(zErr);
    return rc;
  }
  p = sqlite3_malloc64(sizeof(RelCtx));
  if (p == 0) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->nRef = 1; /* held by this function until the end */
  sqlite3_randomness((int)sizeof(p->iPendingKey), &p->iPendingKey);
  p->iPendingKey = (p->iPendingKey & 0x3fffffffffffffffLL) | 1;
  /* Checked before anything is registered. */
  rc = relTempClash(p, &zErr);
  if (rc != SQLITE_OK) {
    rc = relInitError(pzErrMsg, rc, zErr);
    relCtxClearDefs(p);
    relStoredFree(p);
    sqlite3_free(p);
    return rc;
  }
  relCtxRegister(p);
  rc = sqlite3_create_function_v2(db, "relext_version", 0,
                                  SQLITE_UTF8 | SQLITE_INNOCUOUS |
                                      SQLITE_DETERMINISTIC,
                                  0, relVersionFunc, 0, 0, 0);
  if (rc == SQLITE_OK) rc = relRegisterCommit(db, p);
  if (rc == SQLITE_OK) rc = relRegisterAdmit(db, p);
  if (rc == SQLITE_OK) rc = relRegisterEngine(db, p);
  if (rc == SQLITE_OK) rc = relRegisterGuard(db, p);
  if (rc == SQLITE_OK) rc = relRegisterDefine(db, p);
  if (rc == SQLITE_OK) rc = relRegisterDdl(db, p);
  if (rc == SQLITE_OK) rc = relRegisterFlush(db, p);
  if (rc == SQLITE_OK) rc = relRegisterAccessor(db, p);
  if (rc == SQLITE_OK) rc = relRegisterInspect(db, p);
  if (rc == SQLITE_OK) rc = relRegisterLookup(db, p);
  if (rc == SQLITE_OK) rc = relCtxLoadAtOpen(p, &zErr);
  if (rc != SQLITE_OK) {
    rc = relInitError(pzErrMsg, rc, zErr);
    zErr = 0;
    /* SQLite unloads the library after a failed init: nothing of ours may
    ** stay registered. */
    /* Even if something still holds a reference, this connection must not
    ** find the context again: a later load starts afresh. */
    relCtxForget(p);
    p->nRef++;
    if (relUnregisterAll(p) != SQLITE_OK) {
      /* Some registration stayed (a statement is running: SELECT
      ** load_extension()). The library must then stay loaded, or SQLite
      ** would call into unloaded code: the load succeeds, but this
      ** connection's relext is out of order and refuses every write to
      ** a governed table with the reason (p->zBroken). */
      p->zBroken = pzErrMsg ? *pzErrMsg : 0;
      if (pzErrMsg) *pzErrMsg = 0;
      if (p->zBroken == 0) p->zBroken = sqlite3_mprintf("relext: cannot load");
      rc = SQLITE_OK;
    }
    relCtxUnref(p);
  }
  sqlite3_free(zErr);
  relCtxUnref(p);
  return rc;
}
