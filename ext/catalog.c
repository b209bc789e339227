/*
** catalog.c -- where relext keeps its definitions, and how a connection
** holds them in memory.
**
** The catalog is an ordinary table in the main schema, so definitions
** travel with the database file and survive closing and reopening:
**
**   relext_relations(model, field, kind, target, column, to_field,
**                    on_delete, null, related_name, related_query_name,
**                    db_table, symmetrical, db_constraint, db_index,
**                    default, has_default, set_value, through,
**                    through_fields)                PRIMARY KEY(model, field)
**
** It is also the listing the spec promises: SELECT * FROM relext_relations.
** Every value stored is already resolved (real table and column names,
** effective related names), so loading needs no Django knowledge.
**
** Loading (relCatalogLoad) treats the table as untrusted input: a record
** edited by hand may hold anything. Each record is checked (known kind and
** rule, tables and columns that exist, sane sizes) and the first bad one
** stops the load with a message naming it. Names read here only ever
** reach SQL through %w / %Q.
**
** From the definitions, relCtxDerive() computes the rule edges the
** enforcement engine works on (see RelEdge in relext_int.h) and iGen, a
** 64-bit hash of the whole catalog that the stored guard triggers carry,
** so that a connection holding an older copy notices it is stale.
**
** This file also holds the definition rules every other file shares: the
** relationship kinds and on_delete rules (one table each), how Django
** names a model ('self', 'app.Model', a class name, AUTH_USER_MODEL), what
** an identifier is, which names are reserved (sqlite_*, relext_*), and
** what the accessor tables of a definition are called.
**
** INVARIANTS
**   - A loaded RelCtx holds only records that passed every check; a load
**     that fails leaves it empty.
**   - Edge numbers follow the catalog's order (model, field), so every
**     connection numbers the edges of one catalog alike (the stored guards
**     name edges by number).
**
** LIMITS
**   - Names longer than REL_MAX_NAME bytes are refused.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

const char *relCatalogSchema =
    "CREATE TABLE IF NOT EXISTS main.relext_relations(\n"
    "  model TEXT NOT NULL,\n"
    "  field TEXT NOT NULL,\n"
    "  kind TEXT NOT NULL,\n"
    "  target TEXT NOT NULL,\n"
    "  \"column\" TEXT,\n"
    "  to_field TEXT,\n"
    "  on_delete TEXT,\n"
    "  \"null\" INTEGER NOT NULL DEFAULT 0,\n"
    "  related_name TEXT,\n"
    "  related_query_name TEXT,\n"
    "  db_table TEXT,\n"
    "  symmetrical INTEGER NOT NULL DEFAULT 0,\n"
    "  db_constraint INTEGER NOT NULL DEFAULT 1,\n"
    "  db_index INTEGER NOT NULL DEFAULT 1,\n"
    "  \"default\",\n"
    "  has_default INTEGER NOT NULL DEFAULT 0,\n"
    "  set_value,\n"
    "  through TEXT,\n"
    "  through_fields TEXT,\n"
    "  PRIMARY KEY(model, field)\n"
    ")";

/* The tables that fail a statement at its end while a RESTRICT of it
** stands (stmtend.c): a row in relext_pending, whose REFERENCES to the
** always empty relext_nowhere SQLite counts as an immediate foreign-key
** violation of the statement. In main, beside the catalog: the DELETE
** that writes them has a write transaction on main already, where TEMP
** ones cost every DELETE of such a table a transaction on temp. */
#define REL_NOWHERE_COLS "(id INTEGER PRIMARY KEY)"
#define REL_PENDING_COLS                                                       \
  "(k INTEGER PRIMARY KEY, n INTEGER REFERENCES relext_nowhere(id))"
const char *relPendingSchema =
    "CREATE TABLE IF NOT EXISTS main.relext_nowhere" REL_NOWHERE_COLS ";\n"
    "CREATE TABLE IF NOT EXISTS main.relext_pending" REL_PENDING_COLS;
/* Their column lists, as "CREATE TABLE relext_nowhere" and "CREATE TABLE
** relext_pending" must continue their text in sqlite_schema for relext to
** use them (guard.c), and as TEMP ones are made. */
const char *relNowhereCols = REL_NOWHERE_COLS;
const char *relPendingCols = REL_PENDING_COLS;

/* ------------------------------------------------------------------ */
/* Definition rules: kinds and on_delete rules                         */

/* The kinds, indexed by REL_xxx: Django's class name, and the short name
** rel_define also takes. */
static const struct {
  const char *zName;
  const char *zShort;
} aKind[] = {{"?", "?"},
             {"ForeignKey", "fk"},
             {"OneToOneField", "o2o"},
             {"ManyToManyField", "m2m"}};

/* The on_delete rules, indexed by ON_xxx: their names in Django (ON_SET's
** is a call, SET(value), so its name alone is not a rule). */
static const char *const azRule[] = {"",         "CASCADE",   "PROTECT",
                                     "RESTRICT", "SET_NULL",  "SET_DEFAULT",
                                     "SET",      "DO_NOTHING"};

const char *relKindName(int eKind) {
  if (eKind < REL_FK || eKind > REL_M2M) return "?";
  return aKind[eKind].zName;
}

int relParseKind(const char *z) {
  const char *zBase = relPyBaseName(z);
  int e;
  if (zBase == 0) return 0;
  if (z != zBase && sqlite3_strnicmp(z, "models.", 7) != 0) return 0;
  for (e = REL_FK; e <= REL_M2M; e++) {
    if (sqlite3_stricmp(zBase, aKind[e].zName) == 0 ||
        sqlite3_stricmp(zBase, aKind[e].zShort) == 0)
      return e;
  }
  return 0;
}

const char *relRuleName(int eRule) {
  if (eRule < 0 || eRule > ON_DO_NOTHING) return "?";
  return azRule[eRule];
}

int relRuleByName(const char *z, int bNoCase) {
  int e;
  for (e = ON_CASCADE; z && e <= ON_DO_NOTHING; e++) {
    if (e == ON_SET) continue;
    if ((bNoCase ? sqlite3_stricmp(z, azRule[e]) : strcmp(z, azRule[e])) == 0)
      return e;
  }
  return ON_NONE;
}

char *relRuleText(const RelDef *p) {
  if (p->eKind == REL_M2M) return 0;
  if (p->eOnDelete == ON_SET) {
    char *zV = relValueFormat(&p->setVal, REL_FMT_PY);
    char *z = zV ? sqlite3_mprintf("SET(%s)", zV) : 0;
    sqlite3_free(zV);
    return z;
  }
  return sqlite3_mprintf("%s", relRuleName(p->eOnDelete));
}

void relDefClear(RelDef *p) {
  sqlite3_free(p->zModel);
  sqlite3_free(p->zField);
  sqlite3_free(p->zTarget);
  sqlite3_free(p->zColumn);
  sqlite3_free(p->zToField);
  relValueClear(&p->setVal);
  relValueClear(&p->defVal);
  sqlite3_free(p->zRelName);
  sqlite3_free(p->zRelQuery);
  sqlite3_free(p->zDbTable);
  sqlite3_free(p->zThrough);
  sqlite3_free(p->zSrcCol);
  sqlite3_free(p->zDstCol);
  sqlite3_free(p->zSrcKey);
  sqlite3_free(p->zDstKey);
  sqlite3_free(p->zCatModel);
  sqlite3_free(p->zWhy);
  memset(p, 0, sizeof(*p));
}

int relDefHidden(const RelDef *p) {
  size_t n = p->zRelName ? strlen(p->zRelName) : 0;
  return n == 0 || p->zRelName[n - 1] == '+';
}

int relDefCompare(const RelDef *a, const RelDef *b) {
  if (!relStrEq(a->zModel, b->zModel) || !relStrEq(a->zField, b->zField))
    return 1;
  if (a->eKind != b->eKind || !relStrEq(a->zTarget, b->zTarget)) return 1;
  if (!relStrEq(a->zColumn, b->zColumn) || !relStrEq(a->zToField, b->zToField))
    return 1;
  if (a->eOnDelete != b->eOnDelete || !relValueEq(&a->setVal, &b->setVal))
    return 1;
  if (a->bNull != b->bNull || !relValueEq(&a->defVal, &b->defVal)) return 1;
  if (!relStrEq(a->zRelName, b->zRelName) ||
      !relStrEq(a->zRelQuery, b->zRelQuery))
    return 1;
  if (!relStrEq(a->zDbTable, b->zDbTable) ||
      !relStrEq(a->zThrough, b->zThrough))
    return 1;
  if (!relStrEq(a->zSrcCol, b->zSrcCol) || !relStrEq(a->zDstCol, b->zDstCol))
    return 1;
  if (a->bSymmetrical != b->bSymmetrical ||
      a->bDbConstraint != b->bDbConstraint || a->bDbIndex != b->bDbIndex)
    return 1;
  return 0;
}

int relCatalogEnsure(sqlite3 *db, char **pzErr) {
  return relExecf(db, pzErr, "%s;\n%s", relCatalogSchema, relPendingSchema);
}

int relCatalogInsert(sqlite3 *db, const RelDef *p, char **pzErr) {
  sqlite3_stmt *pStmt = 0;
  char *zRule = 0;
  char *zThroughFields = 0;
  int rc = relPreparef(
      db, &pStmt, pzErr,
      "INSERT INTO main.relext_relations(model, field, kind, target, "
      "\"column\", to_field, on_delete, \"null\", related_name, "
      "related_query_name, db_table, symmetrical, db_constraint, db_index, "
      "\"default\", has_default, set_value, through, through_fields) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,"
      "?18,?19)");
  if (rc) return rc;
  if (p->eKind != REL_M2M) {
    zRule = relRuleText(p);
    if (zRule == 0) rc = SQLITE_NOMEM;
  } else {
    zThroughFields = sqlite3_mprintf("%s, %s", p->zSrcCol, p->zDstCol);
    if (zThroughFields == 0) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(pStmt, 1, p->zModel, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, p->zField, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 3, relKindName(p->eKind), -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 4, p->zTarget, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 5, p->zColumn, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 6, p->zToField, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 7, zRule, -1, SQLITE_STATIC);
    sqlite3_bind_int(pStmt, 8, p->bNull);
    sqlite3_bind_text(pStmt, 9, p->zRelName, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 10, p->zRelQuery, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 11, p->zDbTable, -1, SQLITE_STATIC);
    sqlite3_bind_int(pStmt, 12, p->bSymmetrical);
    sqlite3_bind_int(pStmt, 13, p->bDbConstraint);
    sqlite3_bind_int(pStmt, 14, p->bDbIndex);
    if (p->defVal.eType) relValueBind(pStmt, 15, &p->defVal);
    sqlite3_bind_int(pStmt, 16, p->defVal.eType != 0);
    if (p->eOnDelete == ON_SET) relValueBind(pStmt, 17, &p->setVal);
    sqlite3_bind_text(pStmt, 18, p->zThrough, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 19, zThroughFields, -1, SQLITE_STATIC);
    sqlite3_step(pStmt);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_finalize(pStmt);
    if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
  } else {
    sqlite3_finalize(pStmt);
  }
  sqlite3_free(zRule);
  sqlite3_free(zThroughFields);
  return rc;
}

int relCatalogDelete(sqlite3 *db, const char *zModel, const char *zField,
                     char **pzErr) {
  sqlite3_stmt *pStmt = 0;
  int rc = relPreparef(db, &pStmt, pzErr,
                       "DELETE FROM main.relext_relations "
                       "WHERE model=?1 AND field=?2");
  if (rc) return rc;
  sqlite3_bind_text(pStmt, 1, zModel, -1, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 2, zField, -1, SQLITE_STATIC);
  sqlite3_step(pStmt);
  rc = sqlite3_finalize(pStmt);
  if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
  return rc;
}

int relCatalogHas(sqlite3 *db, const char *zModel, const char *zField,
                  int *pbHas) {
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db,
                              "SELECT 1 FROM main.relext_relations WHERE "
                              "model=?1 AND field=?2",
                              -1, &pStmt, 0);
  *pbHas = 0;
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(pStmt, 1, zModel, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, zField, -1, SQLITE_STATIC);
    *pbHas = sqlite3_step(pStmt) == SQLITE_ROW;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  return rc;
}

void relCtxClearDerived(RelCtx *p) {
  int i;
  for (i = 0; i < p->nEdge; i++) {
    sqlite3_free(p->aEdge[i].zChildCol);
    sqlite3_free(p->aEdge[i].zParentCol);
    sqlite3_free(p->aEdge[i].zName);
  }
  sqlite3_free(p->aEdge);
  for (i = 0; i < p->nTable; i++)
    sqlite3_free(p->azTable[i]);
  sqlite3_free(p->azTable);
  for (i = 0; p->aTab && i < p->nTable; i++) {
    sqlite3_free(p->aTab[i].aChild);
    sqlite3_free(p->aTab[i].aParent);
    sqlite3_free(p->aTab[i].azKey);
    sqlite3_free(p->aTab[i].zBlock);
  }
  sqlite3_free(p->aTab);
  sqlite3_free(p->aGenHash);
  relIndexHashClear(&p->tabHash);
  relIndexHashClear(&p->defHash);
  p->aTab = 0;
  p->aGenHash = 0;
  p->nGenHash = 0;
  p->aEdge = 0;
  p->nEdge = 0;
  p->azTable = 0;
  p->nTable = 0;
  p->iGen = 0;
}

void relCtxClearDefs(RelCtx *p) {
  int i;
  relCtxClearDerived(p);
  for (i = 0; i < p->nDef; i++)
    relDefClear(&p->aDef[i]);
  sqlite3_free(p->aDef);
  p->aDef = 0;
  p->nDef = 0;
}

/* The definition zModel.zField among the first nDef of aDef, through
** pHash (built for them), or -1. */
static int relFindDefIn(const RelDef *aDef, const RelIndexHash *pHash,
                        const char *zModel, const char *zField) {
  unsigned h = relNameHash(relNameHash(0, zModel), zField);
  int k = -1, i;
  while ((i = relIndexHashNext(pHash, h, &k)) >= 0) {
    if (relStrICmp(aDef[i].zModel, zModel) == 0 &&
        relStrICmp(aDef[i].zField, zField) == 0)
      return i;
  }
  return -1;
}

int relCtxFindDef(RelCtx *p, const char *zModel, const char *zField) {
  int i;
  if (p->defHash.nUsed == p->nDef && p->nDef > 0)
    return relFindDefIn(p->aDef, &p->defHash, zModel, zField);
  for (i = 0; i < p->nDef; i++) {
    if (relStrICmp(p->aDef[i].zModel, zModel) == 0 &&
        relStrICmp(p->aDef[i].zField, zField) == 0)
      return i;
  }
  return -1;
}

int relCtxTable(RelCtx *p, const char *zTab) {
  unsigned h = relNameHash(0, zTab);
  int k = -1, i;
  while ((i = relIndexHashNext(&p->tabHash, h, &k)) >= 0) {
    if (relStrICmp(p->azTable[i], zTab) == 0) return i;
  }
  return -1;
}

/* Add zTab to azTable if missing; returns its index or -1 on OOM. */
static int relCtxAddTable(RelCtx *p, const char *zTab) {
  int i = relCtxTable(p, zTab);
  char **az;
  if (i >= 0) return i;
  if ((p->nTable & (p->nTable - 1)) == 0) {
    /* Grown by doubling: at 1, 2, 4, ... entries. */
    az = sqlite3_realloc64(p->azTable,
                           sizeof(char *) * (size_t)(p->nTable ? 2 * p->nTable : 1));
    if (az == 0) return -1;
    p->azTable = az;
  }
  az = p->azTable;
  az[p->nTable] = relStrdup(zTab);
  if (az[p->nTable] == 0) return -1;
  if (relIndexHashAdd(&p->tabHash, relNameHash(0, zTab), p->nTable)) {
    sqlite3_free(az[p->nTable]);
    return -1;
  }
  return p->nTable++;
}

static int relCtxAddEdge(RelCtx *p, int iDef, int eEnd, const char *zChild,
                         const char *zChildCol, const char *zParent,
                         const char *zParentCol, int eRule, int bConstraint) {
  RelEdge *pE;
  const RelDef *pDef = &p->aDef[iDef];
  if ((p->nEdge & (p->nEdge - 1)) == 0) {
    /* Grown by doubling: at 1, 2, 4, ... edges. */
    RelEdge *a = sqlite3_realloc64(
        p->aEdge, sizeof(RelEdge) * (size_t)(p->nEdge ? 2 * p->nEdge : 1));
    if (a == 0) return SQLITE_NOMEM;
    p->aEdge = a;
  }
  pE = &p->aEdge[p->nEdge];
  memset(pE, 0, sizeof(*pE));
  p->nEdge++;
  pE->iDef = iDef;
  pE->iChild = relCtxAddTable(p, zChild);
  pE->iParent = relCtxAddTable(p, zParent);
  pE->zChildCol = relStrdup(zChildCol);
  pE->zParentCol = relStrdup(zParentCol);
  pE->zName = sqlite3_mprintf("%s.%s", pDef->zModel, pDef->zField);
  pE->eRule = eRule;
  pE->bConstraint = bConstraint;
  pE->eEnd = eEnd;
  if (pE->iChild < 0 || pE->iParent < 0 || !pE->zChildCol || !pE->zParentCol ||
      !pE->zName)
    return SQLITE_NOMEM;
  return SQLITE_OK;
}

/* Is junction column zCol of table zTab covered by a declared FK? pFk:
** the FK and O2O definitions by model and column. */
static int relCoveredByFk(RelCtx *p, const RelIndexHash *pFk, const char *zTab,
                          const char *zCol) {
  unsigned h = relNameHash(relNameHash(0, zTab), zCol);
  int k = -1, i;
  while ((i = relIndexHashNext(pFk, h, &k)) >= 0) {
    const RelDef *d = &p->aDef[i];
    if (d->eKind != REL_M2M && relStrICmp(d->zModel, zTab) == 0 &&
        relStrICmp(d->zColumn, zCol) == 0)
      return 1;
  }
  return 0;
}

static void relHash(sqlite3_uint64 *pH, const char *z) {
  sqlite3_uint64 h = *pH;
  if (z) {
    for (; *z; z++) {
      h ^= (unsigned char)*z;
      h *= 1099511628211ULL;
    }
  }
  h ^= 0xff;
  h *= 1099511628211ULL;
  *pH = h;
}

/*
** The plain mode of table t. Where the order in which rows are deleted
** cannot change the outcome, a table's delete rules compile to plain SQL in
** its stored delete guards, like a hand-written cascade, with no call into
** C (guard.c):
**   - the tables reached from it through CASCADE edges form no cycle (so
**     trigger nesting is bounded by the number of tables, not rows);
**   - PROTECT and RESTRICT appear only on edges out of the table itself,
**     and only when nothing cascades from it: then no row this delete
**     removes can be a protecting or restricting row, and the check is a
**     single probe in the pre-delete state, exactly Django's answer.
** Everything else (cycles, self references, PROTECT below a CASCADE) goes
** through the delete engine (engine.c). aState, aStack and aAt are scratch
** arrays of nTable entries.
*/
static int relRulesPlain(const RelCtx *p, int t, int *aState, int *aStack,
                         int *aAt) {
  int nStack = 0, i, bOk = 1, bCascade = 0;
  const RelTable *pT = &p->aTab[t];
  for (i = 0; i < pT->nParent; i++) {
    if (p->aEdge[pT->aParent[i]].eRule == ON_CASCADE) bCascade = 1;
  }
  memset(aState, 0, sizeof(int) * (size_t)p->nTable);
  /* Depth-first over CASCADE edges from t, checking every edge met
  ** (aState: 0 unvisited, 1 on the stack, 2 done). */
  aStack[nStack] = t;
  aAt[nStack++] = 0;
  aState[t] = 1;
  while (nStack > 0 && bOk) {
    int iCur = aStack[nStack - 1];
    int k = aAt[nStack - 1]++;
    const RelEdge *pE;
    if (k >= p->aTab[iCur].nParent) {
      aState[iCur] = 2;
      nStack--;
      continue;
    }
    pE = &p->aEdge[p->aTab[iCur].aParent[k]];
    switch (pE->eRule) {
    case ON_PROTECT:
    case ON_RESTRICT:
      if (iCur != t || bCascade || pE->iChild == t) bOk = 0;
      break;
    case ON_CASCADE:
      if (aState[pE->iChild] == 1)
        bOk = 0; /* a cycle */
      else if (aState[pE->iChild] == 0) {
        aState[pE->iChild] = 1;
        aStack[nStack] = pE->iChild;
        aAt[nStack++] = 0;
      }
      break;
    default:
      break;
    }
  }
  return bOk;
}

/* Can deleting a row of table t meet a RESTRICT that a later row of the
** same statement could lift? Only when the referencing table is reached
** from t through CASCADE edges (t itself included), as the RESTRICT's
** parent is: then the engine may have to decide at the end of the
** statement. On the way, a PROTECT edge whose both ends are reached is
** marked bGoneTracked (stmtend.c: relGoneAdd), and t bDoomable when both a
** PROTECT and a RESTRICT can be met (engine.c). aSeen and aQueue are
** scratch arrays of nTable entries. */
static int relRulesLiftable(RelCtx *p, int t, int *aSeen, int *aQueue) {
  int nQ = 0, iHead = 0, k, bLift = 0, bProtect = 0, bRestrict = 0;
  memset(aSeen, 0, sizeof(int) * (size_t)p->nTable);
  aQueue[nQ++] = t;
  aSeen[t] = 1;
  while (iHead < nQ) {
    const RelTable *pT = &p->aTab[aQueue[iHead++]];
    for (k = 0; k < pT->nParent; k++) {
      const RelEdge *pE = &p->aEdge[pT->aParent[k]];
      if (pE->eRule == ON_CASCADE && !aSeen[pE->iChild]) {
        aSeen[pE->iChild] = 1;
        aQueue[nQ++] = pE->iChild;
      }
    }
  }
  for (k = 0; k < p->nEdge; k++) {
    RelEdge *pE = &p->aEdge[k];
    if (aSeen[pE->iParent] && aSeen[pE->iChild]) {
      if (pE->eRule == ON_RESTRICT) bLift = 1;
      if (pE->eRule == ON_PROTECT) pE->bGoneTracked = 1;
    }
    if (aSeen[pE->iParent] && pE->eRule == ON_PROTECT) bProtect = 1;
    if (aSeen[pE->iParent] && pE->eRule == ON_RESTRICT) bRestrict = 1;
  }
  p->aTab[t].bDoomable = bProtect && bRestrict;
  return bLift;
}

/* Hash the text of a value into *pH (for a table's generation). */
static int relHashValue(sqlite3_uint64 *pH, const RelValue *pV) {
  char *z = relValueFormat(pV, REL_FMT_SQL);
  if (z == 0) return SQLITE_NOMEM;
  relHash(pH, z);
  sqlite3_free(z);
  return SQLITE_OK;
}

/* The map from generation to table (aGenHash). */
static int relGenIndex(RelCtx *p) {
  int n = 16, t;
  sqlite3_free(p->aGenHash);
  p->aGenHash = 0;
  p->nGenHash = 0;
  if (p->nTable == 0) return SQLITE_OK;
  while (n < 2 * p->nTable)
    n *= 2;
  p->aGenHash = sqlite3_malloc64(sizeof(int) * (size_t)n);
  if (p->aGenHash == 0) return SQLITE_NOMEM;
  memset(p->aGenHash, 0, sizeof(int) * (size_t)n);
  p->nGenHash = n;
  for (t = 0; t < p->nTable; t++) {
    unsigned m = (unsigned)n - 1;
    unsigned h =
        (unsigned)((sqlite3_uint64)p->aTab[t].iGen * 0x9E3779B97F4A7C15ULL >>
                   40) &
        m;
    while (p->aGenHash[h])
      h = (h + 1) & m;
    p->aGenHash[h] = t + 1;
  }
  return SQLITE_OK;
}

int relCtxSetGens(RelCtx *p, const sqlite3_int64 *aGen) {
  int t;
  for (t = 0; t < p->nTable; t++)
    p->aTab[t].iGen = aGen[t];
  return relGenIndex(p);
}

/* Per table: its edges as child and as parent, its mode, its generation
** (everything its stored guards encode, hashed), and the map from
** generation to table. */
static int relRulesDerive(RelCtx *p) {
  int i, t, rc = SQLITE_OK;
  int *aScratch;
  int nTab = p->nTable;
  if (nTab == 0) return SQLITE_OK;
  p->aTab = sqlite3_malloc64(sizeof(RelTable) * (size_t)nTab);
  aScratch = sqlite3_malloc64(sizeof(int) * (size_t)nTab * 3);
  if (p->aTab == 0 || aScratch == 0) {
    /* Nothing of aTab's is set: it goes (relCtxClearDerived would read
    ** its entries). */
    sqlite3_free(aScratch);
    sqlite3_free(p->aTab);
    p->aTab = 0;
    return SQLITE_NOMEM;
  }
  memset(p->aTab, 0, sizeof(RelTable) * (size_t)nTab);
  for (i = 0; i < p->nEdge; i++) {
    p->aTab[p->aEdge[i].iChild].nChild++;
    p->aTab[p->aEdge[i].iParent].nParent++;
  }
  for (t = 0; rc == SQLITE_OK && t < nTab; t++) {
    RelTable *pT = &p->aTab[t];
    if (pT->nChild)
      pT->aChild = sqlite3_malloc64(sizeof(int) * (size_t)pT->nChild);
    if (pT->nParent) {
      pT->aParent = sqlite3_malloc64(sizeof(int) * (size_t)pT->nParent);
      pT->azKey = sqlite3_malloc64(sizeof(char *) * (size_t)pT->nParent);
    }
    if ((pT->nChild && !pT->aChild) ||
        (pT->nParent && (!pT->aParent || !pT->azKey)))
      rc = SQLITE_NOMEM;
    pT->nChild = pT->nParent = 0;
  }
  for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
    RelEdge *pE = &p->aEdge[i];
    RelTable *pC = &p->aTab[pE->iChild], *pP = &p->aTab[pE->iParent];
    pE->iAsChild = pC->nChild;
    pC->aChild[pC->nChild++] = i;
    pE->iAsParent = pP->nParent;
    pP->aParent[pP->nParent++] = i;
    for (t = 0; t < pP->nKey; t++) {
      if (sqlite3_stricmp(pP->azKey[t], pE->zParentCol) == 0) break;
    }
    if (t == pP->nKey) pP->azKey[pP->nKey++] = pE->zParentCol;
    pE->iKey = t;
  }
  for (t = 0; rc == SQLITE_OK && t < nTab; t++) {
    p->aTab[t].bPlain =
        relRulesPlain(p, t, aScratch, &aScratch[nTab], &aScratch[2 * nTab]);
    p->aTab[t].bLiftable = relRulesLiftable(p, t, aScratch, &aScratch[nTab]);
  }
  sqlite3_free(aScratch);
  /* The generation: the table, its mode, and each of its edges as its
  ** guards see them. */
  for (t = 0; rc == SQLITE_OK && t < nTab; t++) {
    RelTable *pT = &p->aTab[t];
    sqlite3_uint64 h = 1469598103934665603ULL;
    relHash(&h, p->azTable[t]);
    relHash(&h, pT->bPlain ? "plain" : "engine");
    for (i = 0; rc == SQLITE_OK && i < pT->nChild + pT->nParent; i++) {
      int bChild = i < pT->nChild;
      const RelEdge *pE =
          &p->aEdge[bChild ? pT->aChild[i] : pT->aParent[i - pT->nChild]];
      const RelDef *d = &p->aDef[pE->iDef];
      relHash(&h, bChild ? "child" : "parent");
      relHash(&h, pE->zName);
      relHash(&h, p->azTable[pE->iChild]);
      relHash(&h, pE->zChildCol);
      relHash(&h, p->azTable[pE->iParent]);
      /* An M2M end's key is the primary key of its table, which the
      ** catalog does not store: a rename of it changes no rule. */
      relHash(&h, d->eKind == REL_M2M ? (pE->eEnd == 1 ? "src" : "dst")
                                      : pE->zParentCol);
      relHash(&h, relRuleName(pE->eRule));
      relHash(&h, pE->bConstraint ? "1" : "0");
      relHash(&h, d->eKind != REL_M2M && !d->bNull ? "notnull" : "null");
      if (pE->eRule == ON_SET) rc = relHashValue(&h, &d->setVal);
      if (pE->eRule == ON_SET_DEFAULT) rc = relHashValue(&h, &d->defVal);
    }
    /* Positive and non-zero, so that it prints as a plain integer. */
    pT->iGen = (sqlite3_int64)(h >> 2) + 1;
  }
  if (rc == SQLITE_OK) rc = relGenIndex(p);
  return rc;
}

int relCtxDerive(RelCtx *p) {
  int i, rc = SQLITE_OK;
  sqlite3_uint64 h = 1469598103934665603ULL;
  RelIndexHash fk;
  memset(&fk, 0, sizeof(fk));
  /* The definitions by name (relCtxFindDef), and the FKs by column. */
  relIndexHashClear(&p->defHash);
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    rc = relIndexHashAdd(&p->defHash,
                         relNameHash(relNameHash(0, d->zModel), d->zField), i);
    if (rc == SQLITE_OK && d->eKind != REL_M2M)
      rc = relIndexHashAdd(&fk, relNameHash(relNameHash(0, d->zModel), d->zColumn),
                           i);
  }
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    char *zRule = relRuleText(d);
    char *zDef = relValueFormat(&d->defVal, REL_FMT_PY);
    /* A text missing for want of memory would change the hash. */
    if (zDef == 0 || (zRule == 0 && d->eKind != REL_M2M)) {
      sqlite3_free(zRule);
      sqlite3_free(zDef);
      rc = SQLITE_NOMEM;
      break;
    }
    relHash(&h, d->zModel);
    relHash(&h, d->zField);
    relHash(&h, relKindName(d->eKind));
    relHash(&h, d->zTarget);
    relHash(&h, d->zColumn);
    relHash(&h, d->zToField);
    relHash(&h, zRule);
    relHash(&h, d->bNull ? "1" : "0");
    relHash(&h, zDef);
    relHash(&h, d->zDbTable);
    relHash(&h, d->zThrough);
    relHash(&h, d->zSrcCol);
    relHash(&h, d->zDstCol);
    relHash(&h, d->bSymmetrical ? "1" : "0");
    relHash(&h, d->bDbConstraint ? "1" : "0");
    sqlite3_free(zRule);
    sqlite3_free(zDef);
    if (d->eKind != REL_M2M) {
      rc = relCtxAddEdge(p, i, 0, d->zModel, d->zColumn, d->zTarget,
                         d->zToField, d->eOnDelete, d->bDbConstraint);
    } else {
      if (d->zThrough == 0 || !relCoveredByFk(p, &fk, d->zDbTable, d->zSrcCol)) {
        rc = relCtxAddEdge(p, i, 1, d->zDbTable, d->zSrcCol, d->zModel,
                           d->zSrcKey, ON_CASCADE, d->bDbConstraint);
      }
      if (rc == SQLITE_OK &&
          (d->zThrough == 0 ||
           !relCoveredByFk(p, &fk, d->zDbTable, d->zDstCol))) {
        rc = relCtxAddEdge(p, i, 2, d->zDbTable, d->zDstCol, d->zTarget,
                           d->zDstKey, ON_CASCADE, d->bDbConstraint);
      }
    }
  }
  relIndexHashClear(&fk);
  /* Keep the hash positive and non-zero so it prints as a plain integer. */
  p->iGen = (sqlite3_int64)(h >> 2) + 1;
  if (rc == SQLITE_OK) rc = relRulesDerive(p);
  return rc;
}

/* Read column iCol as a checked name into *pz. Returns an error message
** (static text) or NULL. */
static const char *relReadName(sqlite3_stmt *pStmt, int iCol, int bRequired,
                               char **pz, int *pRc) {
  const char *z = (const char *)sqlite3_column_text(pStmt, iCol);
  if (z == 0) {
    if (sqlite3_errcode(sqlite3_db_handle(pStmt)) == SQLITE_NOMEM) {
      *pRc = SQLITE_NOMEM;
      return "out of memory";
    }
    return bRequired ? "missing name" : 0;
  }
  if (strlen(z) == 0 || strlen(z) > REL_MAX_NAME)
    return "name too long or empty";
  *pz = relStrdup(z);
  if (*pz == 0) {
    *pRc = SQLITE_NOMEM;
    return "out of memory";
  }
  return 0;
}

/* Is z a Python identifier (letters, digits, '_', any non-ASCII; not
** starting with a digit)? With bPlus, a trailing run of '+' is allowed
** (a hidden related name such as "+" or "articles+"). */
int relIsIdentifier(const char *z, int bPlus) {
  const unsigned char *q = (const unsigned char *)z;
  size_t n = strlen(z);
  size_t i;
  if (bPlus) {
    while (n > 0 && q[n - 1] == '+')
      n--;
    if (n < strlen(z) && n == 0) return 1;
  }
  if (n == 0 || (q[0] >= '0' && q[0] <= '9')) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = q[i];
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c >= 0x80))
      return 0;
  }
  return 1;
}

/* Why the database cannot hold definition d as its names now stand (a
** table or column gone, a to_field no longer unique), or NULL when it can;
** also when a probe failed: *pRc says so. Fills in the keys of an M2M's
** ends ("rowid" for an end whose table is gone). m remembers the probes
** of the definitions checked before it in the same pass. */
/* The keys of M2M d's ends: the primary key of each end's table, "rowid"
** for an end whose table is gone (bM, bT: whether they exist). */
static int relDefKeysOf(RelSchemaMemo *m, sqlite3 *db, RelDef *d, int bM,
                        int bT) {
  int rc = SQLITE_OK;
  sqlite3_free(d->zSrcKey);
  sqlite3_free(d->zDstKey);
  d->zSrcKey = d->zDstKey = 0;
  if (bM) rc = relMemoPkColumn(m, db, d->zModel, &d->zSrcKey);
  if (rc == SQLITE_OK && bT)
    rc = relMemoPkColumn(m, db, d->zTarget, &d->zDstKey);
  if (rc == SQLITE_OK && d->zSrcKey == 0) d->zSrcKey = relStrdup("rowid");
  if (rc == SQLITE_OK && d->zDstKey == 0) d->zDstKey = relStrdup("rowid");
  if (rc == SQLITE_OK && (!d->zSrcKey || !d->zDstKey)) rc = SQLITE_NOMEM;
  return rc;
}

int relDefKeys(RelSchemaMemo *m, sqlite3 *db, RelDef *d) {
  int bM = 0, bT = 0, rc;
  if (d->eKind != REL_M2M) return SQLITE_OK;
  rc = relMemoTableExists(m, db, d->zModel, &bM);
  if (rc == SQLITE_OK) rc = relMemoTableExists(m, db, d->zTarget, &bT);
  if (rc == SQLITE_OK) rc = relDefKeysOf(m, db, d, bM, bT);
  return rc;
}

const char *relDefCheckSchema(RelSchemaMemo *m, sqlite3 *db, RelDef *d,
                              int *pRc) {
  int bM = 0, bT = 0, bJ = 0, bA = 0, bB = 0, bU = 0, rc;
  rc = relMemoTableExists(m, db, d->zModel, &bM);
  if (rc == SQLITE_OK) rc = relMemoTableExists(m, db, d->zTarget, &bT);
  if (rc == SQLITE_OK && d->eKind == REL_M2M)
    rc = relMemoTableExists(m, db, d->zDbTable, &bJ);
  if (rc == SQLITE_OK && d->eKind == REL_M2M)
    rc = relDefKeysOf(m, db, d, bM, bT);
  *pRc = rc;
  if (rc) return 0;
  if (!bM) return "its model table is missing";
  if (!bT) return "its target table is missing";
  if (d->eKind != REL_M2M) {
    rc = relMemoColumnExists(m, db, d->zModel, d->zColumn, &bA);
    if (rc == SQLITE_OK && bA)
      rc = relMemoColumnExists(m, db, d->zTarget, d->zToField, &bB);
    if (rc == SQLITE_OK && bA && bB)
      rc = relMemoColumnUnique(m, db, d->zTarget, d->zToField, &bU);
    *pRc = rc;
    if (rc) return 0;
    if (!bA) return "its key column is missing";
    if (!bB) return "its to_field column is missing";
    return bU ? 0 : "its to_field is no longer unique";
  }
  if (!bJ) return "its junction table is missing";
  rc = relMemoColumnExists(m, db, d->zDbTable, d->zSrcCol, &bA);
  if (rc == SQLITE_OK && bA)
    rc = relMemoColumnExists(m, db, d->zDbTable, d->zDstCol, &bB);
  *pRc = rc;
  if (rc || (bA && bB)) return 0;
  return "a column of its junction table is missing";
}

/* Load one record from the current row of pStmt into d. Returns SQLITE_OK,
** or an error with *pzErr describing the bad record. */
static int relLoadRecord(sqlite3 *db, sqlite3_stmt *pStmt, RelDef *d,
                         char **pzErr) {
  const char *zBad = 0;
  int rc = SQLITE_OK;
  const char *zKind;
  memset(d, 0, sizeof(*d));
  zBad = relReadName(pStmt, 0, 1, &d->zModel, &rc);
  if (!zBad) zBad = relReadName(pStmt, 1, 1, &d->zField, &rc);
  if (!zBad) zBad = relReadName(pStmt, 3, 1, &d->zTarget, &rc);
  if (!zBad) zBad = relReadName(pStmt, 4, 0, &d->zColumn, &rc);
  if (!zBad) zBad = relReadName(pStmt, 5, 0, &d->zToField, &rc);
  if (!zBad) zBad = relReadName(pStmt, 8, 0, &d->zRelName, &rc);
  if (!zBad) zBad = relReadName(pStmt, 9, 0, &d->zRelQuery, &rc);
  if (!zBad) zBad = relReadName(pStmt, 10, 0, &d->zDbTable, &rc);
  if (!zBad) zBad = relReadName(pStmt, 17, 0, &d->zThrough, &rc);
  if (!zBad && !relIsIdentifier(d->zField, 0))
    zBad = "field is not an identifier";
  /* Related names are identifiers, or Django's defaults built from the
  ** model (a table name, which may be anything). */
  if (!zBad && d->zRelName && d->zRelName[0] &&
      !relIsIdentifier(d->zRelName, 1)) {
    char *zSet = sqlite3_mprintf("%s_set", d->zModel);
    if (zSet == 0)
      rc = SQLITE_NOMEM;
    else if (strcmp(d->zRelName, d->zModel) != 0 &&
             strcmp(d->zRelName, zSet) != 0)
      zBad = "invalid related_name";
    sqlite3_free(zSet);
  }
  if (!zBad && d->zRelQuery && d->zRelQuery[0] &&
      !relIsIdentifier(d->zRelQuery, 1) && strcmp(d->zRelQuery, d->zModel) != 0)
    zBad = "invalid related_query_name";
  if (!zBad && (relIsReservedName(d->zModel) || relIsReservedName(d->zTarget) ||
                relIsReservedName(d->zDbTable)))
    zBad = "reserved table";
  if (!zBad) {
    /* Stored as Django's class name, exactly. */
    zKind = (const char *)sqlite3_column_text(pStmt, 2);
    for (d->eKind = REL_FK; zKind && d->eKind <= REL_M2M; d->eKind++) {
      if (strcmp(zKind, aKind[d->eKind].zName) == 0) break;
    }
    if (zKind == 0 || d->eKind > REL_M2M) {
      d->eKind = 0;
      zBad = "unknown kind";
    }
  }
  if (!zBad) {
    d->bNull = sqlite3_column_int(pStmt, 7) != 0;
    d->bSymmetrical = sqlite3_column_int(pStmt, 11) != 0;
    d->bDbConstraint = sqlite3_column_int(pStmt, 12) != 0;
    d->bDbIndex = sqlite3_column_int(pStmt, 13) != 0;
    if (sqlite3_column_int(pStmt, 15)) {
      rc = relValueFromSql(&d->defVal, sqlite3_column_value(pStmt, 14));
    }
    if (d->zRelName == 0) {
      d->zRelName = relStrdup("");
      if (d->zRelName == 0) rc = SQLITE_NOMEM;
    }
    if (d->zRelQuery == 0) {
      d->zRelQuery = relStrdup("");
      if (d->zRelQuery == 0) rc = SQLITE_NOMEM;
    }
  }
  if (!zBad && rc == SQLITE_OK && d->eKind != REL_M2M) {
    const char *zRule = (const char *)sqlite3_column_text(pStmt, 6);
    d->eOnDelete = relRuleByName(zRule, 0);
    if (d->eOnDelete == ON_NONE && zRule && strncmp(zRule, "SET(", 4) == 0 &&
        zRule[strlen(zRule) - 1] == ')')
      d->eOnDelete = ON_SET;
    if (d->eOnDelete == ON_NONE) {
      zBad = "unknown on_delete rule";
    } else if (d->eOnDelete == ON_SET) {
      rc = relValueFromSql(&d->setVal, sqlite3_column_value(pStmt, 16));
      if (rc == SQLITE_OK) {
        /* The text must be what SET(set_value) prints. */
        char *zText = relRuleText(d);
        if (zText == 0)
          rc = SQLITE_NOMEM;
        else if (strcmp(zText, zRule) != 0)
          zBad = "unknown on_delete rule";
        sqlite3_free(zText);
      }
    }
    if (!zBad && (d->zColumn == 0 || d->zToField == 0))
      zBad = "missing column or to_field";
  }
  if (!zBad && rc == SQLITE_OK && d->eKind == REL_M2M) {
    const char *zTf = (const char *)sqlite3_column_text(pStmt, 18);
    const char *zComma = zTf ? strchr(zTf, ',') : 0;
    if (d->zDbTable == 0 || zComma == 0 || strlen(zTf) > 2 * REL_MAX_NAME) {
      zBad = "missing db_table or through_fields";
    } else {
      const char *z2 = zComma + 1;
      while (*z2 == ' ')
        z2++;
      d->zSrcCol = sqlite3_mprintf("%.*s", (int)(zComma - zTf), zTf);
      d->zDstCol = sqlite3_mprintf("%s", z2);
      if (!d->zSrcCol || !d->zDstCol) rc = SQLITE_NOMEM;
    }
  }
  /* (Whether the tables and columns exist is not the record's fault: a
  ** record that parses is a definition, BROKEN when the schema cannot hold
  ** it; see stored.c.) */
  /* A lookup above that failed (out of memory) is not a bad record. */
  if (zBad && rc == SQLITE_OK && sqlite3_errcode(db) == SQLITE_NOMEM)
    rc = SQLITE_NOMEM;
  if (zBad && rc == SQLITE_OK) {
    const char *zM = (const char *)sqlite3_column_text(pStmt, 0);
    const char *zF = (const char *)sqlite3_column_text(pStmt, 1);
    /* Quote at most 50 characters of a name (bytes, cut on a UTF-8
    ** character boundary). */
    int nM = zM ? (int)strlen(zM) : 0, nF = zF ? (int)strlen(zF) : 0;
    int cM = nM > 50 ? 50 : nM, cF = nF > 50 ? 50 : nF;
    while (cM < nM && cM > 0 && (zM[cM] & 0xc0) == 0x80)
      cM--;
    while (cF < nF && cF > 0 && (zF[cF] & 0xc0) == 0x80)
      cF--;
    rc = relError(
        pzErr, SQLITE_CORRUPT,
        "relext: bad record in relext_relations (model=%.*Q%s, field=%.*Q%s): "
        "%s",
        cM, zM, cM < nM ? "..." : "", cF, zF, cF < nF ? "..." : "", zBad);
  }
  if (rc) relDefClear(d);
  return rc;
}

/* Hash one column of a catalog row, exactly as stored (type and bytes). */
static void relHashColumn(sqlite3_uint64 *pH, sqlite3_stmt *pStmt, int iCol) {
  sqlite3_uint64 h = *pH;
  int eType = sqlite3_column_type(pStmt, iCol);
  const unsigned char *z = 0;
  int n = 0, i;
  if (eType == SQLITE_BLOB) {
    z = (const unsigned char *)sqlite3_column_blob(pStmt, iCol);
  } else if (eType != SQLITE_NULL) {
    z = sqlite3_column_text(pStmt, iCol);
  }
  n = sqlite3_column_bytes(pStmt, iCol);
  h ^= (sqlite3_uint64)eType;
  h *= 1099511628211ULL;
  for (i = 0; z && i < n; i++) {
    h ^= z[i];
    h *= 1099511628211ULL;
  }
  h ^= 0xff;
  h *= 1099511628211ULL;
  *pH = h;
}

/* The columns of relext_relations, in the order relLoadRecord reads them. */
#define REL_CATALOG_COLUMNS                                                    \
  "model, field, kind, target, \"column\", to_field, on_delete, \"null\", "    \
  "related_name, related_query_name, db_table, symmetrical, db_constraint, "   \
  "db_index, \"default\", has_default, set_value, through, through_fields"
#define REL_CATALOG_NCOL 19

int relCatalogRead(RelCtx *p, char **pzBad) {
  sqlite3 *db = p->db;
  sqlite3_stmt *pStmt = 0;
  sqlite3_uint64 h = 1469598103934665603ULL;
  RelIndexHash seen; /* the definitions read so far, by name */
  int rc, i, nAlloc = 0;
  memset(&seen, 0, sizeof(seen));
  relCtxClearDefs(p);
  p->bCatalog = 0;
  p->iCatHash = 0;
  rc = relTableExists(db, "relext_relations", &p->bCatalog);
  if (rc || !p->bCatalog) return rc; /* no catalog: nothing declared */
  rc = relPreparef(db, &pStmt, 0,
                   "SELECT " REL_CATALOG_COLUMNS
                   " FROM main.relext_relations ORDER BY model, field");
  if (rc) {
    /* A catalog table of another shape: edited by hand. */
    if (rc != SQLITE_NOMEM) {
      rc = relError(pzBad, SQLITE_OK,
                    "relext: relext_relations has lost its shape (%s)",
                    sqlite3_errmsg(db));
      if (rc == SQLITE_OK) p->iCatHash = 1;
    }
    return rc;
  }
  while (sqlite3_step(pStmt) == SQLITE_ROW) {
    RelDef *a = relGrow(p->aDef, sizeof(RelDef), p->nDef, &nAlloc, 16);
    char *zErr = 0;
    if (a == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    p->aDef = a;
    for (i = 0; i < REL_CATALOG_NCOL; i++)
      relHashColumn(&h, pStmt, i);
    rc = relLoadRecord(db, pStmt, &a[p->nDef], &zErr);
    if (rc == SQLITE_OK && relFindDefIn(p->aDef, &seen, a[p->nDef].zModel,
                                        a[p->nDef].zField) >= 0) {
      rc = relError(&zErr, SQLITE_CORRUPT,
                    "relext: bad record in relext_relations "
                    "(model=%Q, field=%Q): defined twice",
                    a[p->nDef].zModel, a[p->nDef].zField);
      relDefClear(&a[p->nDef]);
    }
    if (rc == SQLITE_CORRUPT) {
      /* A record relext did not write: the catalog was edited by hand.
      ** The first such message is kept; the record is left out. */
      if (pzBad && *pzBad == 0) {
        *pzBad = zErr;
        zErr = 0;
      }
      sqlite3_free(zErr);
      rc = SQLITE_OK;
      continue;
    }
    sqlite3_free(zErr);
    if (rc == SQLITE_OK)
      rc = relIndexHashAdd(&seen,
                           relNameHash(relNameHash(0, a[p->nDef].zModel),
                                       a[p->nDef].zField),
                           p->nDef);
    if (rc) {
      if (rc == SQLITE_NOMEM) relDefClear(&a[p->nDef]);
      break;
    }
    p->nDef++;
  }
  relIndexHashClear(&seen);
  if (rc == SQLITE_OK) {
    rc = sqlite3_finalize(pStmt);
    if (rc) rc = relError(pzBad, rc, "%s", sqlite3_errmsg(db));
  } else {
    sqlite3_finalize(pStmt);
  }
  p->iCatHash = (sqlite3_int64)(h >> 2) + 1;
  if (rc) relCtxClearDefs(p);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Definition rules: names                                             */

/* Is zTab a name relext will not govern: SQLite's own tables and relext's
** (its catalog, its TEMP tables)? */
int relIsReservedName(const char *zTab) {
  return zTab && (sqlite3_strnicmp(zTab, "sqlite_", 7) == 0 ||
                  sqlite3_strnicmp(zTab, "relext_", 7) == 0);
}

/* Resolve a Django model reference to a table of main:
**   'self'                       zSelf (when zSelf is not NULL)
**   a table name                 that table (any case)
**   'app_label.ModelName'        app_label_modelname
**   settings.AUTH_USER_MODEL     auth_user
**   a class name (Category)      category, else the only <app>_category
** A model's name is its class name lower-cased as Python's str.lower()
** does (relLowerName: 'shop.CAFÉ' names shop_café).
** Views and virtual tables are not tables a relationship can use.
** zCtx prefixes error messages ("article.category: " or ""), zRole names
** the model in them ("model", "target"). */
int relResolveModel(sqlite3 *db, const char *zSelf, const char *zSpec,
                    const char *zCtx, const char *zRole, char **pzTab,
                    char **pzErr) {
  int rc = SQLITE_OK;
  char *zTab = 0;
  char *zLooked = 0;
  const char *zDot;
  int nFound = 0;
  *pzTab = 0;
  if (zSpec == 0 || zSpec[0] == 0) {
    return relError(pzErr, SQLITE_ERROR, "relext: %sa %s model is required",
                    zCtx, zRole);
  }
  if (zSelf && strcmp(zSpec, "self") == 0) {
    rc = relTableName(db, zSelf, REL_TABLE_ORDINARY, &zTab);
  } else if (strcmp(zSpec, "settings.AUTH_USER_MODEL") == 0 ||
             strcmp(zSpec, "AUTH_USER_MODEL") == 0) {
    zLooked = relStrdup("auth_user");
    if (zLooked == 0) return SQLITE_NOMEM;
    rc = relTableName(db, zLooked, REL_TABLE_ORDINARY, &zTab);
  } else {
    rc = relTableName(db, zSpec, REL_TABLE_ORDINARY, &zTab);
    zDot = strchr(zSpec, '.');
    if (zTab == 0 && rc == SQLITE_OK && zDot && zDot != zSpec && zDot[1] &&
        strchr(zDot + 1, '.') == 0) {
      /* 'app_label.ModelName' -> app_label_modelname: Django's table
      ** name is the app label as it is, '_', and the model's name, which
      ** is its class name through Python's str.lower() (full Unicode:
      ** 'shop.CAFÉ' names shop_café). */
      char *zLow = relLowerName(zDot + 1);
      zLooked =
          zLow ? sqlite3_mprintf("%.*s_%s", (int)(zDot - zSpec), zSpec, zLow)
               : 0;
      sqlite3_free(zLow);
      if (zLooked == 0) return SQLITE_NOMEM;
      rc = relTableName(db, zLooked, REL_TABLE_ORDINARY, &zTab);
    } else if (zTab == 0 && rc == SQLITE_OK && zDot == 0) {
      /* A class name: the model's name is its str.lower(). */
      char *zLow = relLowerName(zSpec);
      if (zLow == 0) return SQLITE_NOMEM;
      rc = relTableName(db, zLow, REL_TABLE_ORDINARY, &zTab);
      if (rc == SQLITE_OK && zTab == 0)
        rc = relTablesEndingWith(db, zLow, &zTab, &nFound);
      if (rc == SQLITE_OK && nFound > 1) {
        sqlite3_free(zTab);
        rc = relError(
            pzErr, SQLITE_ERROR,
            "relext: %smodel %Q is ambiguous: more than one table <app>_%s; "
            "name the table",
            zCtx, zSpec, zLow);
        sqlite3_free(zLow);
        return rc;
      }
      sqlite3_free(zLow);
    }
  }
  if (rc == SQLITE_NOMEM) {
    /* the caller reports out of memory */
  } else if (rc != SQLITE_OK) {
    rc = relError(pzErr, rc, "relext: %s%s", zCtx, sqlite3_errmsg(db));
  } else if (zTab == 0 && zLooked) {
    rc = relError(pzErr, SQLITE_ERROR,
                  "relext: %sno such table for %s %Q (looked for %s)", zCtx,
                  zRole, zSpec, zLooked);
  } else if (zTab == 0) {
    rc = relError(pzErr, SQLITE_ERROR, "relext: %sno such table for %s %Q",
                  zCtx, zRole, zSpec);
  } else if (relIsReservedName(zTab)) {
    rc = relError(pzErr, SQLITE_ERROR, "relext: %stable %Q is reserved", zCtx,
                  zTab);
  }
  sqlite3_free(zLooked);
  if (rc) {
    sqlite3_free(zTab);
    zTab = 0;
  }
  *pzTab = zTab;
  return rc;
}

/* Python's keywords (a related_name may not be one). */
int relIsPyKeyword(const char *z) {
  static const char *az[] = {
      "False",  "None",   "True",    "and",      "as",       "assert", "async",
      "await",  "break",  "class",   "continue", "def",      "del",    "elif",
      "else",   "except", "finally", "for",      "from",     "global", "if",
      "import", "in",     "is",      "lambda",   "nonlocal", "not",    "or",
      "pass",   "raise",  "return",  "try",      "while",    "with",   "yield"};
  size_t i;
  for (i = 0; i < sizeof(az) / sizeof(az[0]); i++) {
    if (strcmp(z, az[i]) == 0) return 1;
  }
  return 0;
}

/* Names of the accessor tables of a definition (caller frees); the
** reverse one is NULL when the relationship has none. */
char *relAccessorForward(const RelDef *p) {
  return sqlite3_mprintf("%s__%s", p->zModel, p->zField);
}

char *relAccessorReverse(const RelDef *p) {
  if (relDefHidden(p) || (p->eKind == REL_M2M && p->bSymmetrical)) return 0;
  return sqlite3_mprintf("%s__%s", p->zTarget, p->zRelName);
}
