/*
** ctx.c -- the life of a connection's RelCtx.
**
** A RelCtx is reference counted: every function and module relext
** registers holds one reference, so the context lives exactly as long as
** the last registration. A registry of live contexts (one per connection)
** lets a second load on the same connection find the first one.
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
  if (p == 0) return;
  if (--p->nRef > 0) return;
  relCtxForget(p);
  relEnforceFree(p);
  relAccessorFree(p);
  relCtxClearDefs(p);
  sqlite3_free(p);
}

int relCtxReload(RelCtx *p, char **pzErr) {
  int rc;
  int nOld = p->nEdge;
  char **azOld = 0;
  int *aMap = 0;
  int i, j;
  /* Remember the old edges by name, to carry pending notes across. */
  if (nOld > 0) {
    azOld = sqlite3_malloc64(sizeof(char *) * (size_t)nOld);
    aMap = sqlite3_malloc64(sizeof(int) * (size_t)nOld);
    if (azOld == 0 || aMap == 0) {
      sqlite3_free(azOld);
      sqlite3_free(aMap);
      return SQLITE_NOMEM;
    }
    for (i = 0; i < nOld; i++) {
      azOld[i] = sqlite3_mprintf("%s\x01%s\x01%s", p->aEdge[i].zName,
                                 p->azTable[p->aEdge[i].iChild],
                                 p->aEdge[i].zChildCol);
    }
  }
  rc = relCatalogLoad(p, pzErr);
  if (nOld > 0) {
    for (i = 0; i < nOld; i++) {
      aMap[i] = -1;
      for (j = 0; azOld[i] && j < p->nEdge; j++) {
        char *z = sqlite3_mprintf("%s\x01%s\x01%s", p->aEdge[j].zName,
                                  p->azTable[p->aEdge[j].iChild],
                                  p->aEdge[j].zChildCol);
        int bSame = z && strcmp(z, azOld[i]) == 0;
        sqlite3_free(z);
        if (bSame) {
          aMap[i] = j;
          break;
        }
      }
      sqlite3_free(azOld[i]);
    }
    relEnforceRemap(p, aMap, nOld);
    sqlite3_free(azOld);
    sqlite3_free(aMap);
  }
  if (rc == SQLITE_OK) rc = relEnforceInstall(p, pzErr);
  if (rc == SQLITE_OK) rc = relAccessorInstall(p, pzErr);
  return rc;
}
