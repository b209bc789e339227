/*
** stored.c -- what the database itself says about relext's rules, read
** back: the catalog and its witness, the stored guards, the renames that
** SQLite applied to them, and the definitions the schema can no longer
** hold.
**
** WHAT IS STORED (guard.c writes it; see there for the SQL)
**   - Per governed table t: the guard index relext_guard_i_<t> and the
**     delete triggers relext_guard_d_<t> / relext_guard_a_<t> (their names
**     end in REL_MISSING_HINT; older ones may not). Each carries
**     t's generation T (RelTable.iGen): "relext_must_be_loaded(T, ..." in
**     the index, a closing comment "relext T" in a trigger ("relext T
**     blocked" in the blocked form, which refuses every DELETE). The
**     index's arguments name, in order, the key column of each of t's
**     edges: "k, col, row" for its k-th edge as a child, "-1-k, col" for
**     its k-th edge as a parent.
**   - The catalog's witness: triggers relext_catalog_i/_u/_d on
**     relext_relations, each carrying G ("relext catalog G"), the hash of
**     the catalog's rows exactly as relext wrote them, and
**     relext_catalog_tables (...), which names the governed tables and the
**     tables being rebuilt and carries no G (an earlier relext's does: a
**     G, wherever it is, must agree with the others).
**
** LOADING (relStoredLoad)
**   1. The catalog is read (catalog.c); a record relext could not have
**      written is left out and marks the catalog as edited by hand.
**   2. Table renames: SQLite's ALTER TABLE ... RENAME rewrites the stored
**      guards, never the catalog. A guard object keeps the name it was
**      written under (relext_guard_i_<old>) while it sits on the renamed
**      table: the catalog's <old> is followed to that table.
**   3. Generations are computed from the catalog's own names, so a rename
**      changes none of them: the guards SQLite rewrote are still those of
**      the rules.
**   4. Column renames: the guard index of a table (found by its
**      generation) names each edge's column as the table now calls it.
**   5. The definitions take the names found (in memory: p->bRenamed, and
**      RelDef.zCatModel for a model renamed); the catalog is brought in
**      line by the next load or call that may write (relCtxLoad with
**      REL_SYNC_WRITE, define.c).
**   6. Each definition is checked against the schema: one it cannot hold
**      (a table or column gone) is BROKEN (RelDef.zWhy), and every write to
**      a table of it is refused (RelTable.zBlock) until rel_undefine, or
**      until the schema holds it again.
**   7. Legitimacy: the catalog is trusted when its hash is the witness's G.
**      Without a witness (a catalog older than witnesses), when every
**      stored guard carries the generation the catalog gives its table and
**      every governed table has its guard index. Otherwise the catalog was
**      edited by hand (p->zTamper): every write to a governed table is
**      refused, and so are rel_reload and rel_define, until rel_approve().
**
** INVARIANTS
**   - A load never fails because of what the catalog or the schema holds:
**     only on I/O and memory errors. A database relext loaded once always
**     loads again.
**   - Names read from the database reach SQL only through %w / %Q.
**
** LIMITS
**   - A column renamed while its table's guard index was missing (a
**     database restored from a dump without relext) cannot be followed:
**     the definition is BROKEN until the column gets its old name back or
**     the definition is declared again.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Generations are below 2^62 (catalog.c); no number read is larger. */
#define LARGEST_GEN (((sqlite3_int64)1 << 62) + 1)

static const char *azPrefix[] = {
    0,                  /* unused */
    "relext_guard_i_",  /* REL_OBJ_INDEX */
    "relext_guard_d_",  /* REL_OBJ_BEFORE */
    "relext_guard_a_",  /* REL_OBJ_AFTER */
    "relext_catalog_",  /* REL_OBJ_CATALOG */
};

/* ------------------------------------------------------------------ */
/* Reading the stored objects                                          */

/* The number after zMark in zSql (the first occurrence), or 0. */
static sqlite3_int64 relNumberAfter(const char *zSql, const char *zMark,
                                    const char **pzEnd) {
  const char *z = zSql ? strstr(zSql, zMark) : 0;
  sqlite3_int64 v = 0;
  if (pzEnd) *pzEnd = 0;
  if (z == 0) return 0;
  z += strlen(zMark);
  while (*z >= '0' && *z <= '9' && v <= (LARGEST_GEN - (*z - '0')) / 10)
    v = v * 10 + (*z++ - '0');
  if (pzEnd) *pzEnd = z;
  return v;
}

/* One identifier of SQL text at *pz, in any of SQLite's quotings, or NULL
** (a number, NULL, ...): a new string. *pz moves past the token (and past
** a qualifier: "t"."c" gives c). *pRc gets SQLITE_NOMEM when out of
** memory. */
static char *relSqlIdent(const char **pz, int *pRc) {
  const char *z = *pz;
  char *zOut = 0;
  for (;;) {
    RelStr s = {0};
    char cEnd = 0;
    while (*z == ' ' || *z == '\t' || *z == '\n' || *z == '\r')
      z++;
    if (*z == '"' || *z == '`' || *z == '[') {
      cEnd = *z == '[' ? ']' : *z;
      z++;
      while (*z) {
        /* A run up to the next quote, then the quote: doubled (one of
        ** it is the name's), or the end. */
        const char *zRun = z;
        while (*z && *z != cEnd)
          z++;
        relStrAppend(&s, zRun, (size_t)(z - zRun));
        if (*z == 0) break;
        if (cEnd != ']' && z[1] == cEnd) {
          relStrAppend(&s, z, 1);
          z += 2;
        } else {
          z++;
          break;
        }
      }
    } else if ((*z >= 'a' && *z <= 'z') || (*z >= 'A' && *z <= 'Z') ||
               *z == '_' || (unsigned char)*z >= 0x80) {
      const char *zStart = z;
      while ((*z >= 'a' && *z <= 'z') || (*z >= 'A' && *z <= 'Z') ||
             (*z >= '0' && *z <= '9') || *z == '_' || *z == '$' ||
             (unsigned char)*z >= 0x80)
        z++;
      relStrAppend(&s, zStart, (size_t)(z - zStart));
    } else {
      /* A number or anything else: no identifier here. */
      while (*z && *z != ',' && *z != ')')
        z++;
      *pz = z;
      sqlite3_free(zOut);
      return 0;
    }
    if (s.eRc) {
      *pRc = SQLITE_NOMEM;
      relStrReset(&s);
      sqlite3_free(zOut);
      *pz = z;
      return 0;
    }
    sqlite3_free(zOut);
    zOut = relStrFinish(&s);
    if (zOut == 0) zOut = relStrdup("");
    if (zOut == 0) *pRc = SQLITE_NOMEM;
    while (*z == ' ')
      z++;
    if (*z != '.') break;
    z++;
  }
  *pz = z;
  if (zOut && (sqlite3_stricmp(zOut, "NULL") == 0)) {
    sqlite3_free(zOut);
    zOut = 0;
  }
  return zOut;
}

/* One call's arguments at *pz (just past "relext_must_be_loaded("): *pz
** ends at its closing parenthesis. */
static int relStoredCallArgs(RelStoredObj *pObj, const char **pz) {
  const char *z = *pz;
  int rc = SQLITE_OK, iArg = 0, nWant = 0, iPos = 0;
  /* Skip T. */
  while (*z && *z != ',' && *z != ')')
    z++;
  while (rc == SQLITE_OK && *z == ',') {
    z++;
    while (*z == ' ')
      z++;
    if (nWant == 0) {
      /* An edge position. */
      sqlite3_int64 v = 0;
      int bNeg = 0;
      if (*z == '-') {
        bNeg = 1;
        z++;
      }
      if (*z < '0' || *z > '9') break;
      while (*z >= '0' && *z <= '9' && v < 1000000000)
        v = v * 10 + (*z++ - '0');
      iPos = bNeg ? (int)-v : (int)v;
      nWant = iPos >= 0 ? 2 : 1; /* child: col, row; parent: col */
      iArg = 0;
      while (*z == ' ')
        z++;
      continue;
    }
    if (iArg++ == 0) {
      char *zCol = relSqlIdent(&z, &rc);
      if ((pObj->nArg & (pObj->nArg - 1)) == 0) {
        /* Grown by doubling: at 1, 2, 4, ... arguments. */
        size_t nNew = pObj->nArg ? 2 * (size_t)pObj->nArg : 1;
        int *aPos = sqlite3_realloc64(pObj->aPos, sizeof(int) * nNew);
        char **az =
            aPos ? sqlite3_realloc64(pObj->azCol, sizeof(char *) * nNew) : 0;
        if (aPos) pObj->aPos = aPos;
        if (az) pObj->azCol = az;
        if (aPos == 0 || az == 0) {
          sqlite3_free(zCol);
          return SQLITE_NOMEM;
        }
      }
      pObj->aPos[pObj->nArg] = iPos;
      pObj->azCol[pObj->nArg] = zCol;
      pObj->nArg++;
    } else {
      char *zRow = relSqlIdent(&z, &rc);
      sqlite3_free(zRow);
    }
    while (*z && *z != ',' && *z != ')')
      z++;
    if (iArg == nWant) nWant = 0;
  }
  *pz = z;
  return rc;
}

/* The arguments of a guard index after its generation: edge positions and
** the columns named for them. A table with many edges has a chain of calls
** (guard.c, REL_GUARD_MAX_ARGS), each "relext_must_be_loaded(T, ...)": the
** arguments of every call, in order. */
static int relStoredArgs(RelStoredObj *pObj) {
  const char *zNext = pObj->zSql ? strstr(pObj->zSql, "relext_must_be_loaded(") : 0;
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK && zNext) {
    const char *z = zNext + strlen("relext_must_be_loaded(");
    rc = relStoredCallArgs(pObj, &z);
    zNext = strstr(z, "relext_must_be_loaded(");
  }
  return rc;
}

void relStoredClear(RelStoredSet *p) {
  int i, k;
  for (i = 0; i < p->n; i++) {
    RelStoredObj *o = &p->a[i];
    sqlite3_free(o->zName);
    sqlite3_free(o->zTbl);
    sqlite3_free(o->zSql);
    sqlite3_free(o->zForBuf);
    for (k = 0; k < o->nArg; k++)
      sqlite3_free(o->azCol[k]);
    sqlite3_free(o->azCol);
    sqlite3_free(o->aPos);
  }
  sqlite3_free(p->a);
  memset(p, 0, sizeof(*p));
}

int relStoredRead(sqlite3 *db, const char *zDb, RelStoredSet *pSet) {
  sqlite3_stmt *pStmt = 0;
  int rc;
  memset(pSet, 0, sizeof(*pSet));
  rc = relPreparef(db, &pStmt, 0,
                   "SELECT type, name, tbl_name, sql FROM \"%w\".sqlite_schema "
                   "WHERE type IN ('index', 'trigger') AND (name GLOB "
                   "'relext_guard_*' OR name GLOB 'relext_catalog_*')",
                   zDb);
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    const char *zType = (const char *)sqlite3_column_text(pStmt, 0);
    const char *zName = (const char *)sqlite3_column_text(pStmt, 1);
    RelStoredObj *o;
    RelStoredObj *aNew;
    int e;
    if (zType == 0 || zName == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    if ((pSet->n & (pSet->n - 1)) == 0) {
      /* Grown by doubling: at 1, 2, 4, ... objects. */
      aNew = sqlite3_realloc64(
          pSet->a, sizeof(RelStoredObj) * (size_t)(pSet->n ? 2 * pSet->n : 1));
      if (aNew == 0) {
        rc = SQLITE_NOMEM;
        break;
      }
      pSet->a = aNew;
    }
    o = &pSet->a[pSet->n++];
    memset(o, 0, sizeof(*o));
    o->zName = relStrdup(zName);
    o->zTbl = relStrdup((const char *)sqlite3_column_text(pStmt, 2));
    o->zSql = relStrdup((const char *)sqlite3_column_text(pStmt, 3));
    if (!o->zName || !o->zTbl || !o->zSql) {
      rc = SQLITE_NOMEM;
      break;
    }
    o->eKind = REL_OBJ_OTHER;
    o->bIndex = strcmp(zType, "index") == 0;
    for (e = REL_OBJ_INDEX; e <= REL_OBJ_CATALOG; e++) {
      size_t n = strlen(azPrefix[e]);
      if (strncmp(zName, azPrefix[e], n) == 0 &&
          strcmp(zType, e == REL_OBJ_INDEX ? "index" : "trigger") == 0) {
        size_t nName = strlen(o->zName), nHint = strlen(REL_MISSING_HINT);
        o->eKind = e;
        o->zFor = &o->zName[n];
        if (nName >= n + nHint &&
            strcmp(&o->zName[nName - nHint], REL_MISSING_HINT) == 0) {
          o->zForBuf = sqlite3_mprintf("%.*s", (int)(nName - nHint - n),
                                       o->zFor);
          if (o->zForBuf == 0) rc = SQLITE_NOMEM;
          o->zFor = o->zForBuf ? o->zForBuf : "";
        }
        break;
      }
    }
    if (o->eKind == REL_OBJ_INDEX) {
      const char *zEnd = 0;
      o->iGen = relNumberAfter(o->zSql, "relext_must_be_loaded(", &zEnd);
      if (zEnd && strncmp(zEnd, ", NULL)", 7) == 0) o->bBlocked = 1;
      rc = relStoredArgs(o);
    } else if (o->eKind == REL_OBJ_CATALOG) {
      o->iGen = relNumberAfter(o->zSql, "/* relext catalog ", 0);
    } else {
      const char *zEnd = 0;
      o->iGen = relNumberAfter(o->zSql, "/* relext ", &zEnd);
      if (zEnd && strncmp(zEnd, " blocked", 8) == 0) o->bBlocked = 1;
    }
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_finalize(pStmt);
  } else {
    sqlite3_finalize(pStmt);
  }
  if (rc) relStoredClear(pSet);
  return rc;
}

/* A hash of everything relext's view of the database depends on: its
** stored objects, the catalog's rows, and this connection's TEMP objects
** (by name in any letter case, and whatever is made on one of its tables:
** a table named Relext_Txn hides the eponymous relext_txn, a trigger on
** relext_pending could swallow its row; neither LIKE, which PRAGMA
** case_sensitive_like changes, nor GLOB would see the first).
** Two equal hashes mean nothing relext reads changed. Whether the catalog
** exists is read here, not taken from the last load: a ROLLBACK TO may
** have removed the catalog a load inside the savepoint saw. */
int relStoredFingerprint(sqlite3 *db, sqlite3_uint64 *pH) {
  static const char *azSql[] = {
      "SELECT type, name, tbl_name, sql FROM main.sqlite_schema WHERE "
      "substr(name, 1, 7) = 'relext_' COLLATE NOCASE OR substr(tbl_name, 1, "
      "7) = 'relext_' COLLATE NOCASE",
      "SELECT type, name, tbl_name, sql FROM temp.sqlite_schema WHERE "
      "substr(name, 1, 7) = 'relext_' COLLATE NOCASE OR substr(tbl_name, 1, "
      "7) = 'relext_' COLLATE NOCASE OR sql GLOB 'CREATE VIRTUAL TABLE * "
      "USING relext_*'",
      "SELECT * FROM main.relext_relations"};
  sqlite3_uint64 h = 1469598103934665603ULL;
  int rc = SQLITE_OK, bCatalog = 0;
  size_t k;
  for (k = 0; rc == SQLITE_OK && k < sizeof(azSql) / sizeof(azSql[0]); k++) {
    sqlite3_stmt *pStmt = 0;
    if (k == 2 && !bCatalog) break;
    rc = sqlite3_prepare_v2(db, azSql[k], -1, &pStmt, 0);
    while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
      int i, n = sqlite3_column_count(pStmt);
      if (k == 0 && sqlite3_stricmp((const char *)sqlite3_column_text(pStmt, 1),
                                    "relext_relations") == 0 &&
          sqlite3_stricmp((const char *)sqlite3_column_text(pStmt, 0),
                          "table") == 0)
        bCatalog = 1;
      for (i = 0; i < n; i++) {
        const unsigned char *z = sqlite3_column_text(pStmt, i);
        int m = sqlite3_column_bytes(pStmt, i);
        h = relHashBytes(h, z, z ? (size_t)m : 0);
        h ^= 0x1ff;
        h *= 1099511628211ULL;
      }
    }
    if (rc == SQLITE_OK)
      rc = sqlite3_finalize(pStmt);
    else
      sqlite3_finalize(pStmt);
    h ^= (sqlite3_uint64)(k + 7);
    h *= 1099511628211ULL;
  }
  *pH = h;
  return rc;
}

/* ------------------------------------------------------------------ */
/* Following renames                                                   */

/* The table catalog name zCat is called now, when SQLite renamed it since
** relext wrote its guards: the table a guard object written for zCat
** sits on. NULL when not renamed. */
static const char *relFollowTable(const RelStoredSet *pSet,
                                  const RelIndexHash *pFor, const char *zCat) {
  int i, k = -1, iBest = -1;
  /* The first in pSet's order, as a scan would find it. */
  while ((i = relIndexHashNext(pFor, relNameHash(0, zCat), &k)) >= 0) {
    const RelStoredObj *o = &pSet->a[i];
    if (o->eKind < REL_OBJ_INDEX || o->eKind > REL_OBJ_AFTER) continue;
    if (sqlite3_stricmp(o->zFor, zCat) != 0) continue;
    if (sqlite3_stricmp(o->zTbl, zCat) != 0 && (iBest < 0 || i < iBest))
      iBest = i;
  }
  return iBest < 0 ? 0 : pSet->a[iBest].zTbl;
}

/* Replace *pz by zNew (a copy) when it names zOld (as SQLite compares
** names). */
static int relRenameName(char **pz, const char *zOld, const char *zNew) {
  char *z;
  if (*pz == 0 || sqlite3_stricmp(*pz, zOld) != 0) return SQLITE_OK;
  z = relStrdup(zNew);
  if (z == 0) return SQLITE_NOMEM;
  sqlite3_free(*pz);
  *pz = z;
  return SQLITE_OK;
}

/* The hash of generation iGen in a RelIndexHash. */
static unsigned relGenHash(sqlite3_int64 iGen) {
  sqlite3_uint64 u = (sqlite3_uint64)iGen * 0x9E3779B97F4A7C15ULL;
  return (unsigned)(u >> 32);
}

/* The guard objects of pSet by the table their names are for (zFor), and
** its guard indexes by generation: built once per load. */
static int relStoredIndex(const RelStoredSet *pSet, RelIndexHash *pFor,
                          RelIndexHash *pGen) {
  int i, rc = SQLITE_OK;
  for (i = 0; rc == SQLITE_OK && i < pSet->n; i++) {
    const RelStoredObj *o = &pSet->a[i];
    if (o->eKind < REL_OBJ_INDEX || o->eKind > REL_OBJ_AFTER) continue;
    rc = relIndexHashAdd(pFor, relNameHash(0, o->zFor), i);
    if (rc == SQLITE_OK && o->eKind == REL_OBJ_INDEX)
      rc = relIndexHashAdd(pGen, relGenHash(o->iGen), i);
  }
  return rc;
}

/* The stored guard index carrying generation iGen, or NULL (pGen: the
** guard indexes of pSet by generation). */
static const RelStoredObj *relFindIndex(const RelStoredSet *pSet,
                                        const RelIndexHash *pGen,
                                        sqlite3_int64 iGen) {
  int i, k = -1, iBest = -1;
  /* The first in pSet's order, as a scan would find it. */
  while ((i = relIndexHashNext(pGen, relGenHash(iGen), &k)) >= 0) {
    if (pSet->a[i].eKind == REL_OBJ_INDEX && pSet->a[i].iGen == iGen &&
        (iBest < 0 || i < iBest))
      iBest = i;
  }
  return iBest < 0 ? 0 : &pSet->a[iBest];
}

/* A column rename found in a guard index: the column of definition iDef
** that eEnd's edge names on the child (bChild) or parent side. */
typedef struct RelColRename RelColRename;
struct RelColRename {
  int iDef, eEnd, bChild;
  const char *zNew; /* points into the stored set */
};

/* The column renames that the guard index of table t (written for
** generation iGen) shows: appended to *paRen. zTab is the table's name
** now. */
static int relFindColRenames(RelCtx *p, const RelStoredSet *pSet,
                             const RelIndexHash *pGen, int t,
                             const char *zTab, RelColRename **paRen,
                             int *pnRen) {
  const RelStoredObj *o = relFindIndex(pSet, pGen, p->aTab[t].iGen);
  const RelTable *pT = &p->aTab[t];
  int i, rc = SQLITE_OK;
  if (o == 0) return SQLITE_OK;
  for (i = 0; rc == SQLITE_OK && i < o->nArg; i++) {
    int k = o->aPos[i], bChild = k >= 0;
    const RelEdge *pE;
    const char *zOld;
    int bOld = 0, bNew = 0;
    if (o->azCol[i] == 0) continue;
    if (bChild ? k >= pT->nChild : -1 - k >= pT->nParent) continue;
    pE = &p->aEdge[bChild ? pT->aChild[k] : pT->aParent[-1 - k]];
    /* The key of an M2M end is its table's primary key, read from the
    ** schema anyway. */
    if (!bChild && pE->eEnd != 0) continue;
    zOld = bChild ? pE->zChildCol : pE->zParentCol;
    if (strcmp(zOld, o->azCol[i]) == 0) continue;
    rc = relColumnExists(p->db, zTab, zOld, &bOld);
    if (rc == SQLITE_OK) rc = relColumnExists(p->db, zTab, o->azCol[i], &bNew);
    if (rc == SQLITE_OK && bNew && (!bOld || sqlite3_stricmp(zOld, o->azCol[i]) == 0)) {
      RelColRename *a = sqlite3_realloc64(
          *paRen, sizeof(RelColRename) * (size_t)(*pnRen + 1));
      if (a == 0) return SQLITE_NOMEM;
      *paRen = a;
      a[*pnRen].iDef = pE->iDef;
      a[*pnRen].eEnd = pE->eEnd;
      a[*pnRen].bChild = bChild;
      a[*pnRen].zNew = o->azCol[i];
      (*pnRen)++;
    }
  }
  return rc;
}

/* Apply a column rename to its definition. */
static int relApplyColRename(RelCtx *p, const RelColRename *r) {
  RelDef *d = &p->aDef[r->iDef];
  char **pz;
  char *z;
  if (r->eEnd == 0)
    pz = r->bChild ? &d->zColumn : &d->zToField;
  else
    pz = r->eEnd == 1 ? &d->zSrcCol : &d->zDstCol;
  z = relStrdup(r->zNew);
  if (z == 0) return SQLITE_NOMEM;
  sqlite3_free(*pz);
  *pz = z;
  return SQLITE_OK;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

/* Does definition d name a table being rebuilt? */
static int relDefRebuilding(const RelCtx *p, const RelDef *d) {
  int i;
  for (i = 0; i < p->nRebuild; i++) {
    if (sqlite3_stricmp(d->zModel, p->azRebuild[i]) == 0 ||
        sqlite3_stricmp(d->zTarget, p->azRebuild[i]) == 0 ||
        (d->zDbTable && sqlite3_stricmp(d->zDbTable, p->azRebuild[i]) == 0))
      return 1;
  }
  return 0;
}

/* Refuse writes to the tables of broken definition d: zBlock of each
** table of it that exists (the first reason found wins). */
static int relBlockBroken(RelCtx *p, const RelDef *d) {
  const char *azTab[3];
  int i;
  azTab[0] = d->zModel;
  azTab[1] = d->zTarget;
  azTab[2] = d->eKind == REL_M2M ? d->zDbTable : 0;
  for (i = 0; i < 3; i++) {
    int t = azTab[i] ? relCtxTable(p, azTab[i]) : -1;
    if (t < 0 || p->aTab[t].bMissing) continue;
    p->aTab[t].bBlocked = 1;
    if (p->aTab[t].zBlock) continue;
    p->aTab[t].eBlock = REL_BLOCK_BROKEN;
    p->aTab[t].zBlock = sqlite3_mprintf(
        "relext: %s.%s cannot be enforced: %s; restore it, or SELECT "
        "rel_undefine('%s.%s')",
        d->zModel, d->zField, d->zWhy, d->zModel, d->zField);
    if (p->aTab[t].zBlock == 0) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/* Forget the tables being rebuilt. */
static void relRebuildClear(RelCtx *p) {
  int i;
  for (i = 0; i < p->nRebuild; i++)
    sqlite3_free(p->azRebuild[i]);
  sqlite3_free(p->azRebuild);
  p->azRebuild = 0;
  p->nRebuild = 0;
}

/* The tables being rebuilt, as the witness lists them: a comment
** "relext rebuild <name>" each (rel_rebuild_begin wrote it, in the
** transaction still open: COMMIT refuses it). */
static int relRebuildRead(RelCtx *p, const RelStoredSet *pSet) {
  int i, rc = SQLITE_OK;
  relRebuildClear(p);
  for (i = 0; rc == SQLITE_OK && i < pSet->n; i++) {
    const char *z = pSet->a[i].zSql;
    if (pSet->a[i].eKind != REL_OBJ_CATALOG) continue;
    while (rc == SQLITE_OK && (z = strstr(z, "/* relext rebuild ")) != 0) {
      char **az;
      char *zName;
      z += 18;
      zName = relSqlIdent(&z, &rc);
      if (zName == 0) continue;
      az = sqlite3_realloc64(p->azRebuild,
                             sizeof(char *) * (size_t)(p->nRebuild + 1));
      if (az == 0) {
        sqlite3_free(zName);
        rc = SQLITE_NOMEM;
        break;
      }
      p->azRebuild = az;
      az[p->nRebuild++] = zName;
    }
  }
  return rc;
}

/* While table r is rebuilt, the tables whose stored triggers would name
** it (the parents of r's edges) take the blocked form, and refuse writes:
** SQLite's ALTER TABLE ... RENAME refuses to run while a trigger names a
** table that does not exist. */
static int relRebuildMark(RelCtx *p) {
  int i, k;
  for (i = 0; i < p->nRebuild; i++) {
    int r = relCtxTable(p, p->azRebuild[i]);
    if (r < 0) continue;
    p->aTab[r].bRebuild = 1;
    for (k = 0; k < p->aTab[r].nChild; k++) {
      int q = p->aEdge[p->aTab[r].aChild[k]].iParent;
      if (q == r || p->aTab[q].bMissing) continue;
      p->aTab[q].bBlocked = 1;
      if (p->aTab[q].zBlock) continue;
      p->aTab[q].eBlock = REL_BLOCK_REBUILD;
      p->aTab[q].zBlock = sqlite3_mprintf(
          "relext: %s cannot be written while %s is rebuilt: finish with "
          "SELECT rel_rebuild_end('%s')",
          p->azTable[q], p->azRebuild[i], p->azRebuild[i]);
      if (p->aTab[q].zBlock == 0) return SQLITE_NOMEM;
    }
  }
  return SQLITE_OK;
}

/* Is the catalog what relext wrote? Sets p->zTamper when not. */
static int relCheckTrust(RelCtx *p, const RelStoredSet *pSet,
                         const RelIndexHash *pGen, char *zBad) {
  int i, t, bGuards = 0;
  char *zWhy = 0;
  for (i = 0; i < pSet->n; i++) {
    if (pSet->a[i].eKind != REL_OBJ_CATALOG) bGuards = 1;
  }
  if (zBad) {
    zWhy = sqlite3_mprintf("%s", zBad);
  } else if (!p->bCatalog && (bGuards || p->bWitness)) {
    zWhy = sqlite3_mprintf("relext: relext_relations is missing, but relext's "
                           "guards remain");
  } else if (p->bWitness) {
    if (p->iWitness != p->iCatHash) {
      zWhy = sqlite3_mprintf(
          "relext: relext_relations was changed by hand (it is not what "
          "rel_define and rel_undefine wrote)");
    }
  } else if (p->nDef > 0 || bGuards) {
    /* No witness: every stored guard must carry its table's generation,
    ** and every governed table must have its guard index. */
    for (i = 0; zWhy == 0 && i < pSet->n; i++) {
      const RelStoredObj *o = &pSet->a[i];
      if (o->eKind == REL_OBJ_CATALOG) continue;
      t = relCtxTable(p, o->zTbl);
      if (t < 0 || o->iGen != p->aTab[t].iGen) {
        zWhy = sqlite3_mprintf("relext: relext_relations cannot be verified "
                               "(relext's guards of %s do not match it)",
                               o->zTbl);
      }
    }
    for (t = 0; zWhy == 0 && !p->bRestoring && t < p->nTable; t++) {
      /* (A dump being restored makes the guards one after the other, and
      ** the witness last: the next load judges, once it is done.) */
      if (!p->aTab[t].bMissing && relFindIndex(pSet, pGen, p->aTab[t].iGen) == 0) {
        zWhy = sqlite3_mprintf("relext: relext_relations cannot be verified "
                               "(relext's guards of %s are missing)",
                               p->azTable[t]);
      }
    }
  }
  if (zWhy) {
    char *zMsg = sqlite3_mprintf(
        "%s; every write to a governed table is refused until you review it "
        "and SELECT rel_approve()",
        zWhy);
    sqlite3_free(zWhy);
    if (zMsg == 0) return SQLITE_NOMEM;
    p->zTamper = zMsg;
    for (t = 0; t < p->nTable; t++) {
      if (p->aTab[t].zBlock) continue;
      p->aTab[t].eBlock = REL_BLOCK_TAMPER;
      p->aTab[t].zBlock = relStrdup(zMsg);
      if (p->aTab[t].zBlock == 0) return SQLITE_NOMEM;
    }
  }
  return SQLITE_OK;
}

/* Load the catalog into p as the database now holds it: see the header. */
static int relStoredLoadInner(RelCtx *p, int bFollow, char **pzErr) {
  sqlite3 *db = p->db;
  RelStoredSet set;
  char *zBad = 0;
  sqlite3_int64 *aGen = 0;
  char **azNew = 0; /* per table: its name now, when renamed */
  RelColRename *aRen = 0;
  RelSchemaMemo *pMemo = 0;
  RelIndexHash byFor, byGen; /* set's guard objects (relStoredIndex) */
  int nRen = 0, nTab = 0, rc, i, t;

  memset(&set, 0, sizeof(set));
  memset(&byFor, 0, sizeof(byFor));
  memset(&byGen, 0, sizeof(byGen));
  sqlite3_free(p->zTamper);
  p->zTamper = 0;
  p->bRenamed = 0;
  p->bWitness = 0;
  p->iWitness = 0;
  rc = relCatalogRead(p, &zBad);
  if (rc == SQLITE_OK) rc = relStoredRead(db, "main", &set);
  if (rc == SQLITE_OK) rc = relStoredIndex(&set, &byFor, &byGen);
  for (i = 0; rc == SQLITE_OK && i < set.n; i++) {
    /* (relext_catalog_tables carries no G since it changes only with the
    ** governed tables; one an earlier relext wrote does.) */
    if (set.a[i].eKind == REL_OBJ_CATALOG && set.a[i].iGen != 0) {
      if (p->bWitness && p->iWitness != set.a[i].iGen) p->iWitness = 0;
      if (!p->bWitness) p->iWitness = set.a[i].iGen;
      p->bWitness = 1;
    }
  }
  /* The schema as it stands (which does not change during the pass: each
  ** table is read once, and not again at the next load unless it
  ** changed). */
  if (rc == SQLITE_OK && p->pMemo == 0) rc = relSchemaMemoNew(&p->pMemo);
  if (rc == SQLITE_OK) {
    pMemo = p->pMemo;
    rc = relSchemaMemoRefresh(pMemo, db);
  }
  /* The generations, from the catalog's own names (an M2M end's key does
  ** not count: see relRulesDerive). The keys are those the check below
  ** gives when nothing was renamed, so that the rules derived now stand
  ** then. */
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++)
    rc = relDefKeys(pMemo, db, &p->aDef[i]);
  if (rc == SQLITE_OK) rc = relCtxDerive(p);
  nTab = p->nTable;
  if (rc == SQLITE_OK && nTab > 0) {
    aGen = sqlite3_malloc64(sizeof(sqlite3_int64) * (size_t)nTab);
    azNew = sqlite3_malloc64(sizeof(char *) * (size_t)nTab);
    if (aGen == 0 || azNew == 0) rc = SQLITE_NOMEM;
    if (azNew) memset(azNew, 0, sizeof(char *) * (size_t)nTab);
  }
  /* Renames: tables first (by the names of their guard objects), then
  ** columns (by the arguments of the guard index of each table). */
  for (t = 0; rc == SQLITE_OK && t < nTab; t++) {
    const char *zNow = bFollow ? relFollowTable(&set, &byFor, p->azTable[t]) : 0;
    int bExists = 0;
    aGen[t] = p->aTab[t].iGen;
    azNew[t] = 0;
    if (zNow) rc = relTableExists(db, zNow, &bExists);
    if (rc == SQLITE_OK && bExists) {
      azNew[t] = relStrdup(zNow);
      if (azNew[t] == 0) rc = SQLITE_NOMEM;
    }
    if (rc == SQLITE_OK && bFollow) {
      rc = relFindColRenames(p, &set, &byGen, t,
                             azNew[t] ? azNew[t] : p->azTable[t], &aRen, &nRen);
    }
  }
  if (rc == SQLITE_OK && nTab > 0) {
    /* The definitions take the names found. */
    char **azOld = sqlite3_malloc64(sizeof(char *) * (size_t)nTab);
    if (azOld == 0) rc = SQLITE_NOMEM;
    if (azOld) memset(azOld, 0, sizeof(char *) * (size_t)nTab);
    for (t = 0; rc == SQLITE_OK && t < nTab; t++) {
      azOld[t] = relStrdup(p->azTable[t]);
      if (azOld[t] == 0) rc = SQLITE_NOMEM;
    }
    for (i = 0; rc == SQLITE_OK && i < nRen; i++) {
      rc = relApplyColRename(p, &aRen[i]);
      p->bRenamed = 1;
    }
    for (t = 0; rc == SQLITE_OK && t < nTab; t++) {
      if (azNew[t] == 0) continue;
      p->bRenamed = 1;
      for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
        RelDef *d = &p->aDef[i];
        if (d->zCatModel == 0 && sqlite3_stricmp(d->zModel, azOld[t]) == 0) {
          d->zCatModel = relStrdup(d->zModel);
          if (d->zCatModel == 0) rc = SQLITE_NOMEM;
        }
        if (rc == SQLITE_OK) rc = relRenameName(&d->zModel, azOld[t], azNew[t]);
        if (rc == SQLITE_OK)
          rc = relRenameName(&d->zTarget, azOld[t], azNew[t]);
        if (rc == SQLITE_OK)
          rc = relRenameName(&d->zDbTable, azOld[t], azNew[t]);
        if (rc == SQLITE_OK)
          rc = relRenameName(&d->zThrough, azOld[t], azNew[t]);
      }
    }
    for (t = 0; azOld && t < nTab; t++)
      sqlite3_free(azOld[t]);
    sqlite3_free(azOld);
  }
  /* Each definition against the schema, and then whether each table
  ** exists. */
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
    RelDef *d = &p->aDef[i];
    const char *zWhy = relDefCheckSchema(pMemo, db, d, &rc);
    if (rc == SQLITE_OK && zWhy) {
      d->zWhy = relStrdup(zWhy);
      if (d->zWhy == 0) rc = SQLITE_NOMEM;
    }
  }
  if (rc == SQLITE_OK && p->bRenamed) {
    /* Derived again under the names found (unrenamed, nothing that the
    ** rules are derived from changed since: the check fills the M2M keys
    ** as relDefKeys did). */
    relCtxClearDerived(p);
    rc = relCtxDerive(p);
  }
  if (rc == SQLITE_OK && p->nTable != nTab) {
    /* Two names now name one table: not a rename relext can follow (the
    ** caller loads again without following). */
    rc = SQLITE_DONE;
  }
  if (rc == SQLITE_OK && nTab > 0) rc = relCtxSetGens(p, aGen);
  for (t = 0; rc == SQLITE_OK && t < p->nTable; t++) {
    int bExists = 0;
    rc = relMemoTableExists(pMemo, db, p->azTable[t], &bExists);
    p->aTab[t].bMissing = !bExists;
  }
  /* The tables being rebuilt (ddl.c) come first: their definitions are
  ** BROKEN while the table is missing, which blocks no table but r's
  ** parents. */
  if (rc == SQLITE_OK && !p->bRebuildSet) rc = relRebuildRead(p, &set);
  if (rc == SQLITE_OK) rc = relRebuildMark(p);
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
    if (p->aDef[i].zWhy && !relDefRebuilding(p, &p->aDef[i]))
      rc = relBlockBroken(p, &p->aDef[i]);
  }
  /* A catalog relext is writing (rel_define, ...) is trusted: its witness
  ** is rewritten with it. */
  if (rc == SQLITE_OK && !p->bCatalogOpen) rc = relCheckTrust(p, &set, &byGen, zBad);
  for (t = 0; azNew && t < nTab; t++)
    sqlite3_free(azNew[t]);
  sqlite3_free(azNew);
  sqlite3_free(aGen);
  sqlite3_free(aRen);
  sqlite3_free(zBad);
  relSchemaMemoRelease(pMemo);
  relIndexHashClear(&byFor);
  relIndexHashClear(&byGen);
  relStoredLoadDone(p);
  if (rc == SQLITE_OK && p->nLoading > 0)
    p->loadSet = set;
  else
    relStoredClear(&set);
  if (rc) relCtxClearDefs(p);
  return rc;
}

void relStoredLoadDone(RelCtx *p) {
  relStoredClear(&p->loadSet);
}

int relStoredReadMain(RelCtx *p, RelStoredSet *pSet) {
  if (p->nLoading > 0 && p->loadSet.a) {
    *pSet = p->loadSet;
    memset(&p->loadSet, 0, sizeof(p->loadSet));
    return SQLITE_OK;
  }
  return relStoredRead(p->db, "main", pSet);
}

void relStoredFree(RelCtx *p) {
  relStoredLoadDone(p);
  relSchemaMemoFree(p->pMemo);
  p->pMemo = 0;
}

int relStoredLoad(RelCtx *p, int *aMap, char **pzErr) {
  RelCtx old;
  RelIndexHash byField;
  int rc, rc2 = SQLITE_OK, i, j;
  memset(&byField, 0, sizeof(byField));
  /* The old definitions stay aside while the new ones load. */
  memset(&old, 0, sizeof(old));
  old.aDef = p->aDef;
  old.nDef = p->nDef;
  old.aEdge = p->aEdge;
  old.nEdge = p->nEdge;
  old.azTable = p->azTable;
  old.nTable = p->nTable;
  old.aTab = p->aTab;
  old.aGenHash = p->aGenHash;
  old.nGenHash = p->nGenHash;
  old.tabHash = p->tabHash;
  old.defHash = p->defHash;
  memset(&p->tabHash, 0, sizeof(p->tabHash));
  memset(&p->defHash, 0, sizeof(p->defHash));
  p->aDef = 0;
  p->aEdge = 0;
  p->azTable = 0;
  p->aTab = 0;
  p->aGenHash = 0;
  p->nDef = p->nEdge = p->nTable = p->nGenHash = 0;
  rc = relStoredLoadInner(p, 1, pzErr);
  if (rc == SQLITE_DONE) rc = relStoredLoadInner(p, 0, pzErr);
  /* An edge stays the same edge when it is the same end of the same
  ** definition, under whatever names (renames followed): the new edges
  ** by field and end, so that this is linear. */
  if (aMap && old.nEdge > 0) {
    for (j = 0; rc2 == SQLITE_OK && j < p->nEdge; j++) {
      const RelEdge *pN = &p->aEdge[j];
      char zEnd[2] = {(char)('0' + pN->eEnd), 0};
      rc2 = relIndexHashAdd(
          &byField, relNameHash(relNameHash(0, p->aDef[pN->iDef].zField), zEnd),
          j);
    }
    if (rc2 && rc == SQLITE_OK) {
      /* (A load fails whole.) */
      rc = rc2;
      relCtxClearDefs(p);
    }
  }
  for (i = 0; aMap && i < old.nEdge; i++) {
    const RelEdge *pO = &old.aEdge[i];
    const RelDef *dO = &old.aDef[pO->iDef];
    char zEnd[2] = {(char)('0' + pO->eEnd), 0};
    int k = -1;
    unsigned h = relNameHash(relNameHash(0, dO->zField), zEnd);
    aMap[i] = -1;
    while (rc2 == SQLITE_OK && (j = relIndexHashNext(&byField, h, &k)) >= 0) {
      const RelEdge *pN = &p->aEdge[j];
      const RelDef *dN = &p->aDef[pN->iDef];
      if (pN->eEnd == pO->eEnd && strcmp(dN->zField, dO->zField) == 0 &&
          (sqlite3_stricmp(dN->zModel, dO->zModel) == 0 ||
           (dN->zCatModel && sqlite3_stricmp(dN->zCatModel, dO->zModel) == 0) ||
           (dO->zCatModel && sqlite3_stricmp(dO->zCatModel, dN->zModel) == 0))) {
        aMap[i] = j;
        break;
      }
    }
  }
  relIndexHashClear(&byField);
  relCtxClearDefs(&old);
  return rc;
}
