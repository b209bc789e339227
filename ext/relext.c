/*
** relext.c -- the entry point: sqlite3_relext_init().
**
** Loading relext on a connection:
**   1. creates the connection's RelCtx (reference counted: every function
**      and module registered below holds one reference, so the context
**      lives exactly as long as the last registration);
**   2. registers the SQL functions and virtual table modules of each part
**      (define.c, enforce.c, accessor.c, inspect.c, lookup.c);
**   3. reads the catalog and installs this connection's TEMP triggers and
**      accessor tables, so every declared rule is in force.
** Loading twice finds the first context (a registry of live contexts, one
** per connection) and only reloads the catalog. Nothing here writes to the main
** schema, so loading works on read-only databases and replicas.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT1

#include <string.h>

/* Every live context, so that a second load on the same connection finds
** and reuses the first one (its TEMP tables may be held by the
** application's cached statements, so they cannot simply be replaced). */
static RelCtx *pAllCtx = 0;

static sqlite3_mutex *relRegistryMutex(void) {
  return sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_APP3);
}

static RelCtx *relCtxFind(sqlite3 *db) {
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

void relCtxUnref(void *pArg) {
  RelCtx *p = (RelCtx *)pArg;
  RelCtx **pp;
  sqlite3_mutex *m;
  if (p == 0) return;
  if (--p->nRef > 0) return;
  m = relRegistryMutex();
  sqlite3_mutex_enter(m);
  for (pp = &pAllCtx; *pp && *pp != p; pp = &(*pp)->pNextCtx) {
  }
  if (*pp) *pp = p->pNextCtx;
  sqlite3_mutex_leave(m);
  relEnforceFree(p);
  relCtxClearDefs(p);
  sqlite3_free(p);
}

void relEnforceRemap(RelCtx *p, const int *aMap, int nOld);

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
  if (sqlite3_libversion_number() < 3034000) {
    if (pzErrMsg)
      *pzErrMsg = sqlite3_mprintf("relext: needs SQLite 3.34 or newer");
    return SQLITE_ERROR;
  }
  /* Loaded before on this connection: bring the definitions up to date. */
  p = relCtxFind(db);
  if (p) {
    rc = relCtxReload(p, &zErr);
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
  {
    sqlite3_mutex *m = relRegistryMutex();
    sqlite3_mutex_enter(m);
    p->pNextCtx = pAllCtx;
    pAllCtx = p;
    sqlite3_mutex_leave(m);
  }
  rc = sqlite3_create_function_v2(db, "relext_version", 0,
                                  SQLITE_UTF8 | SQLITE_INNOCUOUS |
                                      SQLITE_DETERMINISTIC,
                                  0, relVersionFunc, 0, 0, 0);
  if (rc == SQLITE_OK) rc = relRegisterEnforce(db, p);
  if (rc == SQLITE_OK) rc = relRegisterDefine(db, p);
  if (rc == SQLITE_OK) rc = relRegisterAccessor(db, p);
  if (rc == SQLITE_OK) rc = relRegisterInspect(db, p);
  if (rc == SQLITE_OK) rc = relRegisterLookup(db, p);
  if (rc == SQLITE_OK) rc = relCtxReload(p, &zErr);
  if (rc != SQLITE_OK) {
    if (pzErrMsg) {
      *pzErrMsg = zErr ? zErr
                       : sqlite3_mprintf("relext: cannot load: %s",
                                         sqlite3_errstr(rc));
      zErr = 0;
    }
  }
  sqlite3_free(zErr);
  relCtxUnref(p);
  return rc;
}
