/*
** inspect.c -- rel_collect, rel_check and rel_graph.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

int relRegisterInspect(sqlite3 *db, RelCtx *p) {
  (void)db;
  (void)p;
  return SQLITE_OK;
}
