/*
** ctx.c -- the life of a connection's RelCtx, below every module.
**
** CONTRACT
**   - A RelCtx is reference counted: every function and module relext
**     registers holds one reference (relCtxRef, with relCtxUnref as the
**     destructor SQLite calls), so the context lives exactly as long as
**     the last registration.
**   - A module that keeps state gives it to its slot at registration,
**     with the hooks ctx.c calls (RelHooks in relext_int.h): after a
**     reload, the edges' renumbering (xRemap) and the install for the new
**     catalog (xLoaded); when cached statements must go (xStmtsFree); when
**     the context dies (xFree). Slots run in a fixed order: commit, engine,
**     guard, accessor.
**   - relCtxReload is the one way to (re)load the catalog: define.c and
**     the entry point call it; no module calls up into relext.c.
**   - A registry of live contexts, one per connection, lets a second load
**     on the same connection find the first one.
**   - TEMP triggers left to the first write that needs them (guard.c,
**     relLazyLeave): relLazyBounce sends that write's statement back
**     (SQLITE_SCHEMA: sqlite3_step rolls it back, prepares it again and
**     runs it again) and sets the legacy profile callback, which makes
**     them (a reload) when the run halts and nothing writes; the run after
**     has them. relLazyCatchUp, before a write, while they were made in a
**     transaction not seen to end: a ROLLBACK (TO) may have taken them.
**
** MECHANISM
**   Statements relext keeps prepared (the engine's, the COMMIT check's)
**   are run between relCtxEnter and relCtxLeave (nBusy). A request to free
**   them meanwhile -- a virtual table disconnected, a reload, the end of a
**   transaction -- is deferred (bFreeLater) until nBusy drops to 0, so no
**   statement is finalized while it runs.
**
** INVARIANTS
**   - relCtxStmtsFree never nests: finalizing a statement may disconnect
**     relext_txn, whose xDisconnect asks again (bFreeing).
**   - A dying context frees every module's statements before any module's
**     state.
**
** LIMITS
**   - The registry knows connections by address: the entry point checks
**     that a context it finds belongs to a live load (see relext.c).
**   - The profile callback slot is the application's too (a deprecated
**     one): relext takes it for the instant between two runs, and cannot
**     give back what was there. A statement prepared with the legacy
**     sqlite3_prepare is not run again by SQLite: it fails twice first.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>


/* Every live context, so that a second load on the same connection finds
** and reuses the first one (its TEMP tables may be held by the
** application's cached statements, so they cannot simply be replaced). */
static RelCtx *pAllCtx = 0;

static sqlite3_mutex *relRegistryMutex(void) {
  return sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_APP3);
}

RelCtx *relCtxFind(sqlite3 *db) {
  RelCtx *p;
  sqlite3_mutex *m = relRegistryMutex();
  sqlite3_mutex_enter(m);
  for (p = pAllCtx; p && p->db != db; p = p->pNextCtx) {
  }
  sqlite3_mutex_leave(m);
  return p;
}

RelCtx *relCtxRef(RelCtx *p) {
  p->nRef++;
  return p;
}

/* Put p in the registry. */
void relCtxRegister(RelCtx *p) {
  sqlite3_mutex *m = relRegistryMutex();
  sqlite3_mutex_enter(m);
  p->pNextCtx = pAllCtx;
  pAllCtx = p;
  sqlite3_mutex_leave(m);
}

/* Take p out of the registry (it stays alive while referenced). */
void relCtxForget(RelCtx *p) {
  RelCtx **pp;
  sqlite3_mutex *m = relRegistryMutex();
  sqlite3_mutex_enter(m);
  for (pp = &pAllCtx; *pp && *pp != p; pp = &(*pp)->pNextCtx) {
  }
  if (*pp) *pp = p->pNextCtx;
  p->pNextCtx = 0;
  sqlite3_mutex_leave(m);
}

void relCtxUnref(void *pArg) {
  RelCtx *p = (RelCtx *)pArg;
  int i;
  if (p == 0) return;
  if (--p->nRef > 0) return;
  relCtxForget(p);
  relCtxStmtsFree(p);
  for (i = 0; i < REL_SLOT_N; i++) {
    RelSlot *pSlot = &p->aSlot[i];
    void *pState = pSlot->pState;
    pSlot->pState = 0;
    if (pSlot->pHooks && pSlot->pHooks->xFree) pSlot->pHooks->xFree(p, pState);
  }
  relCtxClearDefs(p);
  relStoredFree(p);
  /* The profile callback names p (relLazyProfile). */
  if (p->bLazyProfile) sqlite3_profile(p->db, 0, 0);
  sqlite3_free(p->zLazyErr);
  sqlite3_free(p->zLazySql);
  sqlite3_free(p->zTamper);
  for (i = 0; i < p->nRebuild; i++)
    sqlite3_free(p->azRebuild[i]);
  sqlite3_free(p->azRebuild);
  sqlite3_free(p->zLastError);
  sqlite3_free(p->zBroken);
  sqlite3_free(p);
}

void relCtxSetLastError(RelCtx *p, const char *zMsg) {
  size_t n = zMsg ? strlen(zMsg) : 0;
  if (zMsg == 0) {
    sqlite3_free(p->zLastError);
    p->zLastError = 0;
    p->nLastError = 0;
    return;
  }
  /* The buffer is kept: refusals can be frequent (a refused delete per
  ** row of a loop). Out of memory: no message is better than a stale
  ** one. */
  if (n + 1 > p->nLastError) {
    char *z = sqlite3_realloc64(p->zLastError, n + 1);
    if (z == 0) {
      sqlite3_free(p->zLastError);
      p->zLastError = 0;
      p->nLastError = 0;
      return;
    }
    p->zLastError = z;
    p->nLastError = n + 1;
  }
  memcpy(p->zLastError, zMsg, n + 1);
}

/* ------------------------------------------------------------------ */
/* Module state and hooks                                              */

void relCtxAttach(RelCtx *p, int iSlot, void *pState, const RelHooks *pHooks) {
  p->aSlot[iSlot].pState = pState;
  p->aSlot[iSlot].pHooks = pHooks;
}

/* Load the catalog as the database holds it now (stored.c), and tell the
** modules whose state names edges how they were renumbered. */
int relCtxReloadDefs(RelCtx *p, char **pzErr) {
  int *aMap = 0;
  int nOld = p->nEdge, i, rc;
  if (nOld > 0) {
    aMap = sqlite3_malloc64(sizeof(int) * (size_t)nOld);
    if (aMap == 0) return SQLITE_NOMEM;
  }
  rc = relStoredLoad(p, aMap, pzErr);
  if (nOld > 0) {
    /* The cached statements name the old edges by number. */
    relCtxStmtsRelease(p);
    for (i = 0; i < REL_SLOT_N; i++) {
      RelSlot *pSlot = &p->aSlot[i];
      if (pSlot->pHooks && pSlot->pHooks->xRemap && pSlot->pState)
        pSlot->pHooks->xRemap(p, pSlot->pState, aMap, nOld);
    }
  } else {
    relCtxStmtsRelease(p);
  }
  sqlite3_free(aMap);
  return rc;
}

/* The probe stays prepared only while relext_close is there to finalize
** it before sqlite3_close() looks (see commit.c); else the next relCtxSync
** compares fingerprints. */
static void relCtxProbeKeep(RelCtx *p) {
  if (!p->bCloseHooked && p->pProbe) {
    sqlite3_finalize(p->pProbe);
    p->pProbe = 0;
  }
}

/* Step the probe; *pn gets its re-preparations. A step that re-prepares
** it after a schema change resets the schema, which disconnects
** relext_close, whose xDisconnect would finalize the probe under its own
** step: relCtxEnter defers that to relCtxLeave, after which p->pProbe may
** be NULL (the next sync prepares it again). */
static int relCtxProbeStep(RelCtx *p, int *pn) {
  int rc;
  relCtxEnter(p);
  sqlite3_step(p->pProbe);
  rc = sqlite3_reset(p->pProbe);
  *pn = sqlite3_stmt_status(p->pProbe, SQLITE_STMTSTATUS_REPREPARE, 0);
  relCtxLeave(p);
  return rc;
}

/* The pager's data version (SQLITE_FCNTL_DATA_VERSION): it moves at each
** COMMIT of this connection and whenever this connection sees another's.
** (A NULL name is main, documented, without the name lookup "main" costs:
** two case-insensitive compares per call, on every first write.) */
static int relCtxDataVersion(RelCtx *p, unsigned int *pu) {
  return sqlite3_file_control(p->db, 0, SQLITE_FCNTL_DATA_VERSION, pu) ==
         SQLITE_OK;
}

/* Remember the state relext is in step with: the probe's re-preparations,
** the data version, and the fingerprint of what it reads. */
static int relCtxMark(RelCtx *p) {
  int rc = SQLITE_OK, n = 0;
  if (p->pProbe == 0) {
    rc = sqlite3_prepare_v2(p->db, "SELECT 1 FROM main.sqlite_schema LIMIT 0",
                            -1, &p->pProbe, 0);
  }
  if (rc == SQLITE_OK) rc = relCtxProbeStep(p, &n);
  if (rc == SQLITE_OK) {
    p->nProbe = n;
    p->bDataVersion = relCtxDataVersion(p, &p->uDataVersion);
    rc = relStoredFingerprint(p->db, &p->iStateHash);
  }
  relCtxProbeKeep(p);
  if (rc) p->bSyncForce = 1;
  return rc;
}

int relCtxLoad(RelCtx *p, int eMode, char **pzErr) {
  int i, rc, eSave = p->eLoad;
  p->eLoad = eMode;
  p->bSyncForce = 0;
  p->nLoading++;
  p->bGuardsCurrent = 0;
  rc = relCtxReloadDefs(p, pzErr);
  if (rc == SQLITE_OK && eMode == REL_SYNC_WRITE && p->xRepair)
    rc = p->xRepair(p, pzErr);
  for (i = 0; rc == SQLITE_OK && i < REL_SLOT_N; i++) {
    RelSlot *pSlot = &p->aSlot[i];
    if (pSlot->pHooks && pSlot->pHooks->xLoaded)
      rc = pSlot->pHooks->xLoaded(p, pSlot->pState, pzErr);
  }
  p->eLoad = eSave;
  p->nLoading--;
  p->bGuardsCurrent = 0;
  relStoredLoadDone(p);
  if (rc == SQLITE_OK)
    rc = relCtxMark(p);
  else
    p->bSyncForce = 1;
  return rc;
}

int relCtxReload(RelCtx *p, char **pzErr) {
  return relCtxLoad(p, REL_SYNC_TEMP, pzErr);
}

int relCtxSync(RelCtx *p, int eMode, char **pzErr) {
  int rc, n, bFresh = 0;
  sqlite3_uint64 h = 0;
  /* Never under relext's own running statements (they name the edges),
  ** nor inside a load (its own COMMIT runs the COMMIT check). */
  if (p->nBusy > 0 || p->nNested > 0 || p->nLoading > 0 || p->zBroken)
    return SQLITE_OK;
  if (p->pProbe == 0) {
    rc = sqlite3_prepare_v2(p->db, "SELECT 1 FROM main.sqlite_schema LIMIT 0",
                            -1, &p->pProbe, 0);
    if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
    bFresh = 1;
  }
  rc = relCtxProbeStep(p, &n);
  if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  if (p->pProbe == 0) bFresh = 1; /* freed meanwhile: n says nothing */
  relCtxProbeKeep(p);
  /* A load that may write finishes what earlier ones could not. */
  if (eMode == REL_SYNC_WRITE && (p->bRenamed || p->bStale))
    return relCtxLoad(p, eMode, pzErr);
  if (!bFresh && !p->bSyncForce && !p->bSyncCheck && n == p->nProbe) {
    p->bDataVersion = relCtxDataVersion(p, &p->uDataVersion);
    return SQLITE_OK;
  }
  /* The schema changed (or a rollback undid a change): did anything relext
  ** reads? */
  rc = relStoredFingerprint(p->db, &h);
  if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  if (!p->bSyncForce && h == p->iStateHash) {
    if (p->pProbe) p->nProbe = n;
    p->bDataVersion = relCtxDataVersion(p, &p->uDataVersion);
    return SQLITE_OK;
  }
  return relCtxLoad(p, eMode, pzErr);
}

int relCtxSyncRow(RelCtx *p, char **pzErr) {
  /* In autocommit, with no COMMIT made or seen since the last time in step
  ** and the probe still prepared (a schema reset, such as a rollback of
  ** DDL, finalizes it), the schema is the one relext holds: only the
  ** transaction running could have changed it, and in autocommit that is
  ** the statement running, which has not yet (a DROP TABLE's implicit
  ** DELETE comes before the drop; an ALTER TABLE rewrites no guarded
  ** index). The probe's step costs about 1,100 instructions; this, about
  ** 200. */
  if (p->pProbe && p->bDataVersion && !p->bSyncForce && !p->bSyncCheck &&
      sqlite3_get_autocommit(p->db)) {
    unsigned int u;
    if (relCtxDataVersion(p, &u) && u == p->uDataVersion) return SQLITE_OK;
  }
  return relCtxSync(p, REL_SYNC_MEM, pzErr);
}

void relCtxSyncCommitting(RelCtx *p) {
  /* The COMMIT moves the data version once (a COMMIT that fails instead
  ** rolls back to what relext was in step with before, or resets the
  ** schema, which finalizes the probe). */
  if (p->pProbe && relCtxDataVersion(p, &p->uDataVersion)) {
    p->uDataVersion++;
    p->bDataVersion = 1;
  } else {
    p->bDataVersion = 0;
  }
}

/* ------------------------------------------------------------------ */
/* TEMP triggers made at the first write that needs them (guard.c leaves
** them, relLazyLeave; the writes that need them come here)            */

/* Can this SQLite call relext back between two runs of a statement? The
** legacy profile callback (sqlite3_profile) does; a library built with
** SQLITE_OMIT_DEPRECATED has none, and relext then makes every TEMP
** trigger at load. */
int relLazyAvailable(void) {
#ifdef SQLITE_CORE
  return 1;
#else
  return sqlite3_api->profile != 0;
#endif
}

static void relLazyProfile(void *pArg, const char *zSql, sqlite3_uint64 ns);

int relLazyJournalOff(sqlite3 *db) {
  sqlite3_stmt *pStmt = 0;
  int bOff = 0;
  /* (Rare: a load that leaves the triggers, a statement sent back. An
  ** error reads as OFF: the triggers are then made at load, or the write
  ** refused, never run twice unguarded.) */
  if (sqlite3_prepare_v2(db, "PRAGMA main.journal_mode", -1, &pStmt, 0) !=
      SQLITE_OK) {
    sqlite3_finalize(pStmt);
    return 1;
  }
  if (sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(pStmt, 0);
    bOff = z == 0 || sqlite3_stricmp(z, "off") == 0;
  } else {
    bOff = 1;
  }
  sqlite3_finalize(pStmt);
  return bOff;
}

static void relLazyProfileSet(RelCtx *p, int bOn) {
  if (bOn == p->bLazyProfile) return;
  p->bLazyProfile = bOn;
  sqlite3_profile(p->db, bOn ? relLazyProfile : 0, bOn ? (void *)p : 0);
}

/* The statements of the connection running now that may write; *ppLast
** (may be NULL) gets one of them, or, when none may, one that runs (a
** SELECT rel_flush(...)). */
static int relWritersBusy(sqlite3 *db, sqlite3_stmt **ppLast) {
  sqlite3_stmt *pStmt, *pReader = 0;
  int n = 0;
  if (ppLast) *ppLast = 0;
  for (pStmt = sqlite3_next_stmt(db, 0); pStmt;
       pStmt = sqlite3_next_stmt(db, pStmt)) {
    if (!sqlite3_stmt_busy(pStmt)) continue;
    if (!sqlite3_stmt_readonly(pStmt)) {
      n++;
      if (ppLast) *ppLast = pStmt;
    } else if (pReader == 0) {
      pReader = pStmt;
    }
  }
  if (ppLast && *ppLast == 0) *ppLast = pReader;
  return n;
}

/* The profile callback, set by relLazyBounce: SQLite calls it when a
** statement ends, after the run that relLazyBounce sent back has halted
** (rolled back, nothing of it running) and before sqlite3_step prepares
** it again; there the TEMP triggers can be made: a load that makes them
** (committed on its own in autocommit, part of the transaction
** otherwise). Not while relext or another writer runs (the next end of a
** statement tries again). */
static void relLazyProfile(void *pArg, const char *zSql, sqlite3_uint64 ns) {
  RelCtx *p = (RelCtx *)pArg;
  char *zErr = 0;
  int rc;
  (void)ns;
  /* Only at the end of a run of the statement sent back: the callback
  ** also comes when relext finalizes or resets statements of its own,
  ** with relext's code running (an accessor's cursor, say). */
  if (!p->bLazyWant || p->bLazyBusy || p->nBusy > 0 || p->nNested > 0 ||
      p->nLoading > 0 || p->zBroken || p->zLazySql == 0 || zSql == 0 ||
      strcmp(zSql, p->zLazySql) != 0 || relWritersBusy(p->db, 0) > 0)
    return;
  p->bLazyBusy = 1;
  p->nLazyTries = 0; /* (tries count the runs sent back since) */
  relLazyProfileSet(p, 0);
  rc = relCtxLoad(p, REL_SYNC_TEMP, &zErr);
  p->bLazyBusy = 0;
  if (rc == SQLITE_OK) {
    p->nLazyTries = 0;
    if (!sqlite3_get_autocommit(p->db)) p->bLazyTxn = 1;
    sqlite3_free(zErr);
  } else {
    /* The statement that needs them fails with the reason
    ** (relLazyBounce). */
    sqlite3_free(p->zLazyErr);
    p->zLazyErr = zErr ? zErr : sqlite3_mprintf("relext: out of memory");
    p->rcLazy = zErr ? rc : SQLITE_NOMEM;
  }
}

int relLazyBounce(RelCtx *p, int t, char **pzErr) {
  sqlite3_stmt *pWriter = 0;
  int nWriters, nRepr;
  if (!p->bLazyWant) return SQLITE_OK;
  if (t >= 0 && (t >= p->nTable || p->aTab[t].eLazy == 0)) return SQLITE_OK;
  /* The statement sent back (the same one when SQLite runs it again):
  ** tries and a failure to make the triggers count for it alone. */
  nWriters = relWritersBusy(p->db, &pWriter);
  nRepr = pWriter ? sqlite3_stmt_status(pWriter, SQLITE_STMTSTATUS_REPREPARE, 0)
                  : 0;
  /* (A failure is this statement's when SQLite prepared it once since it
  ** was sent back: a new statement at the same address is not.) */
  if (pWriter != p->pLazyStmt ||
      (p->zLazyErr && nRepr != p->iLazyRepr + 1)) {
    p->pLazyStmt = pWriter;
    p->nLazyTries = 0;
    sqlite3_free(p->zLazyErr);
    p->zLazyErr = 0;
  }
  if (p->zLazyErr) {
    /* Making them failed (out of memory, ...): this statement fails with
    ** the reason; the next write that needs them tries again. */
    int rc = relError(pzErr, p->rcLazy ? p->rcLazy : SQLITE_ERROR, "%s",
                      p->zLazyErr);
    sqlite3_free(p->zLazyErr);
    p->zLazyErr = 0;
    p->nLazyTries = 0;
    p->pLazyStmt = 0;
    return rc;
  }
  /* Sent back at most twice per statement (once for SQLite to start
  ** calling the profile callback, once for it to run): a third time means
  ** the callback is not called (the application took the profile slot,
  ** or a sqlite3_prepare v1 statement). Inside relext's own statements or
  ** another writer's, the run cannot end before this one. */
  if (p->nBusy > 0 || p->nNested > 0 || p->nLoading > 0 ||
      p->nLazyTries >= 3 || nWriters > 1) {
    return relError(pzErr, SQLITE_CONSTRAINT, REL_TEMP_STALE_MSG,
                    t >= 0 ? p->azTable[t] : "the tables");
  }
  /* Without a journal SQLite cannot undo what the statement did before
  ** this row (an application trigger's insert, a parent a plain rule
  ** deleted): run again, that would happen twice. */
  if (relLazyJournalOff(p->db)) {
    return relError(pzErr, SQLITE_CONSTRAINT,
                    "relext: PRAGMA journal_mode is OFF: this connection "
                    "cannot make its TEMP triggers for %s in the middle of "
                    "a write (SQLite could not undo it to run it again); "
                    "run SELECT rel_reload() first",
                    t >= 0 ? p->azTable[t] : "the tables");
  }
  /* The text of the statement sent back: the profile callback acts at the
  ** end of its run only. */
  if (pWriter && sqlite3_sql(pWriter) &&
      (p->zLazySql == 0 || strcmp(p->zLazySql, sqlite3_sql(pWriter)) != 0)) {
    sqlite3_free(p->zLazySql);
    p->zLazySql = relStrdup(sqlite3_sql(pWriter));
    if (p->zLazySql == 0) return relError(pzErr, SQLITE_NOMEM, "out of memory");
  }
  relLazyProfileSet(p, 1);
  p->nLazyTries++;
  p->iLazyRepr = nRepr;
  return relError(pzErr, SQLITE_SCHEMA,
                  "relext: this connection makes its triggers first; the "
                  "statement runs again");
}

int relLazyCatchUp(RelCtx *p, char **pzErr) {
  int rc;
  if ((!p->bLazyTxn && !p->bSyncForce) || p->nBusy > 0 || p->nNested > 0 ||
      p->nLoading > 0)
    return SQLITE_OK;
  rc = relCtxSync(p, REL_SYNC_MEM, pzErr);
  /* In autocommit that transaction has ended, and the sync saw how. */
  if (rc == SQLITE_OK && sqlite3_get_autocommit(p->db)) p->bLazyTxn = 0;
  return rc;
}

int relLazyBounceResult(RelCtx *p, int t, sqlite3_context *ctx) {
  char *zErr = 0;
  int rc = relLazyBounce(p, t, &zErr);
  if (rc == SQLITE_OK) return 0;
  relResultError(ctx, zErr ? rc : SQLITE_NOMEM, zErr);
  return 1;
}

/* ------------------------------------------------------------------ */
/* Cached statements                                                   */

/* Finalizing a statement that fires relext's TEMP triggers can disconnect
** relext_txn, whose xDisconnect calls back here: that nested call returns
** at once. */
void relCtxStmtsFree(RelCtx *p) {
  int i;
  if (p->bFreeing) return;
  p->bFreeing = 1;
  /* The probe goes too: the next relCtxSync compares fingerprints. */
  if (p->pProbe) {
    sqlite3_finalize(p->pProbe);
    p->pProbe = 0;
  }
  for (i = 0; i < REL_SLOT_N; i++) {
    RelSlot *pSlot = &p->aSlot[i];
    if (pSlot->pHooks && pSlot->pHooks->xStmtsFree && pSlot->pState)
      pSlot->pHooks->xStmtsFree(p, pSlot->pState);
  }
  p->bFreeing = 0;
}

void relCtxStmtsRelease(RelCtx *p) {
  if (p->nBusy > 0)
    p->bFreeLater = 1;
  else
    relCtxStmtsFree(p);
}
