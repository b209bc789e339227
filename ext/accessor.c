/*
** accessor.c -- the accessor virtual tables (category__articles, ...).
**
** Names: forward <model>__<field>, reverse <target>__<related_name>.
** (The virtual table module itself is being written; see issue 4.)
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

char *relAccessorForward(const RelDef *p) {
  return sqlite3_mprintf("%s__%s", p->zModel, p->zField);
}

char *relAccessorReverse(const RelDef *p) {
  if (relDefHidden(p) || (p->eKind == REL_M2M && p->bSymmetrical)) return 0;
  return sqlite3_mprintf("%s__%s", p->zTarget, p->zRelName);
}

int relRegisterAccessor(sqlite3 *db, RelCtx *p) {
  (void)db;
  (void)p;
  return SQLITE_OK;
}

int relAccessorInstall(RelCtx *p, char **pzErr) {
  (void)p;
  (void)pzErr;
  return SQLITE_OK;
}
