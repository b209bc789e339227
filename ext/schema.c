/*
** schema.c -- every fact relext reads about the tables and columns of the
** main schema: which tables exist and how they are spelled, their primary
** key, their rowid, their columns with declared type, collation, indexes
** and uniqueness, and how SQL names a key; and the key rules built on them
** (relKeyTarget, relKeyFits): which columns a relationship may reference,
** and which columns can hold their keys so that plain SQL comparison is
** SQLite's foreign-key comparison (the target key's affinity and
** collation).
**
** CONTRACT
**   Each function returns an SQLite result code and gives its answer
**   through an out-parameter: a name is a new string the caller frees
**   (NULL: there is none), a predicate an int 0 or 1. An error is never an
**   answer: a probe that fails (out of memory, a locked schema) returns
**   its code, and the out-parameter says nothing. Names are compared as
**   SQLite compares them (ASCII case-insensitively), and passed to the
**   probes as bound parameters, never pasted.
**
** MECHANISM
**   The table-valued pragmas (pragma_table_info, pragma_index_list,
**   pragma_index_info, and pragma_table_list for STRICT) and
**   main.sqlite_schema, read with prepared statements;
**   sqlite3_table_column_metadata for a collation. Whether a
**   table has a rowid is whether "SELECT rowid FROM t" prepares (SQLite
**   before 3.37 has no pragma that says so).
**
** INVARIANTS
**   - "rowid" (any case) names the rowid of every table that has one: it
**     is always a column for relColumnExists, and relColumnInfo describes
**     it (INTEGER, indexed, unique) without looking.
**   - The answers hold for the schema as it is when asked; nothing is
**     cached here, except in a RelSchemaMemo, which its caller makes for
**     one pass over many definitions during which the schema does not
**     change (loading the catalog), and frees after it.
**   - A column is unique (RelColumn.bUnique) only under its own collation:
**     an index that compares otherwise ("PRIMARY KEY(code COLLATE
**     BINARY)" of a NOCASE column) lets two rows equal to one key in.
**   - The key rules answer with rc, a yes/no, and for no a message that
**     names the fix (relError with SQLITE_OK: the message is the answer,
**     not an error).
**
** LIMITS
**   - Only the main schema is read.
**   - A table that has a column named rowid hides its real rowid from SQL;
**     these functions do not try to see past it.
**   - Without SQLITE_ENABLE_COLUMN_METADATA a collation cannot be read:
**     a table whose CREATE TABLE says COLLATE then has bCollUnknown, and
**     the key rules refuse its columns rather than guess.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* SQLite's row estimate for a table without statistics. */
#define REL_DEFAULT_ROWS 1048576.0

/* ------------------------------------------------------------------ */
/* Names                                                               */

int relIsRowid(const char *zCol) {
  return sqlite3_stricmp(zCol, "rowid") == 0;
}

char *relColExpr(const char *zAlias, const char *zCol) {
  if (zAlias == 0) {
    if (relIsRowid(zCol)) return sqlite3_mprintf("rowid");
    return sqlite3_mprintf("\"%w\"", zCol);
  }
  if (relIsRowid(zCol)) return sqlite3_mprintf("%s.rowid", zAlias);
  return sqlite3_mprintf("%s.\"%w\"", zAlias, zCol);
}

/* Step pStmt, bound by the caller, and finalize it: *pbRow says whether it
** returned a row; *pz (if not NULL) gets its first column. */
static int relProbe(sqlite3_stmt *pStmt, int *pbRow, char **pz) {
  int rc = SQLITE_OK;
  *pbRow = 0;
  if (pz) *pz = 0;
  if (sqlite3_step(pStmt) == SQLITE_ROW) {
    *pbRow = 1;
    if (pz) {
      const char *z = (const char *)sqlite3_column_text(pStmt, 0);
      if (z) {
        *pz = relStrdup(z);
        if (*pz == 0) rc = SQLITE_NOMEM;
      } else if (sqlite3_column_type(pStmt, 0) != SQLITE_NULL) {
        rc = SQLITE_NOMEM;
      }
    }
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc && pz) {
    sqlite3_free(*pz);
    *pz = 0;
  }
  return rc;
}

/* A copy of column iCol of pStmt's row into *pz (NULL for an SQL NULL):
** SQLITE_NOMEM when out of memory. */
static int relColumnDup(sqlite3_stmt *pStmt, int iCol, char **pz) {
  const char *z = (const char *)sqlite3_column_text(pStmt, iCol);
  *pz = 0;
  if (z == 0) {
    return sqlite3_column_type(pStmt, iCol) == SQLITE_NULL ? SQLITE_OK
                                                           : SQLITE_NOMEM;
  }
  *pz = relStrdup(z);
  return *pz ? SQLITE_OK : SQLITE_NOMEM;
}

/* Prepare zSql with ?1 = z1 and ?2 = z2 (when not NULL). */
static int relProbePrepare(sqlite3 *db, const char *zSql, const char *z1,
                           const char *z2, sqlite3_stmt **ppStmt) {
  int rc = sqlite3_prepare_v2(db, zSql, -1, ppStmt, 0);
  if (rc) {
    sqlite3_finalize(*ppStmt);
    *ppStmt = 0;
    return rc;
  }
  sqlite3_bind_text(*ppStmt, 1, z1, -1, SQLITE_STATIC);
  if (z2) sqlite3_bind_text(*ppStmt, 2, z2, -1, SQLITE_STATIC);
  return SQLITE_OK;
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */

int relTableName(sqlite3 *db, const char *zTab, int eWhich, char **pzName) {
  sqlite3_stmt *pStmt = 0;
  int bRow, rc;
  /* (pragma_table_list(NULL) would list every table: no name, no table.) */
  *pzName = 0;
  if (zTab == 0) return SQLITE_OK;
  /* PRAGMA table_list finds the table in the schema's hash: no scan of
  ** sqlite_schema, whose size grows with the number of relationships
  ** (every one adds guards). Its types: 'table', 'shadow' (both plain
  ** b-trees), 'virtual', 'view'; sqlite_schema itself is listed too, but
  ** is not a row of sqlite_schema. */
  rc = relProbePrepare(
      db,
      eWhich == REL_TABLE_ORDINARY
          ? "SELECT name FROM pragma_table_list(?1) WHERE schema='main' "
            "AND type IN ('table','shadow') AND name<>'sqlite_schema'"
          : "SELECT name FROM pragma_table_list(?1) WHERE schema='main' "
            "AND type IN ('table','shadow','virtual') "
            "AND name<>'sqlite_schema'",
      zTab, 0, &pStmt);
  *pzName = 0;
  if (rc) return rc;
  return relProbe(pStmt, &bRow, pzName);
}

int relTableExists(sqlite3 *db, const char *zTab, int *pbExists) {
  char *z = 0;
  int rc = relTableName(db, zTab, REL_TABLE_ANY, &z);
  *pbExists = z != 0;
  sqlite3_free(z);
  return rc;
}

int relTableHasRowid(sqlite3 *db, const char *zTab, int *pbRowid) {
  sqlite3_stmt *pStmt = 0;
  int rc = relPreparef(db, &pStmt, 0, "SELECT rowid FROM main.\"%w\"", zTab);
  sqlite3_finalize(pStmt);
  *pbRowid = rc == SQLITE_OK;
  /* SQLITE_ERROR: no such column (a WITHOUT ROWID table). */
  return rc == SQLITE_ERROR ? SQLITE_OK : rc;
}

int relTablesEndingWith(sqlite3 *db, const char *zSuffix, char **pzFirst,
                        int *pnFound) {
  sqlite3_stmt *pStmt = 0;
  size_t nSuffix = strlen(zSuffix);
  int rc = sqlite3_prepare_v2(db,
                              "SELECT name FROM main.sqlite_schema WHERE "
                              "type='table' AND sql NOT LIKE 'CREATE VIRTUAL%'",
                              -1, &pStmt, 0);
  *pzFirst = 0;
  *pnFound = 0;
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(pStmt, 0);
    size_t n = z ? strlen(z) : 0;
    if (n > nSuffix + 1 && z[n - nSuffix - 1] == '_' &&
        sqlite3_stricmp(z + n - nSuffix, zSuffix) == 0) {
      (*pnFound)++;
      if (*pzFirst == 0) {
        *pzFirst = relStrdup(z);
        if (*pzFirst == 0) rc = SQLITE_NOMEM;
      }
    }
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc) {
    sqlite3_free(*pzFirst);
    *pzFirst = 0;
  }
  return rc;
}

int relTableDeclLike(sqlite3 *db, const char *zTab, const char *zLike,
                     int *pbLike) {
  sqlite3_stmt *pStmt = 0;
  char *z = 0;
  int bRow;
  int rc = relProbePrepare(db,
                           "SELECT sql LIKE ?2 FROM main.sqlite_schema "
                           "WHERE type='table' AND name=?1 COLLATE NOCASE",
                           zTab, zLike, &pStmt);
  *pbLike = 0;
  if (rc) return rc;
  rc = relProbe(pStmt, &bRow, &z);
  *pbLike = z && strcmp(z, "1") == 0;
  sqlite3_free(z);
  return rc;
}

int relTablesDeclLike(sqlite3 *db, const char *zLike, char ***pazName,
                      int *pnName) {
  sqlite3_stmt *pStmt = 0;
  char **az = 0;
  int n = 0, rc;
  *pazName = 0;
  *pnName = 0;
  rc = relProbePrepare(db,
                       "SELECT name FROM main.sqlite_schema WHERE "
                       "type='table' AND sql LIKE ?1",
                       zLike, 0, &pStmt);
  if (rc) return rc;
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    char **a = sqlite3_realloc64(az, sizeof(char *) * (size_t)(n + 1));
    if (a == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    az = a;
    rc = relColumnDup(pStmt, 0, &az[n]);
    if (rc == SQLITE_OK && az[n]) n++;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc) {
    relColumnNamesFree(az, n);
    return rc;
  }
  *pazName = az;
  *pnName = n;
  return SQLITE_OK;
}

int relTableRows(sqlite3 *db, const char *zTab, double *pnRow) {
  sqlite3_stmt *pStmt = 0;
  int rc;
  *pnRow = REL_DEFAULT_ROWS;
  /* No sqlite_stat1 (never analyzed): SQLite's default. */
  rc = sqlite3_prepare_v2(db,
                          "SELECT CAST(stat AS INTEGER) FROM main.sqlite_stat1 "
                          "WHERE tbl=?1 COLLATE NOCASE LIMIT 1",
                          -1, &pStmt, 0);
  if (rc == SQLITE_ERROR) return SQLITE_OK;
  if (rc) return rc;
  sqlite3_bind_text(pStmt, 1, zTab, -1, SQLITE_STATIC);
  if (sqlite3_step(pStmt) == SQLITE_ROW) {
    *pnRow = (double)sqlite3_column_int64(pStmt, 0);
    if (*pnRow < 1.0) *pnRow = 1.0;
  }
  return sqlite3_finalize(pStmt);
}

int relObjectExists(sqlite3 *db, const char *zName, int *pbExists) {
  sqlite3_stmt *pStmt = 0;
  int rc = relProbePrepare(db,
                           "SELECT 1 FROM main.sqlite_schema WHERE "
                           "name=?1 COLLATE NOCASE",
                           zName, 0, &pStmt);
  *pbExists = 0;
  if (rc) return rc;
  return relProbe(pStmt, pbExists, 0);
}

int relDbEncoding(sqlite3 *db, int *peEnc) {
  sqlite3_stmt *pStmt = 0;
  char *z = 0;
  int bRow;
  int rc = sqlite3_prepare_v2(db, "PRAGMA main.encoding", -1, &pStmt, 0);
  *peEnc = SQLITE_UTF8;
  if (rc) {
    sqlite3_finalize(pStmt);
    return rc;
  }
  rc = relProbe(pStmt, &bRow, &z);
  if (z && sqlite3_stricmp(z, "UTF-16le") == 0) *peEnc = SQLITE_UTF16LE;
  if (z && sqlite3_stricmp(z, "UTF-16be") == 0) *peEnc = SQLITE_UTF16BE;
  sqlite3_free(z);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

int relPkColumn(sqlite3 *db, const char *zTab, char **pzCol) {
  sqlite3_stmt *pStmt = 0;
  int nPk = 0;
  int rc = relProbePrepare(
      db, "SELECT name FROM pragma_table_info(?1, 'main') WHERE pk>0", zTab, 0,
      &pStmt);
  *pzCol = 0;
  if (rc) return rc;
  while (sqlite3_step(pStmt) == SQLITE_ROW) {
    nPk++;
    if (nPk == 1) {
      *pzCol = relStrdup((const char *)sqlite3_column_text(pStmt, 0));
      if (*pzCol == 0) rc = SQLITE_NOMEM;
    }
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc == SQLITE_OK && nPk != 1) {
    sqlite3_free(*pzCol);
    *pzCol = relStrdup("rowid");
    if (*pzCol == 0) rc = SQLITE_NOMEM;
  }
  if (rc) {
    sqlite3_free(*pzCol);
    *pzCol = 0;
  }
  return rc;
}

int relRowKey(sqlite3 *db, const char *zTab, char **pzKey) {
  sqlite3_stmt *pStmt = 0;
  int bRowid, rc, nPk = 0;
  *pzKey = 0;
  rc = relTableHasRowid(db, zTab, &bRowid);
  if (rc) return rc;
  if (bRowid) {
    *pzKey = relStrdup("rowid");
    return *pzKey ? SQLITE_OK : SQLITE_NOMEM;
  }
  rc = relProbePrepare(
      db, "SELECT name FROM pragma_table_info(?1, 'main') WHERE pk>0", zTab, 0,
      &pStmt);
  if (rc) return rc;
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    if (++nPk == 1) {
      *pzKey = sqlite3_mprintf("\"%w\"", sqlite3_column_text(pStmt, 0));
      if (*pzKey == 0) rc = SQLITE_NOMEM;
    }
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc || nPk != 1) {
    sqlite3_free(*pzKey);
    *pzKey = 0;
  }
  return rc;
}

int relRowidColumn(sqlite3 *db, const char *zTab, char **pzCol) {
  sqlite3_stmt *pStmt = 0;
  int bRow;
  /* "INTEGER PRIMARY KEY DESC" is no rowid alias and, like the key of a
  ** WITHOUT ROWID table, has an index of origin 'pk'. */
  int rc = relProbePrepare(
      db,
      "SELECT name FROM pragma_table_info(?1,'main') WHERE pk=1 AND "
      "upper(type)='INTEGER' AND (SELECT count(*) FROM "
      "pragma_table_info(?1,'main') WHERE pk>0)=1 AND NOT EXISTS (SELECT 1 "
      "FROM pragma_index_list(?1,'main') WHERE origin='pk')",
      zTab, 0, &pStmt);
  *pzCol = 0;
  if (rc) return rc;
  return relProbe(pStmt, &bRow, pzCol);
}

int relIsRowidAlias(sqlite3 *db, const char *zTab, const char *zCol,
                    int *pbAlias) {
  char *zRowid = 0;
  int rc;
  *pbAlias = 0;
  if (relIsRowid(zCol)) {
    *pbAlias = 1;
    return SQLITE_OK;
  }
  rc = relRowidColumn(db, zTab, &zRowid);
  *pbAlias = zRowid && sqlite3_stricmp(zRowid, zCol) == 0;
  sqlite3_free(zRowid);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Columns                                                             */

int relColumnName(sqlite3 *db, const char *zTab, const char *zCol, int bRowid,
                  char **pzName) {
  sqlite3_stmt *pStmt = 0;
  int bRow;
  int rc = relProbePrepare(db,
                           "SELECT name FROM pragma_table_info(?1, 'main') "
                           "WHERE name=?2 COLLATE NOCASE",
                           zTab, zCol, &pStmt);
  *pzName = 0;
  if (rc) return rc;
  rc = relProbe(pStmt, &bRow, pzName);
  if (rc == SQLITE_OK && *pzName == 0 && bRowid && relIsRowid(zCol)) {
    *pzName = relStrdup("rowid");
    if (*pzName == 0) rc = SQLITE_NOMEM;
  }
  return rc;
}

int relColumnExists(sqlite3 *db, const char *zTab, const char *zCol,
                    int *pbExists) {
  char *z = 0;
  int rc;
  *pbExists = 0;
  if (relIsRowid(zCol)) {
    *pbExists = 1;
    return SQLITE_OK;
  }
  rc = relColumnName(db, zTab, zCol, 0, &z);
  *pbExists = z != 0;
  sqlite3_free(z);
  return rc;
}

int relColumnNames(sqlite3 *db, const char *zTab, char ***pazName,
                   int *pnName) {
  sqlite3_stmt *pStmt = 0;
  char **az = 0;
  int n = 0, i;
  int rc = relProbePrepare(
      db, "SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid", zTab,
      0, &pStmt);
  *pazName = 0;
  *pnName = 0;
  if (rc) return rc;
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    char **a = sqlite3_realloc64(az, sizeof(char *) * (size_t)(n + 1));
    if (a == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    az = a;
    az[n] = relStrdup((const char *)sqlite3_column_text(pStmt, 0));
    if (az[n] == 0)
      rc = SQLITE_NOMEM;
    else
      n++;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc) {
    for (i = 0; i < n; i++)
      sqlite3_free(az[i]);
    sqlite3_free(az);
    return rc;
  }
  *pazName = az;
  *pnName = n;
  return SQLITE_OK;
}

void relColumnNamesFree(char **azName, int nName) {
  int i;
  for (i = 0; i < nName; i++)
    sqlite3_free(azName[i]);
  sqlite3_free(azName);
}

void relColumnClear(RelColumn *p) {
  sqlite3_free(p->zName);
  sqlite3_free(p->zType);
  sqlite3_free(p->zColl);
  memset(p, 0, sizeof(*p));
}

/* The collation of main.zTab.zCol into p->zColl (NULL: BINARY).
** sqlite3_table_column_metadata is absent from builds without
** SQLITE_ENABLE_COLUMN_METADATA: then a column of a table whose CREATE
** TABLE says COLLATE nowhere is BINARY, and any other has bCollUnknown. */
static int relColumnCollation(sqlite3 *db, const char *zTab, RelColumn *p) {
  const char *zColl = 0;
  int rc;
#ifndef SQLITE_CORE
  if (sqlite3_api->table_column_metadata == 0) {
    rc = relTableDeclLike(db, zTab, "%collate%", &p->bCollUnknown);
    return rc;
  }
#endif
  rc = sqlite3_table_column_metadata(db, "main", zTab, p->zName, 0, &zColl, 0,
                                     0, 0);
  if (rc == SQLITE_ERROR) return SQLITE_OK; /* unknown: BINARY */
  if (rc) return rc;
  if (zColl && sqlite3_stricmp(zColl, "BINARY") != 0) {
    p->zColl = relStrdup(zColl);
    if (p->zColl == 0) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/* Is the STRICT flag of main.zTab set? (pragma_table_list and STRICT
** tables came with SQLite 3.37.) */
static int relTableStrictFlag(sqlite3 *db, const char *zTab, int *pbStrict) {
  sqlite3_stmt *pStmt = 0;
  char *z = 0;
  int bRow, rc;
  *pbStrict = 0;
  if (sqlite3_libversion_number() < 3037000) return SQLITE_OK;
  rc = relProbePrepare(db,
                       "SELECT \"strict\" FROM pragma_table_list(?1) WHERE "
                       "schema='main'",
                       zTab, 0, &pStmt);
  if (rc) return rc;
  rc = relProbe(pStmt, &bRow, &z);
  *pbStrict = z && strcmp(z, "1") == 0;
  sqlite3_free(z);
  return rc;
}

/* What relColumnInfo decides from: one table's columns (pragma_table_info)
** and its indexes that are not partial (pragma_index_list, and the first
** column and key count of each from pragma_index_xinfo). Read in a few
** statements for the whole table, so that a memo reads each table once. */
typedef struct RelFactCol RelFactCol;
struct RelFactCol {
  char *zName; /* NULL: a column whose name could not be read */
  char *zType; /* declared type ("" when none) */
  int pk;      /* position in the primary key, 0 when not in it */
  int bDflt;   /* declared with a DEFAULT */
};
typedef struct RelFactIdx RelFactIdx;
struct RelFactIdx {
  char *zName; /* the index */
  int bUnique;
  int bXinfo;   /* zFirst, zColl and nKey are read (relFactXinfo) */
  char *zFirst; /* its first column (NULL: an expression) */
  char *zColl;  /* that column's collation in the index (NULL: none read) */
  int nKey;     /* its key columns */
};
typedef struct RelFacts RelFacts;
struct RelFacts {
  RelFactCol *aCol;
  int nCol;
  int nPk;      /* columns in the primary key */
  int bIdxRead; /* aIdx and bPkIndex are read */
  RelFactIdx *aIdx; /* the indexes that are not partial */
  int nIdx;
  int bPkIndex; /* an index of origin 'pk' (no INTEGER PRIMARY KEY rowid) */
};

static void relFactsClear(RelFacts *f) {
  int i;
  for (i = 0; i < f->nCol; i++) {
    sqlite3_free(f->aCol[i].zName);
    sqlite3_free(f->aCol[i].zType);
  }
  sqlite3_free(f->aCol);
  for (i = 0; i < f->nIdx; i++) {
    sqlite3_free(f->aIdx[i].zName);
    sqlite3_free(f->aIdx[i].zFirst);
    sqlite3_free(f->aIdx[i].zColl);
  }
  sqlite3_free(f->aIdx);
  memset(f, 0, sizeof(*f));
}

/* The statements that read the facts, prepared when first needed (a memo
** keeps them for its pass; relColumnInfo for one call). */
typedef struct RelFactStmts RelFactStmts;
struct RelFactStmts {
  sqlite3_stmt *pCols;  /* pragma_table_info(?1) */
  sqlite3_stmt *pIdx;   /* pragma_index_list(?1) */
  sqlite3_stmt *pXinfo; /* pragma_index_xinfo(?1) */
};

static void relFactStmtsFree(RelFactStmts *s) {
  sqlite3_finalize(s->pCols);
  sqlite3_finalize(s->pIdx);
  sqlite3_finalize(s->pXinfo);
  memset(s, 0, sizeof(*s));
}

/* Prepare *pp from zSql unless it is prepared, and bind ?1 to z. */
static int relFactPrepare(sqlite3 *db, sqlite3_stmt **pp, const char *zSql,
                          const char *z) {
  if (*pp == 0) {
    int rc = sqlite3_prepare_v2(db, zSql, -1, pp, 0);
    if (rc) {
      sqlite3_finalize(*pp);
      *pp = 0;
      return rc;
    }
  }
  return sqlite3_bind_text(*pp, 1, z, -1, SQLITE_STATIC);
}

/* Finish a statement's run: its error (or rc's), ready for the next. */
static int relFactDone(sqlite3_stmt *pStmt, int rc) {
  int rc2 = sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
  return rc ? rc : rc2;
}

/* The columns of zTab into f (which is empty). */
static int relFactsReadCols(sqlite3 *db, RelFactStmts *s, const char *zTab,
                            RelFacts *f) {
  int rc = relFactPrepare(db, &s->pCols,
                          "SELECT name, type, pk, dflt_value IS NOT NULL FROM "
                          "pragma_table_info(?1, 'main')",
                          zTab);
  int nAlloc = 0;
  if (rc) return rc;
  while (rc == SQLITE_OK && sqlite3_step(s->pCols) == SQLITE_ROW) {
    RelFactCol *c;
    RelFactCol *a = relGrow(f->aCol, sizeof(RelFactCol), f->nCol, &nAlloc, 8);
    if (a == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    f->aCol = a;
    c = &f->aCol[f->nCol++];
    memset(c, 0, sizeof(*c));
    c->pk = sqlite3_column_int(s->pCols, 2);
    c->bDflt = sqlite3_column_int(s->pCols, 3);
    if (c->pk > 0) f->nPk++;
    rc = relColumnDup(s->pCols, 0, &c->zName);
    if (rc == SQLITE_OK) rc = relColumnDup(s->pCols, 1, &c->zType);
  }
  return relFactDone(s->pCols, rc);
}

/* The indexes of zTab into f: the list only (relFactXinfo reads an
** index's columns when a question needs them). */
static int relFactsReadIdx(sqlite3 *db, RelFactStmts *s, const char *zTab,
                           RelFacts *f) {
  int nAlloc = 0, i;
  int rc = relFactPrepare(db, &s->pIdx,
                          "SELECT name, \"unique\", origin='pk', partial FROM "
                          "pragma_index_list(?1, 'main')",
                          zTab);
  if (rc) return rc;
  f->bIdxRead = 1;
  while (rc == SQLITE_OK && sqlite3_step(s->pIdx) == SQLITE_ROW) {
    RelFactIdx *x;
    if (sqlite3_column_int(s->pIdx, 2)) f->bPkIndex = 1;
    if (sqlite3_column_int(s->pIdx, 3)) continue;
    RelFactIdx *a = relGrow(f->aIdx, sizeof(RelFactIdx), f->nIdx, &nAlloc, 4);
    if (a == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    f->aIdx = a;
    x = &f->aIdx[f->nIdx++];
    memset(x, 0, sizeof(*x));
    x->bUnique = sqlite3_column_int(s->pIdx, 1);
    rc = relColumnDup(s->pIdx, 0, &x->zName);
    if (rc == SQLITE_OK && x->zName == 0) rc = SQLITE_NOMEM;
  }
  rc = relFactDone(s->pIdx, rc);
  if (rc) {
    /* Not remembered: the next question reads them again. */
    for (i = 0; i < f->nIdx; i++)
      sqlite3_free(f->aIdx[i].zName);
    sqlite3_free(f->aIdx);
    f->aIdx = 0;
    f->nIdx = 0;
    f->bIdxRead = 0;
    f->bPkIndex = 0;
  }
  return rc;
}

/* The first column and the key columns of index x (once). */
static int relFactXinfo(sqlite3 *db, RelFactStmts *s, RelFactIdx *x) {
  int iRow = 0;
  int rc = relFactPrepare(db, &s->pXinfo,
                          "SELECT name, coll, key FROM "
                          "pragma_index_xinfo(?1, 'main') ORDER BY seqno",
                          x->zName);
  if (rc) return rc;
  while (rc == SQLITE_OK && sqlite3_step(s->pXinfo) == SQLITE_ROW) {
    if (iRow++ == 0) {
      rc = relColumnDup(s->pXinfo, 0, &x->zFirst);
      if (rc == SQLITE_OK) rc = relColumnDup(s->pXinfo, 1, &x->zColl);
    }
    if (sqlite3_column_int(s->pXinfo, 2)) x->nKey++;
  }
  rc = relFactDone(s->pXinfo, rc);
  if (rc) {
    sqlite3_free(x->zFirst);
    sqlite3_free(x->zColl);
    x->zFirst = x->zColl = 0;
    x->nKey = 0;
  } else {
    x->bXinfo = 1;
  }
  return rc;
}

/* relColumnInfo's answer for zCol from the facts of zTab (its indexes read
** by relColumnFacts when the column is found and f has none yet). */
static int relColumnFacts(sqlite3 *db, RelFactStmts *s, const char *zTab,
                          const char *zCol, RelFacts *f, RelColumn *p) {
  int rc = SQLITE_OK, i, bPk = 0;
  memset(p, 0, sizeof(*p));
  p->zAff = "";
  if (relIsRowid(zCol)) {
    p->zName = relStrdup("rowid");
    p->zType = relStrdup("INTEGER");
    p->zAff = "INTEGER";
    p->bIndexed = p->bUnique = p->bRowid = 1;
    if (!p->zName || !p->zType) {
      relColumnClear(p);
      return SQLITE_NOMEM;
    }
    return SQLITE_OK;
  }
  /* The first column named zCol (NOCASE, as SQLite names columns). */
  for (i = 0; i < f->nCol; i++) {
    const RelFactCol *c = &f->aCol[i];
    if (c->zName && sqlite3_stricmp(c->zName, zCol) == 0) {
      p->zName = relStrdup(c->zName);
      p->zType = relStrdup(c->zType ? c->zType : "");
      p->bDefault = c->bDflt;
      bPk = c->pk == 1;
      if (!p->zName || !p->zType) rc = SQLITE_NOMEM;
      break;
    }
  }
  if (rc == SQLITE_OK && p->zName) {
    /* ANY in a STRICT table: no affinity (elsewhere NUMERIC) */
    int bStrict = 0;
    if (sqlite3_stricmp(p->zType, "ANY") == 0)
      rc = relTableStrictFlag(db, zTab, &bStrict);
    p->zAff = bStrict ? "" : relTypeAffinity(p->zType);
    /* The primary key is indexed; it is unique on its own when it is the
    ** only key column and the rowid (below), or when its index compares
    ** as the column does: "PRIMARY KEY(code COLLATE BINARY)" of a NOCASE
    ** column lets 'a' and 'A' both in, and "code = 'a'" then finds two
    ** rows. */
    p->bIndexed = bPk;
  }
  if (rc == SQLITE_OK && p->zName) rc = relColumnCollation(db, zTab, p);
  if (rc == SQLITE_OK && p->zName && !f->bIdxRead)
    rc = relFactsReadIdx(db, s, zTab, f);
  if (rc == SQLITE_OK && p->zName && bPk && f->nPk == 1 &&
      sqlite3_stricmp(p->zType, "INTEGER") == 0 && !f->bPkIndex) {
    /* INTEGER PRIMARY KEY: the rowid (indexed and unique, whatever the
    ** indexes below say) */
    p->bRowid = 1;
    p->bUnique = 1;
  }
  /* Indexes: unique on exactly this column under the column's own
  ** collation (the primary key's index of a WITHOUT ROWID table, or of
  ** "INTEGER PRIMARY KEY DESC", is among them); any leading with it. A
  ** partial index serves neither. An index of origin 'pk' also says that
  ** an INTEGER PRIMARY KEY is no rowid. */
  for (i = 0; rc == SQLITE_OK && p->zName && !p->bRowid && i < f->nIdx; i++) {
    RelFactIdx *x = &f->aIdx[i];
    if (!x->bXinfo) rc = relFactXinfo(db, s, x);
    if (rc) break;
    if (x->zFirst == 0 || sqlite3_stricmp(x->zFirst, p->zName) != 0) continue;
    p->bIndexed = 1;
    if (x->bUnique && x->nKey == 1 && !p->bCollUnknown &&
        sqlite3_stricmp(x->zColl ? x->zColl : "BINARY",
                        p->zColl ? p->zColl : "BINARY") == 0)
      p->bUnique = 1;
  }
  if (rc) relColumnClear(p);
  return rc;
}

/* Loading asks this once per definition: a memo (below) reads each table
** once, in statements prepared once for its pass. */
int relColumnInfo(sqlite3 *db, const char *zTab, const char *zCol,
                  RelColumn *p) {
  RelFactStmts s;
  RelFacts f;
  int rc = SQLITE_OK;
  memset(&s, 0, sizeof(s));
  memset(&f, 0, sizeof(f));
  if (!relIsRowid(zCol)) rc = relFactsReadCols(db, &s, zTab, &f);
  if (rc == SQLITE_OK)
    rc = relColumnFacts(db, &s, zTab, zCol, &f, p);
  else
    memset(p, 0, sizeof(*p));
  relFactsClear(&f);
  relFactStmtsFree(&s);
  return rc;
}
/* The affinity SQLite gives a column declared with type zType (section 3.1
** of datatype3.html), as the name of a type: INTEGER, TEXT, REAL, NUMERIC,
** or "" (BLOB). Never the declared text itself, which is the user's. */
const char *relTypeAffinity(const char *zType) {
  /* sqlite3_strlike is case-insensitive and allocates nothing, so an OOM
  ** cannot turn the type into "" silently. */
#define REL_HAS(x) (sqlite3_strlike("%" x "%", zType, 0) == 0)
  if (zType == 0) return "";
  if (REL_HAS("int")) return "INTEGER";
  if (REL_HAS("char") || REL_HAS("clob") || REL_HAS("text")) return "TEXT";
  if (zType[0] == 0 || REL_HAS("blob")) return "";
  if (REL_HAS("real") || REL_HAS("floa") || REL_HAS("doub")) return "REAL";
  return "NUMERIC";
#undef REL_HAS
}

/* ------------------------------------------------------------------ */
/* Keys: what a relationship may reference, and what may hold its keys */

/* Is zType a declared type that may be written into SQL as it is: words,
** and at most one parenthesized list of numbers ("VARCHAR(10)",
** "DECIMAL(10, 2)", "UNSIGNED BIG INT")? A type read back from a schema
** can hold anything a quoted name can. */
int relSafeType(const char *zType) {
  const char *z = zType;
  int bSafe = z != 0 && z[0] != 0;
  int nNum = -1;   /* numbers read inside the parentheses, -1 before '(' */
  int bClosed = 0; /* the ')' has been read */
  while (bSafe && *z) {
    const char *zStart = z;
    if (*z == ' ') {
      z++;
    } else if (nNum < 0 && ((*z >= 'a' && *z <= 'z') ||
                            (*z >= 'A' && *z <= 'Z') || *z == '_')) {
      while ((*z >= 'a' && *z <= 'z') || (*z >= 'A' && *z <= 'Z') ||
             (*z >= '0' && *z <= '9') || *z == '_')
        z++;
      if (sqlite3_keyword_check(zStart, (int)(z - zStart)) ||
          ((z - zStart) == 6 && sqlite3_strnicmp(zStart, "hidden", 6) == 0))
        bSafe = 0;
    } else if (nNum < 0 && *z == '(' && z != zType) {
      nNum = 0;
      z++;
    } else if (nNum >= 0 && nNum < 2 &&
               (*z == '+' || *z == '-' || (*z >= '0' && *z <= '9') ||
                *z == '.')) {
      /* [+-] digits [. digits] [e [+-] digits], or 0x hex digits */
      int nDigit = 0;
      if (*z == '+' || *z == '-') z++;
      while (*z == ' ')
        z++;
      if (z[0] == '0' && (z[1] == 'x' || z[1] == 'X')) {
        for (z += 2; (*z >= '0' && *z <= '9') || (*z >= 'a' && *z <= 'f') ||
                     (*z >= 'A' && *z <= 'F');
             z++)
          nDigit++;
      } else {
        for (; *z >= '0' && *z <= '9'; z++)
          nDigit++;
        if (*z == '.')
          for (z++; *z >= '0' && *z <= '9'; z++)
            nDigit++;
        if (nDigit && (*z == 'e' || *z == 'E')) {
          int nExp = 0;
          z++;
          if (*z == '+' || *z == '-') z++;
          for (; *z >= '0' && *z <= '9'; z++)
            nExp++;
          if (nExp == 0) bSafe = 0;
        }
      }
      if (nDigit == 0) bSafe = 0;
      while (*z == ' ')
        z++;
      nNum++;
      if (*z == ',' && nNum == 1) {
        z++;
      } else if (*z == ')') {
        z++;
        bClosed = 1;
        while (*z == ' ')
          z++;
        if (*z) bSafe = 0; /* nothing follows the parentheses */
      } else {
        bSafe = 0;
      }
    } else {
      bSafe = 0;
    }
  }
  if (nNum >= 0 && !bClosed) bSafe = 0; /* "x(" or "x(5," */
  return bSafe;
}

/* The affinity group of a column: INTEGER and NUMERIC store every value
** alike (they differ only in CAST), so they are one group. */
static const char *relAffinityGroup(const RelColumn *p) {
  const char *zAff = p->bRowid ? "INTEGER"
                     : p->zAff  ? p->zAff
                                : relTypeAffinity(p->zType);
  return strcmp(zAff, "NUMERIC") == 0 ? "INTEGER" : zAff;
}

/* How a message names the affinity of a column. */
static const char *relAffinityName(const RelColumn *p) {
  const char *zAff = p->bRowid ? "INTEGER"
                     : p->zAff  ? p->zAff
                                : relTypeAffinity(p->zType);
  if (zAff[0]) return zAff;
  return p->zType && p->zType[0] ? "BLOB" : "no type";
}

int relKeyTarget(sqlite3 *db, const char *zTab, const char *zCol, int bToField,
                 int *pbOk, char **pzWhy) {
  RelColumn col;
  int rc;
  *pbOk = 0;
  if (pzWhy) *pzWhy = 0;
  if (relIsRowid(zCol)) {
    char *zAlias = 0;
    int bRowid = 0;
    rc = relTableHasRowid(db, zTab, &bRowid);
    if (rc == SQLITE_OK && bRowid) rc = relRowidColumn(db, zTab, &zAlias);
    if (rc) return rc;
    *pbOk = zAlias != 0;
    sqlite3_free(zAlias);
    if (*pbOk) return SQLITE_OK;
    if (!bRowid) {
      return relError(pzWhy, SQLITE_OK,
                      "table '%s' has no single-column primary key and no "
                      "rowid%s",
                      zTab, bToField ? "; give to_field" : "");
    }
    return relError(
        pzWhy, SQLITE_OK,
        "table '%s' has no INTEGER PRIMARY KEY: its rows are known only by "
        "their rowid, which VACUUM and REPLACE may renumber, and SQLite's "
        "own foreign keys cannot reference it either: declare an INTEGER "
        "PRIMARY KEY%s",
        zTab, bToField ? ", or give a unique to_field" : "");
  }
  rc = relColumnInfo(db, zTab, zCol, &col);
  if (rc) return rc;
  if (col.zName == 0) {
    rc = relError(pzWhy, SQLITE_OK, "table '%s' has no column %s", zTab, zCol);
  } else if (col.bCollUnknown) {
    rc = relError(pzWhy, SQLITE_OK,
                  "cannot read the collation of %s.%s: this SQLite was built "
                  "without column metadata",
                  zTab, col.zName);
  } else if (!col.bUnique) {
    rc = relError(pzWhy, SQLITE_OK,
                  "'%s.%s' must be unique because it is referenced by a "
                  "foreign key",
                  zTab, col.zName);
  } else {
    *pbOk = 1;
  }
  relColumnClear(&col);
  return rc;
}

int relKeyFits(sqlite3 *db, const char *zTab, const char *zCol,
               const char *zKeyTab, const char *zKeyCol, int *pbFits,
               char **pzWhy) {
  RelColumn c, k;
  int rc;
  *pbFits = 0;
  if (pzWhy) *pzWhy = 0;
  memset(&k, 0, sizeof(k));
  rc = relColumnInfo(db, zTab, zCol, &c);
  if (rc == SQLITE_OK) rc = relColumnInfo(db, zKeyTab, zKeyCol, &k);
  if (rc) goto done;
  if (c.zName == 0 || k.zName == 0) {
    rc = relError(pzWhy, SQLITE_OK, "table '%s' has no column %s",
                  c.zName ? zKeyTab : zTab, c.zName ? zKeyCol : zCol);
  } else if (c.bCollUnknown || k.bCollUnknown) {
    rc = relError(pzWhy, SQLITE_OK,
                  "cannot read the collation of %s.%s: this SQLite was built "
                  "without column metadata",
                  c.bCollUnknown ? zTab : zKeyTab,
                  c.bCollUnknown ? c.zName : k.zName);
  } else if (strcmp(relAffinityGroup(&c), relAffinityGroup(&k)) != 0) {
    rc = relError(pzWhy, SQLITE_OK,
                  "column %s.%s (%s) cannot hold %s.%s keys (%s) the way "
                  "SQLite compares foreign keys: give it the type of %s.%s",
                  zTab, c.zName, relAffinityName(&c), zKeyTab, k.zName,
                  relAffinityName(&k), zKeyTab, k.zName);
  } else if (sqlite3_stricmp(c.zColl ? c.zColl : "BINARY",
                             k.zColl ? k.zColl : "BINARY") != 0) {
    rc = relError(pzWhy, SQLITE_OK,
                  "column %s.%s (COLLATE %s) cannot hold %s.%s keys "
                  "(COLLATE %s) the way SQLite compares foreign keys: give "
                  "it the collation of %s.%s",
                  zTab, c.zName, c.zColl ? c.zColl : "BINARY", zKeyTab, k.zName,
                  k.zColl ? k.zColl : "BINARY", zKeyTab, k.zName);
  } else {
    *pbFits = 1;
  }
done:
  relColumnClear(&c);
  relColumnClear(&k);
  return rc;
}

/* The declaration, after its name, of a new column that holds keys of
** pKey: its declared type (or, when that cannot be written into SQL as it
** is, its affinity; INTEGER for the rowid) and its collation. */
char *relKeyColumnDecl(const RelColumn *pKey, int bStrict) {
  const char *zType;
  const char *zAff = pKey->zAff ? pKey->zAff : relTypeAffinity(pKey->zType);
  if (pKey->bRowid || relIsRowid(pKey->zName ? pKey->zName : "rowid"))
    zType = "INTEGER";
  else if (bStrict)
    /* a STRICT table takes only its own types: NUMERIC, which stores every
    ** key as INTEGER would (relKeyFits counts them as one), is INTEGER;
    ** no affinity is ANY */
    zType = zAff[0] == 0                  ? "ANY"
            : strcmp(zAff, "NUMERIC") == 0 ? "INTEGER"
                                          : zAff;
  else if (relSafeType(pKey->zType) &&
           strcmp(relTypeAffinity(pKey->zType), zAff) == 0)
    zType = pKey->zType;
  else
    /* a type that cannot be written as it is, or gives another affinity
    ** there than in its table (ANY of a STRICT table has none) */
    zType = zAff;
  if (pKey->zColl)
    return sqlite3_mprintf("%s COLLATE \"%w\"", zType, pKey->zColl);
  return sqlite3_mprintf("%s", zType);
}

int relTableIsStrict(sqlite3 *db, const char *zTab, int *pbStrict) {
  sqlite3_stmt *pStmt = 0;
  int rc;
  *pbStrict = 0;
  if (sqlite3_libversion_number() < 3037000) return SQLITE_OK;
  rc = relProbePrepare(db,
                       "SELECT \"strict\" FROM pragma_table_list(?1) "
                       "WHERE schema='main'",
                       zTab, 0, &pStmt);
  if (rc) return rc;
  if (sqlite3_step(pStmt) == SQLITE_ROW)
    *pbStrict = sqlite3_column_int(pStmt, 0);
  return sqlite3_finalize(pStmt);
}

/* ------------------------------------------------------------------ */
/* A memo for one pass over many definitions                           */

/* Per table: whether it is a table of main, and its facts, each read once
** and only when asked. */
typedef struct RelMemoTab RelMemoTab;
struct RelMemoTab {
  char *zKey; /* its name, ASCII lower-cased (SQLite compares so) */
  int bTable; /* listed as a table of main (virtual tables included) */
  int bVirtual; /* a virtual table: its facts come from its module */
  int bRead;  /* f holds its columns (and its indexes once f.bIdxRead) */
  RelFacts f;
  int bRowKey;    /* (while bRead) zRowKey is relRowKey's answer */
  char *zRowKey;
  sqlite3_uint64 iSql; /* hash of its rows of sqlite_schema (table and
                       ** indexes) when f was read */
  sqlite3_uint64 iNew; /* the same, being computed (relSchemaMemoRefresh) */
};
struct RelSchemaMemo {
  RelMemoTab *a; /* open addressing, a power of two slots */
  int nSlot;
  int nUsed;
  int bListed;    /* every table of main is in a (bTable) */
  RelFactStmts s; /* the statements that read facts, kept for the pass */
};

/* Forget what was read of a table (its facts and row key). */
static void relMemoTabForget(RelMemoTab *t) {
  relFactsClear(&t->f);
  sqlite3_free(t->zRowKey);
  t->zRowKey = 0;
  t->bRowKey = 0;
}

void relSchemaMemoFree(RelSchemaMemo *m) {
  int i;
  if (m == 0) return;
  for (i = 0; i < m->nSlot; i++) {
    sqlite3_free(m->a[i].zKey);
    relMemoTabForget(&m->a[i]);
  }
  sqlite3_free(m->a);
  relFactStmtsFree(&m->s);
  sqlite3_free(m);
}

int relSchemaMemoNew(RelSchemaMemo **pm) {
  *pm = sqlite3_malloc64(sizeof(RelSchemaMemo));
  if (*pm == 0) return SQLITE_NOMEM;
  memset(*pm, 0, sizeof(RelSchemaMemo));
  return SQLITE_OK;
}

static unsigned relMemoHash(const char *z) {
  unsigned h = 0;
  for (; *z; z++)
    h = h * 31 + (unsigned char)*z;
  return h;
}

/* The entry of table zTab, made if absent. NULL when out of memory. */
static RelMemoTab *relMemoTab(RelSchemaMemo *m, const char *zTab) {
  unsigned h = 0;
  const char *q;
  char *zKey, *z;
  int i;
  /* Found without a copy (most calls); the key is made only when new. */
  for (q = zTab; *q; q++) {
    char c = *q;
    if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
    h = h * 31 + (unsigned char)c;
  }
  for (i = m->nSlot ? (int)(h & (unsigned)(m->nSlot - 1)) : 0;
       m->nSlot && m->a[i].zKey; i = (i + 1) & (m->nSlot - 1)) {
    if (sqlite3_stricmp(m->a[i].zKey, zTab) == 0) return &m->a[i];
  }
  zKey = relStrdup(zTab);
  if (zKey == 0) return 0;
  for (z = zKey; *z; z++) {
    if (*z >= 'A' && *z <= 'Z') *z = (char)(*z + 32);
  }
  if (2 * (m->nUsed + 1) > m->nSlot) {
    int nNew = m->nSlot ? 2 * m->nSlot : 64, j;
    RelMemoTab *aNew = sqlite3_malloc64(sizeof(RelMemoTab) * (size_t)nNew);
    if (aNew == 0) {
      sqlite3_free(zKey);
      return 0;
    }
    memset(aNew, 0, sizeof(RelMemoTab) * (size_t)nNew);
    for (j = 0; j < m->nSlot; j++) {
      unsigned g;
      if (m->a[j].zKey == 0) continue;
      g = relMemoHash(m->a[j].zKey);
      while (aNew[g & (unsigned)(nNew - 1)].zKey)
        g++;
      aNew[g & (unsigned)(nNew - 1)] = m->a[j];
    }
    sqlite3_free(m->a);
    m->a = aNew;
    m->nSlot = nNew;
  }
  for (i = (int)(h & (unsigned)(m->nSlot - 1)); m->a[i].zKey;
       i = (i + 1) & (m->nSlot - 1)) {
  }
  m->a[i].zKey = zKey;
  m->a[i].iNew = 1469598103934665603ULL; /* as if refreshed: no rows */
  m->nUsed++;
  return &m->a[i];
}

static void relMemoHashText(sqlite3_uint64 *pH, const unsigned char *z,
                            int n) {
  sqlite3_uint64 h = relHashBytes(*pH, z, n > 0 ? (size_t)n : 0);
  h ^= 0xff;
  h *= 1099511628211ULL;
  *pH = h;
}

/* Forget every table (a refresh that failed). */
static void relMemoForget(RelSchemaMemo *m) {
  int i;
  for (i = 0; i < m->nSlot; i++) {
    sqlite3_free(m->a[i].zKey);
    relMemoTabForget(&m->a[i]);
  }
  sqlite3_free(m->a);
  m->a = 0;
  m->nSlot = m->nUsed = 0;
  m->bListed = 0;
}

int relSchemaMemoRefresh(RelSchemaMemo *m, sqlite3 *db) {
  sqlite3_stmt *pStmt = 0;
  int rc, i;
  /* Every table of main and the text of its table and index rows: a
  ** table is what sqlite_schema lists as one (as pragma_table_list:
  ** plain, shadow and virtual tables), and its facts stay while that text
  ** does (ALTER TABLE rewrites it; CREATE and DROP INDEX add and remove
  ** rows), except a virtual table's, which its module gives. A memo that
  ** holds nothing yet (a connection's first load) need not read them: it
  ** lists the tables when asked, and facts read without a hash of their
  ** rows are read again at the next refresh. */
  if (m->nUsed == 0) return SQLITE_OK;
  for (i = 0; i < m->nSlot; i++) {
    m->a[i].bTable = 0;
    m->a[i].iNew = 1469598103934665603ULL;
  }
  m->bListed = 0;
  rc = sqlite3_prepare_v2(db,
                          "SELECT type='table', tbl_name, name, sql FROM "
                          "main.sqlite_schema WHERE type IN ('table','index','view')",
                          -1, &pStmt, 0);
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *zTbl = (const char *)sqlite3_column_text(pStmt, 1);
    const unsigned char *zName = sqlite3_column_text(pStmt, 2);
    const unsigned char *zSql = sqlite3_column_text(pStmt, 3);
    int bTable = sqlite3_column_int(pStmt, 0);
    RelMemoTab *t;
    if (zTbl == 0 || zName == 0 ||
        (zSql == 0 && sqlite3_column_type(pStmt, 3) != SQLITE_NULL)) {
      rc = SQLITE_NOMEM;
      break;
    }
    t = relMemoTab(m, zTbl);
    if (t == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    if (bTable) {
      t->bTable = 1;
      t->bVirtual = zSql && sqlite3_strnicmp((const char *)zSql,
                                             "CREATE VIRTUAL", 14) == 0;
    }
    relMemoHashText(&t->iNew, zName, sqlite3_column_bytes(pStmt, 2));
    if (zSql) relMemoHashText(&t->iNew, zSql, sqlite3_column_bytes(pStmt, 3));
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc) {
    relMemoForget(m);
    return rc;
  }
  for (i = 0; i < m->nSlot; i++) {
    RelMemoTab *t = &m->a[i];
    if (t->zKey == 0) continue;
    if (t->iNew != t->iSql || t->bVirtual) {
      relMemoTabForget(t);
      t->bRead = 0;
    }
  }
  m->bListed = 1;
  return SQLITE_OK;
}

void relSchemaMemoRelease(RelSchemaMemo *m) {
  if (m) relFactStmtsFree(&m->s);
}

/* Every table of main, in one read (relTableName's REL_TABLE_ANY: plain,
** shadow and virtual tables). A read that fails is read again next time;
** what it listed stays listed (it is true). */
static int relMemoList(RelSchemaMemo *m, sqlite3 *db) {
  sqlite3_stmt *pStmt = 0;
  int rc;
  if (m->bListed) return SQLITE_OK;
  rc = sqlite3_prepare_v2(db,
                          "SELECT name FROM pragma_table_list WHERE "
                          "schema='main' AND type IN ('table','shadow',"
                          "'virtual') AND name<>'sqlite_schema'",
                          -1, &pStmt, 0);
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(pStmt, 0);
    RelMemoTab *t;
    if (z == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    t = relMemoTab(m, z);
    if (t == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    t->bTable = 1;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  if (rc == SQLITE_OK) m->bListed = 1;
  return rc;
}

/* The entry of zTab with its columns read (a read that fails is not
** remembered). */
static int relMemoFacts(RelSchemaMemo *m, sqlite3 *db, const char *zTab,
                        RelMemoTab **ppT) {
  RelMemoTab *t = relMemoTab(m, zTab);
  int rc;
  *ppT = 0;
  if (t == 0) return SQLITE_NOMEM;
  if (!t->bRead) {
    rc = relFactsReadCols(db, &m->s, zTab, &t->f);
    if (rc) {
      relFactsClear(&t->f);
      return rc;
    }
    t->bRead = 1;
    t->iSql = t->iNew;
  }
  *ppT = t;
  return SQLITE_OK;
}

int relMemoTableExists(RelSchemaMemo *m, sqlite3 *db, const char *zTab,
                       int *pbExists) {
  RelMemoTab *t;
  int rc;
  *pbExists = 0;
  if (zTab == 0) return SQLITE_OK;
  rc = relMemoList(m, db);
  if (rc) return rc;
  t = relMemoTab(m, zTab);
  if (t == 0) return SQLITE_NOMEM;
  *pbExists = t->bTable;
  return SQLITE_OK;
}

int relMemoColumnExists(RelSchemaMemo *m, sqlite3 *db, const char *zTab,
                        const char *zCol, int *pbExists) {
  RelMemoTab *t;
  int rc, i;
  *pbExists = 0;
  if (relIsRowid(zCol)) {
    *pbExists = 1;
    return SQLITE_OK;
  }
  rc = relMemoFacts(m, db, zTab, &t);
  if (rc) return rc;
  for (i = 0; i < t->f.nCol; i++) {
    if (t->f.aCol[i].zName && sqlite3_stricmp(t->f.aCol[i].zName, zCol) == 0)
      *pbExists = 1;
  }
  return SQLITE_OK;
}

int relMemoColumnUnique(RelSchemaMemo *m, sqlite3 *db, const char *zTab,
                        const char *zCol, int *pbUnique) {
  RelMemoTab *t;
  RelColumn col;
  int rc;
  *pbUnique = 0;
  rc = relMemoFacts(m, db, zTab, &t);
  if (rc) return rc;
  rc = relColumnFacts(db, &m->s, zTab, zCol, &t->f, &col);
  *pbUnique = rc == SQLITE_OK && col.bUnique;
  relColumnClear(&col);
  return rc;
}

int relMemoRowKey(RelSchemaMemo *m, sqlite3 *db, const char *zTab,
                  char **pzKey) {
  RelMemoTab *t = relMemoTab(m, zTab);
  int rc;
  *pzKey = 0;
  if (t == 0) return SQLITE_NOMEM;
  /* Kept only beside facts read since the last refresh, which forgets
  ** both when the table's rows of sqlite_schema change. */
  if (!t->bRead) return relRowKey(db, zTab, pzKey);
  if (!t->bRowKey) {
    rc = relRowKey(db, zTab, &t->zRowKey);
    if (rc) return rc;
    t->bRowKey = 1;
  }
  if (t->zRowKey) {
    *pzKey = relStrdup(t->zRowKey);
    if (*pzKey == 0) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

int relMemoPkColumn(RelSchemaMemo *m, sqlite3 *db, const char *zTab,
                    char **pzCol) {
  RelMemoTab *t;
  const char *zPk = "rowid";
  int rc, i;
  *pzCol = 0;
  rc = relMemoFacts(m, db, zTab, &t);
  if (rc) return rc;
  /* As relPkColumn: the single primary key column, else "rowid". */
  if (t->f.nPk == 1) {
    for (i = 0; i < t->f.nCol; i++) {
      if (t->f.aCol[i].pk > 0) {
        zPk = t->f.aCol[i].zName;
        break;
      }
    }
  }
  *pzCol = relStrdup(zPk ? zPk : "");
  return *pzCol ? SQLITE_OK : SQLITE_NOMEM;
}
