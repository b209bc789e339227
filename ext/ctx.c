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

int relCtxReload(RelCtx *p, char **pzErr) {
  int *aMap = 0;
  int nOld = p->nEdge, i, rc;
  if (nOld > 0) {
    aMap = sqlite3_malloc64(sizeof(int) * (size_t)nOld);
    if (aMap == 0) return SQLITE_NOMEM;
  }
  rc = relCatalogReload(p, aMap, pzErr);
  if (nOld > 0) {
    /* The cached statements name the old edges by number. */
    relCtxStmtsRelease(p);
    for (i = 0; i < REL_SLOT_N; i++) {
      RelSlot *pSlot = &p->aSlot[i];
      if (pSlot->pHooks && pSlot->pHooks->xRemap && pSlot->pState)
        pSlot->pHooks->xRemap(p, pSlot->pState, aMap, nOld);
    }
  }
  sqlite3_free(aMap);
  for (i = 0; rc == SQLITE_OK && i < REL_SLOT_N; i++) {
    RelSlot *pSlot = &p->aSlot[i];
    if (pSlot->pHooks && pSlot->pHooks->xLoaded)
      rc = pSlot->pHooks->xLoaded(p, pSlot->pState, pzErr);
  }
  return rc;
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
