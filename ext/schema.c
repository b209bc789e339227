/*
** schema.c -- what relext knows about the tables and columns of main.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Is zCol a name for the rowid of zTab? We treat "rowid" and the INTEGER
** PRIMARY KEY the same; the catalog stores the real column name. */
int relIsRowid(const char *zCol) {
  return sqlite3_stricmp(zCol, "rowid") == 0;
}

/* How a row of zTab is named in SQL: "rowid", or the primary key column
** of a WITHOUT ROWID table (quoted), or NULL when it has no single one.
** Caller frees. */
char *relRowKey(sqlite3 *db, const char *zTab, int *pRc) {
  sqlite3_stmt *pStmt = 0;
  char *z = 0;
  int rc = relPreparef(db, &pStmt, 0, "SELECT rowid FROM main.\"%w\"", zTab);
  sqlite3_finalize(pStmt);
  if (rc == SQLITE_OK) {
    z = sqlite3_mprintf("rowid");
    if (z == 0) *pRc = SQLITE_NOMEM;
    return z;
  }
  if (rc == SQLITE_NOMEM) {
    *pRc = SQLITE_NOMEM;
    return 0;
  }
  pStmt = 0;
  rc = sqlite3_prepare_v2(db,
                          "SELECT name FROM pragma_table_info(?1, 'main') "
                          "WHERE pk>0",
                          -1, &pStmt, 0);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(pStmt, 1, zTab, -1, SQLITE_STATIC);
    if (sqlite3_step(pStmt) == SQLITE_ROW) {
      z = sqlite3_mprintf("\"%w\"", sqlite3_column_text(pStmt, 0));
      if (z == 0) rc = SQLITE_NOMEM;
      if (sqlite3_step(pStmt) == SQLITE_ROW) {
        sqlite3_free(z);
        z = 0;
      }
    }
    if (rc == SQLITE_OK) rc = sqlite3_reset(pStmt);
  }
  sqlite3_finalize(pStmt);
  if (rc == SQLITE_NOMEM) {
    sqlite3_free(z);
    *pRc = SQLITE_NOMEM;
    return 0;
  }
  return z;
}

/* Is zCol of zTab the rowid (by name or as INTEGER PRIMARY KEY)? */
int relIsRowidAlias(sqlite3 *db, const char *zTab, const char *zCol) {
  sqlite3_stmt *pStmt = 0;
  int bAlias = 0;
  if (relIsRowid(zCol)) return 1;
  if (sqlite3_prepare_v2(db,
                         "SELECT count(*)=1 AND sum(pk=1 AND name=?2 COLLATE "
                         "NOCASE AND upper(type)='INTEGER')=1 FROM "
                         "pragma_table_info(?1,'main') WHERE pk>0",
                         -1, &pStmt, 0) == SQLITE_OK) {
    sqlite3_bind_text(pStmt, 1, zTab, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, zCol, -1, SQLITE_STATIC);
    if (sqlite3_step(pStmt) == SQLITE_ROW)
      bAlias = sqlite3_column_int(pStmt, 0);
  }
  sqlite3_finalize(pStmt);
  return bAlias;
}

/* The SQL expression for a parent key column through alias zAlias. */
char *relKeyExpr(const char *zAlias, const char *zCol) {
  if (relIsRowid(zCol)) return sqlite3_mprintf("%s.rowid", zAlias);
  return sqlite3_mprintf("%s.\"%w\"", zAlias, zCol);
}
