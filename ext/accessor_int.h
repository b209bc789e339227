/*
** accessor_int.h -- what the accessor's reads (accessor.c) and writes
** (accwrite.c) share: the accessor table (AccVtab), its columns and its
** module's entry, and the two helpers both halves use. Only those two
** files include it, after SQLITE_EXTENSION_INIT3 (the helpers call
** SQLite through the extension's API table).
*/
#ifndef RELEXT_ACCESSOR_INT_H
#define RELEXT_ACCESSOR_INT_H

#include "relext_int.h"

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(hidden)
#endif

/* Accessor kinds. */
#define ACC_FWD 1     /* forward FK/O2O: the one target row, read-only */
#define ACC_REV 2     /* reverse FK/O2O: the source rows */
#define ACC_M2M 3     /* forward or reverse M2M: rows through the junction */

/* Affinity classes of a column (AccCol.cAff), as far as comparisons care:
** numeric (INTEGER, REAL, NUMERIC), TEXT, or none (BLOB). */
#define ACC_AFF_NUM 'n'
#define ACC_AFF_TEXT 't'
#define ACC_AFF_BLOB 'b'

typedef struct AccCol AccCol;
struct AccCol {
  char *zName;  /* column name */
  char *zColl;  /* collation (NULL: BINARY) */
  int bIndexed; /* leftmost column of an index (or the rowid alias) */
  int bUnique;  /* a unique index on this column alone */
  int bDefault; /* the column has a DEFAULT */
  char cAff;    /* affinity class: ACC_AFF_xxx */
};

typedef struct AccCursor AccCursor;
typedef struct AccEntry AccEntry;
typedef struct AccVtab AccVtab;
struct AccVtab {
  sqlite3_vtab base; /* base class - must be first */
  sqlite3 *db;       /* the connection */
  RelCtx *pCtx;      /* its relext state (nNested around writes) */
  AccEntry *pEntry;  /* the module it was made from (see accGone) */
  char *zName;       /* the accessor table's name, for messages */
  int eAcc;          /* ACC_xxx */
  int bNull;         /* ACC_REV: null=True, so DELETE sets the key NULL */
  int bSymmetrical;  /* ACC_M2M: symmetrical relation */
  int bNoRowid;      /* the rowid source is WITHOUT ROWID: read-only */
  char *zListed;     /* table whose rows are listed (alias t) */
  char *zKeyCol;     /* ACC_REV: key column of zListed; ACC_FWD: of owner */
  int iKeyCol;       /* ACC_REV: index of zKeyCol in aCol, or -1 */
  int iRowidCol;     /* ACC_REV: the column that is t's rowid, or -1 */
  char *zOwnerTab;   /* the owner table */
  char *zJunction;   /* ACC_M2M: junction table (alias j) */
  char *zJOwner;     /* ACC_M2M: junction column holding the owner key */
  char *zJListed;    /* ACC_M2M: junction column holding the listed key */
  char *zListedKey;  /* ACC_M2M: key of zListed referenced by zJListed */
  int iListedKey;    /* ACC_M2M: index of zListedKey in aCol, or -1 */
  char *zHidden;     /* name of the HIDDEN owner column */
  char *zOwnerColl;  /* collation of the owner key (NULL: BINARY) */
  char cOwnerAff;    /* affinity class of the owner key: ACC_AFF_xxx */
  int bOwnerIndexed; /* an index leads with the owner key */
  int bOwnerUnique;  /* at most one row per owner */
  char *zFrom;       /* the FROM clause of every read (no keyword) */
  char *zBaseWhere;  /* condition every read applies, or NULL */
  char *zOwnerExpr;  /* owner key in the inner SELECT */
  char *zRowidExpr;  /* rowid in the inner SELECT */
  int nCol;          /* columns of the listed table */
  AccCol *aCol;      /* their names and index flags */
  double nRow;       /* estimated rows of the driving table */
  int eEnc;          /* text encoding of the database (SQLITE_UTF8...) */
  char *zDecl;       /* the CREATE TABLE given to sqlite3_declare_vtab */
  int eConflict;     /* in xUpdate: sqlite3_vtab_on_conflict(); else 0 */
  AccCursor *pSpare; /* a closed cursor kept with its inner SELECT */
  AccCursor *pOpen;  /* its open cursors (accLastRowid) */
};

typedef struct AccState AccState;

/* One accessor this connection registered: the pAux of the module named
** after it (see "HOW IT WORKS" in accessor.c). SQLite owns it:
** accEntryDestroy frees it when the module goes and no table made from it
** is left. */
struct AccEntry {
  AccEntry *pNext;   /* next in its bucket of AccState.apBucket */
  AccState *pState;  /* the list it is in; NULL once taken out of it */
  RelCtx *pCtx;      /* referenced while the entry lives */
  int iDef;          /* index of its definition in pCtx->aDef, a hint */
  int bReverse;      /* the reverse accessor of the definition */
  int bConnected;    /* xConnect made a table of it: renewed at reload */
  int bGone;         /* its relationship is no longer defined */
  unsigned iPass;    /* the last accLoaded pass that found it */
  const char *zName; /* accessor name (inline, after the struct) */
  const char *zModel, *zField; /* its definition (inline) */
};

/* Copy the connection's error into the vtab; return its extended code,
** so the user sees exactly what the underlying table said. In a write
** under ON CONFLICT IGNORE, a constraint error of the underlying tables is
** one their own OR IGNORE did not skip (a trigger's RAISE(ABORT), a
** foreign key): it is returned as SQLITE_ERROR, as SQLite would skip the
** row on SQLITE_CONSTRAINT (the statement fails, as on a table). */
static inline int accDbErr(AccVtab *pTab) {
  int rc = sqlite3_extended_errcode(pTab->db);
  if (rc == SQLITE_OK) rc = SQLITE_ERROR;
  if (pTab->eConflict == SQLITE_IGNORE && (rc & 0xff) == SQLITE_CONSTRAINT)
    rc = SQLITE_ERROR;
  return relError(&pTab->base.zErrMsg, rc, "%s", sqlite3_errmsg(pTab->db));
}

/* Has the relationship behind pTab been undefined? A statement prepared
** before rel_undefine can still hold the table. */
static inline int accGone(AccVtab *pTab) {
  if (pTab->pEntry && pTab->pEntry->bGone) {
    return relError(&pTab->base.zErrMsg, SQLITE_ERROR,
                    "relext: %s has no relationship behind it any more; run "
                    "SELECT rel_reload()",
                    pTab->zName);
  }
  return SQLITE_OK;
}

/* Is iRowid the largest rowid an open cursor of pTab has given (so the
** last row of a DELETE)? (accessor.c) */
int accLastRowid(AccVtab *pTab, sqlite3_int64 iRowid);
/* xUpdate of every accessor table (accwrite.c). */
int accUpdateMethod(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                    sqlite3_int64 *pRowid);
/* relext_acc_conflict(P, rowid): see accwrite.c (accInsertReplace). */
void accConflictFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility pop
#endif

#endif /* RELEXT_ACCESSOR_INT_H */
