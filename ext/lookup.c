/*
** lookup.c -- rel_lookup(model, path, value).
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

int relRegisterLookup(sqlite3 *db, RelCtx *p) {
  (void)db;
  (void)p;
  return SQLITE_OK;
}
