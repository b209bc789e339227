/*
** vtab.c -- the plumbing shared by relext's eponymous virtual tables
** (rel_collect, rel_check, rel_lookup, relext_notes).
**
** CONTRACT
**   - relVtabConnect declares the table's schema and returns a zeroed
**     RelVtab that holds the connection's RelCtx (pAux), with the given
**     sqlite3_vtab_config() option (0 for none). relVtabDisconnect frees it.
**   - relVtabOpen returns a zeroed cursor of nByte bytes.
**   - relVtabArgsBestIndex plans a table-valued function whose arguments
**     are the nArg HIDDEN columns from iFirst: a plan needs an equality on
**     each of them, and passes them to xFilter in column order (argv[0] is
**     column iFirst). A plan without all of them is refused with
**     SQLITE_CONSTRAINT, after a huge cost in case the planner asks again.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

int relVtabConnect(sqlite3 *db, void *pAux, const char *zSchema, int eConfig,
                   sqlite3_vtab **ppVtab) {
  RelVtab *pTab;
  int rc = sqlite3_declare_vtab(db, zSchema);
  if (rc) return rc;
  pTab = sqlite3_malloc64(sizeof(*pTab));
  if (pTab == 0) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->pCtx = (RelCtx *)pAux;
  if (eConfig) sqlite3_vtab_config(db, eConfig);
  *ppVtab = &pTab->base;
  return SQLITE_OK;
}

int relVtabDisconnect(sqlite3_vtab *pVtab) {
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

int relVtabOpen(size_t nByte, sqlite3_vtab_cursor **ppCur) {
  sqlite3_vtab_cursor *pCur = sqlite3_malloc64(nByte);
  if (pCur == 0) return SQLITE_NOMEM;
  memset(pCur, 0, nByte);
  *ppCur = pCur;
  return SQLITE_OK;
}

int relVtabArgsBestIndex(sqlite3_index_info *p, int iFirst, int nArg,
                         double rCost, sqlite3_int64 nRow) {
  int aIdx[REL_VTAB_MAX_ARGS];
  int i;
  if (nArg > REL_VTAB_MAX_ARGS) return SQLITE_INTERNAL;
  for (i = 0; i < nArg; i++)
    aIdx[i] = -1;
  for (i = 0; i < p->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &p->aConstraint[i];
    int iArg = c->iColumn - iFirst;
    if (!c->usable || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (iArg >= 0 && iArg < nArg) aIdx[iArg] = i;
  }
  for (i = 0; i < nArg; i++) {
    if (aIdx[i] < 0) {
      p->estimatedCost = 1e300;
      return SQLITE_CONSTRAINT;
    }
  }
  for (i = 0; i < nArg; i++) {
    p->aConstraintUsage[aIdx[i]].argvIndex = i + 1;
    p->aConstraintUsage[aIdx[i]].omit = 1;
  }
  p->idxNum = 1;
  p->estimatedCost = rCost;
  p->estimatedRows = nRow;
  return SQLITE_OK;
}
