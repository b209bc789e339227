/*
** lookup.c -- rel_lookup(model, path, value): Django's double-underscore
** lookups across relationships.
**
**   SELECT key FROM rel_lookup('category', 'articles__tags__name', 'django');
**   SELECT * FROM category
**    WHERE id IN rel_lookup('category', 'articles__title__icontains', 'orm');
**
** returns the distinct keys (primary key values, or rowids for a table
** without a single-column primary key) of the `model` rows that
** Category.objects.filter(articles__tags__name='django') would return, in
** ascending order. It is an eponymous table-valued virtual table:
**
**   CREATE TABLE rel_lookup(key, model HIDDEN, path HIDDEN, value HIDDEN)
**
** The path, split at "__", is
**   step*  [column]  [lookup]
** where each step follows a relationship of the current table:
**   - forward, by field name: a ForeignKey / OneToOneField / ManyToManyField
**     declared on the current table (article: 'category', 'tags');
**   - reverse, by related_query_name: a relationship pointing at the current
**     table (category: 'articles'; auth_user: 'article' when no related_name
**     was given). Relations hidden by a related_name ending in '+' are still
**     followed by their query name, as in Django, but are not listed among
**     the choices; the hidden reverse side of a symmetrical 'self'
**     ManyToManyField is not a step (Django names it '<field>_rel_+').
** then optionally a column of the table reached (any column name, or 'pk').
** Field, relation and lookup names are matched with their letter case, as
** Django matches them (SQL would take TITLE for title); the model is a
** table name, whose case SQL ignores. A NUL byte in the model or path is
** part of the name, which then matches nothing (Django's FieldError); it
** shows as \0 in messages.
** When the path ends at a relationship, its key is compared, as in Django:
** 'category' is 'category__id' is 'category__pk' (article.category_id);
** 'tags' compares the tag key in the junction; a reverse step compares the
** key of the related row ('articles' = article.id).
**
** Lookups (the last part; exact when none):
**   exact, iexact          =, or case-insensitive (ASCII) equality; a NULL
**                          value means isnull=True, as in Django
**   contains, icontains    substring; startswith, istartswith, endswith,
**                          iendswith: both forms ignore ASCII case, as on
**                          Django's SQLite backend (LIKE ... ESCAPE '\',
**                          with \ % _ of the value escaped)
**   gt, gte, lt, lte       comparisons (with the column's affinity)
**   in                     value is a JSON array ('[1, 2]', '["a", "b"]')
**                          of plain values (an array or object item, or a
**                          JSON object, is an error), or else a
**                          comma-separated list ('1,2,3', items trimmed of
**                          spaces, compared with the column's affinity); a
**                          non-text value is a one-item list
**   range                  value is a JSON array of two bounds (BETWEEN)
**   isnull                 value true/false/1/0 (any case)
** A path ending at a relationship takes only exact, in, gt, gte, lt, lte
** and isnull (Django's related lookups).
**
** How it works: xFilter resolves the path against the loaded catalog
** (pCtx->aDef) and the tables' columns, builds ONE query
**   SELECT DISTINCT t0.pk FROM main.model AS t0 JOIN ... WHERE cond ORDER BY 1
** with a join per step (two for a ManyToManyField: junction, then target),
** and runs it. Names reach the SQL only through %w; the value is always a
** bound parameter. Joins are inner joins, or LEFT joins when the condition
** is isnull=True (Django promotes joins the same way). A final join that
** only reads the joined key is left out (Django's join trimming), so
** 'category__id' reads article.category_id. xBestIndex requires all three
** hidden arguments and returns SQLITE_CONSTRAINT for a plan without them.
**
** Errors (all start with "relext: "):
**   no such table: X
**   Cannot resolve keyword 'x' into field. Choices are: a, b, c
**       (an unknown name where a field is expected; the choices are the
**       table's columns, forward relationship names and visible reverse
**       query names, sorted, as Django's FieldError lists them)
**   Unsupported lookup 'x' for T.C or join on the field not permitted
**   Related Field got invalid lookup: x
**   Cannot use None as a query value
**   The value for an isnull lookup must be True or False
**   malformed JSON array for an in lookup: ...   (or for a range lookup)
**   a range lookup takes a JSON array of two values
**
** Limits: no transforms (year, lower, ...), no regex; contains and the
** startswith family ignore ASCII case as Django's SQLite backend makes them
** do (Django documents them as case-sensitive), and fold ASCII only, like
** SQLite's LIKE (and follow PRAGMA case_sensitive_like, as Django's would).
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

/* Columns of the virtual table. */
#define LOOKUP_SCHEMA                                                          \
  "CREATE TABLE x(key, model HIDDEN, path HIDDEN, value HIDDEN)"
#define LOOKUP_KEY 0
#define LOOKUP_MODEL 1
#define LOOKUP_PATH 2
#define LOOKUP_VALUE 3

/* What a NUL byte of the model or path becomes while the path is resolved
** (see lookupResolve). */
#define LOOKUP_NUL '\x01'

/* Lookup operators. */
#define OP_EXACT 0
#define OP_IEXACT 1
#define OP_CONTAINS 2
#define OP_ICONTAINS 3
#define OP_STARTSWITH 4
#define OP_ISTARTSWITH 5
#define OP_ENDSWITH 6
#define OP_IENDSWITH 7
#define OP_GT 8
#define OP_GTE 9
#define OP_LT 10
#define OP_LTE 11
#define OP_IN 12
#define OP_RANGE 13
#define OP_ISNULL 14

/* The names, in the order above; azOpSorted is the order error messages
** list them in. */
static const char *const azOpName[] = {
    "exact",       "iexact",   "contains",  "icontains", "startswith",
    "istartswith", "endswith", "iendswith", "gt",        "gte",
    "lt",          "lte",      "in",        "range",     "isnull"};
#define N_OP ((int)(sizeof(azOpName) / sizeof(azOpName[0])))
static const char *azOpSorted =
    "contains, endswith, exact, gt, gte, icontains, iendswith, iexact, in, "
    "isnull, istartswith, lt, lte, range, startswith";

typedef struct LookupCursor LookupCursor;
struct LookupCursor {
  sqlite3_vtab_cursor base; /* base class - must be first */
  sqlite3_stmt *pStmt;      /* the one query, positioned on the current row */
  int bEof;                 /* no more rows */
  sqlite3_int64 iRow;       /* rowid of the current row */
  sqlite3_value *apArg[3];  /* the arguments, read back by xColumn */
};

/* One step of a resolved path. */
typedef struct LookupHop LookupHop;
struct LookupHop {
  int iDef;     /* index into pCtx->aDef */
  int bReverse; /* followed from the target back to the model */
};

/* A resolved path. */
typedef struct LookupPlan LookupPlan;
struct LookupPlan {
  char *zModel;    /* the real name of the model table */
  LookupHop *aHop; /* relationship steps */
  int nHop;
  char *zCol; /* final column of the table reached, or NULL when the path
                 ends at a relationship */
  int eOp;    /* OP_xxx */
};

/* A list of values for the in and range lookups. */
typedef struct LookupList LookupList;
struct LookupList {
  sqlite3_value **a;
  int n;
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static void lookupPlanClear(LookupPlan *p) {
  sqlite3_free(p->zModel);
  sqlite3_free(p->aHop);
  sqlite3_free(p->zCol);
  memset(p, 0, sizeof(*p));
}

static void lookupListClear(LookupList *p) {
  int i;
  for (i = 0; i < p->n; i++)
    sqlite3_value_free(p->a[i]);
  sqlite3_free(p->a);
  memset(p, 0, sizeof(*p));
}

static int lookupListAdd(LookupList *p, sqlite3_value *v) {
  sqlite3_value **a;
  sqlite3_value *pDup = sqlite3_value_dup(v);
  if (pDup == 0) return SQLITE_NOMEM;
  a = sqlite3_realloc64(p->a, sizeof(*a) * (size_t)(p->n + 1));
  if (a == 0) {
    sqlite3_value_free(pDup);
    return SQLITE_NOMEM;
  }
  p->a = a;
  p->a[p->n++] = pDup;
  return SQLITE_OK;
}

static int lookupOp(const char *z) {
  int i;
  for (i = 0; i < N_OP; i++) {
    if (strcmp(z, azOpName[i]) == 0) return i;
  }
  return -1;
}

/* The table a hop arrives at. */
static const char *hopTo(const RelDef *d, const LookupHop *h) {
  return h->bReverse ? d->zModel : d->zTarget;
}

/* Is definition d reachable as a reverse step (a symmetrical 'self'
** ManyToManyField has no reverse side in Django)? */
static int lookupHasReverse(const RelDef *d) {
  if (d->eKind == REL_M2M && d->bSymmetrical &&
      sqlite3_stricmp(d->zModel, d->zTarget) == 0)
    return 0;
  return d->zRelQuery && d->zRelQuery[0];
}

/* The relationship named zName at table zTab, or -1. */
static int lookupFindRel(RelCtx *p, const char *zTab, const char *zName,
                         int *pbReverse) {
  int i;
  for (i = 0; i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    if (sqlite3_stricmp(d->zModel, zTab) == 0 &&
        strcmp(d->zField, zName) == 0) {
      *pbReverse = 0;
      return i;
    }
  }
  for (i = 0; i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    if (sqlite3_stricmp(d->zTarget, zTab) == 0 && lookupHasReverse(d) &&
        strcmp(d->zRelQuery, zName) == 0) {
      *pbReverse = 1;
      return i;
    }
  }
  return -1;
}

/* Column zCol of zTab ('pk' is the primary key), or NULL when there is
** none. Names are matched with their letter case, as Django matches field
** names (SQLite would take TITLE for title). */
static char *lookupColumn(sqlite3 *db, const char *zTab, const char *zCol,
                          int *pRc) {
  char *zRet = 0;
  if (strcmp(zCol, "pk") == 0) {
    *pRc = relPkColumn(db, zTab, &zRet);
    return zRet;
  }
  /* rowid is a column of every rowid table, as in SQL. */
  *pRc = relColumnName(db, zTab, zCol, 1, &zRet);
  if (zRet && strcmp(zRet, zCol) != 0) {
    /* the column's name in another letter case: no match for Django */
    sqlite3_free(zRet);
    zRet = 0;
    if (strcmp(zCol, "rowid") == 0) {
      /* a column ROWID hides the rowid; SQL's "rowid" then names it */
      zRet = relStrdup("rowid");
      if (zRet == 0) *pRc = SQLITE_NOMEM;
    }
  }
  return zRet;
}

static int lookupCmpStr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The "Cannot resolve keyword" error for zName at table zTab: the choices
** are the table's columns, its forward relationship names and the query
** names of the visible relationships that point at it, sorted and without
** repeats (Django lists field names and attnames, e.g. category and
** category_id). */
static char *lookupChoicesError(RelCtx *p, const char *zTab, const char *zName,
                                int *pRc) {
  char **az = 0, **azCol = 0;
  int n = 0, nCol = 0, i;
  RelStr s = {0};
  char *zRet = 0;
  int rc = relColumnNames(p->db, zTab, &azCol, &nCol);

  if (rc) {
    *pRc = rc;
    return 0;
  }
  az = sqlite3_malloc64(sizeof(char *) * (size_t)(p->nDef * 2 + nCol + 1));
  if (az == 0) {
    relColumnNamesFree(azCol, nCol);
    *pRc = SQLITE_NOMEM;
    return 0;
  }
  for (i = 0; rc == SQLITE_OK && i < p->nDef; i++) {
    const RelDef *d = &p->aDef[i];
    if (sqlite3_stricmp(d->zModel, zTab) == 0) {
      if ((az[n++] = relStrdup(d->zField)) == 0) rc = SQLITE_NOMEM;
    }
    if (rc == SQLITE_OK && sqlite3_stricmp(d->zTarget, zTab) == 0 &&
        lookupHasReverse(d) && !relDefHidden(d)) {
      if ((az[n++] = relStrdup(d->zRelQuery)) == 0) rc = SQLITE_NOMEM;
    }
  }
  /* The columns: moved over, not copied. */
  for (i = 0; i < nCol; i++)
    az[n++] = azCol[i];
  sqlite3_free(azCol);
  if (rc == SQLITE_OK) {
    int nOut = 0;
    qsort(az, (size_t)n, sizeof(char *), lookupCmpStr);
    relStrPrintf(&s,
                 "relext: Cannot resolve keyword '%s' into field. "
                 "Choices are: ",
                 zName);
    for (i = 0; i < n; i++) {
      if (i > 0 && strcmp(az[i], az[i - 1]) == 0) continue;
      relStrPrintf(&s, "%s%s", nOut++ ? ", " : "", az[i]);
    }
    zRet = relStrFinish(&s);
    if (zRet == 0) rc = SQLITE_NOMEM;
  }
  for (i = 0; i < n; i++)
    sqlite3_free(az[i]);
  sqlite3_free(az);
  relStrReset(&s);
  *pRc = rc;
  return zRet;
}

/* ------------------------------------------------------------------ */
/* Resolving a path                                                    */

/* Resolve zPath from table zModel into pPlan. On a user error, returns
** SQLITE_ERROR with *pzErr set. bNul: the arguments held NUL bytes, which
** lookupArgText() turned into LOOKUP_NUL: a name holding one matches
** nothing (no table, field or lookup name has a NUL), and messages show it
** as \0. */
static int lookupResolve(RelCtx *p, const char *zModel, const char *zPath,
                         int bNul, LookupPlan *pPlan, char **pzErr) {
  sqlite3 *db = p->db;
  int rc = SQLITE_OK;
  char *zCopy = 0;
  char *zPart;
  const char *zCur; /* table reached so far */
  int bOp = 0;      /* a lookup name has been read */
  int iPart;

  memset(pPlan, 0, sizeof(*pPlan));
  pPlan->eOp = OP_EXACT;
  if (bNul && strchr(zModel, LOOKUP_NUL)) {
    rc = relError(pzErr, SQLITE_ERROR, "relext: no such table: %s", zModel);
    goto done;
  }
  rc = relTableName(db, zModel, REL_TABLE_ANY, &pPlan->zModel);
  if (rc) goto done;
  if (pPlan->zModel == 0 && strchr(zModel, '.')) {
    /* Django's 'app_label.ModelName'; a name that resolves to no table is
    ** "no such table" below. */
    char *zIgnore = 0;
    rc = relResolveModel(db, zModel, zModel, "", "target", &pPlan->zModel,
                         &zIgnore);
    sqlite3_free(zIgnore);
    if (rc == SQLITE_ERROR) rc = SQLITE_OK;
    if (rc) goto done;
  }
  if (pPlan->zModel == 0) {
    rc = relError(pzErr, SQLITE_ERROR, "relext: no such table: %s", zModel);
    goto done;
  }
  zCur = pPlan->zModel;
  pPlan->aHop = sqlite3_malloc64(sizeof(LookupHop) * (strlen(zPath) / 2 + 1));
  zCopy = relStrdup(zPath);
  if (pPlan->aHop == 0 || zCopy == 0) {
    rc = SQLITE_NOMEM;
    goto done;
  }

  /* Split at "__" in place and read the parts one by one. */
  zPart = zCopy;
  for (iPart = 0; zPart; iPart++) {
    char *zSep = strstr(zPart, "__");
    if (zSep) {
      zSep[0] = 0;
      zSep += 2;
    }
    if (bOp) {
      /* Nothing follows a lookup: Django would try the lookup as a
      ** transform, which relext does not have. */
      if (pPlan->zCol) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: Unsupported lookup '%s' for %s.%s "
                      "or join on the field not permitted",
                      zPart, zCur, pPlan->zCol);
      } else {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: Related Field got invalid lookup: %s", zPart);
      }
      goto done;
    }
    if (pPlan->zCol == 0) {
      /* Expecting a field of zCur. */
      int bReverse = 0;
      int bNone = bNul && strchr(zPart, LOOKUP_NUL) != 0; /* matches nothing */
      int iDef = bNone ? -1 : lookupFindRel(p, zCur, zPart, &bReverse);
      if (iDef >= 0) {
        LookupHop *h = &pPlan->aHop[pPlan->nHop++];
        h->iDef = iDef;
        h->bReverse = bReverse;
        zCur = hopTo(&p->aDef[iDef], h);
      } else {
        pPlan->zCol = bNone ? 0 : lookupColumn(db, zCur, zPart, &rc);
        if (rc) goto done;
        if (pPlan->zCol == 0) {
          int eOp = iPart > 0 && !bNone ? lookupOp(zPart) : -1;
          if (eOp < 0) {
            *pzErr = lookupChoicesError(p, zCur, zPart, &rc);
            if (rc == SQLITE_OK) rc = SQLITE_ERROR;
            goto done;
          }
          pPlan->eOp = eOp;
          bOp = 1;
        }
      }
    } else {
      /* After a column: a lookup name. */
      int eOp = bNul && strchr(zPart, LOOKUP_NUL) ? -1 : lookupOp(zPart);
      if (eOp < 0) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: Unsupported lookup '%s' for %s.%s "
                      "or join on the field not permitted. "
                      "Lookups are: %s",
                      zPart, zCur, pPlan->zCol, azOpSorted);
        goto done;
      }
      pPlan->eOp = eOp;
      bOp = 1;
    }
    zPart = zSep;
  }

  /* A path ending at a relationship takes Django's related lookups. */
  if (pPlan->zCol == 0) {
    switch (pPlan->eOp) {
    case OP_EXACT:
    case OP_IN:
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
    case OP_ISNULL:
      break;
    default:
      rc = relError(pzErr, SQLITE_ERROR,
                    "relext: Related Field got invalid lookup: %s",
                    azOpName[pPlan->eOp]);
      goto done;
    }
  }

done:
  sqlite3_free(zCopy);
  if (rc && rc != SQLITE_NOMEM)
    rc = relError(pzErr, rc, "relext: %s", sqlite3_errmsg(db));
  if (bNul && *pzErr && strchr(*pzErr, LOOKUP_NUL)) {
    /* show the NUL bytes of the arguments as \0 */
    RelStr e = {0};
    const char *z;
    for (z = *pzErr; *z; z++) {
      if (*z == LOOKUP_NUL)
        relStrAppend(&e, "\\0", 2);
      else
        relStrAppend(&e, z, 1);
    }
    sqlite3_free(*pzErr);
    *pzErr = relStrFinish(&e);
    if (*pzErr == 0) rc = SQLITE_NOMEM;
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

/* Is the isnull value true (1), false (0) or invalid (-1)? */
static int lookupBool(sqlite3_value *v) {
  switch (sqlite3_value_type(v)) {
  case SQLITE_INTEGER: {
    sqlite3_int64 i = sqlite3_value_int64(v);
    return i == 0 ? 0 : i == 1 ? 1 : -1;
  }
  case SQLITE_TEXT: {
    const char *z = (const char *)sqlite3_value_text(v);
    if (sqlite3_stricmp(z, "true") == 0 || strcmp(z, "1") == 0) return 1;
    if (sqlite3_stricmp(z, "false") == 0 || strcmp(z, "0") == 0) return 0;
    return -1;
  }
  }
  return -1;
}

/* The value of an in or range lookup as a list: a JSON array (of plain
** values: an item that is an array or object is an error, as Django
** cannot compare a field with a list either), else (in only) a
** comma-separated list, else one value. A text that starts with '{' is
** taken for JSON, and a JSON object is no list: an error. */
static int lookupList(sqlite3 *db, sqlite3_value *v, int bRange,
                      LookupList *pList, char **pzErr) {
  int rc = SQLITE_OK;
  const char *z;
  const char *zWhat = bRange ? "a range" : "an in";
  if (sqlite3_value_type(v) != SQLITE_TEXT) {
    if (bRange) goto bad_range;
    return lookupListAdd(pList, v);
  }
  z = (const char *)sqlite3_value_text(v);
  if (z == 0) return SQLITE_NOMEM;
  while (*z == ' ' || *z == '\t' || *z == '\n' || *z == '\r')
    z++;
  if (*z == '{') {
    return relError(pzErr, SQLITE_ERROR,
                    "relext: malformed JSON array for %s lookup: the value "
                    "is a JSON object, not an array",
                    zWhat);
  }
  if (*z == '[') {
    sqlite3_stmt *pStmt = 0;
    rc = sqlite3_prepare_v2(db,
                            "SELECT value, type, key FROM json_each(?1) "
                            "WHERE json_type(?1)='array' ORDER BY key",
                            -1, &pStmt, 0);
    if (rc) return relError(pzErr, rc, "relext: %s", sqlite3_errmsg(db));
    sqlite3_bind_value(pStmt, 1, v);
    while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
      sqlite3_value *pItem = sqlite3_column_value(pStmt, 0);
      const char *zType = (const char *)sqlite3_column_text(pStmt, 1);
      if (zType &&
          (strcmp(zType, "array") == 0 || strcmp(zType, "object") == 0)) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: malformed JSON array for %s lookup: item %d "
                      "is an %s, not a value",
                      zWhat, sqlite3_column_int(pStmt, 2), zType);
        break;
      }
      if (sqlite3_value_type(pItem) == SQLITE_NULL && !bRange) continue;
      rc = lookupListAdd(pList, pItem);
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_finalize(pStmt);
      if (rc) {
        rc = relError(pzErr, rc,
                      "relext: malformed JSON array for %s lookup: %s", zWhat,
                      sqlite3_errmsg(db));
      }
    } else {
      sqlite3_finalize(pStmt);
    }
    if (rc == SQLITE_OK && bRange && pList->n != 2) goto bad_range;
    return rc;
  }
  if (bRange) goto bad_range;
  /* A comma-separated list, each item trimmed, as text. */
  {
    sqlite3_stmt *pStmt = 0;
    rc = sqlite3_prepare_v2(db, "SELECT trim(?1)", -1, &pStmt, 0);
    while (rc == SQLITE_OK) {
      const char *zEnd = strchr(z, ',');
      size_t n = zEnd ? (size_t)(zEnd - z) : strlen(z);
      sqlite3_bind_text(pStmt, 1, z, (int)n, SQLITE_STATIC);
      if (sqlite3_step(pStmt) == SQLITE_ROW) {
        rc = lookupListAdd(pList, sqlite3_column_value(pStmt, 0));
      }
      sqlite3_reset(pStmt);
      if (zEnd == 0) break;
      z = zEnd + 1;
    }
    sqlite3_finalize(pStmt);
  }
  return rc;

bad_range:
  return relError(pzErr, SQLITE_ERROR,
                  "relext: a range lookup takes a JSON array of two "
                  "values");
}

/* The LIKE pattern of a text lookup: z with \, % and _ escaped (as
** Django escapes them), between zPre and zPost. */
static char *lookupLikePattern(const char *z, const char *zPre,
                               const char *zPost) {
  RelStr s = {0};
  relStrAppend(&s, zPre, (size_t)-1);
  for (; *z; z++) {
    if (*z == '\\' || *z == '%' || *z == '_') relStrAppend(&s, "\\", 1);
    relStrAppend(&s, z, 1);
  }
  relStrAppend(&s, zPost, (size_t)-1);
  return relStrFinish(&s);
}

/* ------------------------------------------------------------------ */
/* Building the query                                                  */

/* Append the join of one table: "[LEFT] JOIN main.zTab AS <a><i> ON
** <a><i>.zCol = <b><j>.zOther". */
static void lookupJoin(RelStr *s, int bLeft, const char *zTab, char cA, int iA,
                       const char *zCol, char cB, int iB, const char *zOther) {
  relStrPrintf(s, " %sJOIN main.\"%w\" AS %c%d ON %c%d.\"%w\" = %c%d.\"%w\"",
               bLeft ? "LEFT " : "", zTab, cA, iA, cA, iA, zCol, cB, iB,
               zOther);
}

/* Build the query for pPlan and value v and prepare it into *ppStmt. */
static int lookupPrepare(RelCtx *p, const LookupPlan *pPlan, sqlite3_value *v,
                         sqlite3_stmt **ppStmt, char **pzErr) {
  sqlite3 *db = p->db;
  RelStr s = {0};
  char *zPk = 0;     /* key of the model */
  char *zLastPk = 0; /* key of the model of a trimmed reverse step */
  char *zExpr = 0;   /* the compared expression */
  char *zSql = 0;
  char *zLike = 0;
  LookupList list = {0, 0};
  int rc = SQLITE_OK;
  int eOp = pPlan->eOp;
  int bNull = sqlite3_value_type(v) == SQLITE_NULL;
  int bLeft = 0;
  int bTrim = 0; /* the last hop only reads its key */
  int nJoin;     /* hops joined in full */
  int i;

  /* exact/iexact None means isnull=True, as in Django. */
  if (bNull && (eOp == OP_EXACT || eOp == OP_IEXACT)) {
    eOp = OP_ISNULL;
  } else if (bNull) {
    return relError(pzErr, SQLITE_ERROR,
                    "relext: Cannot use None as a query value");
  }
  if (eOp == OP_ISNULL) {
    int b = bNull ? 1 : lookupBool(v);
    if (b < 0) {
      return relError(pzErr, SQLITE_ERROR,
                      "relext: The value for an isnull lookup must "
                      "be True or False");
    }
    bLeft = b;
  }
  if (eOp == OP_IN || eOp == OP_RANGE) {
    rc = lookupList(db, v, eOp == OP_RANGE, &list, pzErr);
    if (rc) goto done;
  }

  /* Trimming: does the last hop only read the joined key? */
  if (pPlan->nHop > 0) {
    const LookupHop *h = &pPlan->aHop[pPlan->nHop - 1];
    const RelDef *d = &p->aDef[h->iDef];
    if (pPlan->zCol == 0) {
      bTrim = 1;
    } else if (!h->bReverse && d->eKind != REL_M2M) {
      bTrim = sqlite3_stricmp(pPlan->zCol, d->zToField) == 0;
    } else if (!h->bReverse && d->eKind == REL_M2M) {
      bTrim = sqlite3_stricmp(pPlan->zCol, d->zDstKey) == 0;
    } else if (h->bReverse && d->eKind == REL_M2M) {
      bTrim = sqlite3_stricmp(pPlan->zCol, d->zSrcKey) == 0;
    }
  }
  nJoin = bTrim ? pPlan->nHop - 1 : pPlan->nHop;

  rc = relPkColumn(db, pPlan->zModel, &zPk);
  if (rc) goto done;
  relStrPrintf(&s, "SELECT DISTINCT t0.\"%w\" FROM main.\"%w\" AS t0", zPk,
               pPlan->zModel);
  for (i = 1; i <= pPlan->nHop; i++) {
    const LookupHop *h = &pPlan->aHop[i - 1];
    const RelDef *d = &p->aDef[h->iDef];
    if (i > nJoin) {
      /* The trimmed last hop: join no more than needed for the key. */
      if (d->eKind == REL_M2M) {
        if (h->bReverse) {
          lookupJoin(&s, bLeft, d->zDbTable, 'j', i, d->zDstCol, 't', i - 1,
                     d->zDstKey);
          zExpr = sqlite3_mprintf("j%d.\"%w\"", i, d->zSrcCol);
        } else {
          lookupJoin(&s, bLeft, d->zDbTable, 'j', i, d->zSrcCol, 't', i - 1,
                     d->zSrcKey);
          zExpr = sqlite3_mprintf("j%d.\"%w\"", i, d->zDstCol);
        }
      } else if (h->bReverse) {
        rc = relPkColumn(db, d->zModel, &zLastPk);
        if (rc) goto done;
        lookupJoin(&s, bLeft, d->zModel, 't', i, d->zColumn, 't', i - 1,
                   d->zToField);
        zExpr = sqlite3_mprintf("t%d.\"%w\"", i, zLastPk);
      } else {
        zExpr = sqlite3_mprintf("t%d.\"%w\"", i - 1, d->zColumn);
      }
      if (zExpr == 0) {
        rc = SQLITE_NOMEM;
        goto done;
      }
      break;
    }
    if (d->eKind == REL_M2M) {
      if (h->bReverse) {
        lookupJoin(&s, bLeft, d->zDbTable, 'j', i, d->zDstCol, 't', i - 1,
                   d->zDstKey);
        lookupJoin(&s, bLeft, d->zModel, 't', i, d->zSrcKey, 'j', i,
                   d->zSrcCol);
      } else {
        lookupJoin(&s, bLeft, d->zDbTable, 'j', i, d->zSrcCol, 't', i - 1,
                   d->zSrcKey);
        lookupJoin(&s, bLeft, d->zTarget, 't', i, d->zDstKey, 'j', i,
                   d->zDstCol);
      }
    } else if (h->bReverse) {
      lookupJoin(&s, bLeft, d->zModel, 't', i, d->zColumn, 't', i - 1,
                 d->zToField);
    } else {
      lookupJoin(&s, bLeft, d->zTarget, 't', i, d->zToField, 't', i - 1,
                 d->zColumn);
    }
  }
  if (zExpr == 0) {
    zExpr = sqlite3_mprintf("t%d.\"%w\"", nJoin, pPlan->zCol);
    if (zExpr == 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
  }

  /* The condition. ?1 is the value (or its pattern); in/range use ?1..?n. */
  relStrPrintf(&s, " WHERE ");
  switch (eOp) {
  case OP_EXACT:
    relStrPrintf(&s, "%s = ?1", zExpr);
    break;
  case OP_IEXACT:
  case OP_CONTAINS:
  case OP_ICONTAINS:
  case OP_STARTSWITH:
  case OP_ISTARTSWITH:
  case OP_ENDSWITH:
  case OP_IENDSWITH:
    /* Django's SQLite backend: LIKE for all six, so contains ignores
    ** ASCII case as icontains does */
    relStrPrintf(&s, "%s LIKE ?1 ESCAPE '\\'", zExpr);
    break;
  case OP_GT:
    relStrPrintf(&s, "%s > ?1", zExpr);
    break;
  case OP_GTE:
    relStrPrintf(&s, "%s >= ?1", zExpr);
    break;
  case OP_LT:
    relStrPrintf(&s, "%s < ?1", zExpr);
    break;
  case OP_LTE:
    relStrPrintf(&s, "%s <= ?1", zExpr);
    break;
  case OP_RANGE:
    relStrPrintf(&s, "%s BETWEEN ?1 AND ?2", zExpr);
    break;
  case OP_IN:
    if (list.n == 0) {
      relStrPrintf(&s, "0"); /* Django: an empty in matches nothing */
    } else {
      relStrPrintf(&s, "%s IN (", zExpr);
      for (i = 1; i <= list.n; i++)
        relStrPrintf(&s, "%s?%d", i > 1 ? ", " : "", i);
      relStrPrintf(&s, ")");
    }
    break;
  case OP_ISNULL:
    relStrPrintf(&s, "%s IS %sNULL", zExpr, bLeft ? "" : "NOT ");
    break;
  }
  relStrPrintf(&s, " ORDER BY 1");
  zSql = relStrFinish(&s);
  if (zSql == 0) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  rc = sqlite3_prepare_v2(db, zSql, -1, ppStmt, 0);
  if (rc) {
    rc = relError(pzErr, rc, "relext: %s", sqlite3_errmsg(db));
    goto done;
  }

  /* Bind. Text lookups compare the text of the value, as Django's str(). */
  switch (eOp) {
  case OP_IN:
  case OP_RANGE:
    for (i = 0; i < list.n; i++)
      sqlite3_bind_value(*ppStmt, i + 1, list.a[i]);
    break;
  case OP_ISNULL:
    break;
  case OP_IEXACT:
  case OP_CONTAINS:
  case OP_ICONTAINS:
  case OP_STARTSWITH:
  case OP_ISTARTSWITH:
  case OP_ENDSWITH:
  case OP_IENDSWITH: {
    const char *z = (const char *)sqlite3_value_text(v);
    int bLead = eOp == OP_CONTAINS || eOp == OP_ICONTAINS ||
                eOp == OP_ENDSWITH || eOp == OP_IENDSWITH;
    int bTrail = eOp == OP_CONTAINS || eOp == OP_ICONTAINS ||
                 eOp == OP_STARTSWITH || eOp == OP_ISTARTSWITH;
    if (z == 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    zLike = lookupLikePattern(z, bLead ? "%" : "", bTrail ? "%" : "");
    if (zLike == 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    sqlite3_bind_text(*ppStmt, 1, zLike, -1, SQLITE_TRANSIENT);
    break;
  }
  default:
    sqlite3_bind_value(*ppStmt, 1, v);
    break;
  }

done:
  if (rc && *ppStmt) {
    sqlite3_finalize(*ppStmt);
    *ppStmt = 0;
  }
  relStrReset(&s);
  lookupListClear(&list);
  sqlite3_free(zPk);
  sqlite3_free(zLastPk);
  sqlite3_free(zExpr);
  sqlite3_free(zSql);
  sqlite3_free(zLike);
  return rc;
}

/* ------------------------------------------------------------------ */
/* The virtual table                                                   */

/* xConnect: declare the schema. pAux is the connection's RelCtx.
** Read-only, no side effects: usable from views and triggers. */
static int lookupConnect(sqlite3 *db, void *pAux, int argc,
                         const char *const *argv, sqlite3_vtab **ppVtab,
                         char **pzErr) {
  (void)argc;
  (void)argv;
  (void)pzErr;
  return relVtabConnect(db, pAux, LOOKUP_SCHEMA, SQLITE_VTAB_INNOCUOUS, ppVtab);
}

/* xBestIndex. The only plan, idxNum 1, needs an equality constraint on
** each hidden column; they reach xFilter as argv[0] model, argv[1] path,
** argv[2] value. */
static int lookupBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *p) {
  (void)pVtab;
  return relVtabArgsBestIndex(p, LOOKUP_MODEL, 3, 10000, 100);
}

static int lookupOpen(sqlite3_vtab *p, sqlite3_vtab_cursor **ppCur) {
  int rc = relVtabOpen(sizeof(LookupCursor), ppCur);
  (void)p;
  if (rc == SQLITE_OK) ((LookupCursor *)*ppCur)->bEof = 1;
  return rc;
}

/* xClose: finalizes the query. */
static void lookupArgsFree(LookupCursor *pCur) {
  int i;
  for (i = 0; i < 3; i++) {
    sqlite3_value_free(pCur->apArg[i]);
    pCur->apArg[i] = 0;
  }
}

static int lookupClose(sqlite3_vtab_cursor *cur) {
  sqlite3_finalize(((LookupCursor *)cur)->pStmt);
  lookupArgsFree((LookupCursor *)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* Step the query; set bEof at the end. */
static int lookupStep(LookupCursor *pCur) {
  int rc = sqlite3_step(pCur->pStmt);
  if (rc == SQLITE_ROW) return SQLITE_OK;
  pCur->bEof = 1;
  if (rc == SQLITE_DONE) return SQLITE_OK;
  rc = sqlite3_reset(pCur->pStmt);
  {
    RelVtab *pTab = (RelVtab *)pCur->base.pVtab;
    rc = relError(&pTab->base.zErrMsg, rc, "relext: %s",
                  sqlite3_errmsg(pTab->pCtx->db));
  }
  return rc;
}

/* The text z of argument v as the resolver reads it: z itself, or, when
** the text holds NUL bytes (which would cut z short: 'title\0__gt' would
** run as 'title'), a copy in *pzCopy with each NUL turned into LOOKUP_NUL
** and *pbNul set. NULL: out of memory. */
static const char *lookupArgText(sqlite3_value *v, const char *z, char **pzCopy,
                                 int *pbNul) {
  size_t n = (size_t)sqlite3_value_bytes(v), i;
  if (n <= strlen(z)) return z;
  *pzCopy = sqlite3_malloc64(n + 1);
  if (*pzCopy == 0) return 0;
  memcpy(*pzCopy, z, n);
  (*pzCopy)[n] = 0;
  for (i = 0; i < n; i++) {
    if ((*pzCopy)[i] == 0) (*pzCopy)[i] = LOOKUP_NUL;
  }
  *pbNul = 1;
  return *pzCopy;
}

/* xFilter: resolve the path, build and start the query. */
static int lookupFilter(sqlite3_vtab_cursor *cur, int idxNum,
                        const char *idxStr, int argc, sqlite3_value **argv) {
  LookupCursor *pCur = (LookupCursor *)cur;
  RelVtab *pTab = (RelVtab *)cur->pVtab;
  LookupPlan plan;
  char *zErr = 0;
  char *zModelCopy = 0, *zPathCopy = 0; /* with their NULs shown */
  const char *zModel, *zPath;
  int rc, bNul = 0;
  (void)idxStr;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = 0;
  pCur->bEof = 1;
  pCur->iRow = 0;
  memset(&plan, 0, sizeof(plan));
  lookupArgsFree(pCur);
  if (idxNum != 1 || argc < 3) return SQLITE_OK;
  for (rc = 0; rc < 3; rc++) {
    pCur->apArg[rc] = sqlite3_value_dup(argv[rc]);
    if (pCur->apArg[rc] == 0) return SQLITE_NOMEM;
  }
  zModel = (const char *)sqlite3_value_text(argv[0]);
  zPath = (const char *)sqlite3_value_text(argv[1]);
  if (zModel == 0 || zPath == 0) {
    if (sqlite3_value_type(argv[0]) != SQLITE_NULL &&
        sqlite3_value_type(argv[1]) != SQLITE_NULL)
      return SQLITE_NOMEM;
    rc = relError(&zErr, SQLITE_ERROR,
                  "relext: rel_lookup takes a model, a path and a "
                  "value");
    goto done;
  }
  zModel = lookupArgText(argv[0], zModel, &zModelCopy, &bNul);
  zPath = zModel ? lookupArgText(argv[1], zPath, &zPathCopy, &bNul) : 0;
  if (zPath == 0) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  rc = lookupResolve(pTab->pCtx, zModel, zPath, bNul, &plan, &zErr);
  if (rc == SQLITE_OK)
    rc = lookupPrepare(pTab->pCtx, &plan, argv[2], &pCur->pStmt, &zErr);
  if (rc == SQLITE_OK) {
    pCur->bEof = 0;
    rc = lookupStep(pCur);
  }
done:
  lookupPlanClear(&plan);
  sqlite3_free(zModelCopy);
  sqlite3_free(zPathCopy);
  if (zErr) {
    sqlite3_free(pTab->base.zErrMsg);
    pTab->base.zErrMsg = zErr;
  }
  return rc;
}

static int lookupNext(sqlite3_vtab_cursor *cur) {
  LookupCursor *pCur = (LookupCursor *)cur;
  pCur->iRow++;
  return lookupStep(pCur);
}

static int lookupEof(sqlite3_vtab_cursor *cur) {
  return ((LookupCursor *)cur)->bEof;
}

/* xColumn: the key, or an argument. */
static int lookupColumnValue(sqlite3_vtab_cursor *cur, sqlite3_context *ctx,
                             int i) {
  LookupCursor *pCur = (LookupCursor *)cur;
  if (i == LOOKUP_KEY)
    sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, 0));
  else if (i >= LOOKUP_MODEL && i <= LOOKUP_VALUE && pCur->apArg[i - 1])
    sqlite3_result_value(ctx, pCur->apArg[i - 1]);
  return SQLITE_OK;
}

static int lookupRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  *pRowid = ((LookupCursor *)cur)->iRow + 1;
  return SQLITE_OK;
}

static sqlite3_module lookupModule = {
    0,                 /* iVersion */
    0,                 /* xCreate: eponymous only */
    lookupConnect,     /* xConnect */
    lookupBestIndex,   /* xBestIndex: needs all three arguments */
    relVtabDisconnect, /* xDisconnect */
    0,                 /* xDestroy */
    lookupOpen,        /* xOpen */
    lookupClose,       /* xClose: finalizes the query */
    lookupFilter,      /* xFilter: resolves the path, runs the query */
    lookupNext,        /* xNext */
    lookupEof,         /* xEof */
    lookupColumnValue, /* xColumn */
    lookupRowid,       /* xRowid */
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

int relRegisterLookup(sqlite3 *db, RelCtx *p) {
  return sqlite3_create_module_v2(db, "rel_lookup", &lookupModule, relCtxRef(p),
                                  relCtxUnref);
}
