/*
** accessor.c -- the accessor virtual tables (category__articles, ...).
**
** Every declared relationship gets TEMP virtual tables named like Django's
** attribute access, so related rows can be read and written with SQL:
**
**   SELECT title FROM category__articles(1);          -- category.articles
**   SELECT title FROM category__articles WHERE category = 1;
**   SELECT name FROM article__tags(7);                -- article.tags.all()
**   INSERT INTO article__tags(article, id) VALUES(7, 3);   -- tags.add(3)
**   INSERT INTO article__tags(article, name) VALUES(7, 'x'); -- tags.create()
**   DELETE FROM article__tags WHERE article = 7 AND id = 3; -- tags.remove()
**   SELECT * FROM auth_user__profile(1);              -- user.profile
**   SELECT * FROM article__category(7);               -- article.category
**
** NAMES AND KINDS (ACC_xxx below)
**   forward FK/O2O  <model>__<field>          ACC_FWD  read-only
**   reverse FK/O2O  <target>__<related_name>  ACC_REV
**   forward M2M     <model>__<field>          ACC_M2M
**   reverse M2M     <target>__<related_name>  ACC_M2M
**   No reverse table when related_name ends in '+', and none for a
**   symmetrical 'self' M2M (its forward table already lists both ways).
**
** SCHEMA
**   The columns of the listed table (pragma_table_info order, declared
**   type and collation copied), then one HIDDEN column named
**   after the owner table holding the owner's key: the key column value
**   (to_field) for a reverse FK/O2O, the junction column for an M2M, the
**   owner's primary key (or rowid) for a forward FK/O2O, with that key's
**   type and collation:
**
**     CREATE TABLE x("id" INTEGER, "title" TEXT, ..., "category" HIDDEN
**                    INTEGER)
**
**   HIDDEN comes before the type ("x varchar(5) HIDDEN" does not parse).
**   A declared type that is not safe to repeat (quotes, comments,
**   keywords: see accDeclType) is declared as the plain name of its
**   affinity, so every column compares with the real column's affinity;
**   a hidden column without one is "HIDDEN BLOB" ("HIDDEN" alone would
**   be NUMERIC).
**
**   Collision rule: when the listed table already has a column of the
**   owner's name (compared case-insensitively), the hidden column is
**   called <owner>_owner, and then <owner>_owner2, <owner>_owner3, ...
**   until the name is free.
**
**   The rowid of an accessor row is the rowid of the row that makes the
**   pair unique: the source row for FK/O2O accessors (forward: the owner
**   row, reverse: the listed row) and the junction row for M2M accessors.
**
** HOW IT WORKS
**   Each accessor is an eponymous-only virtual table module registered
**   under the accessor's name (accLoaded, after every catalog load), with
**   an AccEntry naming its definition as the module's pAux: no CREATE
**   VIRTUAL TABLE, no schema change, no SQL at load, so a connection pays
**   a module registration (a hash insert) per accessor and reads a table's
**   columns only for the accessors it uses. The first statement that names
**   category__articles makes SQLite call xConnect once for the connection:
**   accSetup() reads the listed table's columns, keys and indexes then, and
**   the table keeps them until the next reload registers the module anew
**   (a reload renews only the modules whose tables were made, and those of
**   changed definitions). Reads run an
**   ordinary SELECT on the real tables (so a transaction sees its own
**   writes), written by xBestIndex as the idxStr:
**     SELECT <rowid>, <owner key>, <t's columns> FROM <tables>
**       WHERE <conditions>
**   (alias t: the listed table; o: the owner table of a forward FK/O2O;
**   j: the junction of an M2M). The select list has one entry per column
**   of the accessor, in its order (ACC_STMT_xxx), but only the columns the
**   statement uses (sqlite3_index_info.colUsed) are read: the others are
**   NULL there, so `SELECT title FROM category__articles(1)` costs what
**   `SELECT title FROM article WHERE category_id=1` costs. A reverse
**   accessor selects once what it has twice: its key column is the owner
**   key, its INTEGER PRIMARY KEY the rowid (accStmtCol). The rowid is
**   always selected (colUsed does not say whether xRowid is wanted); an
**   UPDATE sets every bit of colUsed. A column dropped from the table
**   fails the prepare, which says to run rel_reload(). xBestIndex pushes
**   every usable =, IS, <, <=, >, >=, IS NULL, IS NOT NULL and IN on any
**   column, the hidden column or the rowid into that WHERE clause, with
**   ?1..?N numbered like argvIndex (a COLLATE differing from the
**   column's is carried over). Where the inner statement compares as the
**   same SQL on the real tables would - always on a column of numeric
**   affinity or the rowid, and with a constant text, blob or NULL - the
**   constraint is omitted from SQLite's own check. On TEXT and BLOB
**   columns the answer can depend on the right side's affinity, which
**   SQLite does not pass on: SQLite goes on checking those, and the inner
**   condition is "guarded", kept only for the values with which it
**   selects all the rows the real comparison would (accBestIndex says
**   how). <> and IS NOT are left to SQLite, which does not tell their
**   collation. A complete ORDER BY on columns of the table is pushed down
**   as well and marked consumed.
**   The inner query's own planner then picks the indexes, so EXPLAIN
**   QUERY PLAN of the idxStr shows exactly what a read costs. idxNum only
**   describes the plan:
**     ACC_IDX_OWNER   0x01  equality on the hidden owner column
**     ACC_IDX_ROWID   0x02  equality on the rowid
**     ACC_IDX_INDEX   0x04  equality on an indexed column of the table
**     ACC_IDX_RANGE   0x08  range on an indexed column
**     ACC_IDX_FILTER  0x10  other conditions pushed down (no index)
**     ACC_IDX_ORDER   0x20  ORDER BY consumed
**     ACC_IDX_GUARD   0x40  guarded conditions (see accBestIndex)
**   Costs follow SQLite's own defaults: a table has sqlite_stat1's row
**   count or 1048576 rows; an equality on an indexed column yields 10 rows
**   (1 on a unique one), a range a quarter; a plan with no usable index
**   costs a full scan. The cursor keeps its prepared statement across
**   xFilter calls with the same idxStr, so the inner side of a join is
**   re-bound, not re-prepared, for each outer row; and a closed cursor is
**   kept, with its statement, as the table's spare for the next xOpen, so
**   a repeated point read costs no prepare and no allocation. A cursor at
**   its end (bEof) holds a reset statement. xColumn copies each
**   value by its type (sqlite3_result_value would allocate a new buffer
**   for every text value).
**
** WRITES (xUpdate): accwrite.c.
**
** LIMITS
**   - Columns are those of the listed table when a statement of the
**     connection first used the accessor (after the last reload); after
**     ALTER TABLE run SELECT rel_reload(). Columns added later are
**     ignored; dropped ones make the reads that use them fail with a
**     message saying so.
**   - An accessor lives in the main schema, as every eponymous table: a
**     table or view of the same name (TEMP included) hides it. rel_define
**     refuses a name a table has, and loading refuses a TEMP table or view
**     that would hide one (relext.c).
**   - A module per accessor: pragma_module_list lists them (2,000 modules
**     cost about as much memory as 2,000 short strings).
**   - Tables WITHOUT ROWID can be listed but their accessors are read-only
**     (the limits of writes: accwrite.c).
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3
#include "accessor_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* idxNum bits (see the header comment). */
#define ACC_IDX_OWNER 0x01
#define ACC_IDX_ROWID 0x02
#define ACC_IDX_INDEX 0x04
#define ACC_IDX_RANGE 0x08
#define ACC_IDX_FILTER 0x10
#define ACC_IDX_ORDER 0x20
#define ACC_IDX_GUARD 0x40

/* Columns of the inner SELECT before the listed table's own columns. */
#define ACC_STMT_ROWID 0 /* rowid of the accessor row */
#define ACC_STMT_OWNER 1 /* the owner's key (the HIDDEN column) */
#define ACC_STMT_FIRST 2 /* first column of the listed table */

/* The most values of an IN constraint written into the inner statement
** (more: the constraint is left to SQLite, see accFilter). */
#define ACC_IN_MAX 100

/* The comment that lists the guarded conditions of an idxStr (see
** accBestIndex). */
#define ACC_GUARDS "relext guards:"

/* A guarded condition of an inner SELECT (see accBestIndex). */
typedef struct AccGuard AccGuard;
struct AccGuard {
  int iArg;   /* its argument, 1 for argv[0] */
  char cKind; /* 'e': = IS > >=; 'l': < <=; 'i': IN, all values at once */
  int iAt;    /* offset of its text in idxStr */
  int nLen;   /* length of its text */
};

/* The string members of AccVtab, freed with it. */
static const size_t aAccStr[] = {
    offsetof(AccVtab, zName),      offsetof(AccVtab, zListed),
    offsetof(AccVtab, zKeyCol),    offsetof(AccVtab, zOwnerTab),
    offsetof(AccVtab, zJunction),  offsetof(AccVtab, zJOwner),
    offsetof(AccVtab, zJListed),   offsetof(AccVtab, zListedKey),
    offsetof(AccVtab, zHidden),    offsetof(AccVtab, zOwnerColl),
    offsetof(AccVtab, zFrom),      offsetof(AccVtab, zBaseWhere),
    offsetof(AccVtab, zOwnerExpr), offsetof(AccVtab, zRowidExpr),
    offsetof(AccVtab, zDecl)};
#define ACC_NSTR (sizeof(aAccStr) / sizeof(aAccStr[0]))

/* The accessors a connection registered, by name (ASCII case folded, as
** SQLite looks modules up): the state of the accessor slot of RelCtx. */
struct AccState {
  AccEntry **apBucket; /* chains of entries */
  int nBucket;         /* a power of two, or 0 */
  int nEntry;          /* entries in the buckets */
  unsigned iPass;      /* counts accLoaded passes */
};

struct AccCursor {
  sqlite3_vtab_cursor base; /* base class - must be first */
  sqlite3_stmt *pStmt;      /* the inner SELECT */
  char *zSql;               /* the idxStr pStmt was prepared from */
  int bEof;                 /* no current row; then pStmt is reset */
  AccCursor *pNextOpen;     /* the next open cursor of the table */
  int bRowid;               /* xRowid has been asked since xOpen */
  sqlite3_int64 iMaxRowid;  /* the largest rowid it has given */
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* The declared type to give an accessor column whose real column was
** declared zType (NULL: none) and has affinity zAff (RelColumn.zAff):
** zType itself when relSafeType() says it can be repeated in
** sqlite3_declare_vtab() and it gives that affinity, else zAff, the plain
** name of the affinity ("" for none). A type that gives another affinity
** in the accessor than in its table is ANY in a STRICT table, which has
** none. */
static const char *accDeclType(const char *zType, const char *zAff) {
  if (zAff == 0) zAff = "";
  if (relSafeType(zType) && strcmp(relTypeAffinity(zType), zAff) == 0)
    return zType;
  return zAff;
}

/* The affinity class (ACC_AFF_xxx) of a column declared zDecl, a type
** accDeclType() gave it: one whose affinity is its column's. */
static char accAffClass(const char *zDecl) {
  const char *z = relTypeAffinity(zDecl);
  if (z[0] == 0) return ACC_AFF_BLOB;
  if (z[0] == 'T') return ACC_AFF_TEXT;
  return ACC_AFF_NUM;
}

/* About log2(x), for costs. */
static double accLog2(double x) {
  double n = 1.0;
  while (x > 2.0) {
    x /= 2.0;
    n += 1.0;
  }
  return n;
}

/* ------------------------------------------------------------------ */
/* The virtual table                                                   */

/* The string member at offset off of pTab. */
static char **accStrAt(AccVtab *pTab, size_t off) {
  return (char **)(void *)((char *)pTab + off);
}

static void accVtabFree(AccVtab *pTab) {
  size_t k;
  int i;
  if (pTab == 0) return;
  for (k = 0; k < ACC_NSTR; k++)
    sqlite3_free(*accStrAt(pTab, aAccStr[k]));
  for (i = 0; i < pTab->nCol; i++) {
    sqlite3_free(pTab->aCol[i].zName);
    sqlite3_free(pTab->aCol[i].zColl);
  }
  sqlite3_free(pTab->aCol);
  if (pTab->pSpare) {
    sqlite3_finalize(pTab->pSpare->pStmt);
    sqlite3_free(pTab->pSpare->zSql);
    sqlite3_free(pTab->pSpare);
  }
  sqlite3_free(pTab->base.zErrMsg);
  sqlite3_free(pTab);
}

/* Read the listed table's columns into pTab->aCol and append their
** declarations to pDecl. */
static int accLoadColumns(AccVtab *pTab, RelStr *pDecl) {
  char **azName = 0;
  int nName = 0, i;
  int rc = relColumnNames(pTab->db, pTab->zListed, &azName, &nName);
  if (rc == SQLITE_OK && nName > 0) {
    pTab->aCol = sqlite3_malloc64(sizeof(AccCol) * (size_t)nName);
    if (pTab->aCol == 0) rc = SQLITE_NOMEM;
  }
  for (i = 0; rc == SQLITE_OK && i < nName; i++) {
    AccCol *pCol = &pTab->aCol[pTab->nCol];
    RelColumn col;
    const char *zType;
    memset(pCol, 0, sizeof(*pCol));
    rc = relColumnInfo(pTab->db, pTab->zListed, azName[i], &col);
    if (rc) break;
    if (col.zName == 0) continue; /* gone meanwhile: cannot happen */
    /* The column's own name, though "rowid" describes the rowid. */
    pCol->zName = azName[i];
    azName[i] = 0;
    pCol->zColl = col.zColl;
    col.zColl = 0;
    pCol->bIndexed = col.bIndexed;
    pCol->bUnique = col.bUnique;
    pCol->bDefault = col.bDefault;
    pTab->nCol++;
    relStrPrintf(pDecl, "%s\"%w\"", pTab->nCol > 1 ? ", " : "", pCol->zName);
    zType = accDeclType(col.zType, col.zAff);
    if (zType[0]) relStrPrintf(pDecl, " %s", zType);
    pCol->cAff = accAffClass(zType);
    if (pCol->zColl) relStrPrintf(pDecl, " COLLATE \"%w\"", pCol->zColl);
    relColumnClear(&col);
  }
  relColumnNamesFree(azName, nName);
  if (rc == SQLITE_OK && pTab->nCol == 0) rc = SQLITE_ERROR;
  return rc;
}

/* Index of column zCol in aCol, or -1. */
static int accFindCol(AccVtab *pTab, const char *zCol) {
  int i;
  for (i = 0; zCol && i < pTab->nCol; i++) {
    if (sqlite3_stricmp(pTab->aCol[i].zName, zCol) == 0) return i;
  }
  return -1;
}

/* Set pTab->iRowidCol to the listed table's INTEGER PRIMARY KEY (the
** rowid under another name), if it has one: a read takes that column from
** the rowid the inner statement selects anyway. A column called rowid
** would hide the real one. */
static int accRowidColumn(AccVtab *pTab) {
  char *zCol = 0;
  int rc;
  pTab->iRowidCol = -1;
  if (accFindCol(pTab, "rowid") >= 0) return SQLITE_OK;
  rc = relRowidColumn(pTab->db, pTab->zListed, &zCol);
  if (zCol) pTab->iRowidCol = accFindCol(pTab, zCol);
  sqlite3_free(zCol);
  return rc;
}

/* Fill pTab from definition d; direction bReverse. Declares the schema. */
static int accSetup(AccVtab *pTab, const RelDef *d, int bReverse,
                    char **pzErr) {
  sqlite3 *db = pTab->db;
  RelStr decl = {0};
  RelStr from = {0};
  char *zOwnerName;       /* owner table name, before the collision rule */
  const char *zOwnerType; /* declared type of the hidden owner column */
  const char *zRowidTab;  /* the table whose rowid is the accessor rowid */
  const char *zOwnerKeyTab, *zOwnerKeyCol; /* where the owner key lives */
  char *zDecl = 0;
  char *zListedKeyExpr = 0;
  RelColumn owner; /* facts about the owner key */
  int rc = SQLITE_OK, n, bRowid = 0;

  if (d->eKind != REL_M2M && !bReverse) {
    /* forward FK/O2O: owner o (the model), listed t (the target) */
    pTab->eAcc = ACC_FWD;
    pTab->zListed = relStrdup(d->zTarget);
    pTab->zOwnerTab = relStrdup(d->zModel);
    pTab->zKeyCol = relStrdup(d->zColumn);
    rc = relPkColumn(db, d->zModel, &pTab->zListedKey);
    if (!pTab->zListed || !pTab->zOwnerTab || !pTab->zKeyCol ||
        !pTab->zListedKey)
      rc = rc ? rc : SQLITE_NOMEM;
    if (rc) goto done;
    /* zListedKey holds the owner's key column here */
    zListedKeyExpr = relColExpr("t", d->zToField);
    pTab->zOwnerExpr = relColExpr("o", pTab->zListedKey);
    pTab->zRowidExpr = sqlite3_mprintf("o.rowid");
    relStrPrintf(&from, "main.\"%w\" AS o JOIN main.\"%w\" AS t ON %s=o.\"%w\"",
                 d->zModel, d->zTarget, zListedKeyExpr ? zListedKeyExpr : "",
                 d->zColumn);
    zRowidTab = d->zModel;
    zOwnerKeyTab = d->zModel;
    zOwnerKeyCol = pTab->zListedKey;
    pTab->bOwnerIndexed = pTab->bOwnerUnique = 1;
    zOwnerName = d->zModel;
  } else if (d->eKind != REL_M2M) {
    /* reverse FK/O2O: listed t (the model), owner key = its key column */
    pTab->eAcc = ACC_REV;
    pTab->bNull = d->bNull;
    pTab->zListed = relStrdup(d->zModel);
    pTab->zOwnerTab = relStrdup(d->zTarget);
    pTab->zKeyCol = relStrdup(d->zColumn);
    if (!pTab->zListed || !pTab->zOwnerTab || !pTab->zKeyCol) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    pTab->zOwnerExpr = relColExpr("t", d->zColumn);
    pTab->zRowidExpr = sqlite3_mprintf("t.rowid");
    pTab->zBaseWhere = sqlite3_mprintf("t.\"%w\" IS NOT NULL", d->zColumn);
    if (pTab->zBaseWhere == 0) rc = SQLITE_NOMEM;
    relStrPrintf(&from, "main.\"%w\" AS t", d->zModel);
    zRowidTab = d->zModel;
    zOwnerKeyTab = d->zModel;
    zOwnerKeyCol = d->zColumn;
    zOwnerName = d->zTarget;
  } else {
    /* M2M: junction j joined to the listed table t */
    pTab->eAcc = ACC_M2M;
    pTab->bSymmetrical = d->bSymmetrical;
    pTab->zListed = relStrdup(bReverse ? d->zModel : d->zTarget);
    pTab->zOwnerTab = relStrdup(bReverse ? d->zTarget : d->zModel);
    pTab->zJunction = relStrdup(d->zDbTable);
    pTab->zJOwner = relStrdup(bReverse ? d->zDstCol : d->zSrcCol);
    pTab->zJListed = relStrdup(bReverse ? d->zSrcCol : d->zDstCol);
    pTab->zListedKey = relStrdup(bReverse ? d->zSrcKey : d->zDstKey);
    if (!pTab->zListed || !pTab->zOwnerTab || !pTab->zJunction ||
        !pTab->zJOwner || !pTab->zJListed || !pTab->zListedKey) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    zListedKeyExpr = relColExpr("t", pTab->zListedKey);
    pTab->zOwnerExpr = relColExpr("j", pTab->zJOwner);
    pTab->zRowidExpr = sqlite3_mprintf("j.rowid");
    relStrPrintf(&from, "main.\"%w\" AS j JOIN main.\"%w\" AS t ON %s=j.\"%w\"",
                 pTab->zJunction, pTab->zListed,
                 zListedKeyExpr ? zListedKeyExpr : "", pTab->zJListed);
    zRowidTab = pTab->zJunction;
    zOwnerKeyTab = pTab->zJunction;
    zOwnerKeyCol = pTab->zJOwner;
    rc = relColumnInfo(db, pTab->zJunction, pTab->zJOwner, &owner);
    pTab->bOwnerIndexed = owner.bIndexed;
    pTab->bOwnerUnique = 0; /* many links per owner */
    relColumnClear(&owner);
    zOwnerName = pTab->zOwnerTab;
  }
  if (rc == SQLITE_OK && (!pTab->zOwnerExpr || !pTab->zRowidExpr ||
                          (!zListedKeyExpr && pTab->eAcc != ACC_REV)))
    rc = SQLITE_NOMEM;
  if (rc) goto done;

  /* Columns of the listed table. */
  relStrPrintf(&decl, "CREATE TABLE x(");
  rc = accLoadColumns(pTab, &decl);
  if (rc == SQLITE_ERROR) {
    rc = relError(pzErr, rc, "relext: %s: cannot read the columns of %s",
                  pTab->zName, pTab->zListed);
  }
  if (rc) goto done;
  pTab->iKeyCol = pTab->eAcc == ACC_REV ? accFindCol(pTab, pTab->zKeyCol) : -1;
  pTab->iListedKey =
      pTab->eAcc == ACC_M2M ? accFindCol(pTab, pTab->zListedKey) : -1;
  if (pTab->eAcc == ACC_REV && pTab->iKeyCol >= 0) {
    pTab->bOwnerIndexed = pTab->aCol[pTab->iKeyCol].bIndexed;
    pTab->bOwnerUnique = pTab->aCol[pTab->iKeyCol].bUnique;
  }

  /* The hidden owner column, named by the collision rule. */
  pTab->zHidden = relStrdup(zOwnerName);
  for (n = 1; pTab->zHidden && accFindCol(pTab, pTab->zHidden) >= 0; n++) {
    sqlite3_free(pTab->zHidden);
    pTab->zHidden = n == 1 ? sqlite3_mprintf("%s_owner", zOwnerName)
                           : sqlite3_mprintf("%s_owner%d", zOwnerName, n);
  }
  if (pTab->zHidden == 0) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  rc = relColumnInfo(db, zOwnerKeyTab, zOwnerKeyCol, &owner);
  if (rc) goto done;
  pTab->zOwnerColl = owner.zColl;
  owner.zColl = 0;
  /* the rowid is an INTEGER; no type is BLOB: "HIDDEN" alone would give
  ** NUMERIC affinity. HIDDEN first: "x varchar(5) HIDDEN" is a syntax
  ** error. */
  zOwnerType = accDeclType(owner.zType, owner.zAff);
  if (zOwnerType[0] == 0) zOwnerType = "BLOB";
  pTab->cOwnerAff = accAffClass(zOwnerType);
  relStrPrintf(&decl, ", \"%w\" HIDDEN %s", pTab->zHidden, zOwnerType);
  relColumnClear(&owner);
  if (pTab->zOwnerColl)
    relStrPrintf(&decl, " COLLATE \"%w\"", pTab->zOwnerColl);
  relStrPrintf(&decl, ")");

  rc = relDbEncoding(db, &pTab->eEnc);
  if (rc == SQLITE_OK) rc = relTableHasRowid(db, zRowidTab, &bRowid);
  if (rc) goto done;
  pTab->bNoRowid = !bRowid;
  if (pTab->bNoRowid) {
    sqlite3_free(pTab->zRowidExpr);
    pTab->zRowidExpr = sqlite3_mprintf("NULL");
    if (pTab->zRowidExpr == 0) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK)
    rc = relTableRows(db,
                      pTab->eAcc == ACC_M2M   ? pTab->zJunction
                      : pTab->eAcc == ACC_FWD ? pTab->zOwnerTab
                                              : pTab->zListed,
                      &pTab->nRow);
  if (rc == SQLITE_OK && pTab->eAcc == ACC_REV && !pTab->bNoRowid)
    rc = accRowidColumn(pTab);
  if (rc == SQLITE_OK) {
    pTab->zFrom = relStrFinish(&from);
    zDecl = relStrFinish(&decl);
    if (pTab->zFrom == 0 || zDecl == 0) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK) {
    pTab->zDecl = zDecl;
    zDecl = 0;
  }
done:
  relStrReset(&decl);
  relStrReset(&from);
  sqlite3_free(zDecl);
  sqlite3_free(zListedKeyExpr);
  return rc;
}

/*
** xConnect: pAux is the AccEntry of the module, whose name is the
** accessor's. The accessor is eponymous: SQLite calls this once per
** connection, when a statement first names the accessor, and keeps the
** table until the module is replaced (accLoaded). It reads the listed
** table's columns, keys and indexes here (accSetup runs SQL). That is safe
** in an eponymous table's constructor: SQLite runs it with the schema
** locked against a reset, so an out-of-memory error in these statements,
** which rolls the transaction back, cannot free the schema the caller is
** parsing with. (It was not safe in the xCreate of CREATE VIRTUAL TABLE,
** whose own pending schema change that rollback cleared: test/oom.c.)
*/
static int accConnect(sqlite3 *db, void *pAux, int argc,
                      const char *const *argv, sqlite3_vtab **ppVtab,
                      char **pzErr) {
  AccEntry *pEntry = (AccEntry *)pAux;
  RelCtx *pCtx = pEntry->pCtx;
  AccVtab *pTab = 0;
  int rc, iDef = pEntry->iDef;

  (void)argc;
  (void)argv;
  *ppVtab = 0;
  if (iDef < 0 || iDef >= pCtx->nDef ||
      sqlite3_stricmp(pCtx->aDef[iDef].zModel, pEntry->zModel) != 0 ||
      sqlite3_stricmp(pCtx->aDef[iDef].zField, pEntry->zField) != 0) {
    iDef = relCtxFindDef(pCtx, pEntry->zModel, pEntry->zField);
  }
  if (iDef < 0 || pEntry->bGone) {
    return relError(pzErr, SQLITE_ERROR,
                    "relext: %s has no relationship behind it any more; run "
                    "SELECT rel_reload()",
                    pEntry->zName);
  }
  pTab = sqlite3_malloc64(sizeof(*pTab));
  if (pTab == 0) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->db = db;
  pTab->pCtx = pCtx;
  pTab->pEntry = pEntry;
  pTab->iKeyCol = pTab->iListedKey = pTab->iRowidCol = -1;
  pTab->zName = relStrdup(pEntry->zName);
  rc = pTab->zName
           ? accSetup(pTab, &pCtx->aDef[iDef], pEntry->bReverse, pzErr)
           : SQLITE_NOMEM;
  if (rc == SQLITE_OK) {
    rc = sqlite3_declare_vtab(db, pTab->zDecl);
    /* xUpdate fails with SQLITE_CONSTRAINT before it changes anything, so
    ** SQLite may apply the statement's ON CONFLICT mode (accUpdateMethod) */
    if (rc == SQLITE_OK)
      rc = sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
    if (rc) {
      rc = relError(pzErr, rc, "relext: %s: cannot declare columns: %s",
                    pTab->zName, sqlite3_errmsg(db));
    }
  }
  if (rc) {
    accVtabFree(pTab);
    return rc;
  }
  pEntry->bConnected = 1;
  *ppVtab = &pTab->base;
  return SQLITE_OK;
}

/* xDisconnect: nothing is stored outside the struct. */
static int accDisconnect(sqlite3_vtab *pVtab) {
  accVtabFree((AccVtab *)pVtab);
  return SQLITE_OK;
}

/* SQL operator for a constraint op, or NULL when not pushed down. <> and
** IS NOT are not: sqlite3_vtab_collation() says BINARY for them whatever
** the comparison's collation is (their WHERE term has no left operand),
** and they use no index anyway. */
static const char *accOpText(int op, int *pbArg, int *pbEq, int *pbRange) {
  *pbArg = 1;
  *pbEq = *pbRange = 0;
  switch (op) {
  case SQLITE_INDEX_CONSTRAINT_EQ:
    *pbEq = 1;
    return "=";
  case SQLITE_INDEX_CONSTRAINT_IS:
    *pbEq = 1;
    return "IS";
  case SQLITE_INDEX_CONSTRAINT_GT:
    *pbRange = 1;
    return ">";
  case SQLITE_INDEX_CONSTRAINT_GE:
    *pbRange = 1;
    return ">=";
  case SQLITE_INDEX_CONSTRAINT_LT:
    *pbRange = 1;
    return "<";
  case SQLITE_INDEX_CONSTRAINT_LE:
    *pbRange = 1;
    return "<=";
  case SQLITE_INDEX_CONSTRAINT_ISNULL:
    *pbArg = 0;
    return "IS NULL";
  case SQLITE_INDEX_CONSTRAINT_ISNOTNULL:
    *pbArg = 0;
    return "IS NOT NULL";
  }
  return 0;
}

/* The column of the inner SELECT holding column i of the accessor (i ==
** nCol: the hidden owner column). A reverse accessor reads its key column
** from the owner key, and the INTEGER PRIMARY KEY from the rowid: the
** same values, selected once. */
static int accStmtCol(const AccVtab *pTab, int i) {
  if (i == pTab->iRowidCol) return ACC_STMT_ROWID;
  if (i >= pTab->nCol || (pTab->eAcc == ACC_REV && i == pTab->iKeyCol))
    return ACC_STMT_OWNER;
  return ACC_STMT_FIRST + i;
}

/* Is column i of the accessor in colUsed (bit 63: any column from 63)? */
static int accColUsed(sqlite3_uint64 colUsed, int i) {
  return (colUsed & ((sqlite3_uint64)1 << (i < 63 ? i : 63))) != 0;
}

/* The select list of the inner SELECT: the rowid, the owner key, then
** one entry per column of the listed table, numbered as ACC_STMT_xxx say.
** A column the statement does not use (colUsed), or that accStmtCol()
** reads from another entry, is a NULL, which costs nothing per row. The
** rowid is always selected: colUsed does not tell whether xRowid will be
** called. */
static char *accSelectList(const AccVtab *pTab, sqlite3_uint64 colUsed) {
  RelStr s = {0};
  int i, bOwner = accColUsed(colUsed, pTab->nCol);
  for (i = 0; i < pTab->nCol && !bOwner; i++) {
    if (accColUsed(colUsed, i) && accStmtCol(pTab, i) == ACC_STMT_OWNER)
      bOwner = 1;
  }
  relStrPrintf(&s, "%s, %s", pTab->zRowidExpr,
               bOwner ? pTab->zOwnerExpr : "NULL");
  for (i = 0; i < pTab->nCol; i++) {
    if (accColUsed(colUsed, i) && accStmtCol(pTab, i) == ACC_STMT_FIRST + i)
      relStrPrintf(&s, ", t.\"%w\"", pTab->aCol[i].zName);
    else
      relStrPrintf(&s, ", NULL");
  }
  return relStrFinish(&s);
}

/*
** xBestIndex: writes the inner SELECT into idxStr (see the header
** comment). Arguments reach xFilter in argvIndex order and are bound to
** ?1..?N in that order. Constraints on any column of the table, the hidden
** owner column and the rowid are used; none is required, so every call
** returns a plan (a full scan costs the whole table).
**
** Exactness. SQLite hands a virtual table the right-hand value without its
** affinity, and compares `a OP b` by applying one comparison affinity to
** both sides: NUMERIC when either side has numeric affinity, TEXT when a
** TEXT column meets an expression without affinity, none otherwise. The
** inner `t.col OP ?N` applies the column's affinity with a right side that
** has none. For a column of numeric affinity (and the rowid) that is the
** comparison SQL makes whatever the right side is: such a constraint is
** omitted from SQLite's own check. For a TEXT or BLOB column it is so only
** when the right side is a constant text, blob or NULL (a literal, or a
** CAST to TEXT or BLOB: nothing else yields these as constants); other
** constraints on such columns stay checked by SQLite (omit=0) and are
** "guarded": xFilter keeps their condition only for values with which
** it selects every row the real comparison could select, and writes 1
** (true) instead for the others (see accGuardKeep). An IN on such a column
** is taken all at once (sqlite3_vtab_in), so that SQLite checks the whole
** IN itself, not one value at a time against a register.
**
** Guarded conditions are listed after the statement in a comment,
**   SELECT ... WHERE ... t."title" = ?2 ... /+ relext guards: 2e105:17 +/
** (with '*' for '+'), one entry per condition: its argument, its kind
** (e: = IS > >=, l: < <=, i: IN) and where its text is in idxStr. So
** idxStr stays the statement run when every condition is kept, and
** EXPLAIN QUERY PLAN of it shows that plan.
*/
static int accBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo) {
  AccVtab *pTab = (AccVtab *)pVtab;
  RelStr w = {0};
  AccGuard *aGuard = 0; /* guarded conditions; offsets in w */
  int nGuard = 0;
  char *zSql = 0;
  int i, nArg = 0, nCond = 0, idxNum = 0, bSeek = 0;
  double nRow = pTab->nRow;
  double nOut = nRow;  /* rows after every pushed condition */
  double nSeek = nRow; /* rows the best index visits */
  double rPerRow = pTab->eAcc == ACC_REV ? 1.0 : 2.0; /* joins cost more */
  int rc = SQLITE_OK;

  if (pTab->zBaseWhere) {
    relStrPrintf(&w, "%s", pTab->zBaseWhere);
    nCond++;
  }
  for (i = 0; i < pInfo->nConstraint; i++) {
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    int bArg, bEq, bRange, bIndexed = 0, bUnique = 0, bOwner = 0;
    int bGuard = 0, bList = 0;
    char cAff = ACC_AFF_NUM;
    size_t iStart;
    const char *zOp;
    char *zExpr = 0;
    const char *zColl = 0, *zWant;
    if (!pC->usable) continue;
    zOp = accOpText(pC->op, &bArg, &bEq, &bRange);
    if (zOp == 0) continue;
    if (pC->iColumn < 0) {
      if (pTab->bNoRowid) continue;
      zExpr = sqlite3_mprintf("%s", pTab->zRowidExpr);
      bIndexed = bUnique = 1;
    } else if (pC->iColumn < pTab->nCol) {
      const AccCol *pCol = &pTab->aCol[pC->iColumn];
      zExpr = sqlite3_mprintf("t.\"%w\"", pCol->zName);
      zColl = pCol->zColl;
      cAff = pCol->cAff;
      bIndexed = pCol->bIndexed;
      /* Unique in the listed table means one row only when each listed
      ** row appears once (reverse FK/O2O). */
      bUnique = pCol->bUnique && pTab->eAcc == ACC_REV;
    } else if (pC->iColumn == pTab->nCol) {
      zExpr = sqlite3_mprintf("%s", pTab->zOwnerExpr);
      zColl = pTab->zOwnerColl;
      cAff = pTab->cOwnerAff;
      bIndexed = pTab->bOwnerIndexed;
      bUnique = pTab->bOwnerUnique;
      bOwner = 1;
    } else {
      continue;
    }
    if (zExpr == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    if (bArg && cAff != ACC_AFF_NUM) {
      /* see "Exactness" above */
      sqlite3_value *pRhs = 0;
      bGuard = 1;
      if (pC->op == SQLITE_INDEX_CONSTRAINT_EQ &&
          sqlite3_vtab_in(pInfo, i, -1)) {
        sqlite3_vtab_in(pInfo, i, 1);
        bList = 1;
      } else if (sqlite3_vtab_rhs_value(pInfo, i, &pRhs) == SQLITE_OK && pRhs) {
        int eType = sqlite3_value_type(pRhs);
        if (eType != SQLITE_INTEGER && eType != SQLITE_FLOAT) bGuard = 0;
      }
    }
    if (nCond) relStrPrintf(&w, " AND ");
    iStart = w.n;
    nCond++;
    zWant = bArg ? sqlite3_vtab_collation(pInfo, i) : 0;
    /* The owner is a key: it compares under its key column's collation
    ** (Django's category.articles.all()). SQLite 3.37 to 3.40 at least
    ** lose the COLLATE declared on a HIDDEN column (the type and the
    ** collation share a buffer that removing HIDDEN from the type
    ** shifts), so BINARY here says nothing: only another collation,
    ** asked for with COLLATE, is applied. */
    if (bOwner && zWant && sqlite3_stricmp(zWant, "BINARY") == 0) zWant = 0;
    if (zWant && sqlite3_stricmp(zWant, zColl ? zColl : "BINARY") == 0)
      zWant = 0;
    if (bList) {
      /* "col [COLLATE x] IN (?N)": xFilter writes the values in */
      pInfo->aConstraintUsage[i].argvIndex = ++nArg;
      relStrPrintf(&w, "%s", zExpr);
      if (zWant) relStrPrintf(&w, " COLLATE \"%w\"", zWant);
      relStrPrintf(&w, " IN (?%d)", nArg);
    } else {
      relStrPrintf(&w, "%s %s", zExpr, zOp);
      if (bArg) {
        pInfo->aConstraintUsage[i].argvIndex = ++nArg;
        relStrPrintf(&w, " ?%d", nArg);
        if (zWant) relStrPrintf(&w, " COLLATE \"%w\"", zWant);
      }
    }
    sqlite3_free(zExpr);
    if (bGuard) {
      AccGuard *p;
      if (aGuard == 0) {
        aGuard =
            sqlite3_malloc64(sizeof(AccGuard) * (size_t)pInfo->nConstraint);
        if (aGuard == 0) {
          rc = SQLITE_NOMEM;
          break;
        }
      }
      p = &aGuard[nGuard++];
      p->iArg = nArg;
      p->cKind = bList ? 'i'
                 : (pC->op == SQLITE_INDEX_CONSTRAINT_LT ||
                    pC->op == SQLITE_INDEX_CONSTRAINT_LE)
                     ? 'l'
                     : 'e';
      p->iAt = (int)iStart;
      p->nLen = (int)(w.n - iStart);
    }
    pInfo->aConstraintUsage[i].omit = !bGuard;
    /* Estimates. */
    if (bEq && bIndexed) {
      double n = bUnique ? 1.0 : 10.0;
      if (n < nSeek) nSeek = n;
      if (n < nOut) nOut = n;
      bSeek = 1;
      idxNum |= bOwner            ? ACC_IDX_OWNER
                : pC->iColumn < 0 ? ACC_IDX_ROWID
                                  : ACC_IDX_INDEX;
    } else if (bRange && bIndexed) {
      double n = nRow / 4.0;
      if (n < nSeek) nSeek = n;
      nOut /= 4.0;
      bSeek = 1;
      idxNum |= ACC_IDX_RANGE;
    } else {
      nOut /= bEq ? 10.0 : bRange ? 4.0 : 2.0;
      idxNum |= ACC_IDX_FILTER;
    }
  }
  if (rc == SQLITE_OK) {
    char *zW = relStrFinish(&w);
    char *zCols = accSelectList(pTab, pInfo->colUsed);
    if (zCols && zW) {
      zSql = sqlite3_mprintf("SELECT %s FROM %s%s%s", zCols, pTab->zFrom,
                             nCond ? " WHERE " : "", zW);
    }
    /* the guards' offsets: from the start of idxStr */
    for (i = 0; zSql && i < nGuard; i++)
      aGuard[i].iAt += (int)(strlen(zSql) - strlen(zW));
    sqlite3_free(zCols);
    sqlite3_free(zW);
  }
  relStrReset(&w);
  if (rc == SQLITE_OK && zSql == 0) rc = SQLITE_NOMEM;

  /* ORDER BY: pushed down whole or not at all. */
  if (rc == SQLITE_OK && pInfo->nOrderBy > 0) {
    int bAll = 1;
    RelStr o = {0};
    for (i = 0; i < pInfo->nOrderBy && bAll; i++) {
      int iCol = pInfo->aOrderBy[i].iColumn;
      const char *zDesc = pInfo->aOrderBy[i].desc ? " DESC" : "";
      const char *zSep = i ? ", " : " ORDER BY ";
      if (iCol < 0 && !pTab->bNoRowid) {
        relStrPrintf(&o, "%s%s%s", zSep, pTab->zRowidExpr, zDesc);
      } else if (iCol >= 0 && iCol < pTab->nCol) {
        relStrPrintf(&o, "%st.\"%w\"%s", zSep, pTab->aCol[iCol].zName, zDesc);
      } else if (iCol == pTab->nCol) {
        relStrPrintf(&o, "%s%s%s", zSep, pTab->zOwnerExpr, zDesc);
      } else {
        bAll = 0;
      }
    }
    if (bAll) {
      char *zO = relStrFinish(&o);
      char *z = zO ? sqlite3_mprintf("%s%s", zSql, zO) : 0;
      sqlite3_free(zO);
      if (z == 0)
        rc = SQLITE_NOMEM;
      else {
        sqlite3_free(zSql);
        zSql = z;
        pInfo->orderByConsumed = 1;
        idxNum |= ACC_IDX_ORDER;
      }
    }
    relStrReset(&o);
  }
  if (rc == SQLITE_OK && nGuard > 0) {
    /* after the ORDER BY: the guards (see above) */
    RelStr g = {0};
    idxNum |= ACC_IDX_GUARD;
    relStrPrintf(&g, "%s /* %s", zSql, ACC_GUARDS);
    for (i = 0; i < nGuard; i++) {
      relStrPrintf(&g, " %d%c%d:%d", aGuard[i].iArg, aGuard[i].cKind,
                   aGuard[i].iAt, aGuard[i].nLen);
    }
    relStrPrintf(&g, " */");
    sqlite3_free(zSql);
    zSql = relStrFinish(&g);
    if (zSql == 0) rc = SQLITE_NOMEM;
  }
  sqlite3_free(aGuard);
  if (rc) {
    sqlite3_free(zSql);
    return rc;
  }
  if (nOut < 1.0) nOut = 1.0;
  if (nSeek < 1.0) nSeek = 1.0;
  pInfo->idxNum = idxNum;
  pInfo->idxStr = zSql;
  pInfo->needToFreeIdxStr = 1;
  pInfo->estimatedRows = (sqlite3_int64)nOut;
  pInfo->estimatedCost =
      bSeek ? accLog2(nRow) + nSeek * rPerRow : nRow * rPerRow * 3.0;
  return SQLITE_OK;
}

/* xOpen: the table's spare cursor, if it has one (see accClose). */
static int accOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur) {
  AccVtab *pTab = (AccVtab *)pVtab;
  AccCursor *pCur = pTab->pSpare;
  if (pCur) {
    pTab->pSpare = 0;
  } else {
    pCur = sqlite3_malloc64(sizeof(*pCur));
    if (pCur == 0) return SQLITE_NOMEM;
    memset(pCur, 0, sizeof(*pCur));
    pCur->bEof = 1;
  }
  pCur->bRowid = 0;
  pCur->pNextOpen = pTab->pOpen;
  pTab->pOpen = pCur;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

/* Is iRowid the largest rowid an open cursor of pTab has given (xRowid)?
** SQLite deletes from a virtual table in two passes: the rowids of the
** rows to delete are read first (the scan's cursor stays open), then
** xUpdate is called for each, in ascending order (a RowSet). So at the
** xUpdate of that rowid no later one can come (see accwrite.c). */
int accLastRowid(AccVtab *pTab, sqlite3_int64 iRowid) {
  AccCursor *pCur;
  int bAny = 0;
  for (pCur = pTab->pOpen; pCur; pCur = pCur->pNextOpen) {
    if (!pCur->bRowid) continue;
    if (pCur->iMaxRowid > iRowid) return 0;
    if (pCur->iMaxRowid == iRowid) bAny = 1;
  }
  return bAny;
}

/* xClose: the cursor, with its statement, becomes the table's spare (a
** statement run again and again, like category__articles(?), then costs
** no prepare and no allocation), or is freed. A spare statement is reset
** (its bindings are left: the next xFilter with that idxStr binds every
** parameter again). Spare statements read only real tables, so they
** never keep this virtual table from disconnecting; xDisconnect
** finalizes them. */
static int accClose(sqlite3_vtab_cursor *cur) {
  AccCursor *pCur = (AccCursor *)cur;
  AccVtab *pTab = (AccVtab *)cur->pVtab;
  AccCursor **pp = &pTab->pOpen;
  while (*pp && *pp != pCur) pp = &(*pp)->pNextOpen;
  if (*pp) *pp = pCur->pNextOpen;
  if (pTab->pSpare == 0) {
    if (pCur->pStmt && !pCur->bEof) sqlite3_reset(pCur->pStmt);
    pCur->bEof = 1;
    pTab->pSpare = pCur;
  } else {
    sqlite3_finalize(pCur->pStmt);
    sqlite3_free(pCur->zSql);
    sqlite3_free(pCur);
  }
  return SQLITE_OK;
}

/* Step the inner statement; a finished statement is reset at once so it
** holds no read cursor while the caller writes. */
static int accStep(AccCursor *pCur) {
  AccVtab *pTab = (AccVtab *)pCur->base.pVtab;
  int rc = sqlite3_step(pCur->pStmt);
  if (rc == SQLITE_ROW) {
    pCur->bEof = 0;
    return SQLITE_OK;
  }
  pCur->bEof = 1;
  if (rc == SQLITE_DONE) {
    sqlite3_reset(pCur->pStmt);
    return SQLITE_OK;
  }
  rc = accDbErr(pTab);
  sqlite3_reset(pCur->pStmt);
  return rc;
}

/* Would numeric affinity make the text value v a number? -1: out of
** memory. */
static int accLooksNumeric(sqlite3_value *v) {
  sqlite3_value *p = sqlite3_value_dup(v);
  int eType;
  if (p == 0) return -1;
  eType = sqlite3_value_numeric_type(p);
  sqlite3_value_free(p);
  return eType == SQLITE_INTEGER || eType == SQLITE_FLOAT;
}

/* May a guarded condition of kind cKind (see accBestIndex) be kept for
** the value v: does it select every row that the comparison SQL makes
** selects, whatever affinity the right side has? The column is TEXT or
** BLOB (numeric ones are never guarded). 1: keep it; 0: write 1 instead;
** -1: out of memory.
**  - NULL and BLOB values compare the same under every affinity.
**  - A number: the real comparison may be numeric (the right side is a
**    numeric column), textual (an expression) or neither (a TEXT or BLOB
**    column); no one condition selects all three answers.
**  - A text: the same, unless the right side is numeric; then numeric
**    affinity applies to both sides: a text that looks like a number
**    becomes one, and column values that look like numbers become
**    numbers, which sort before every text: they can pass < and <=, never
**    = IS > >=, which the kept condition selects a superset of. */
static int accGuardKeep(char cKind, sqlite3_value *v) {
  int bNum;
  switch (sqlite3_value_type(v)) {
  case SQLITE_NULL:
  case SQLITE_BLOB:
    return 1;
  case SQLITE_TEXT:
    bNum = accLooksNumeric(v);
    if (bNum < 0) return -1;
    return !bNum && cKind != 'l';
  }
  return 0;
}

/* The guarded conditions listed at the end of idxStr (see accBestIndex):
** *pnBody gets the length of the statement before the list, *paGuard a
** new array of *pnGuard entries (caller frees), or NULL when there are
** none. SQLITE_ERROR: the list is malformed. */
static int accGuardsRead(const char *idxStr, int argc, int *pnBody,
                         AccGuard **paGuard, int *pnGuard) {
  static const char zMark[] = "/* " ACC_GUARDS;
  size_t n = strlen(idxStr), nMark = sizeof(zMark) - 1;
  const char *z, *zList = 0;
  AccGuard *a;
  int nGuard = 0, iEnd = 0, bBad = 0;
  *paGuard = 0;
  *pnGuard = 0;
  *pnBody = (int)n;
  if (n < nMark + 4 || strcmp(idxStr + n - 3, " */") != 0) return SQLITE_OK;
  for (z = idxStr + n - nMark; z > idxStr; z--) {
    if (memcmp(z, zMark, nMark) == 0) {
      zList = z + nMark;
      break;
    }
  }
  if (zList == 0) return SQLITE_ERROR;
  for (z = zList; *z; z++)
    if (*z == ':') nGuard++;
  a = sqlite3_malloc64(sizeof(AccGuard) * (size_t)(nGuard + 1));
  if (a == 0) return SQLITE_NOMEM;
  *pnBody = (int)(zList - nMark - 1 - idxStr);
  for (nGuard = 0, z = zList; !bBad && *z == ' ' && z[1] != '*'; nGuard++) {
    char *zEnd;
    AccGuard *p = &a[nGuard];
    p->iArg = (int)strtol(z + 1, &zEnd, 10);
    p->cKind = *zEnd;
    p->iAt = (int)strtol(zEnd + 1, &zEnd, 10);
    p->nLen = *zEnd == ':' ? (int)strtol(zEnd + 1, &zEnd, 10) : 0;
    z = zEnd;
    bBad = p->iArg < 1 || p->iArg > argc || p->iAt < iEnd || p->nLen < 1 ||
           p->iAt + p->nLen > *pnBody || p->cKind == 0 ||
           strchr("eli", p->cKind) == 0;
    iEnd = p->iAt + p->nLen;
  }
  if (bBad || strcmp(z, " */") != 0) {
    sqlite3_free(a);
    return SQLITE_ERROR;
  }
  *paGuard = a;
  *pnGuard = nGuard;
  return SQLITE_OK;
}

/* The values of IN constraint pList, if the guarded condition may be kept
** for every one of them and there are at most ACC_IN_MAX: *pn gets their
** number and *paVal a new array of copies (caller frees both). *pn is -1
** when the condition must be written as 1. */
static int accInValues(sqlite3_value *pList, sqlite3_value ***paVal, int *pn) {
  sqlite3_value **a = 0, *pVal = 0;
  int n = 0, rc, bKeep = 1;
  *paVal = 0;
  *pn = -1;
  for (rc = sqlite3_vtab_in_first(pList, &pVal); rc == SQLITE_OK && pVal;
       rc = sqlite3_vtab_in_next(pList, &pVal)) {
    bKeep = n < ACC_IN_MAX ? accGuardKeep('e', pVal) : 0;
    if (bKeep < 0) rc = SQLITE_NOMEM;
    if (bKeep <= 0) break;
    if (a == 0) {
      a = sqlite3_malloc64(sizeof(sqlite3_value *) * ACC_IN_MAX);
      if (a == 0) {
        rc = SQLITE_NOMEM;
        break;
      }
    }
    if ((a[n] = sqlite3_value_dup(pVal)) == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    n++;
  }
  if (rc == SQLITE_DONE || (rc == SQLITE_OK && pVal == 0)) {
    *paVal = a;
    *pn = n;
    return SQLITE_OK;
  }
  while (n > 0)
    sqlite3_value_free(a[--n]);
  sqlite3_free(a);
  return rc; /* SQLITE_OK with *pn == -1: write 1 */
}

/* xFilter: idxStr is the inner SELECT; argv are its parameters. When it
** has guarded conditions (accBestIndex), the statement run is idxStr with
** each one kept, written as 1, or, for an IN, given its values. */
static int accFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                     int argc, sqlite3_value **argv) {
  AccCursor *pCur = (AccCursor *)cur;
  AccVtab *pTab = (AccVtab *)cur->pVtab;
  AccGuard *aGuard = 0;
  sqlite3_value ***aaIn = 0; /* per guard: the values of an IN */
  int *anIn = 0;             /* per guard: their number */
  char *zBuilt = 0;          /* idxStr rewritten for the guards */
  const char *zSql = idxStr;
  int i, k, rc = SQLITE_OK, nGuard = 0, nBody = 0;
  if (!pCur->bEof) sqlite3_reset(pCur->pStmt); /* stopped before the end */
  pCur->bEof = 1;
  rc = accGone(pTab);
  if (rc) return rc;
  if (idxStr == 0) return SQLITE_INTERNAL;
  if (idxNum & ACC_IDX_GUARD) {
    rc = accGuardsRead(idxStr, argc, &nBody, &aGuard, &nGuard);
    if (rc == SQLITE_ERROR)
      rc = relError(&pTab->base.zErrMsg, rc, "relext: %s: bad plan",
                    pTab->zName);
  }
  if (rc == SQLITE_OK && nGuard > 0) {
    RelStr s = {0};
    int iPos = 0, iNext = argc + 1;
    aaIn = sqlite3_malloc64(sizeof(*aaIn) * (size_t)nGuard);
    anIn = sqlite3_malloc64(sizeof(*anIn) * (size_t)nGuard);
    if (aaIn == 0 || anIn == 0) rc = SQLITE_NOMEM;
    for (k = 0; rc == SQLITE_OK && k < nGuard; k++) {
      aaIn[k] = 0;
      anIn[k] = -1;
    }
    for (k = 0; rc == SQLITE_OK && k < nGuard; k++) {
      const AccGuard *g = &aGuard[k];
      sqlite3_value *v = argv[g->iArg - 1];
      relStrAppend(&s, idxStr + iPos, (size_t)(g->iAt - iPos));
      iPos = g->iAt + g->nLen;
      if (g->cKind == 'i') {
        /* "col [COLLATE x] IN (?N)": the values replace "?N)" */
        char zTail[24];
        rc = accInValues(v, &aaIn[k], &anIn[k]);
        sqlite3_snprintf(sizeof(zTail), zTail, "?%d)", g->iArg);
        if (rc || anIn[k] < 0) {
          relStrAppend(&s, "1", 1);
        } else if (anIn[k] == 0) {
          relStrAppend(&s, "0", 1); /* an empty IN is false */
        } else {
          relStrAppend(&s, idxStr + g->iAt, (size_t)g->nLen - strlen(zTail));
          for (i = 0; i < anIn[k]; i++)
            relStrPrintf(&s, "%s?%d", i ? ", " : "", iNext++);
          relStrAppend(&s, ")", 1);
        }
      } else {
        int bKeep = accGuardKeep(g->cKind, v);
        if (bKeep < 0) rc = SQLITE_NOMEM;
        if (bKeep > 0)
          relStrAppend(&s, idxStr + g->iAt, (size_t)g->nLen);
        else
          relStrAppend(&s, "1", 1);
      }
    }
    relStrAppend(&s, idxStr + iPos, (size_t)(nBody - iPos));
    zBuilt = relStrFinish(&s);
    if (rc == SQLITE_OK && zBuilt == 0) rc = SQLITE_NOMEM;
    zSql = zBuilt;
  }
  if (rc) goto done;
  if (pCur->pStmt == 0 || strcmp(pCur->zSql, zSql) != 0) {
    sqlite3_finalize(pCur->pStmt);
    sqlite3_free(pCur->zSql);
    pCur->pStmt = 0;
    pCur->zSql = relStrdup(zSql);
    if (pCur->zSql == 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    rc = sqlite3_prepare_v2(pTab->db, zSql, -1, &pCur->pStmt, 0);
    if (rc == SQLITE_ERROR &&
        strncmp(sqlite3_errmsg(pTab->db), "no such column", 14) == 0) {
      /* a column of the accessor is gone from the listed table */
      rc = relError(&pTab->base.zErrMsg, SQLITE_ERROR,
                    "relext: %s: table %s has changed (%s); run SELECT "
                    "rel_reload()",
                    pTab->zName, pTab->zListed, sqlite3_errmsg(pTab->db));
      goto done;
    }
    if (rc) {
      rc = accDbErr(pTab);
      goto done;
    }
  }
  if (nGuard == 0) {
    for (i = 0; i < argc; i++) {
      rc = sqlite3_bind_value(pCur->pStmt, i + 1, argv[i]);
      if (rc) break;
    }
  } else {
    /* Parameters of conditions written as 1 are gone: a number past the
    ** statement's last parameter is not bound. An IN's own argument is
    ** never bound: its values are, after the arguments. */
    int nParam = sqlite3_bind_parameter_count(pCur->pStmt), iNext = argc + 1;
    for (i = 0; rc == SQLITE_OK && i < argc && i < nParam; i++) {
      for (k = 0; k < nGuard && aGuard[k].iArg != i + 1; k++) {
      }
      if (k == nGuard || aGuard[k].cKind != 'i')
        rc = sqlite3_bind_value(pCur->pStmt, i + 1, argv[i]);
    }
    for (k = 0; rc == SQLITE_OK && k < nGuard; k++) {
      for (i = 0; rc == SQLITE_OK && i < anIn[k]; i++)
        rc = sqlite3_bind_value(pCur->pStmt, iNext++, aaIn[k][i]);
    }
  }
  if (rc)
    rc = accDbErr(pTab);
  else
    rc = accStep(pCur);
done:
  for (k = 0; aaIn && anIn && k < nGuard; k++) {
    for (i = 0; i < anIn[k]; i++)
      sqlite3_value_free(aaIn[k][i]);
    sqlite3_free(aaIn[k]);
  }
  sqlite3_free(aaIn);
  sqlite3_free(anIn);
  sqlite3_free(aGuard);
  sqlite3_free(zBuilt);
  return rc;
}

/* xNext */
static int accNext(sqlite3_vtab_cursor *cur) {
  return accStep((AccCursor *)cur);
}

/* xEof */
static int accEof(sqlite3_vtab_cursor *cur) {
  return ((AccCursor *)cur)->bEof;
}

/* xColumn: the listed columns, then the owner key. Unchanged columns of
** an UPDATE are left unset (sqlite3_vtab_nochange), so xUpdate writes
** only what the statement changes. Values are copied by type: that costs
** less than sqlite3_result_value, which allocates a new buffer for every
** text value, where sqlite3_result_text64 reuses the result's buffer. */
static int accColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  AccCursor *pCur = (AccCursor *)cur;
  AccVtab *pTab = (AccVtab *)cur->pVtab;
  sqlite3_value *pVal;
  const char *z;
  int iStmt;
  if (pCur->pStmt == 0) return SQLITE_OK;
  if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;
  iStmt = accStmtCol(pTab, i);
  pVal = sqlite3_column_value(pCur->pStmt, iStmt);
  switch (sqlite3_value_type(pVal)) {
  case SQLITE_INTEGER:
    sqlite3_result_int64(ctx, sqlite3_value_int64(pVal));
    break;
  case SQLITE_FLOAT:
    sqlite3_result_double(ctx, sqlite3_value_double(pVal));
    break;
  case SQLITE_TEXT:
    /* the bytes as they are (sqlite3_value_text could convert, and would
    ** copy them first to add a terminator), in the database's encoding */
    z = sqlite3_value_blob(pVal);
    sqlite3_result_text64(ctx, z ? z : "",
                          (sqlite3_uint64)sqlite3_value_bytes(pVal),
                          SQLITE_TRANSIENT, (unsigned char)pTab->eEnc);
    break;
  default:
    sqlite3_result_value(ctx, pVal);
    break;
  }
  return SQLITE_OK;
}

/* xRowid */
static int accRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid) {
  AccCursor *pCur = (AccCursor *)cur;
  *pRowid = pCur->pStmt ? sqlite3_column_int64(pCur->pStmt, ACC_STMT_ROWID) : 0;
  if (!pCur->bRowid || *pRowid > pCur->iMaxRowid) {
    pCur->bRowid = 1;
    pCur->iMaxRowid = *pRowid;
  }
  return SQLITE_OK;
}

static sqlite3_module accModule = {
    0,               /* iVersion */
    0,               /* xCreate: none, so eponymous only */
    accConnect,      /* xConnect: reads the listed table */
    accBestIndex,    /* xBestIndex: writes the inner SELECT */
    accDisconnect,   /* xDisconnect */
    accDisconnect,   /* xDestroy: never called (eponymous only) */
    accOpen,         /* xOpen */
    accClose,        /* xClose: finalizes the cursor's statement */
    accFilter,       /* xFilter */
    accNext,         /* xNext */
    accEof,          /* xEof */
    accColumn,       /* xColumn */
    accRowid,        /* xRowid */
    accUpdateMethod, /* xUpdate: writes to the real tables */
    0,               /* xBegin */
    0,               /* xSync */
    0,               /* xCommit */
    0,               /* xRollback */
    0,               /* xFindFunction */
    0,               /* xRename */
    0,               /* xSavepoint */
    0,               /* xRelease */
    0,               /* xRollbackTo */
    0,               /* xShadowName */
#if SQLITE_VERSION_NUMBER >= 3044000
    0 /* xIntegrity */
#endif
};

/* ------------------------------------------------------------------ */
/* Registration: a module per accessor name                            */

/* The bucket of name z: SQLite's module names compare with ASCII case
** folded, and so do these. */
static unsigned accNameHash(const AccState *pState, const char *z) {
  unsigned h = 2166136261u;
  for (; *z; z++) {
    unsigned char c = (unsigned char)*z;
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    h = (h ^ c) * 16777619u;
  }
  return h & (unsigned)(pState->nBucket - 1);
}

static AccEntry *accEntryFind(const AccState *pState, const char *zName) {
  AccEntry *e;
  if (pState->nBucket == 0) return 0;
  for (e = pState->apBucket[accNameHash(pState, zName)]; e; e = e->pNext) {
    if (sqlite3_stricmp(e->zName, zName) == 0) return e;
  }
  return 0;
}

/* Take e out of its state's buckets (it may go on living in SQLite). */
static void accEntryUnlink(AccEntry *e) {
  AccState *pState = e->pState;
  AccEntry **pp;
  if (pState == 0) return;
  pp = &pState->apBucket[accNameHash(pState, e->zName)];
  while (*pp && *pp != e) pp = &(*pp)->pNext;
  if (*pp) *pp = e->pNext;
  e->pNext = 0;
  e->pState = 0;
  pState->nEntry--;
}

/* Give pState at least nWant buckets (a power of two). */
static int accReserve(AccState *pState, int nWant) {
  int nNew = pState->nBucket ? pState->nBucket : 64, i;
  AccEntry **apNew, **apOld = pState->apBucket;
  int nOld = pState->nBucket;
  while (nNew < nWant) nNew *= 2;
  if (nNew == nOld) return SQLITE_OK;
  apNew = sqlite3_malloc64(sizeof(AccEntry *) * (size_t)nNew);
  if (apNew == 0) return SQLITE_NOMEM;
  memset(apNew, 0, sizeof(AccEntry *) * (size_t)nNew);
  pState->apBucket = apNew;
  pState->nBucket = nNew;
  for (i = 0; i < nOld; i++) {
    AccEntry *x = apOld[i];
    while (x) {
      AccEntry *pNext = x->pNext;
      unsigned h = accNameHash(pState, x->zName);
      x->pNext = apNew[h];
      apNew[h] = x;
      x = pNext;
    }
  }
  sqlite3_free(apOld);
  return SQLITE_OK;
}

/* Put e in the buckets, which grow to keep chains short. */
static int accEntryLink(AccState *pState, AccEntry *e) {
  unsigned h;
  if (pState->nEntry + 1 > pState->nBucket) {
    int rc = accReserve(pState, pState->nEntry + 1);
    if (rc) return rc;
  }
  h = accNameHash(pState, e->zName);
  e->pNext = pState->apBucket[h];
  pState->apBucket[h] = e;
  e->pState = pState;
  pState->nEntry++;
  return SQLITE_OK;
}

/* The module's destructor: its last table is gone, or the connection
** closes. */
static void accEntryDestroy(void *pArg) {
  AccEntry *e = (AccEntry *)pArg;
  RelCtx *pCtx = e->pCtx;
  accEntryUnlink(e);
  sqlite3_free(e);
  relCtxUnref(pCtx);
}

/* Register the module zName for accessor bReverse of definition iDef,
** replacing the one of that name, whose table (if this connection made
** it) goes with it. */
static int accRegister(RelCtx *p, AccState *pState, const char *zName,
                       int iDef, int bReverse) {
  const RelDef *d = &p->aDef[iDef];
  size_t nName = strlen(zName) + 1, nModel = strlen(d->zModel) + 1;
  size_t nField = strlen(d->zField) + 1;
  AccEntry *pOld = accEntryFind(pState, zName);
  AccEntry *e = sqlite3_malloc64(sizeof(*e) + nName + nModel + nField);
  char *z;
  int rc;
  if (e == 0) return SQLITE_NOMEM;
  memset(e, 0, sizeof(*e));
  z = (char *)&e[1];
  memcpy(z, zName, nName);
  e->zName = z;
  memcpy(z + nName, d->zModel, nModel);
  e->zModel = z + nName;
  memcpy(z + nName + nModel, d->zField, nField);
  e->zField = z + nName + nModel;
  e->iDef = iDef;
  e->bReverse = bReverse;
  e->iPass = pState->iPass;
  e->pCtx = relCtxRef(p);
  if (pOld) accEntryUnlink(pOld);
  rc = accEntryLink(pState, e);
  if (rc) {
    sqlite3_free(e);
    relCtxUnref(p);
    if (pOld) accEntryLink(pState, pOld); /* no allocation: it fitted */
    return rc;
  }
  /* On failure SQLite has called accEntryDestroy(e), and kept pOld's
  ** module. */
  rc = sqlite3_create_module_v2(p->db, zName, &accModule, e, accEntryDestroy);
  if (rc && pOld) accEntryLink(pState, pOld);
  return rc;
}

/* Take the module of e away: its relationship is gone. */
static void accUnregister(RelCtx *p, AccEntry *e) {
  e->bGone = 1;
  accEntryUnlink(e);
  sqlite3_create_module_v2(p->db, e->zName, 0, 0, 0);
}

/*
** xLoaded: the modules for the loaded definitions. An accessor that is
** registered already, for the same definition, and that no statement of
** this connection has used since (so no table was made of it), is left as
** it is; any other is registered anew, so the next statement that names it
** reads the listed table again (a reload follows a change of the schema:
** a key column added, an ALTER TABLE). Accessors no longer defined go.
*/
static int accLoaded(RelCtx *p, void *pArg, char **pzErr) {
  AccState *pState = (AccState *)pArg;
  int i, k, rc = SQLITE_OK;
  unsigned iPass = ++pState->iPass;
  char aBuf[256];
  /* A load inside a running statement (ctx.c: REL_SYNC_MEM, or a dump's
  ** CREATE INDEX) may be under a statement that uses an accessor: a module
  ** whose table was made stays registered (replacing it would free the
  ** table under that statement); it refuses use when its relationship is
  ** gone, and the next load renews it. */
  int bKeep = p->eLoad == REL_SYNC_MEM || p->bRestoring;
  (void)pzErr;
  /* Buckets for all of them at once, rather than growing on the way. */
  if (pState->nBucket < 2 * p->nDef) rc = accReserve(pState, 2 * p->nDef);
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    /* No accessor for a BROKEN definition (until it is whole), nor for a
    ** catalog edited by hand (until rel_approve). */
    if (d->zWhy || p->zTamper) continue;
    for (k = 0; rc == SQLITE_OK && k < 2; k++) {
      /* The name, as relAccessorForward/relAccessorReverse (catalog.c)
      ** make it, in aBuf when it fits (loading does this for every
      ** accessor: no allocation). */
      const char *zA = k ? d->zTarget : d->zModel;
      const char *zB = k ? d->zRelName : d->zField;
      char *zName = aBuf, *zFree = 0;
      size_t nA, nB;
      AccEntry *e;
      if (k && (relDefHidden(d) || (d->eKind == REL_M2M && d->bSymmetrical)))
        continue;
      nA = strlen(zA);
      nB = strlen(zB);
      if (nA + nB + 3 > sizeof(aBuf)) {
        zName = zFree = sqlite3_malloc64(nA + nB + 3);
        if (zName == 0) {
          rc = SQLITE_NOMEM;
          break;
        }
      }
      memcpy(zName, zA, nA);
      memcpy(zName + nA, "__", 2);
      memcpy(zName + nA + 2, zB, nB + 1);
      e = accEntryFind(pState, zName);
      if (e && (!e->bConnected || bKeep) && e->bReverse == k &&
          strcmp(e->zModel, d->zModel) == 0 &&
          strcmp(e->zField, d->zField) == 0) {
        e->iDef = i;
        e->iPass = iPass;
        e->bGone = 0;
      } else if (e && e->bConnected && bKeep) {
        /* Another definition took the name: refused until renewed. */
        e->bGone = 1;
        e->iPass = iPass;
      } else {
        rc = accRegister(p, pState, zName, i, k);
      }
      sqlite3_free(zFree);
    }
  }
  if (rc == SQLITE_OK) {
    /* The accessors not found in this pass are no longer defined. */
    for (i = 0; i < pState->nBucket; i++) {
      AccEntry *e = pState->apBucket[i];
      while (e) {
        AccEntry *pNext = e->pNext;
        if (e->iPass != iPass && bKeep && e->bConnected)
          e->bGone = 1;
        else if (e->iPass != iPass)
          accUnregister(p, e);
        e = pNext;
      }
    }
  }
  return rc;
}

/* Take every accessor module of this connection away (a load that
** failed). */
void relAccessorUnregister(RelCtx *p) {
  AccState *pState = (AccState *)p->aSlot[REL_SLOT_ACCESSOR].pState;
  int i;
  for (i = 0; pState && i < pState->nBucket; i++) {
    while (pState->apBucket[i]) accUnregister(p, pState->apBucket[i]);
  }
}

/* xFree: the context dies, after every module (each holds a reference). */
static void accFree(RelCtx *p, void *pArg) {
  AccState *pState = (AccState *)pArg;
  int i;
  (void)p;
  if (pState == 0) return;
  for (i = 0; i < pState->nBucket; i++) {
    AccEntry *e = pState->apBucket[i];
    for (; e; e = e->pNext) e->pState = 0;
  }
  sqlite3_free(pState->apBucket);
  sqlite3_free(pState);
}

static const RelHooks accHooks = {
    0,          /* xRemap */
    accLoaded,  /* xLoaded: a module per accessor name */
    0,          /* xStmtsFree: none kept outside the tables */
    accFree,    /* xFree: the list of modules */
};

int relRegisterAccessor(sqlite3 *db, RelCtx *p) {
  AccState *pState = sqlite3_malloc64(sizeof(*pState));
  if (pState == 0) return SQLITE_NOMEM;
  memset(pState, 0, sizeof(*pState));
  relCtxAttach(p, REL_SLOT_ACCESSOR, pState, &accHooks);
  /* Only SQL that binds a pointer can give it anything to do, and only
  ** relext's own statements do; DIRECTONLY all the same. */
  return sqlite3_create_function_v2(db, "relext_acc_conflict", 2,
                                    SQLITE_UTF8 | SQLITE_DIRECTONLY, 0,
                                    accConflictFunc, 0, 0, 0);
}
