/*
** inspect.c -- looking before you leap: rel_collect, rel_check, rel_graph.
**
**   SELECT * FROM rel_collect('category', 1);
**       action, model, key, via, depth  -- what deleting that row would do;
**       changes nothing (Django admin's "are you sure?" page)
**   SELECT * FROM rel_check;
**       relationship, model, key, problem -- every violation in the database
**   SELECT rel_graph('mermaid');  SELECT rel_graph('dot');
**       the declared relationships as an ER diagram
**
** rel_collect and rel_check are eponymous virtual tables:
**
**   CREATE TABLE rel_collect(action, model, key, via, depth,
**                            model_in HIDDEN, key_in HIDDEN)
**   CREATE TABLE rel_check(relationship, model, key, problem)
**
** How rel_collect works: a breadth-first walk over the rule edges, one level
** at a time, in a TEMP table (relext_collect) that deduplicates rows, so
** cycles end. Each level follows the CASCADE edges of the rows it deleted;
** rows reached through other rules are listed with their action
** (set_null, set_default, set, protect, restrict) and not followed. After
** the walk, a row that is deleted is not also listed as set_null etc., and
** a RESTRICT row that the same delete removes is not listed (it does not
** block). The result is read into memory and the TEMP table emptied, so
** nothing is left behind. xBestIndex requires both hidden arguments; a plan
** without them gets SQLITE_CONSTRAINT.
**
** How rel_check works: UNION ALL queries (dangling keys, NULL keys where
** null=False, duplicate one-to-one keys, links of a symmetrical M2M
** without their mirror, definitions that cannot be enforced: BROKEN), each
** of at most CHECK_CHUNK terms, fewer when SQLite's limit on the terms of
** a compound SELECT is lower (500 by default; sqlite3_limit or the shell's
** .limit may lower it), run one after the other in the order of the
** relationships' names, so that their ORDER BY orders the whole answer; no
** state. A relationship's checks (three at most) stay in one query: below
** a limit of 3, SQLite refuses a relationship with three. A catalog edited
** by hand is the one answer (nothing is checked against it). It answers
** for the rules as the database now has them (relCtxSync first).
**
** Invariants: nothing here changes the user's tables; rel_collect leaves
** its TEMP table empty. Limits: rel_collect reads the whole answer into
** memory before the first row.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* rel_collect                                                         */

#define COLLECT_ACTION 0
#define COLLECT_MODEL 1
#define COLLECT_KEY 2
#define COLLECT_VIA 3
#define COLLECT_DEPTH 4
#define COLLECT_MODEL_IN 5
#define COLLECT_KEY_IN 6

typedef struct CollectRow CollectRow;
struct CollectRow {
  char *zAction;
  char *zModel;
  RelValue key;
  char *zVia; /* NULL for the row itself */
  int iDepth;
};

typedef struct CollectCursor CollectCursor;
struct CollectCursor {
  sqlite3_vtab_cursor base; /* base class - must be first */
  CollectRow *aRow;         /* the result, in memory */
  int nRow;
  int iRow; /* current row */
};

static int collectConnect(sqlite3 *db, void *pAux, int argc,
                          const char *const *argv, sqlite3_vtab **ppVtab,
                          char **pzErr) {
  (void)argc;
  (void)argv;
  (void)pzErr;
  return relVtabConnect(db, pAux,
                        "CREATE TABLE x(action, model, key, via, depth, "
                        "model_in HIDDEN, key_in HIDDEN)",
                        SQLITE_VTAB_DIRECTONLY, ppVtab);
}

/* idxNum 1: both hidden arguments, model_in first (argvIndex 1). */
static int collectBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *p) {
  (void)pVtab;
  return relVtabArgsBestIndex(p, COLLECT_MODEL_IN, 2, 1000, 100);
}

static void collectRowsFree(CollectCursor *pCur) {
  int i;
  for (i = 0; i < pCur->nRow; i++) {
    sqlite3_free(pCur->aRow[i].zAction);
    sqlite3_free(pCur->aRow[i].zModel);
    sqlite3_free(pCur->aRow[i].zVia);
    relValueClear(&pCur->aRow[i].key);
  }
  sqlite3_free(pCur->aRow);
  pCur->aRow = 0;
  pCur->nRow = pCur->iRow = 0;
}

static int collectOpen(sqlite3_vtab *p, sqlite3_vtab_cursor **ppCur) {
  (void)p;
  return relVtabOpen(sizeof(CollectCursor), ppCur);
}

static int collectClose(sqlite3_vtab_cursor *cur) {
  collectRowsFree((CollectCursor *)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

static const char *relActionName(int eRule) {
  switch (eRule) {
  case ON_CASCADE:
    return "delete";
  case ON_PROTECT:
    return "protect";
  case ON_RESTRICT:
    return "restrict";
  case ON_SET_NULL:
    return "set_null";
  case ON_SET_DEFAULT:
    return "set_default";
  case ON_SET:
    return "set";
  }
  return 0;
}

static int collectIntCmp(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The walk. Fills pCur->aRow. */
static int collectRun(RelVtab *pTab, CollectCursor *pCur, const char *zModel,
                      sqlite3_value *pKey) {
  RelCtx *p = pTab->pCtx;
  sqlite3 *db = p->db;
  sqlite3_stmt *pStmt = 0;
  char *zErr = 0;
  char *zPk = 0;
  int rc, iRoot, d, i;
  sqlite3_int64 nNew;

  iRoot = relCtxTable(p, zModel ? zModel : "");
  if (iRoot < 0) {
    char *zReal = 0;
    rc = relTableName(db, zModel ? zModel : "", REL_TABLE_ANY, &zReal);
    if (rc) return rc;
    if (zReal == 0) {
      return relError(&pTab->base.zErrMsg, SQLITE_ERROR,
                      "relext: no such table: %s", zModel ? zModel : "");
    }
    /* A table that no relationship references: deleting it only deletes
    ** the row itself. */
    iRoot = -1;
    sqlite3_free(zReal);
  }
  rc = relExecf(db, &zErr,
                "CREATE TEMP TABLE IF NOT EXISTS relext_collect(t INT, r INT, "
                "k, depth INT, action TEXT, via INT, UNIQUE(t, r, action));"
                "DELETE FROM temp.relext_collect");
  if (rc) goto done;

  /* The row itself. */
  {
    int iTab = iRoot;
    const char *zT = iRoot >= 0 ? p->azTable[iRoot] : zModel;
    char *zKey = 0;
    rc = relPkColumn(db, zT, &zPk);
    if (rc) goto done;
    zKey = relColExpr("t", zPk);
    if (zKey == 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    /* The key given compares as the key column does (its affinity and
    ** collation: the column is on the left). */
    rc = relPreparef(db, &pStmt, &zErr,
                     "INSERT INTO temp.relext_collect SELECT %d, t.rowid, "
                     "%s, 0, 'delete', -1 FROM main.\"%w\" AS t WHERE %s = ?1",
                     iTab, zKey, zT, zKey);
    sqlite3_free(zKey);
    if (rc) goto done;
    sqlite3_bind_value(pStmt, 1, pKey);
    sqlite3_step(pStmt);
    rc = sqlite3_finalize(pStmt);
    pStmt = 0;
    if (rc) goto done;
    sqlite3_free(zPk);
    zPk = 0;
  }

  /* Level by level: the edges whose parent lost rows at the last level,
  ** in edge order (a row reached twice at one level keeps the first
  ** edge as its via). */
  for (d = 0; iRoot >= 0; d++) {
    int *aLevel = 0, nLevel = 0;
    nNew = 0;
    rc = relPreparef(db, &pStmt, &zErr,
                     "SELECT DISTINCT t FROM temp.relext_collect WHERE "
                     "depth=%d AND action='delete' AND t>=0",
                     d);
    while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
      int t = sqlite3_column_int(pStmt, 0), k;
      const RelTable *pT;
      int *a;
      if (t >= p->nTable) continue;
      pT = &p->aTab[t];
      a = sqlite3_realloc64(aLevel,
                            sizeof(int) * (size_t)(nLevel + pT->nParent + 1));
      if (a == 0) {
        rc = SQLITE_NOMEM;
        break;
      }
      aLevel = a;
      for (k = 0; k < pT->nParent; k++) aLevel[nLevel++] = pT->aParent[k];
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_finalize(pStmt);
    } else {
      sqlite3_finalize(pStmt);
    }
    pStmt = 0;
    if (nLevel > 1) qsort(aLevel, (size_t)nLevel, sizeof(int), collectIntCmp);
    for (i = 0; rc == SQLITE_OK && i < nLevel; i++) {
      const RelEdge *pE = &p->aEdge[aLevel[i]];
      const char *zAction = relActionName(pE->eRule);
      const char *zP = p->azTable[pE->iParent];
      const char *zC = p->azTable[pE->iChild];
      char *zChildPk = 0, *zChildKey = 0, *zParentKey = 0;
      if (zAction == 0) continue; /* DO_NOTHING */
      rc = relPkColumn(db, zC, &zChildPk);
      if (rc) break;
      zChildKey = relColExpr("c", zChildPk);
      zParentKey = relColExpr("p", pE->zParentCol);
      if (zChildKey && zParentKey) {
        rc = relPreparef(
            db, &pStmt, &zErr,
            "INSERT OR IGNORE INTO temp.relext_collect "
            "SELECT %d, c.rowid, %s, %d, %Q, %d FROM temp.relext_collect "
            "AS v JOIN main.\"%w\" AS p ON p.rowid=v.r JOIN main.\"%w\" AS c "
            "ON c.\"%w\"=%s WHERE v.t=%d AND v.depth=%d AND "
            "v.action='delete'",
            pE->iChild, zChildKey, d + 1, zAction, aLevel[i], zP, zC,
            pE->zChildCol, zParentKey, pE->iParent, d);
      } else {
        rc = SQLITE_NOMEM;
      }
      sqlite3_free(zChildPk);
      sqlite3_free(zChildKey);
      sqlite3_free(zParentKey);
      if (rc) break;
      sqlite3_step(pStmt);
      rc = sqlite3_finalize(pStmt);
      pStmt = 0;
      if (rc == SQLITE_OK && pE->eRule == ON_CASCADE)
        nNew += sqlite3_changes(db);
    }
    sqlite3_free(aLevel);
    if (rc || nNew == 0) break;
    /* A row deleted at an earlier level is not deleted again. */
    rc = relExecf(db, &zErr,
                  "DELETE FROM temp.relext_collect AS x WHERE depth=%d AND "
                  "action='delete' AND EXISTS (SELECT 1 FROM "
                  "temp.relext_collect AS y WHERE y.t=x.t AND y.r=x.r AND "
                  "y.action='delete' AND y.depth<%d)",
                  d + 1, d + 1);
    if (rc) break;
  }
  if (rc) goto done;

  /* Deleted rows are not also updated; RESTRICT rows deleted anyway do not
  ** block. */
  rc = relExecf(db, &zErr,
                "DELETE FROM temp.relext_collect AS x WHERE action NOT IN "
                "('delete', 'protect') AND EXISTS (SELECT 1 FROM "
                "temp.relext_collect AS y WHERE y.t=x.t AND y.r=x.r AND "
                "y.action='delete')");
  if (rc) goto done;

  /* Read the result. */
  rc = relPreparef(db, &pStmt, &zErr,
                   "SELECT action, t, k, via, min(depth) FROM "
                   "temp.relext_collect GROUP BY t, r, action "
                   "ORDER BY min(depth), t, r");
  if (rc) goto done;
  while (sqlite3_step(pStmt) == SQLITE_ROW) {
    CollectRow *a = sqlite3_realloc64(pCur->aRow, sizeof(CollectRow) *
                                                      (size_t)(pCur->nRow + 1));
    CollectRow *pRow;
    int t = sqlite3_column_int(pStmt, 1);
    int iVia = sqlite3_column_int(pStmt, 3);
    if (a == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    pCur->aRow = a;
    pRow = &a[pCur->nRow++];
    memset(pRow, 0, sizeof(*pRow));
    pRow->zAction = relStrdup((const char *)sqlite3_column_text(pStmt, 0));
    pRow->zModel = relStrdup(t >= 0 && t < p->nTable ? p->azTable[t] : zModel);
    if (iVia >= 0 && iVia < p->nEdge)
      pRow->zVia = relStrdup(p->aEdge[iVia].zName);
    pRow->iDepth = sqlite3_column_int(pStmt, 4);
    if (relValueFromSql(&pRow->key, sqlite3_column_value(pStmt, 2)) ||
        !pRow->zAction || !pRow->zModel || (iVia >= 0 && !pRow->zVia)) {
      rc = SQLITE_NOMEM;
      break;
    }
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  pStmt = 0;

done:
  sqlite3_finalize(pStmt);
  sqlite3_free(zPk);
  {
    char *zIgnore = 0;
    relExecf(db, &zIgnore, "DELETE FROM temp.relext_collect");
    sqlite3_free(zIgnore);
  }
  if (rc && rc != SQLITE_NOMEM) {
    if (zErr == 0) rc = relError(&zErr, rc, "relext: %s", sqlite3_errmsg(db));
    sqlite3_free(pTab->base.zErrMsg);
    pTab->base.zErrMsg = zErr;
    zErr = 0;
  }
  sqlite3_free(zErr);
  return rc;
}

static int collectFilter(sqlite3_vtab_cursor *cur, int idxNum,
                         const char *idxStr, int argc, sqlite3_value **argv) {
  CollectCursor *pCur = (CollectCursor *)cur;
  (void)idxStr;
  collectRowsFree(pCur);
  if (idxNum != 1 || argc < 2) return SQLITE_OK;
  return collectRun((RelVtab *)cur->pVtab, pCur,
                    (const char *)sqlite3_value_text(argv[0]), argv[1]);
}

static int collectNext(sqlite3_vtab_cursor *cur) {
  ((CollectCursor *)cur)->iRow++;
  return SQLITE_OK;
}

static int collectEof(sqlite3_vtab_cursor *cur) {
  CollectCursor *pCur = (CollectCursor *)cur;
  return pCur->iRow >= pCur->nRow;
}

static int collectColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx,
                         int i) {
  CollectCursor *pCur = (CollectCursor *)cur;
  const CollectRow *pRow = &pCur->aRow[pCur->iRow];
  switch (i) {
  case COLLECT_ACTION:
    sqlite3_result_text(ctx, pRow->zAction, -1, SQLITE_TRANSIENT);
    break;
  case COLLECT_MODEL:
    sqlite3_result_text(ctx, pRow->zModel, -1, SQLITE_TRANSIENT);
    break;
  case COLLECT_KEY:
    relValueResult(ctx, &pRow->key);
    break;
  case COLLECT_VIA:
    if (pRow->zVia) sqlite3_result_text(ctx, pRow->zVia, -1, SQLITE_TRANSIENT);
    break;
  case COLLECT_DEPTH:
    sqlite3_result_int(ctx, pRow->iDepth);
    break;
  default:
    break;
  }
  return SQLITE_OK;
}

static int collectRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  *pRowid = ((CollectCursor *)cur)->iRow + 1;
  return SQLITE_OK;
}

static sqlite3_module collectModule = {
    0,                 /* iVersion */
    0,                 /* xCreate: eponymous only */
    collectConnect,    /* xConnect */
    collectBestIndex,  /* xBestIndex */
    relVtabDisconnect, /* xDisconnect */
    0,                 /* xDestroy */
    collectOpen,       /* xOpen */
    collectClose,      /* xClose */
    collectFilter,     /* xFilter: runs the walk */
    collectNext,       /* xNext */
    collectEof,        /* xEof */
    collectColumn,     /* xColumn */
    collectRowid,      /* xRowid */
    0,                 /* xUpdate: read-only */
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
#if SQLITE_VERSION_NUMBER >= 3044000
    0
#endif
};

/* ------------------------------------------------------------------ */
/* rel_check                                                           */

#define CHECK_RELATIONSHIP 0
#define CHECK_MODEL 1
#define CHECK_KEY 2
#define CHECK_PROBLEM 3

/* The most terms in one of rel_check's queries, unless SQLite's limit on
** the terms of a compound SELECT is lower (relCompoundMax). */
#define CHECK_CHUNK 100

/* What one item of rel_check checks (CheckEdge.eKind). */
#define CHECK_ITEM_EDGE 0   /* the keys of edge iEdge */
#define CHECK_ITEM_BROKEN 1 /* definition iEdge is BROKEN */
#define CHECK_ITEM_MIRROR 2 /* the links of symmetrical M2M iEdge */
#define CHECK_ITEM_TAMPER 3 /* the catalog was edited by hand */

/* An item, by the name of its relationship (rel_check's first column). */
typedef struct CheckEdge CheckEdge;
struct CheckEdge {
  const char *zName;
  int iEdge; /* an edge, or a definition */
  int eKind; /* CHECK_ITEM_xxx */
  char *zOwn; /* zName, when made here (a definition's) */
};

typedef struct CheckCursor CheckCursor;
struct CheckCursor {
  sqlite3_vtab_cursor base; /* base class - must be first */
  sqlite3_stmt *pStmt;      /* the UNION ALL query running */
  CheckEdge *aEdge;         /* every edge, in the order of the answer */
  int nEdge;
  int iNext;                /* the first edge of the next query */
  int bEof;
  sqlite3_int64 iRow;
};

static int checkConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr) {
  (void)argc;
  (void)argv;
  (void)pzErr;
  return relVtabConnect(
      db, pAux, "CREATE TABLE x(relationship, model, key, problem)", 0, ppVtab);
}

static int checkBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *p) {
  (void)pVtab;
  p->estimatedCost = 1e6;
  return SQLITE_OK;
}

static int checkOpen(sqlite3_vtab *p, sqlite3_vtab_cursor **ppCur) {
  (void)p;
  return relVtabOpen(sizeof(CheckCursor), ppCur);
}

static void checkItemsFree(CheckCursor *pCur) {
  int i;
  for (i = 0; pCur->aEdge && i < pCur->nEdge; i++)
    sqlite3_free(pCur->aEdge[i].zOwn);
  sqlite3_free(pCur->aEdge);
  pCur->aEdge = 0;
  pCur->nEdge = pCur->iNext = 0;
}

static int checkClose(sqlite3_vtab_cursor *cur) {
  sqlite3_finalize(((CheckCursor *)cur)->pStmt);
  checkItemsFree((CheckCursor *)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* Relationship names as ORDER BY 1 compares them (BINARY), then items. */
static int checkEdgeCmp(const void *a, const void *b) {
  const CheckEdge *x = (const CheckEdge *)a, *y = (const CheckEdge *)b;
  int c = strcmp(x->zName, y->zName);
  if (c == 0) c = x->eKind - y->eKind;
  return c ? c : x->iEdge - y->iEdge;
}

/* The SQL of the checks of the edges from pCur->iNext on, at most
** CHECK_CHUNK terms or the compound limit, never splitting a relationship
** (its terms, three at most, must be ordered together), or NULL with *pRc
** set (SQLITE_OK: no edges left). */
static char *checkSql(RelCtx *p, CheckCursor *pCur, int *pRc) {
  RelStr s = {0};
  int n = 0;
  int nChunk = relCompoundMax(p->db);
  if (nChunk > CHECK_CHUNK) nChunk = CHECK_CHUNK;
  if (nChunk < 3) nChunk = 3;
  *pRc = SQLITE_OK;
  for (; pCur->iNext < pCur->nEdge; pCur->iNext++) {
    const CheckEdge *pItem = &pCur->aEdge[pCur->iNext];
    int i = pItem->iEdge;
    if (pItem->eKind == CHECK_ITEM_TAMPER) {
      relStrPrintf(&s, "%sSELECT NULL, 'relext_relations', NULL, %Q",
                   n++ ? " UNION ALL " : "", p->zTamper);
    } else if (pItem->eKind == CHECK_ITEM_BROKEN) {
      const RelDef *d = &p->aDef[i];
      relStrPrintf(&s, "%sSELECT %Q, %Q, NULL, 'broken: ' || %Q",
                   n++ ? " UNION ALL " : "", pItem->zName, d->zModel, d->zWhy);
    } else if (pItem->eKind == CHECK_ITEM_MIRROR) {
      /* A symmetrical M2M's link without its mirror. */
      const RelDef *d = &p->aDef[i];
      relStrPrintf(&s,
                   "%sSELECT %Q, %Q, j.rowid, 'one-way link: ' || "
                   "quote(j.\"%w\") || ' -> ' || quote(j.\"%w\") || ' has no "
                   "mirror' FROM main.\"%w\" AS j WHERE NOT EXISTS (SELECT 1 "
                   "FROM main.\"%w\" AS m WHERE m.\"%w\"=j.\"%w\" AND "
                   "m.\"%w\"=j.\"%w\")",
                   n++ ? " UNION ALL " : "", pItem->zName, d->zDbTable,
                   d->zSrcCol, d->zDstCol, d->zDbTable, d->zDbTable, d->zSrcCol,
                   d->zDstCol, d->zDstCol, d->zSrcCol);
    } else {
      const RelEdge *pE = &p->aEdge[i];
      const RelDef *d = &p->aDef[pE->iDef];
      const char *zC = p->azTable[pE->iChild];
      const char *zP = p->azTable[pE->iParent];
      char *zPk = 0, *zKey = 0, *zParentKey = 0;
      *pRc = relPkColumn(p->db, zC, &zPk);
      if (*pRc == SQLITE_OK) {
        zKey = relColExpr("c", zPk);
        zParentKey = relColExpr("p", pE->zParentCol);
        if (zKey == 0 || zParentKey == 0) *pRc = SQLITE_NOMEM;
      }
      if (*pRc) {
        sqlite3_free(zPk);
        sqlite3_free(zKey);
        sqlite3_free(zParentKey);
        relStrReset(&s);
        return 0;
      }
      if (pE->bConstraint) {
        /* The column name is part of the message. */
        relStrPrintf(&s,
                     "%sSELECT %Q, %Q, %s, '%s%q=' || quote(c.\"%w\") "
                     "FROM main.\"%w\" AS c WHERE c.\"%w\" IS NOT NULL AND NOT "
                     "EXISTS (SELECT 1 FROM main.\"%w\" AS p WHERE %s=c.\"%w\")",
                     n++ ? " UNION ALL " : "", pE->zName, zC, zKey,
                     d->eKind == REL_M2M ? "orphan link row: "
                                         : "dangling key: ",
                     pE->zChildCol, pE->zChildCol, zC, pE->zChildCol, zP,
                     zParentKey, pE->zChildCol);
      }
      if (d->eKind != REL_M2M && !d->bNull) {
        relStrPrintf(&s,
                     "%sSELECT %Q, %Q, %s, 'NULL key: %q is NULL' FROM "
                     "main.\"%w\" AS c WHERE c.\"%w\" IS NULL",
                     n++ ? " UNION ALL " : "", pE->zName, zC, zKey,
                     pE->zChildCol, zC, pE->zChildCol);
      }
      if (d->eKind == REL_O2O) {
        relStrPrintf(&s,
                     "%sSELECT %Q, %Q, %s, 'duplicate one-to-one key: ' "
                     "|| quote(c.\"%w\") FROM main.\"%w\" AS c WHERE c.\"%w\" "
                     "IN (SELECT d.\"%w\" FROM main.\"%w\" AS d GROUP BY 1 "
                     "HAVING count(*)>1)",
                     n++ ? " UNION ALL " : "", pE->zName, zC, zKey,
                     pE->zChildCol, zC, pE->zChildCol, pE->zChildCol, zC);
      }
      sqlite3_free(zPk);
      sqlite3_free(zKey);
      sqlite3_free(zParentKey);
    }
    if (n + 3 > nChunk && pCur->iNext + 1 < pCur->nEdge &&
        strcmp(pCur->aEdge[pCur->iNext + 1].zName,
               pCur->aEdge[pCur->iNext].zName) != 0) {
      pCur->iNext++;
      break;
    }
  }
  if (n == 0) {
    relStrReset(&s);
    return 0;
  }
  relStrPrintf(&s, " ORDER BY 1, 2, 3");
  {
    char *z = relStrFinish(&s);
    if (z == 0) *pRc = SQLITE_NOMEM;
    return z;
  }
}

/* Step to the next row of the answer, through the queries that follow
** when one ends (bEof at the end). */
static int checkStep(CheckCursor *pCur, RelVtab *pTab) {
  RelCtx *p = pTab->pCtx;
  int rc;
  for (;;) {
    char *zSql, *zErr = 0;
    if (pCur->pStmt) {
      rc = sqlite3_step(pCur->pStmt);
      if (rc == SQLITE_ROW) {
        pCur->bEof = 0;
        return SQLITE_OK;
      }
      rc = sqlite3_finalize(pCur->pStmt);
      pCur->pStmt = 0;
      if (rc) break;
    }
    zSql = checkSql(p, pCur, &rc);
    if (zSql == 0) break;
    rc = relPreparef(p->db, &pCur->pStmt, &zErr, "%s", zSql);
    sqlite3_free(zSql);
    if (rc) {
      sqlite3_free(pTab->base.zErrMsg);
      pTab->base.zErrMsg = zErr;
      break;
    }
    sqlite3_free(zErr);
  }
  pCur->bEof = 1;
  return rc;
}

static int checkFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                       int argc, sqlite3_value **argv) {
  CheckCursor *pCur = (CheckCursor *)cur;
  RelVtab *pTab = (RelVtab *)cur->pVtab;
  RelCtx *p = pTab->pCtx;
  char *zErr = 0;
  int i, rc;
  (void)idxNum;
  (void)idxStr;
  (void)argc;
  (void)argv;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = 0;
  checkItemsFree(pCur);
  pCur->bEof = 1;
  pCur->iRow = 0;
  /* The rules as the database has them now, never a stale copy. */
  rc = relCtxSync(p, REL_SYNC_MEM, &zErr);
  if (rc) {
    sqlite3_free(pTab->base.zErrMsg);
    pTab->base.zErrMsg = zErr;
    return rc;
  }
  if (p->nEdge == 0 && p->nDef == 0 && !p->zTamper) return SQLITE_OK;
  /* Every edge, and two items per definition at most. */
  pCur->aEdge = sqlite3_malloc64(sizeof(CheckEdge) *
                                 ((size_t)p->nEdge + 2 * (size_t)p->nDef + 1));
  if (pCur->aEdge == 0) return SQLITE_NOMEM;
  if (p->zTamper) {
    /* A catalog edited by hand: nothing is checked against it. */
    pCur->aEdge[0].zName = "";
    pCur->aEdge[0].iEdge = 0;
    pCur->aEdge[0].eKind = CHECK_ITEM_TAMPER;
    pCur->aEdge[0].zOwn = 0;
    pCur->nEdge = 1;
    return checkStep(pCur, pTab);
  }
  for (i = 0; i < p->nEdge; i++) {
    CheckEdge *pItem;
    if (p->aDef[p->aEdge[i].iDef].zWhy) continue; /* BROKEN: listed so */
    pItem = &pCur->aEdge[pCur->nEdge++];
    pItem->zName = p->aEdge[i].zName;
    pItem->iEdge = i;
    pItem->eKind = CHECK_ITEM_EDGE;
    pItem->zOwn = 0;
  }
  for (i = 0; i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    int k;
    for (k = 0; k < 2; k++) {
      CheckEdge *pItem;
      if (k == 0 ? d->zWhy == 0
                 : (d->zWhy || d->eKind != REL_M2M || !d->bSymmetrical))
        continue;
      pItem = &pCur->aEdge[pCur->nEdge];
      pItem->zOwn = sqlite3_mprintf("%s.%s", d->zModel, d->zField);
      if (pItem->zOwn == 0) return SQLITE_NOMEM;
      pItem->zName = pItem->zOwn;
      pItem->iEdge = i;
      pItem->eKind = k == 0 ? CHECK_ITEM_BROKEN : CHECK_ITEM_MIRROR;
      pCur->nEdge++;
    }
  }
  qsort(pCur->aEdge, (size_t)pCur->nEdge, sizeof(CheckEdge), checkEdgeCmp);
  return checkStep(pCur, pTab);
}

static int checkNext(sqlite3_vtab_cursor *cur) {
  CheckCursor *pCur = (CheckCursor *)cur;
  pCur->iRow++;
  return checkStep(pCur, (RelVtab *)cur->pVtab);
}

static int checkEof(sqlite3_vtab_cursor *cur) {
  return ((CheckCursor *)cur)->bEof;
}

static int checkColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  CheckCursor *pCur = (CheckCursor *)cur;
  sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, i));
  return SQLITE_OK;
}

static int checkRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  *pRowid = ((CheckCursor *)cur)->iRow + 1;
  return SQLITE_OK;
}

static sqlite3_module checkModule = {0,            /* iVersion */
                                     0,            /* xCreate: eponymous only */
                                     checkConnect, /* xConnect */
                                     checkBestIndex,    /* xBestIndex */
                                     relVtabDisconnect, /* xDisconnect */
                                     0,                 /* xDestroy */
                                     checkOpen,         /* xOpen */
                                     checkClose,        /* xClose */
                                     checkFilter,       /* xFilter */
                                     checkNext,         /* xNext */
                                     checkEof,          /* xEof */
                                     checkColumn,       /* xColumn */
                                     checkRowid,        /* xRowid */
                                     0,                 /* xUpdate: read-only */
                                     0,
                                     0,
                                     0,
                                     0,
                                     0,
                                     0,
                                     0,
                                     0,
                                     0,
                                     0,
#if SQLITE_VERSION_NUMBER >= 3044000
                                     0
#endif
};

/* ------------------------------------------------------------------ */
/* rel_graph                                                           */

/* A Mermaid entity name: bare when it is a plain name, else quoted. */
static char *relMermaidName(const char *z) {
  const char *q;
  for (q = z; *q; q++) {
    if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
          (*q >= '0' && *q <= '9') || *q == '_' || *q == '-'))
      return sqlite3_mprintf("\"%w\"", z);
  }
  return sqlite3_mprintf("%s", z);
}

/* rel_graph('mermaid' | 'dot') */
static void relGraphFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  const char *zFmt = argc > 0 ? (const char *)sqlite3_value_text(argv[0]) : 0;
  int bDot;
  int i;
  RelStr s = {0};
  char *z;
  if (zFmt == 0 || sqlite3_stricmp(zFmt, "mermaid") == 0) {
    bDot = 0;
  } else if (sqlite3_stricmp(zFmt, "dot") == 0) {
    bDot = 1;
  } else {
    sqlite3_result_error(ctx, "relext: rel_graph takes 'mermaid' or 'dot'", -1);
    return;
  }
  if (bDot) {
    relStrPrintf(&s, "digraph relext {\n  rankdir=LR;\n"
                     "  node [shape=box, fontname=\"Helvetica\"];\n"
                     "  edge [fontname=\"Helvetica\", fontsize=10];\n");
  } else {
    relStrPrintf(&s, "erDiagram\n");
  }
  for (i = 0; i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    char *zRule = relRuleText(d);
    if (bDot) {
      /* The edge points from the target to the model; the model's end is
      ** the "many" end (a crow), or one (a tee) for OneToOneField. */
      relStrPrintf(&s,
                   "  \"%w\" -> \"%w\" [label=\"%w%s%w%s\", dir=both, "
                   "arrowtail=%s, arrowhead=%s%s];\n",
                   d->zTarget, d->zModel, d->zField, zRule ? " (" : "",
                   zRule ? zRule : "", zRule ? ")" : "",
                   d->eKind == REL_M2M ? "crow" : "tee",
                   d->eKind == REL_O2O ? "tee" : "crow",
                   d->eKind == REL_M2M ? ", style=dashed" : "");
    } else {
      const char *zCard = d->eKind == REL_M2M ? "}o--o{"
                          : d->eKind == REL_O2O
                              ? (d->bNull ? "|o--o|" : "||--o|")
                          : d->bNull ? "|o--o{"
                                     : "||--o{";
      char *zA = relMermaidName(d->zTarget);
      char *zB = relMermaidName(d->zModel);
      if (zA && zB) {
        relStrPrintf(&s, "    %s %s %s : \"%w%s%w\"\n", zA, zCard, zB,
                     d->zField, zRule ? " " : "", zRule ? zRule : "");
      } else {
        s.eRc = SQLITE_NOMEM;
      }
      sqlite3_free(zA);
      sqlite3_free(zB);
    }
    sqlite3_free(zRule);
  }
  if (bDot) relStrPrintf(&s, "}\n");
  z = relStrFinish(&s);
  if (z == 0) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

int relRegisterInspect(sqlite3 *db, RelCtx *p) {
  int rc = sqlite3_create_module_v2(db, "rel_collect", &collectModule,
                                    relCtxRef(p), relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_module_v2(db, "rel_check", &checkModule, relCtxRef(p),
                                  relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(
        db, "rel_graph", 1, SQLITE_UTF8 | SQLITE_INNOCUOUS, relCtxRef(p),
        relGraphFunc, 0, 0, relCtxUnref);
  return rc;
}
