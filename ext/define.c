/*
** define.c -- rel_define(), rel_define_many() and rel_undefine(): declaring
** relationships.
**
**   SELECT rel_define('article.category', 'ForeignKey', 'category',
**                     'on_delete=models.CASCADE, related_name="articles"');
**   SELECT rel_define('article',
**     'category = models.ForeignKey(Category, on_delete=models.CASCADE)');
**   SELECT rel_undefine('article.category');
**
** rel_define works in three phases, all or nothing:
**   1. understand: parse the arguments (options.c) into a RelDef, resolving
**      Django names ('self', 'app.Model', class names) to real tables and
**      filling in Django's defaults;
**   2. validate: Django's system checks (fields.E302-E309, E320, E321 and
**      the relational ones) and SQLite-side checks (tables, columns, unique
**      to_field, and the key rules of schema.c: no bare-rowid target, key
**      columns and junction columns that compare as the keys they hold);
**      nothing has been written yet when any of them fails;
**   3. create, inside a SAVEPOINT: the key column (ALTER TABLE ADD COLUMN,
**      with the type and collation of the key it holds), its index, the
**      junction table (likewise), the catalog record; then the
**      connection reloads the catalog, which rewrites the stored guard
**      triggers and the TEMP enforcement and accessor objects. Any failure
**      rolls the savepoint back and reloads the previous state.
**
** rel_define_many(json) runs the same three phases for each item of a JSON
** array of rel_define argument lists, inside one savepoint: each written
** definition joins the connection's list (so later items are checked
** against earlier ones, and see the columns and tables they made), and
** the catalog is loaded once at the end instead of once per item -- the
** load (every TEMP trigger and accessor rewritten) is what makes a
** migration of 1,000 rel_define calls take 14 s. A failing item rolls the
** whole batch back.
**
** The same definition again is a no-op that returns the same summary; a
** different definition of an existing field is an error that names
** rel_undefine. rel_undefine removes the record, the accessors and the
** enforcement, and leaves data, columns and junction tables alone.
**
** Both functions change the database, so they are SQLITE_DIRECTONLY: a
** view or trigger planted in an untrusted database cannot call them.
** Every name that reaches SQL is quoted with %w or bound as a parameter.
**
** INVARIANTS
**   - All or nothing: after a failure the database and this connection's
**     definitions are as they were (the savepoint is rolled back and the
**     catalog reloaded); after an error that rolled the whole transaction
**     back (out of memory, I/O), nothing more is written (relTxnLost).
**   - The stored guards are rewritten in the same savepoint as the
**     catalog, so other connections never see one without the other.
**
** LIMITS
**   - rel_undefine leaves data, key columns and junction tables alone.
**   - Django's checks are those listed above; a model's own fields are its
**     columns and its declared relationships.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

/* A parsed but not yet validated rel_define call. */
typedef struct RelInput RelInput;
struct RelInput {
  char *zModel;      /* model table as given */
  char *zField;      /* field name */
  int eKind;         /* REL_xxx */
  char *zTargetSpec; /* target as given */
  PyArg *aOpt;       /* keyword options */
  int nOpt;
  PyVal ruleArg; /* on_delete given positionally (pasted form) */
};

static void relInputClear(RelInput *p) {
  sqlite3_free(p->zModel);
  sqlite3_free(p->zField);
  sqlite3_free(p->zTargetSpec);
  relPyArgsFree(p->aOpt, p->nOpt);
  relPyValClear(&p->ruleArg);
  memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- */
/* Phase 1: understanding the call                                   */

/* The 4-argument form. */
static int relInputFromArgs(RelInput *p, const char *zField, const char *zKind,
                            const char *zTarget, const char *zOptions,
                            char **pzErr) {
  const char *zDot = zField ? strrchr(zField, '.') : 0;
  if (zField == 0 || zDot == 0 || zDot == zField || zDot[1] == 0) {
    return relError(pzErr, SQLITE_ERROR,
                    "relext: field must be 'model.field', got %Q", zField);
  }
  p->zModel = sqlite3_mprintf("%.*s", (int)(zDot - zField), zField);
  p->zField = relStrdup(zDot + 1);
  if (!p->zModel || !p->zField) return SQLITE_NOMEM;
  p->eKind = relParseKind(zKind);
  if (p->eKind == 0) {
    return relError(pzErr, SQLITE_ERROR,
                    "relext: unknown relationship kind %Q: use ForeignKey, "
                    "OneToOneField or ManyToManyField",
                    zKind);
  }
  if (zTarget == 0 || zTarget[0] == 0) {
    return relError(pzErr, SQLITE_ERROR,
                    "relext: %s.%s: a target model is required", p->zModel,
                    p->zField);
  }
  p->zTargetSpec = relStrdup(zTarget);
  if (p->zTargetSpec == 0) return SQLITE_NOMEM;
  if (zOptions) {
    char *zMsg = 0;
    int rc = relParseOptions(zOptions, &p->aOpt, &p->nOpt, &zMsg);
    if (rc == SQLITE_ERROR) {
      rc = relError(pzErr, SQLITE_ERROR, "relext: malformed options: %s", zMsg);
    }
    sqlite3_free(zMsg);
    if (rc) return rc;
  }
  return SQLITE_OK;
}

/* The 2-argument form: rel_define('article', 'category = models...'). */
static int relInputFromLine(RelInput *p, const char *zModel, const char *zLine,
                            char **pzErr) {
  PyVal call;
  char *zMsg = 0;
  int rc, k, nPos = 0;
  if (zModel == 0 || zModel[0] == 0) {
    return relError(pzErr, SQLITE_ERROR, "relext: a model table is required");
  }
  rc = relParseFieldLine(zLine, &p->zField, &call, &zMsg);
  if (rc == SQLITE_ERROR) {
    rc =
        relError(pzErr, SQLITE_ERROR, "relext: malformed field line: %s", zMsg);
  }
  sqlite3_free(zMsg);
  if (rc) return rc;
  p->zModel = relStrdup(zModel);
  if (p->zModel == 0) {
    relPyValClear(&call);
    return SQLITE_NOMEM;
  }
  p->eKind = relParseKind(call.z);
  if (p->eKind == 0) {
    rc = relError(pzErr, SQLITE_ERROR,
                  "relext: unknown relationship kind %Q: use ForeignKey, "
                  "OneToOneField or ManyToManyField",
                  call.z);
    relPyValClear(&call);
    return rc;
  }
  /* Split the call's arguments: positional target and on_delete, the
  ** rest are options. Move them out of call without copying. */
  p->aOpt = sqlite3_malloc64(sizeof(PyArg) * (size_t)(call.nArg + 1));
  if (p->aOpt == 0) {
    relPyValClear(&call);
    return SQLITE_NOMEM;
  }
  for (k = 0; k < call.nArg && rc == SQLITE_OK; k++) {
    PyArg *a = &call.aArg[k];
    if (a->zKey == 0 || strcmp(a->zKey, "to") == 0) {
      if (a->zKey == 0) nPos++;
      if (a->zKey == 0 && nPos == 2 && p->eKind != REL_M2M) {
        p->ruleArg = a->v; /* on_delete given positionally */
        memset(&a->v, 0, sizeof(a->v));
        continue;
      }
      if (a->zKey == 0 && nPos > 1) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: %s.%s: too many positional arguments", zModel,
                      p->zField);
        break;
      }
      if (p->zTargetSpec) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: %s.%s: the target is given twice", zModel,
                      p->zField);
        break;
      }
      if (a->v.eType == PY_STRING) {
        p->zTargetSpec = a->v.z;
      } else if (a->v.eType == PY_NAME) {
        p->zTargetSpec = a->v.z;
      } else {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: %s.%s: the target must be a model name", zModel,
                      p->zField);
        break;
      }
      a->v.z = 0;
      continue;
    }
    p->aOpt[p->nOpt++] = *a;
    memset(a, 0, sizeof(*a));
  }
  relPyValClear(&call);
  if (rc == SQLITE_OK && p->zTargetSpec == 0) {
    rc = relError(pzErr, SQLITE_ERROR,
                  "relext: %s.%s: a target model is required", zModel,
                  p->zField);
  }
  return rc;
}

/* ---------------------------------------------------------------- */
/* Options                                                            */

/* Read a name-like option value (string or bare name). */
static int relOptName(const PyArg *a, char **pz, char **pzErr) {
  if (a->v.eType == PY_STRING || a->v.eType == PY_NAME) {
    if (a->v.eType == PY_NAME && strcmp(a->v.z, "None") == 0) {
      *pz = 0;
      return SQLITE_OK;
    }
    sqlite3_free(*pz);
    *pz = relStrdup(a->v.z);
    return *pz ? SQLITE_OK : SQLITE_NOMEM;
  }
  return relError(pzErr, SQLITE_ERROR, "relext: option %s must be a name",
                  a->zKey);
}

static int relOptBool(const PyArg *a, int *pb, char **pzErr) {
  if ((a->v.eType == PY_NAME || a->v.eType == PY_NUMBER) && a->v.z) {
    if (strcmp(a->v.z, "True") == 0 || strcmp(a->v.z, "1") == 0) {
      *pb = 1;
      return SQLITE_OK;
    }
    if (strcmp(a->v.z, "False") == 0 || strcmp(a->v.z, "0") == 0) {
      *pb = 0;
      return SQLITE_OK;
    }
  }
  return relError(pzErr, SQLITE_ERROR,
                  "relext: option %s must be True or False", a->zKey);
}

/* A literal value: number, string, None, True, False. */
static int relOptLiteral(const PyVal *v, RelValue *pOut, const char *zWhat,
                         char **pzErr) {
  relValueClear(pOut);
  if (v->eType == PY_STRING) {
    pOut->z = relStrdup(v->z);
    if (pOut->z == 0) return SQLITE_NOMEM;
    pOut->eType = SQLITE_TEXT;
    return SQLITE_OK;
  }
  if (v->eType == PY_NUMBER) {
    const char *z = v->z;
    int bReal = strchr(z, '.') || strchr(z, 'e') || strchr(z, 'E');
    if (!bReal) {
      sqlite3_int64 i = 0;
      const char *q = z;
      int neg = 0;
      if (*q == '-' || *q == '+') neg = (*q++ == '-');
      for (; *q; q++) {
        if (i > (sqlite3_int64)922337203685477580LL) {
          return relError(pzErr, SQLITE_ERROR,
                          "relext: %s: integer %s is too large", zWhat, z);
        }
        i = i * 10 + (*q - '0');
        if (i < 0)
          return relError(pzErr, SQLITE_ERROR,
                          "relext: %s: integer %s is too large", zWhat, z);
      }
      pOut->eType = SQLITE_INTEGER;
      pOut->i = neg ? -i : i;
    } else {
      pOut->eType = SQLITE_FLOAT;
      pOut->r = strtod(z, 0);
    }
    return SQLITE_OK;
  }
  if (v->eType == PY_NAME) {
    if (strcmp(v->z, "None") == 0) {
      pOut->eType = SQLITE_NULL;
      return SQLITE_OK;
    }
    if (strcmp(v->z, "True") == 0 || strcmp(v->z, "False") == 0) {
      pOut->eType = SQLITE_INTEGER;
      pOut->i = (v->z[0] == 'T');
      return SQLITE_OK;
    }
  }
  return relError(pzErr, SQLITE_ERROR,
                  "relext: %s must be a literal value (number, 'text', None)",
                  zWhat);
}

/* Names of the options rel_define knows. */
static const char *azIgnored[] = {"blank",     "verbose_name",
                                  "help_text", "limit_choices_to",
                                  "editable",  "db_comment"};
static const char *azKnown[] = {
    "on_delete",  "related_name", "related_query_name",
    "null",       "default",      "db_column",
    "to_field",   "db_index",     "db_constraint",
    "db_table",   "through",      "through_fields",
    "symmetrical"};

static int relIsIgnored(const char *z) {
  size_t i;
  for (i = 0; i < sizeof(azIgnored) / sizeof(azIgnored[0]); i++) {
    if (strcmp(z, azIgnored[i]) == 0) return 1;
  }
  return 0;
}
static int relIsKnown(const char *z) {
  size_t i;
  for (i = 0; i < sizeof(azKnown) / sizeof(azKnown[0]); i++) {
    if (strcmp(z, azKnown[i]) == 0) return 1;
  }
  return 0;
}

/* Does option z apply to relationships of kind eKind? */
static int relOptApplies(const char *z, int eKind) {
  static const char *azFkOnly[] = {"on_delete", "default", "db_column",
                                   "to_field", "db_index"};
  static const char *azM2mOnly[] = {"db_table", "through", "through_fields",
                                    "symmetrical"};
  size_t i;
  for (i = 0; i < sizeof(azFkOnly) / sizeof(azFkOnly[0]); i++) {
    if (strcmp(z, azFkOnly[i]) == 0) return eKind != REL_M2M;
  }
  for (i = 0; i < sizeof(azM2mOnly) / sizeof(azM2mOnly[0]); i++) {
    if (strcmp(z, azM2mOnly[i]) == 0) return eKind == REL_M2M;
  }
  return 1;
}

/* Parse an on_delete value: CASCADE, models.PROTECT, SET(5), ... */
static int relOptRule(const PyVal *v, RelDef *d, char **pzErr) {
  const char *zBase = relPyBaseName(v->z);
  int bPrefixOk = zBase == v->z || sqlite3_strnicmp(v->z, "models.", 7) == 0;
  if ((v->eType == PY_NAME || v->eType == PY_STRING) && bPrefixOk) {
    d->eOnDelete = relRuleByName(zBase, 1);
    if (d->eOnDelete != ON_NONE) return SQLITE_OK;
  }
  if (v->eType == PY_CALL && bPrefixOk && sqlite3_stricmp(zBase, "SET") == 0) {
    if (v->nArg != 1 || v->aArg[0].zKey) {
      return relError(pzErr, SQLITE_ERROR,
                      "relext: %s.%s: SET() takes exactly one value", d->zModel,
                      d->zField);
    }
    d->eOnDelete = ON_SET;
    return relOptLiteral(&v->aArg[0].v, &d->setVal, "SET()", pzErr);
  }
  return relError(
      pzErr, SQLITE_ERROR,
      "relext: %s.%s: unknown on_delete rule %Q: use CASCADE, PROTECT, "
      "RESTRICT, SET_NULL, SET_DEFAULT, SET(value) or DO_NOTHING",
      d->zModel, d->zField, v->z ? v->z : "?");
}

/* Django's default related names use the model name: the table name
** without an "app_" prefix when the model came from 'app.Model'. We use
** the table name as the model name throughout. */

/* Fill in the M2M junction: db_table, through, through_fields. */
static int relResolveJunction(sqlite3 *db, RelDef *d, const char *zThroughSpec,
                              const char *zThroughFields, char **pzErr) {
  int bSelf = sqlite3_stricmp(d->zModel, d->zTarget) == 0;
  int rc = SQLITE_OK, bExists = 0;
  /* through_fields needs a through model, as in Django; relext also takes
  ** it with db_table naming an existing junction, to adopt one whose
  ** columns do not follow the naming rule. */
  if (zThroughFields && zThroughSpec == 0) {
    if (d->zDbTable) rc = relTableExists(db, d->zDbTable, &bExists);
    if (rc) return rc;
    if (!bExists) {
      return relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: ValueError: Cannot specify through_fields without "
          "a through model",
          d->zModel, d->zField);
    }
  }
  if (zThroughSpec) {
    sqlite3_free(d->zThrough);
    rc = relResolveModel(db, d->zModel, zThroughSpec, "", "target",
                         &d->zThrough, pzErr);
    if (rc == SQLITE_NOMEM) return rc;
    if (rc) {
      sqlite3_free(*pzErr);
      *pzErr = 0;
      return relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E331) Field specifies a many-to-many "
          "relation through model %Q, which has not been installed",
          d->zModel, d->zField, zThroughSpec);
    }
    if (d->zDbTable) {
      return relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E340) The field's intermediary table "
          "cannot be given with db_table when through is set",
          d->zModel, d->zField);
    }
    d->zDbTable = relStrdup(d->zThrough);
    if (d->zDbTable == 0) return SQLITE_NOMEM;
  } else if (d->zDbTable == 0) {
    d->zDbTable = sqlite3_mprintf("%s_%s", d->zModel, d->zField);
    if (d->zDbTable == 0) return SQLITE_NOMEM;
  }
  if (zThroughFields) {
    const char *zComma = strchr(zThroughFields, ',');
    const char *z2;
    if (zComma == 0) {
      return relError(pzErr, SQLITE_ERROR,
                      "relext: %s.%s: through_fields must name two columns: "
                      "'source_col, target_col'",
                      d->zModel, d->zField);
    }
    z2 = zComma + 1;
    while (*z2 == ' ')
      z2++;
    d->zSrcCol =
        sqlite3_mprintf("%.*s", (int)(zComma - zThroughFields), zThroughFields);
    if (d->zSrcCol) {
      char *q = d->zSrcCol + strlen(d->zSrcCol);
      while (q > d->zSrcCol && q[-1] == ' ')
        *--q = 0;
    }
    d->zDstCol = sqlite3_mprintf("%s", z2);
    if (d->zDstCol) {
      char *q = d->zDstCol + strlen(d->zDstCol);
      while (q > d->zDstCol && q[-1] == ' ')
        *--q = 0;
    }
    if (!d->zSrcCol || !d->zDstCol) return SQLITE_NOMEM;
    if (!d->zSrcCol[0] || !d->zDstCol[0]) {
      return relError(pzErr, SQLITE_ERROR,
                      "relext: %s.%s: through_fields must name two columns",
                      d->zModel, d->zField);
    }
  } else {
    rc = relTableExists(db, d->zDbTable, &bExists);
    if (rc) return rc;
    if (bSelf) {
      d->zSrcCol = sqlite3_mprintf("from_%s_id", d->zModel);
      d->zDstCol = sqlite3_mprintf("to_%s_id", d->zModel);
    } else {
      d->zSrcCol = sqlite3_mprintf("%s_id", d->zModel);
      d->zDstCol = sqlite3_mprintf("%s_id", d->zTarget);
    }
    if (!d->zSrcCol || !d->zDstCol) return SQLITE_NOMEM;
    if (bExists) {
      /* Adopting an existing table: Django names the columns after the
      ** model class, which is the table name without its app prefix. */
      const char *azEnd[2];
      const char *azPre[2];
      char **apCol[2];
      int k;
      azEnd[0] = d->zModel;
      azEnd[1] = d->zTarget;
      azPre[0] = bSelf ? "from_" : "";
      azPre[1] = bSelf ? "to_" : "";
      apCol[0] = &d->zSrcCol;
      apCol[1] = &d->zDstCol;
      for (k = 0; k < 2; k++) {
        const char *zName = azEnd[k];
        int bCol = 0;
        while ((rc = relColumnExists(db, d->zDbTable, *apCol[k], &bCol)) ==
                   SQLITE_OK &&
               !bCol) {
          const char *zUs = strchr(zName, '_');
          if (zUs == 0 || zUs[1] == 0) break;
          zName = zUs + 1;
          sqlite3_free(*apCol[k]);
          *apCol[k] = sqlite3_mprintf("%s%s_id", azPre[k], zName);
          if (*apCol[k] == 0) return SQLITE_NOMEM;
        }
        if (rc) return rc;
      }
    }
  }
  rc = relTableExists(db, d->zDbTable, &bExists);
  if (rc) return rc;
  if (bExists) {
    RelColumn a, b;
    int ok1, ok2;
    memset(&b, 0, sizeof(b));
    rc = relColumnInfo(db, d->zDbTable, d->zSrcCol, &a);
    if (rc == SQLITE_OK) rc = relColumnInfo(db, d->zDbTable, d->zDstCol, &b);
    ok1 = a.zName != 0;
    ok2 = b.zName != 0;
    if (ok1 && ok2 && rc == SQLITE_OK) {
      sqlite3_free(d->zSrcCol);
      sqlite3_free(d->zDstCol);
      d->zSrcCol = a.zName;
      d->zDstCol = b.zName;
      a.zName = b.zName = 0;
    }
    relColumnClear(&a);
    relColumnClear(&b);
    if (rc) return rc;
    if (!ok1 || !ok2) {
      return relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E336) The table %Q is used as the "
          "intermediate table, but it has no column %Q; give "
          "through_fields",
          d->zModel, d->zField, d->zDbTable, ok1 ? d->zDstCol : d->zSrcCol);
    }
  } else if (d->zThrough) {
    return relError(pzErr, SQLITE_ERROR,
                    "relext: %s.%s: through table %Q does not exist", d->zModel,
                    d->zField, d->zDbTable);
  }
  return rc;
}

/* The key rules (schema.c): zKeyTab.zKeyCol must be a key a relationship
** may reference (bToField: the field could name another), and column
** zCol of zTab, when it exists already, must hold its keys the way SQLite
** compares foreign keys. A column relext creates is declared to. */
static int relKeyCheck(sqlite3 *db, const RelDef *d, const char *zKeyTab,
                       const char *zKeyCol, int bToField, const char *zTab,
                       const char *zCol, char **pzErr) {
  char *zWhy = 0;
  int bOk = 0, bCol = 0;
  int rc = relKeyTarget(db, zKeyTab, zKeyCol, bToField, &bOk, &zWhy);
  if (rc == SQLITE_OK && bOk) rc = relTableExists(db, zTab, &bCol);
  if (rc == SQLITE_OK && bOk && bCol)
    rc = relColumnExists(db, zTab, zCol, &bCol);
  if (rc == SQLITE_OK && bOk && bCol)
    rc = relKeyFits(db, zTab, zCol, zKeyTab, zKeyCol, &bOk, &zWhy);
  if (rc == SQLITE_OK && !bOk) {
    rc = relError(pzErr, SQLITE_ERROR, "relext: %s.%s: %s", d->zModel,
                  d->zField, zWhy ? zWhy : "?");
  }
  sqlite3_free(zWhy);
  return rc;
}

/* Phase 1 and 2: build a resolved, validated RelDef from the input. */
static int relBuildDef(RelCtx *pCtx, RelInput *in, RelDef *d, char **pzErr) {
  sqlite3 *db = pCtx->db;
  int rc = SQLITE_OK;
  int k;
  int bRuleSet = 0;
  int bSymSet = 0;
  const char *zThroughSpec = 0;
  char *zThroughFields = 0;
  char *zDbColumn = 0;
  char *zToField = 0;
  char *zRelName = 0;
  char *zRelQuery = 0;
  int bHasRelName = 0;

  memset(d, 0, sizeof(*d));
  d->eKind = in->eKind;
  d->bDbConstraint = 1;
  d->bDbIndex = 1;
  d->zField = relStrdup(in->zField);
  if (d->zField == 0) return SQLITE_NOMEM;
  {
    char *zCtx = sqlite3_mprintf("%s.%s: ", in->zModel, in->zField);
    if (zCtx == 0) return SQLITE_NOMEM;
    rc = relResolveModel(db, 0, in->zModel, zCtx, "model", &d->zModel, pzErr);
    sqlite3_free(zCtx);
    if (rc) return rc;
  }
  if (!relIsIdentifier(d->zField, 0) || strstr(d->zField, "__") ||
      d->zField[strlen(d->zField) - 1] == '_') {
    return relError(
        pzErr, SQLITE_ERROR,
        "relext: %s.%s: (fields.E001) Field names must be identifiers that "
        "do not end with an underscore or contain '__'",
        d->zModel, d->zField);
  }
  {
    char *zCtx = sqlite3_mprintf("%s.%s: ", d->zModel, d->zField);
    if (zCtx == 0) return SQLITE_NOMEM;
    rc = relResolveModel(db, d->zModel, in->zTargetSpec, zCtx, "target",
                         &d->zTarget, pzErr);
    sqlite3_free(zCtx);
    if (rc) return rc;
  }

  /* Options. */
  for (k = 0; k < in->nOpt && rc == SQLITE_OK; k++) {
    PyArg *a = &in->aOpt[k];
    int j;
    for (j = 0; j < k; j++) {
      if (strcmp(in->aOpt[j].zKey, a->zKey) == 0) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: %s.%s: option %s is given twice", d->zModel,
                      d->zField, a->zKey);
      }
    }
    if (rc) break;
    if (relIsIgnored(a->zKey)) continue;
    if (!relIsKnown(a->zKey)) {
      rc = relError(pzErr, SQLITE_ERROR, "relext: %s.%s: unknown option %Q",
                    d->zModel, d->zField, a->zKey);
      break;
    }
    if (!relOptApplies(a->zKey, d->eKind)) {
      rc = relError(pzErr, SQLITE_ERROR,
                    "relext: %s.%s: option %s does not apply to %s", d->zModel,
                    d->zField, a->zKey, relKindName(d->eKind));
      break;
    }
    if (strcmp(a->zKey, "on_delete") == 0) {
      rc = relOptRule(&a->v, d, pzErr);
      bRuleSet = 1;
    } else if (strcmp(a->zKey, "related_name") == 0) {
      rc = relOptName(a, &zRelName, pzErr);
      bHasRelName = zRelName != 0;
    } else if (strcmp(a->zKey, "related_query_name") == 0) {
      rc = relOptName(a, &zRelQuery, pzErr);
    } else if (strcmp(a->zKey, "null") == 0) {
      rc = relOptBool(a, &d->bNull, pzErr);
    } else if (strcmp(a->zKey, "default") == 0) {
      rc = relOptLiteral(&a->v, &d->defVal, "default", pzErr);
    } else if (strcmp(a->zKey, "db_column") == 0) {
      rc = relOptName(a, &zDbColumn, pzErr);
    } else if (strcmp(a->zKey, "to_field") == 0) {
      rc = relOptName(a, &zToField, pzErr);
    } else if (strcmp(a->zKey, "db_index") == 0) {
      rc = relOptBool(a, &d->bDbIndex, pzErr);
    } else if (strcmp(a->zKey, "db_constraint") == 0) {
      rc = relOptBool(a, &d->bDbConstraint, pzErr);
    } else if (strcmp(a->zKey, "db_table") == 0) {
      rc = relOptName(a, &d->zDbTable, pzErr);
    } else if (strcmp(a->zKey, "through") == 0) {
      if (a->v.eType != PY_STRING && a->v.eType != PY_NAME) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: option through must be a model name");
      } else {
        zThroughSpec = a->v.z;
      }
    } else if (strcmp(a->zKey, "through_fields") == 0) {
      if (a->v.eType == PY_STRING) {
        zThroughFields = relStrdup(a->v.z);
        if (zThroughFields == 0) rc = SQLITE_NOMEM;
      } else if (a->v.eType == PY_SEQ && a->v.nArg == 2 &&
                 a->v.aArg[0].v.eType == PY_STRING &&
                 a->v.aArg[1].v.eType == PY_STRING) {
        zThroughFields =
            sqlite3_mprintf("%s, %s", a->v.aArg[0].v.z, a->v.aArg[1].v.z);
        if (zThroughFields == 0) rc = SQLITE_NOMEM;
      } else {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: option through_fields must be "
                      "'source_col, target_col'");
      }
    } else if (strcmp(a->zKey, "symmetrical") == 0) {
      rc = relOptBool(a, &d->bSymmetrical, pzErr);
      bSymSet = 1;
    }
  }
  if (rc == SQLITE_OK && in->ruleArg.eType) {
    if (bRuleSet) {
      rc = relError(pzErr, SQLITE_ERROR,
                    "relext: %s.%s: on_delete is given twice", d->zModel,
                    d->zField);
    } else {
      rc = relOptRule(&in->ruleArg, d, pzErr);
      bRuleSet = 1;
    }
  }
  if (rc) goto done;

  /* Required and dependent options. */
  if (d->eKind != REL_M2M && !bRuleSet) {
    rc = relError(pzErr, SQLITE_ERROR,
                  "relext: %s.%s: TypeError: %s.__init__() missing 1 required "
                  "positional argument: 'on_delete'",
                  d->zModel, d->zField, relKindName(d->eKind));
    goto done;
  }
  if (d->eKind == REL_M2M) {
    int bSelf = sqlite3_stricmp(d->zModel, d->zTarget) == 0;
    if (!bSymSet) d->bSymmetrical = bSelf;
    if (d->bSymmetrical && !bSelf) {
      rc = relError(pzErr, SQLITE_ERROR,
                    "relext: %s.%s: symmetrical=True is only for relations "
                    "to 'self'",
                    d->zModel, d->zField);
      goto done;
    }
    d->bNull = 0;
  }
  if (d->eOnDelete == ON_SET_NULL && !d->bNull) {
    rc = relError(
        pzErr, SQLITE_ERROR,
        "relext: %s.%s: (fields.E320) Field specifies on_delete=SET_NULL, "
        "but cannot be null. HINT: Set null=True argument on the "
        "field, or change the on_delete rule.",
        d->zModel, d->zField);
    goto done;
  }
  if (d->eOnDelete == ON_SET_DEFAULT && d->defVal.eType == 0) {
    rc = relError(
        pzErr, SQLITE_ERROR,
        "relext: %s.%s: (fields.E321) Field specifies on_delete=SET_DEFAULT, "
        "but has no default value. HINT: Set a default value, or "
        "change the on_delete rule.",
        d->zModel, d->zField);
    goto done;
  }

  /* Related names. */
  if (bHasRelName) {
    size_t n = strlen(zRelName);
    int bHidden = n > 0 && zRelName[n - 1] == '+';
    if (!bHidden &&
        (!relIsIdentifier(zRelName, 0) || relIsPyKeyword(zRelName))) {
      rc = relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E306) The name %Q is invalid related_name "
          "for field %s.%s. HINT: Related name must be a valid Python "
          "identifier or end with a '+'",
          d->zModel, d->zField, zRelName, d->zModel, d->zField);
      goto done;
    }
    d->zRelName = zRelName;
    zRelName = 0;
  } else if (d->eKind == REL_M2M && d->bSymmetrical) {
    d->zRelName = sqlite3_mprintf("%s_rel_+", d->zField);
  } else if (d->eKind == REL_O2O) {
    d->zRelName = sqlite3_mprintf("%s", d->zModel);
  } else {
    d->zRelName = sqlite3_mprintf("%s_set", d->zModel);
  }
  if (d->zRelName == 0) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  if (zRelQuery) {
    /* A query name given must be usable in lookups. A Python keyword is:
    ** lookups name it in a string ('class__name'), and Django accepts it
    ** (it is the default query name of a model named Class). */
    if (!relIsIdentifier(zRelQuery, 0)) {
      rc = relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: the name %Q is invalid related_query_name: it "
          "must be a valid Python identifier",
          d->zModel, d->zField, zRelQuery);
      goto done;
    }
    d->zRelQuery = zRelQuery;
    zRelQuery = 0;
  } else {
    d->zRelQuery = relStrdup(bHasRelName ? d->zRelName : d->zModel);
    if (d->zRelQuery == 0) {
      rc = SQLITE_NOMEM;
      goto done;
    }
  }
  if (!relDefHidden(d)) {
    size_t n = strlen(d->zRelQuery);
    if (n > 0 && d->zRelQuery[n - 1] == '_') {
      rc = relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E308) Reverse query name %Q must not end "
          "with an underscore. HINT: Add or change a related_name or "
          "related_query_name argument for this field.",
          d->zModel, d->zField, d->zRelQuery);
      goto done;
    }
    if (strstr(d->zRelQuery, "__")) {
      rc = relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E309) Reverse query name %Q must not "
          "contain '__'. HINT: Add or change a related_name or "
          "related_query_name argument for this field.",
          d->zModel, d->zField, d->zRelQuery);
      goto done;
    }
  }

  /* Columns. */
  if (d->eKind != REL_M2M) {
    RelColumn ci;
    int bRowid = 1;
    if (zToField) {
      rc = relColumnInfo(db, d->zTarget, zToField, &ci);
      if (rc) goto done;
      if (ci.zName == 0) {
        rc = relError(
            pzErr, SQLITE_ERROR,
            "relext: %s.%s: (fields.E312) The to_field %Q doesn't exist on "
            "the related model %Q",
            d->zModel, d->zField, zToField, d->zTarget);
        goto done;
      }
      if (!ci.bUnique) {
        rc = relError(
            pzErr, SQLITE_ERROR,
            "relext: %s.%s: (fields.E311) '%s.%s' must be unique because it "
            "is referenced by a foreign key",
            d->zModel, d->zField, d->zTarget, ci.zName);
        relColumnClear(&ci);
        goto done;
      }
      d->zToField = ci.zName;
      ci.zName = 0;
      relColumnClear(&ci);
    } else {
      rc = relPkColumn(db, d->zTarget, &d->zToField);
      if (rc) goto done;
    }
    if (zDbColumn == 0) {
      zDbColumn = sqlite3_mprintf("%s_id", d->zField);
      if (zDbColumn == 0) {
        rc = SQLITE_NOMEM;
        goto done;
      }
    }
    rc = relColumnInfo(db, d->zModel, zDbColumn, &ci);
    if (rc) goto done;
    if (ci.zName) {
      d->zColumn = ci.zName;
      ci.zName = 0;
      relColumnClear(&ci);
    } else {
      d->zColumn = zDbColumn;
      zDbColumn = 0;
    }
    if (relIsRowid(d->zToField)) {
      /* to_field='rowid' names the INTEGER PRIMARY KEY, if there is one. */
      char *zAlias = 0;
      rc = relTableHasRowid(db, d->zTarget, &bRowid);
      if (rc == SQLITE_OK && bRowid)
        rc = relRowidColumn(db, d->zTarget, &zAlias);
      if (rc) goto done;
      if (zAlias) {
        sqlite3_free(d->zToField);
        d->zToField = zAlias;
      }
    }
    rc = relKeyCheck(db, d, d->zTarget, d->zToField, 1, d->zModel, d->zColumn,
                     pzErr);
    if (rc) goto done;
    if (sqlite3_stricmp(d->zColumn, "rowid") == 0) {
      rc = relError(pzErr, SQLITE_ERROR,
                    "relext: %s.%s: the key column cannot be rowid", d->zModel,
                    d->zField);
      goto done;
    }
  } else {
    rc = relResolveJunction(db, d, zThroughSpec, zThroughFields, pzErr);
    if (rc) goto done;
    rc = relPkColumn(db, d->zModel, &d->zSrcKey);
    if (rc == SQLITE_OK) rc = relPkColumn(db, d->zTarget, &d->zDstKey);
    if (rc) goto done;
    /* Both ends: keys a relationship may reference, held by junction
    ** columns that compare as they do (a junction relext creates will). */
    rc = relKeyCheck(db, d, d->zModel, d->zSrcKey, 0, d->zDbTable, d->zSrcCol,
                     pzErr);
    if (rc == SQLITE_OK)
      rc = relKeyCheck(db, d, d->zTarget, d->zDstKey, 0, d->zDbTable,
                       d->zDstCol, pzErr);
    if (rc) goto done;
  }

  /* The catalog refuses longer names when it is read back. */
  if (rc == SQLITE_OK) {
    const char *az[8];
    az[0] = d->zModel;
    az[1] = d->zField;
    az[2] = d->zTarget;
    az[3] = d->zColumn;
    az[4] = d->zToField;
    az[5] = d->zDbTable;
    az[6] = d->zRelName;
    az[7] = d->zRelQuery;
    for (k = 0; k < 8; k++) {
      if (az[k] && strlen(az[k]) > REL_MAX_NAME) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: %.50s.%.50s: name longer than %d bytes",
                      d->zModel, d->zField, REL_MAX_NAME);
        break;
      }
    }
  }

done:
  sqlite3_free(zThroughFields);
  sqlite3_free(zDbColumn);
  sqlite3_free(zToField);
  sqlite3_free(zRelName);
  sqlite3_free(zRelQuery);
  return rc;
}

/* The "fields" of a model as Django would see them: its columns (a key
** column of a declared relationship counts under the field's name), and
** its declared forward relationships. *pbHas: is zName one (case-sensitive, as Python)? */
static int relModelHasField(RelCtx *pCtx, const char *zTab, const char *zName,
                            int *pbHas) {
  char *zCol = 0;
  int i, rc;
  *pbHas = 0;
  for (i = 0; i < pCtx->nDef; i++) {
    const RelDef *o = &pCtx->aDef[i];
    if (relStrICmp(o->zModel, zTab) == 0 && strcmp(o->zField, zName) == 0) {
      *pbHas = 1;
      return SQLITE_OK;
    }
  }
  rc = relColumnName(pCtx->db, zTab, zName, 0, &zCol);
  if (zCol && strcmp(zCol, zName) == 0) {
    *pbHas = 1;
    for (i = 0; i < pCtx->nDef; i++) {
      const RelDef *o = &pCtx->aDef[i];
      if (o->eKind != REL_M2M && relStrICmp(o->zModel, zTab) == 0 &&
          relStrICmp(o->zColumn, zName) == 0)
        *pbHas = 0; /* a key column: Django knows it by its field name */
    }
  }
  sqlite3_free(zCol);
  return rc;
}

/* Checks of the new field against its own model: Django's models.E006
** (a field name used twice) and models.E007 (a column used by two fields),
** and one junction table for one relationship. */
static int relCheckModel(RelCtx *pCtx, const RelDef *d, char **pzErr) {
  int i, bCol = 0;
  int rc = relColumnExists(pCtx->db, d->zModel, d->zField, &bCol);
  if (rc) return rc;
  if (bCol && !relIsRowid(d->zField) &&
      (d->zColumn == 0 || sqlite3_stricmp(d->zColumn, d->zField) != 0)) {
    return relError(
        pzErr, SQLITE_ERROR,
        "relext: %s.%s: (models.E006) The field '%s' clashes with the "
        "field '%s' from model '%s'.",
        d->zModel, d->zField, d->zField, d->zField, d->zModel);
  }
  for (i = 0; i < pCtx->nDef; i++) {
    const RelDef *o = &pCtx->aDef[i];
    if (relStrICmp(o->zModel, d->zModel) == 0 &&
        relStrICmp(o->zField, d->zField) == 0)
      continue;
    if (d->eKind != REL_M2M && o->eKind != REL_M2M &&
        relStrICmp(o->zModel, d->zModel) == 0 &&
        relStrICmp(o->zColumn, d->zColumn) == 0) {
      return relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (models.E007) Field '%s' has column name '%s' "
          "that is used by another field (%s.%s). HINT: Specify a "
          "'db_column' for the field.",
          d->zModel, d->zField, d->zField, d->zColumn, o->zModel, o->zField);
    }
    if (d->eKind == REL_M2M && o->eKind == REL_M2M &&
        relStrICmp(o->zDbTable, d->zDbTable) == 0) {
      return relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E340) The field's intermediary table "
          "'%s' clashes with the table name of %s.%s.",
          d->zModel, d->zField, d->zDbTable, o->zModel, o->zField);
    }
  }
  return SQLITE_OK;
}

/* Django's E302 (bQuery 0) / E303 (bQuery 1): the reverse accessor or
** query name of relation zModel.zField clashes with field zTab.zName. */
static int relClashErr(char **pzErr, int bQuery, const char *zModel,
                       const char *zField, const char *zTab,
                       const char *zName) {
  return relError(
      pzErr, SQLITE_ERROR,
      "relext: %s.%s: (fields.%s) Reverse %s for '%s.%s' clashes with field "
      "name '%s.%s'. HINT: Rename field '%s.%s', or add/change a "
      "related_name argument to the definition for field '%s.%s'.",
      zModel, zField, bQuery ? "E303" : "E302",
      bQuery ? "query name" : "accessor", zModel, zField, zTab, zName, zTab,
      zName, zModel, zField);
}

/* Django's clash checks, fields.E302 - E305. */
static int relCheckClashes(RelCtx *pCtx, const RelDef *d, char **pzErr) {
  int rc = SQLITE_OK;
  int i;
  int bHidden = relDefHidden(d);
  if (d->eKind == REL_M2M && d->bSymmetrical && !bHidden) bHidden = 1;
  rc = relCheckModel(pCtx, d, pzErr);
  if (rc) return rc;
  /* The new field, as a field of its model, against the reverse names of
  ** the relations that already point at that model (their E302/E303). */
  for (i = 0; i < pCtx->nDef; i++) {
    const RelDef *o = &pCtx->aDef[i];
    if (relStrICmp(o->zTarget, d->zModel) != 0) continue;
    if (relStrICmp(o->zModel, d->zModel) == 0 &&
        strcmp(o->zField, d->zField) == 0)
      continue;
    if (!relDefHidden(o) && strcmp(o->zRelName, d->zField) == 0) {
      return relClashErr(pzErr, 0, o->zModel, o->zField, d->zModel, d->zField);
    }
    if (strcmp(o->zRelQuery, d->zField) == 0) {
      return relClashErr(pzErr, 1, o->zModel, o->zField, d->zModel, d->zField);
    }
  }
  if (!bHidden) {
    int bHas = 0;
    rc = relModelHasField(pCtx, d->zTarget, d->zRelName, &bHas);
    if (rc) return rc;
    if (bHas) {
      return relClashErr(pzErr, 0, d->zModel, d->zField, d->zTarget,
                         d->zRelName);
    }
  }
  {
    int bHas = 0;
    rc = relModelHasField(pCtx, d->zTarget, d->zRelQuery, &bHas);
    if (rc) return rc;
    if (bHas) {
      return relClashErr(pzErr, 1, d->zModel, d->zField, d->zTarget,
                         d->zRelQuery);
    }
  }
  for (i = 0; i < pCtx->nDef; i++) {
    const RelDef *o = &pCtx->aDef[i];
    /* Django compares with the other relations' accessor names; hidden
    ** relations (related_name ending in '+') are not among them. */
    if (relStrICmp(o->zTarget, d->zTarget) != 0) continue;
    if (relStrICmp(o->zModel, d->zModel) == 0 &&
        strcmp(o->zField, d->zField) == 0)
      continue;
    /* Hidden FKs are not among them; Django renames a hidden M2M's
    ** related_name to a unique '_app_model_field_+', so it never clashes. */
    if (relDefHidden(o)) continue;
    if (!bHidden && strcmp(o->zRelName, d->zRelName) == 0) {
      return relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E304) Reverse accessor for '%s.%s' "
          "clashes with reverse accessor for '%s.%s'. HINT: Add or "
          "change a related_name argument to the definition for "
          "'%s.%s' or '%s.%s'.",
          d->zModel, d->zField, d->zModel, d->zField, o->zModel, o->zField,
          d->zModel, d->zField, o->zModel, o->zField);
    }
    if (strcmp(o->zRelName, d->zRelQuery) == 0) {
      return relError(
          pzErr, SQLITE_ERROR,
          "relext: %s.%s: (fields.E305) Reverse query name for '%s.%s' "
          "clashes with reverse query name for '%s.%s'. HINT: Add "
          "or change a related_name argument to the definition for "
          "'%s.%s' or '%s.%s'.",
          d->zModel, d->zField, d->zModel, d->zField, o->zModel, o->zField,
          d->zModel, d->zField, o->zModel, o->zField);
    }
  }
  /* Accessor table names must not collide with existing tables. */
  {
    char *azName[2];
    int k;
    azName[0] = relAccessorForward(d);
    azName[1] = relAccessorReverse(d);
    for (k = 0; k < 2 && rc == SQLITE_OK; k++) {
      int bTable = 0;
      if (azName[k]) rc = relTableExists(pCtx->db, azName[k], &bTable);
      if (rc == SQLITE_OK && bTable) {
        rc = relError(
            pzErr, SQLITE_ERROR,
            "relext: %s.%s: accessor table %Q would clash with an existing "
            "table of that name",
            d->zModel, d->zField, azName[k]);
      }
    }
    sqlite3_free(azName[0]);
    sqlite3_free(azName[1]);
  }
  return rc;
}

/* ---------------------------------------------------------------- */
/* Phase 3: creating what is missing                                  */

/* A name for a new index of zTab on zCol that no object of main has:
** <table>_<column>_<suffix>, then with 2, 3, ... appended. */
static int relIndexName(sqlite3 *db, const char *zTab, const char *zCol,
                        const char *zSuffix, char **pzName) {
  int i, rc = SQLITE_OK;
  *pzName = 0;
  for (i = 1; i < 1000; i++) {
    char *z = i == 1 ? sqlite3_mprintf("%s_%s_%s", zTab, zCol, zSuffix)
                     : sqlite3_mprintf("%s_%s_%s%d", zTab, zCol, zSuffix, i);
    int bTaken = 0;
    if (z == 0) return SQLITE_NOMEM;
    rc = relObjectExists(db, z, &bTaken);
    if (rc == SQLITE_OK && !bTaken) {
      *pzName = z;
      return SQLITE_OK;
    }
    sqlite3_free(z);
    if (rc) return rc;
  }
  return SQLITE_ERROR;
}

static int relCreateObjects(RelCtx *pCtx, const RelDef *d, char **pzErr) {
  sqlite3 *db = pCtx->db;
  int rc = SQLITE_OK, bJunction = 0;
  if (d->eKind != REL_M2M) {
    RelColumn ci, ti;
    rc = relColumnInfo(db, d->zModel, d->zColumn, &ci);
    if (rc) return rc;
    if (ci.zName == 0) {
      rc = relColumnInfo(db, d->zTarget, d->zToField, &ti);
      if (rc == SQLITE_OK) {
        /* The key's declared type and collation: the column then compares
        ** keys as SQLite's foreign keys would (see relKeyFits). */
        int bStrict = 0;
        char *zDecl = 0;
        rc = relTableIsStrict(db, d->zModel, &bStrict);
        if (rc == SQLITE_OK) {
          zDecl = relKeyColumnDecl(&ti, bStrict);
          if (zDecl == 0) rc = SQLITE_NOMEM;
        }
        if (rc == SQLITE_OK)
          rc = relExecf(db, pzErr,
                        "ALTER TABLE main.\"%w\" ADD COLUMN \"%w\" %s",
                        d->zModel, d->zColumn, zDecl);
        sqlite3_free(zDecl);
      }
      relColumnClear(&ti);
      if (rc == SQLITE_OK) rc = relColumnInfo(db, d->zModel, d->zColumn, &ci);
      if (rc) return rc;
    }
    if ((d->eKind == REL_O2O && !ci.bUnique) ||
        (d->eKind == REL_FK && d->bDbIndex && !ci.bIndexed)) {
      int bUnique = d->eKind == REL_O2O;
      char *zIdx = 0;
      rc = relIndexName(db, d->zModel, d->zColumn, bUnique ? "uniq" : "idx",
                        &zIdx);
      if (zIdx) {
        rc = relExecf(db, pzErr, "CREATE %sINDEX main.\"%w\" ON \"%w\"(\"%w\")",
                      bUnique ? "UNIQUE " : "", zIdx, d->zModel, d->zColumn);
      }
      sqlite3_free(zIdx);
    }
    relColumnClear(&ci);
    if (rc && *pzErr) {
      char *z = *pzErr; /* the message, said again in context */
      *pzErr = 0;
      rc = relError(pzErr, rc, "relext: %s.%s: cannot index %s.%s: %s",
                    d->zModel, d->zField, d->zModel, d->zColumn, z);
      sqlite3_free(z);
    }
    return rc;
  }
  /* ManyToManyField: the junction table. */
  rc = relTableExists(db, d->zDbTable, &bJunction);
  if (rc == SQLITE_OK && !bJunction) {
    RelColumn a, b;
    char *zTa = 0, *zTb = 0;
    memset(&b, 0, sizeof(b));
    rc = relColumnInfo(db, d->zModel, d->zSrcKey, &a);
    if (rc == SQLITE_OK) rc = relColumnInfo(db, d->zTarget, d->zDstKey, &b);
    /* Each column as the key it holds: type and collation. */
    if (rc == SQLITE_OK) {
      zTa = relKeyColumnDecl(&a, 0);
      zTb = relKeyColumnDecl(&b, 0);
      if (zTa == 0 || zTb == 0) rc = SQLITE_NOMEM;
    }
    if (rc == SQLITE_OK) {
      rc = relExecf(db, pzErr,
                    "CREATE TABLE main.\"%w\"(id INTEGER PRIMARY KEY, "
                    "\"%w\" %s NOT NULL, \"%w\" %s NOT NULL, "
                    "UNIQUE(\"%w\", \"%w\") ON CONFLICT IGNORE)",
                    d->zDbTable, d->zSrcCol, zTa, d->zDstCol, zTb, d->zSrcCol,
                    d->zDstCol);
    }
    if (rc == SQLITE_OK) {
      char *zIdx = 0;
      rc = relIndexName(db, d->zDbTable, d->zDstCol, "idx", &zIdx);
      if (zIdx) {
        rc = relExecf(db, pzErr, "CREATE INDEX main.\"%w\" ON \"%w\"(\"%w\")",
                      zIdx, d->zDbTable, d->zDstCol);
      }
      sqlite3_free(zIdx);
    }
    sqlite3_free(zTa);
    sqlite3_free(zTb);
    relColumnClear(&a);
    relColumnClear(&b);
  }
  return rc;
}

/* A one-line summary of a definition. Caller frees. */
static char *relSummary(const RelDef *d) {
  RelStr s = {0};
  relStrPrintf(&s, "%s %s.%s -> %s", relKindName(d->eKind), d->zModel,
               d->zField, d->zTarget);
  if (d->eKind != REL_M2M) {
    char *zRule = relRuleText(d);
    relStrPrintf(&s, " (column %s -> %s.%s, on_delete=%s", d->zColumn,
                 d->zTarget, d->zToField, zRule ? zRule : "?");
    sqlite3_free(zRule);
    if (d->bNull) relStrPrintf(&s, ", null=True");
  } else {
    relStrPrintf(&s, " (%s %s(%s, %s)", d->zThrough ? "through" : "junction",
                 d->zDbTable, d->zSrcCol, d->zDstCol);
    if (d->bSymmetrical) relStrPrintf(&s, ", symmetrical=True");
  }
  if (relDefHidden(d) || (d->eKind == REL_M2M && d->bSymmetrical)) {
    relStrPrintf(&s, ", no reverse accessor)");
  } else {
    relStrPrintf(&s, ", related_name=%s)", d->zRelName);
  }
  return relStrFinish(&s);
}

/* Run xWork inside SAVEPOINT relext_define; roll back and reload the
** previous state on failure. */
static int relInSavepoint(RelCtx *pCtx, int (*xWork)(RelCtx *, void *, char **),
                          void *pArg, char **pzErr) {
  sqlite3 *db = pCtx->db;
  RelSavepoint sp;
  int rc = relSavepointOpen(db, "relext_define", &sp, pzErr);
  if (rc) return rc;
  /* relext writes the catalog: its witness lets it, and the load trusts
  ** it (the witness is written again with the guards). */
  pCtx->bCatalogOpen++;
  rc = xWork(pCtx, pArg, pzErr);
  if (rc == SQLITE_OK) rc = relTxnLost(db, pzErr);
  /* Load it, write what it changed into the database (the catalog's
  ** pending renames, the stored guards, the witness), install it. */
  if (rc == SQLITE_OK) rc = relCtxLoad(pCtx, REL_SYNC_WRITE, pzErr);
  pCtx->bCatalogOpen--;
  if (rc == SQLITE_OK) rc = relTxnLost(db, pzErr);
  if (rc == SQLITE_OK) {
    rc = relSavepointClose(db, &sp, 1, pzErr);
    if (rc == SQLITE_OK) return relGuardForeignKeys(pCtx, pzErr);
  } else {
    relSavepointClose(db, &sp, 0, pzErr);
  }
  {
    char *zIgnore = 0;
    relCtxReload(pCtx, &zIgnore);
    sqlite3_free(zIgnore);
  }
  return rc;
}

static int relDefineWork(RelCtx *pCtx, void *pArg, char **pzErr) {
  const RelDef *d = (const RelDef *)pArg;
  int rc = relCatalogEnsure(pCtx->db, pzErr);
  if (rc == SQLITE_OK) rc = relTxnLost(pCtx->db, pzErr);
  if (rc == SQLITE_OK) rc = relCreateObjects(pCtx, d, pzErr);
  if (rc == SQLITE_OK) rc = relTxnLost(pCtx->db, pzErr);
  if (rc == SQLITE_OK) rc = relCatalogInsert(pCtx->db, d, pzErr);
  return rc;
}

static int relUndefineWork(RelCtx *pCtx, void *pArg, char **pzErr) {
  const RelDef *d = (const RelDef *)pArg;
  /* The record, under the model's name in the catalog (a rename not yet
  ** written there). */
  return relCatalogDelete(pCtx->db, d->zCatModel ? d->zCatModel : d->zModel,
                          d->zField, pzErr);
}

/* Before rel_define or rel_undefine changes anything: this connection in
** step with the database (renames written into the catalog), and a
** catalog edited by hand refused. */
static int relDefineReady(RelCtx *pCtx, char **pzErr) {
  int rc = relCtxSync(pCtx, REL_SYNC_WRITE, pzErr);
  if (rc == SQLITE_OK && pCtx->zTamper)
    rc = relError(pzErr, SQLITE_CONSTRAINT, "%s", pCtx->zTamper);
  return rc;
}

/* The definitions a rel_define_many call has written so far (appended to
** the connection's aDef, so that later items see earlier ones), or none
** for a single rel_define. */
typedef struct RelBatchItem RelBatchItem;
struct RelBatchItem {
  int nArg;         /* 2 to 4 */
  char *azArg[4];   /* rel_define's arguments, as text */
};
typedef struct RelBatch RelBatch;
struct RelBatch {
  RelBatchItem *aItem; /* the items, in order */
  int nItem;
  int nItemAlloc;
  int nAlloc;       /* aDef's allocated size, as relGrow counts it */
  RelStr sum;       /* the summaries so far, one per line */
};

/* Append the written definition *d to the connection's list (taking its
** memory), in the name hash too, as a load would have it. */
static int relBatchAdd(RelCtx *pCtx, RelBatch *b, RelDef *d) {
  RelDef *a;
  if (b->nAlloc < pCtx->nDef) b->nAlloc = pCtx->nDef;
  a = relGrow(pCtx->aDef, sizeof(RelDef), pCtx->nDef, &b->nAlloc, 16);
  if (a == 0) return SQLITE_NOMEM;
  pCtx->aDef = a;
  if (pCtx->defHash.nUsed == pCtx->nDef) {
    int rc = relIndexHashAdd(
        &pCtx->defHash, relNameHash(relNameHash(0, d->zModel), d->zField),
        pCtx->nDef);
    if (rc) return rc;
  }
  a[pCtx->nDef++] = *d;
  memset(d, 0, sizeof(*d));
  return SQLITE_OK;
}

/* One definition, from rel_define's arguments (2, 3 or 4 of them). On
** success *pzSum is its summary. Alone (b == 0) it is checked against the
** catalog and written in its own savepoint; in a batch (b != 0) the
** batch's savepoint is open and the definition joins b's. */
static int relDefineOne(RelCtx *pCtx, int nArg, const char *const *azArg,
                        RelBatch *b, char **pzSum, char **pzErr) {
  RelInput in;
  RelDef d;
  int rc, iOld;
  memset(&in, 0, sizeof(in));
  memset(&d, 0, sizeof(d));
  *pzSum = 0;
  if (nArg == 2) {
    rc = relInputFromLine(&in, azArg[0], azArg[1], pzErr);
  } else if (nArg == 3 || nArg == 4) {
    rc = relInputFromArgs(&in, azArg[0], azArg[1], azArg[2],
                          nArg == 4 ? azArg[3] : 0, pzErr);
  } else {
    rc = relError(pzErr, SQLITE_ERROR,
                  "relext: rel_define takes (field, kind, target [, options]) "
                  "or (model, field_line)");
  }
  if (rc == SQLITE_OK && b == 0) rc = relDefineReady(pCtx, pzErr);
  if (rc == SQLITE_OK) rc = relBuildDef(pCtx, &in, &d, pzErr);
  if (rc == SQLITE_OK) {
    iOld = relCtxFindDef(pCtx, d.zModel, d.zField);
    if (b == 0 && iOld >= 0 && relDefCompare(&pCtx->aDef[iOld], &d) == 0) {
      /* Defined already, as far as this connection knows: make sure the
      ** catalog agrees (a failure whose rollback could not be read back
      ** leaves this connection's copy ahead of the database). A batch
      ** made sure before it began (relBatchReady). */
      int bCatalog = 0, bHave = 0;
      rc = relTableExists(pCtx->db, "relext_relations", &bCatalog);
      if (rc == SQLITE_OK && bCatalog)
        rc = relCatalogHas(pCtx->db, d.zModel, d.zField, &bHave);
      if (rc == SQLITE_OK && !bCatalog) {
        iOld = -1; /* no catalog at all: define it */
      } else if (rc == SQLITE_OK && !bHave) {
        rc = relCtxReload(pCtx, pzErr);
        if (rc == SQLITE_OK) iOld = relCtxFindDef(pCtx, d.zModel, d.zField);
      }
    }
    if (rc == SQLITE_OK && iOld >= 0) {
      if (relDefCompare(&pCtx->aDef[iOld], &d) != 0) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: %s.%s is already defined differently; call "
                      "rel_undefine('%s.%s') first",
                      d.zModel, d.zField, d.zModel, d.zField);
      } else {
        /* The same definition again: nothing to do. */
        *pzSum = relSummary(&d);
        if (*pzSum == 0) rc = SQLITE_NOMEM;
        goto done;
      }
    }
  }
  if (rc == SQLITE_OK) rc = relCheckClashes(pCtx, &d, pzErr);
  if (rc == SQLITE_OK) {
    if (b == 0) {
      rc = relInSavepoint(pCtx, relDefineWork, &d, pzErr);
    } else {
      rc = relDefineWork(pCtx, &d, pzErr);
      if (rc == SQLITE_OK) rc = relTxnLost(pCtx->db, pzErr);
    }
  }
  if (rc == SQLITE_OK) {
    *pzSum = relSummary(&d);
    if (*pzSum == 0) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK && b) rc = relBatchAdd(pCtx, b, &d);
done:
  if (rc) {
    sqlite3_free(*pzSum);
    *pzSum = 0;
  }
  relInputClear(&in);
  relDefClear(&d);
  return rc;
}

/*
** rel_define(field, kind, target [, options])
** rel_define(model, field_line)
*/
static void relDefineFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv) {
  RelCtx *pCtx = (RelCtx *)sqlite3_user_data(ctx);
  const char *azArg[4];
  char *zErr = 0, *zSum = 0;
  int i, rc;
  for (i = 0; i < argc && i < 4; i++)
    azArg[i] = (const char *)sqlite3_value_text(argv[i]);
  rc = relDefineOne(pCtx, argc, azArg, 0, &zSum, &zErr);
  if (rc) {
    relResultError(ctx, rc, zErr);
  } else {
    sqlite3_free(zErr);
    sqlite3_result_text(ctx, zSum, -1, sqlite3_free);
  }
}

static void relBatchClear(RelBatch *b) {
  int i, j;
  for (i = 0; i < b->nItem; i++) {
    for (j = 0; j < b->aItem[i].nArg; j++)
      sqlite3_free(b->aItem[i].azArg[j]);
  }
  sqlite3_free(b->aItem);
  relStrReset(&b->sum);
  memset(b, 0, sizeof(*b));
}

#define REL_MANY_SHAPE                                                       \
  "relext: rel_define_many takes a JSON array whose items are arrays of "    \
  "rel_define's arguments, as strings: "                                     \
  "'[[\"article.category\", \"ForeignKey\", \"category\", "                  \
  "\"on_delete=models.CASCADE\"], "                                          \
  "[\"article\", \"tags = models.ManyToManyField(Tag)\"]]'"

/* Read rel_define_many's argument, a JSON array of arrays of 2 to 4
** strings, into b (JSON1's json_each does the parsing). */
static int relBatchRead(sqlite3 *db, sqlite3_value *pArg, RelBatch *b,
                        char **pzErr) {
  sqlite3_stmt *pStmt = 0;
  const char *zJson = (const char *)sqlite3_value_text(pArg);
  int rc, iCur = -1;
  if (zJson == 0) {
    if (sqlite3_value_type(pArg) != SQLITE_NULL) return SQLITE_NOMEM;
    return relError(pzErr, SQLITE_ERROR, "%s", REL_MANY_SHAPE);
  }
  /* The first row is the argument's own type (key -1). */
  rc = relPreparef(db, &pStmt, pzErr,
                   "SELECT -1, json_type(?1), NULL, NULL, NULL "
                   "UNION ALL "
                   "SELECT a.key, a.type, i.key, i.type, i.value "
                   "FROM json_each(?1) AS a "
                   "LEFT JOIN json_each(CASE a.type WHEN 'array' "
                   "THEN a.value END) AS i "
                   "WHERE json_type(?1) = 'array'");
  if (rc) return rc;
  if (sqlite3_bind_text(pStmt, 1, zJson, -1, SQLITE_TRANSIENT)) {
    sqlite3_finalize(pStmt);
    return SQLITE_NOMEM;
  }
  while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
    int iItem = sqlite3_column_int(pStmt, 0);
    const char *zType = (const char *)sqlite3_column_text(pStmt, 1);
    const char *zIn = (const char *)sqlite3_column_text(pStmt, 3);
    RelBatchItem *pItem;
    if (iItem < 0) {
      if (zType == 0 || strcmp(zType, "array") != 0)
        rc = relError(pzErr, SQLITE_ERROR, "%s", REL_MANY_SHAPE);
      continue;
    }
    if (iItem != iCur) {
      /* A new item. */
      RelBatchItem *a = relGrow(b->aItem, sizeof(RelBatchItem), b->nItem,
                                &b->nItemAlloc, 16);
      if (a == 0) {
        rc = SQLITE_NOMEM;
        break;
      }
      b->aItem = a;
      memset(&a[b->nItem++], 0, sizeof(RelBatchItem));
      iCur = iItem;
      if (zType == 0 || strcmp(zType, "array") != 0 || zIn == 0) {
        rc = relError(pzErr, SQLITE_ERROR, "%s (item %d is not)",
                      REL_MANY_SHAPE, iItem + 1);
        break;
      }
    }
    pItem = &b->aItem[b->nItem - 1];
    if (strcmp(zIn, "text") != 0 || pItem->nArg >= 4) {
      rc = relError(pzErr, SQLITE_ERROR, "%s (item %d is not)", REL_MANY_SHAPE,
                    iItem + 1);
      break;
    } else {
      char *z = relStrdup((const char *)sqlite3_column_text(pStmt, 4));
      if (z == 0) {
        rc = SQLITE_NOMEM;
        break;
      }
      pItem->azArg[pItem->nArg++] = z;
    }
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_finalize(pStmt);
    if (rc == SQLITE_NOMEM) {
      /* as is */
    } else if (rc) {
      rc = relError(pzErr, SQLITE_ERROR,
                    "relext: rel_define_many: malformed JSON");
    }
  } else {
    sqlite3_finalize(pStmt);
  }
  for (iCur = 0; rc == SQLITE_OK && iCur < b->nItem; iCur++) {
    if (b->aItem[iCur].nArg < 2) {
      rc = relError(pzErr, SQLITE_ERROR, "%s (item %d is not)", REL_MANY_SHAPE,
                    iCur + 1);
    }
  }
  return rc;
}

/* The batch's work, inside its savepoint: each item in turn, as
** rel_define would, each seeing those before it. */
static int relBatchWork(RelCtx *pCtx, void *pArg, char **pzErr) {
  RelBatch *b = (RelBatch *)pArg;
  int i, rc = relCatalogEnsure(pCtx->db, pzErr);
  for (i = 0; rc == SQLITE_OK && i < b->nItem; i++) {
    char *zSum = 0, *zErr = 0;
    rc = relDefineOne(pCtx, b->aItem[i].nArg,
                      (const char *const *)b->aItem[i].azArg, b,
                      &zSum, &zErr);
    if (rc == SQLITE_OK) {
      relStrPrintf(&b->sum, "%s%s", i ? "\n" : "", zSum);
      rc = b->sum.eRc;
    } else if (rc != SQLITE_NOMEM) {
      const char *z = zErr ? zErr : sqlite3_errstr(rc);
      if (strncmp(z, "relext: ", 8) == 0) z += 8;
      rc = relError(pzErr, rc, "relext: rel_define_many item %d: %s", i + 1,
                    z);
    }
    sqlite3_free(zSum);
    sqlite3_free(zErr);
  }
  return rc;
}

/* Before a batch: this connection in step with the database, and its
** definitions those of the catalog (a failure whose rollback could not be
** read back leaves them ahead of it; rel_define checks that per call). */
static int relBatchReady(RelCtx *pCtx, char **pzErr) {
  int rc = relDefineReady(pCtx, pzErr);
  int bCatalog = 0;
  sqlite3_stmt *pStmt = 0;
  /* Under journal_mode=OFF, ROLLBACK TO undoes nothing: the items before
  ** a failing one would stay (rel_define checks all before it writes). */
  if (rc == SQLITE_OK) {
    rc = relPreparef(pCtx->db, &pStmt, pzErr, "PRAGMA main.journal_mode");
    if (rc == SQLITE_OK) {
      int bOff = sqlite3_step(pStmt) == SQLITE_ROW &&
                 sqlite3_stricmp((const char *)sqlite3_column_text(pStmt, 0),
                                 "off") == 0;
      rc = sqlite3_finalize(pStmt);
      pStmt = 0;
      if (rc) {
        rc = relError(pzErr, rc, "%s", sqlite3_errmsg(pCtx->db));
      } else if (bOff) {
        rc = relError(pzErr, SQLITE_ERROR,
                      "relext: rel_define_many: PRAGMA journal_mode is OFF, "
                      "so a failing item could not undo the items before it; "
                      "call rel_define for each, or use journal_mode=DELETE, "
                      "TRUNCATE, PERSIST, MEMORY or WAL");
      }
    }
  }
  if (rc == SQLITE_OK) rc = relTableExists(pCtx->db, "relext_relations", &bCatalog);
  if (rc == SQLITE_OK && bCatalog) {
    rc = relPreparef(pCtx->db, &pStmt, pzErr,
                     "SELECT count(*) FROM main.relext_relations");
    if (rc == SQLITE_OK) {
      int n = sqlite3_step(pStmt) == SQLITE_ROW ? sqlite3_column_int(pStmt, 0)
                                                 : -1;
      rc = sqlite3_finalize(pStmt);
      if (rc) {
        rc = relError(pzErr, rc, "%s", sqlite3_errmsg(pCtx->db));
      } else if (n != pCtx->nDef) {
        rc = relCtxReload(pCtx, pzErr);
      }
    }
  } else if (rc == SQLITE_OK && pCtx->nDef) {
    rc = relCtxReload(pCtx, pzErr);
  }
  return rc;
}

/*
** rel_define_many(json): many rel_define calls in one, all or nothing:
**   SELECT rel_define_many('[["article.category", "ForeignKey", "category",
**                            "on_delete=models.CASCADE"],
**                           ["tag", "articles = models.ManyToManyField(...)"]]');
** One savepoint and one load for the lot, where rel_define pays a load
** per call: what a migration of hundreds of models needs.
*/
static void relDefineManyFunc(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv) {
  RelCtx *pCtx = (RelCtx *)sqlite3_user_data(ctx);
  RelBatch b;
  char *zErr = 0;
  int rc;
  (void)argc;
  memset(&b, 0, sizeof(b));
  rc = relBatchRead(pCtx->db, argv[0], &b, &zErr);
  if (rc == SQLITE_OK && b.nItem > 0) rc = relBatchReady(pCtx, &zErr);
  if (rc == SQLITE_OK && b.nItem > 0)
    rc = relInSavepoint(pCtx, relBatchWork, &b, &zErr);
  if (rc) {
    relResultError(ctx, rc, zErr);
  } else {
    char *zSum = relStrFinish(&b.sum);
    sqlite3_free(zErr);
    if (zSum)
      sqlite3_result_text(ctx, zSum, -1, sqlite3_free);
    else
      sqlite3_result_error_nomem(ctx);
  }
  relBatchClear(&b);
}

/* rel_undefine('model.field') */
static void relUndefineFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv) {
  RelCtx *pCtx = (RelCtx *)sqlite3_user_data(ctx);
  const char *zArg = (const char *)sqlite3_value_text(argv[0]);
  const char *zDot = zArg ? strrchr(zArg, '.') : 0;
  char *zErr = 0;
  char *zModel = 0;
  int rc = SQLITE_OK, i;
  (void)argc;
  if (zDot == 0) {
    rc = relError(&zErr, SQLITE_ERROR,
                  "relext: field must be 'model.field', got %Q", zArg);
  } else {
    zModel = sqlite3_mprintf("%.*s", (int)(zDot - zArg), zArg);
    if (zModel == 0) rc = SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK) rc = relDefineReady(pCtx, &zErr);
  if (rc == SQLITE_OK) {
    i = relCtxFindDef(pCtx, zModel, zDot + 1);
    if (i < 0) {
      rc = relError(&zErr, SQLITE_ERROR,
                    "relext: no relationship %s is defined", zArg);
    } else {
      RelDef d;
      memset(&d, 0, sizeof(d));
      d.zModel = relStrdup(pCtx->aDef[i].zModel);
      d.zField = relStrdup(pCtx->aDef[i].zField);
      if (!d.zModel || !d.zField) rc = SQLITE_NOMEM;
      if (rc == SQLITE_OK && pCtx->aDef[i].zCatModel) {
        d.zCatModel = relStrdup(pCtx->aDef[i].zCatModel);
        if (d.zCatModel == 0) rc = SQLITE_NOMEM;
      }
      if (rc == SQLITE_OK)
        rc = relInSavepoint(pCtx, relUndefineWork, &d, &zErr);
      if (rc == SQLITE_OK) {
        sqlite3_result_text(
            ctx, sqlite3_mprintf("undefined %s.%s", d.zModel, d.zField), -1,
            sqlite3_free);
      }
      relDefClear(&d);
    }
  }
  sqlite3_free(zModel);
  if (rc) relResultError(ctx, rc, zErr);
}

/* rel_reload(): reread the catalog (after another connection changed it),
** and write what is out of step into the database (renames into the
** catalog, stored guards missing or out of date) -- for a catalog relext
** trusts: one edited by hand is refused (ddl.c: rel_approve). */
static void relReloadFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv) {
  RelCtx *pCtx = (RelCtx *)sqlite3_user_data(ctx);
  char *zErr = 0;
  int rc;
  (void)argc;
  (void)argv;
  rc = relCtxLoad(pCtx, REL_SYNC_WRITE, &zErr);
  if (rc == SQLITE_OK && pCtx->zTamper) {
    rc = relError(&zErr, SQLITE_CONSTRAINT,
                  "%s (rel_reload() never adopts such a catalog)",
                  pCtx->zTamper);
  }
  if (rc)
    relResultError(ctx, rc, zErr);
  else
    sqlite3_result_int(ctx, pCtx->nDef);
}

int relRegisterDefine(sqlite3 *db, RelCtx *p) {
  /* These change the database: SQLITE_DIRECTONLY keeps them out of reach
  ** of views and triggers stored in a database file. */
  const int f = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  int rc = SQLITE_OK;
  int n;
  for (n = 2; rc == SQLITE_OK && n <= 4; n++) {
    rc = sqlite3_create_function_v2(db, "rel_define", n, f, relCtxRef(p),
                                    relDefineFunc, 0, 0, relCtxUnref);
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "rel_define_many", 1, f, relCtxRef(p),
                                    relDefineManyFunc, 0, 0, relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "rel_undefine", 1, f, relCtxRef(p),
                                    relUndefineFunc, 0, 0, relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(db, "rel_reload", 0, f, relCtxRef(p),
                                    relReloadFunc, 0, 0, relCtxUnref);
  return rc;
}
