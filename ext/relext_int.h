/*
** relext_int.h -- the types and calls shared by relext's source files.
**
** Nothing here is public: the public surface is ext/relext.h (the entry
** point) and the SQL functions and tables described in README.md.
**
** THE FILES, bottom to top (each file's header comment states its
** contract, mechanism, invariants and limits):
**   util.c      strings (RelStr), values (RelValue), SQL exec/prepare
**               helpers, relError: the one way to report an error
**   vtab.c      the plumbing of relext's eponymous virtual tables
**   schema.c    every fact about the tables and columns of main
**   options.c   the parser of Django's syntax (options, field lines)
**   catalog.c   the stored catalog (relext_relations), RelDef and
**               RelEdge, and the definition rules: kinds, on_delete
**               rules, name resolution, identifiers, reserved and
**               accessor names
**   ctx.c       the RelCtx's life: references, the registry, the modules'
**               state slots and hooks, reload, cached statements
**   stored.c    what the database says of the rules, read back: the
**               catalog's witness, the stored guards, renames followed,
**               BROKEN definitions, whether the catalog is trusted
**               (ctx.c's load calls it)
**   commit.c    the notes and the COMMIT check (relext_txn, relext_notes,
**               relext_close, relext_must_be_loaded)
**   engine.c    the delete engine and its plans (relext_on_delete)
**   guard.c     installing enforcement on a connection (TEMP triggers),
**               the stored guards and their SQL, relext_fail
**   define.c    rel_define, rel_undefine, rel_reload
**   ddl.c       the repair a load writes (renames into the catalog,
**               guards written again), rel_rebuild_begin/end, rel_approve
**   accessor.c  the accessor virtual tables (category__articles, ...)
**   inspect.c   rel_collect, rel_check, rel_graph
**   lookup.c    rel_lookup
**   relext.c    the entry point: registration, load, relext_version
**
** WHO MAY CALL WHOM: a file calls only files above it in this list, never
** one below, so the module graph has no cycle. Data flows one way: the
** catalog, then the rules derived from it, then enforcement (commit,
** engine, guard) and the readers (accessor, inspect, lookup).
**   util, vtab      nothing of relext
**   schema, options util
**   catalog         schema, options, util
**   ctx             catalog, stored (the load only)
**   stored          ctx, catalog, schema, util
**   commit          ctx, schema, util, vtab
**   engine, guard   commit, ctx, schema, util
**   define          guard, catalog, ctx, options, schema, util
**   ddl             guard, commit, catalog, ctx, schema, util
**   accessor        catalog, ctx, schema, util
**   inspect, lookup catalog, ctx, schema, util, vtab
**   relext          the relRegister* of every module, ctx, catalog, util
** Modules learn of reloads through the hooks they register with ctx.c
** (RelHooks), not by being called from above. The per-row paths stay
** inside their own file: the guard function (commit.c) and relext_fail
** (guard.c) call out of it only for what util.c did for them before; the
** engine calls commit.c only to take a note.
*/
#ifndef RELEXT_INT_H
#define RELEXT_INT_H

#include "sqlite3ext.h"
#include <stddef.h>

/* Everything declared below is internal: hidden, so that relext.so
** exports only sqlite3_relext_init, and a call from one of relext's files
** to another is a direct call, never through the PLT. */
#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(hidden)
#endif

#define RELEXT_VERSION "0.1.0"

/* Per-connection state (ctx.c). */
typedef struct RelCtx RelCtx;

/* Relationship kinds. */
#define REL_FK 1
#define REL_O2O 2
#define REL_M2M 3

/* on_delete rules. */
#define ON_NONE 0
#define ON_CASCADE 1
#define ON_PROTECT 2
#define ON_RESTRICT 3
#define ON_SET_NULL 4
#define ON_SET_DEFAULT 5
#define ON_SET 6
#define ON_DO_NOTHING 7

/* ------------------------------------------------------------------ */
/* util.c                                                              */

/* A growable string. Once an allocation fails, eRc is SQLITE_NOMEM and
** further appends do nothing; relStrFinish() then returns NULL. */
typedef struct RelStr RelStr;
struct RelStr {
  char *z;  /* text so far, always NUL-terminated when n>0 */
  size_t n; /* bytes used, excluding the NUL */
  size_t a; /* bytes allocated */
  int eRc;  /* SQLITE_OK or SQLITE_NOMEM */
};
void relStrAppend(RelStr *p, const char *z, size_t n);
void relStrPrintf(RelStr *p, const char *zFmt, ...);
char *relStrFinish(RelStr *p); /* hand over the text (caller frees) */
void relStrReset(RelStr *p);

char *relStrdup(const char *z);
int relStrICmp(const char *a, const char *b);
int relStrEq(const char *a, const char *b); /* NULL-safe, case-sensitive */

/* A literal value from Django syntax (default=, SET(...)). */
typedef struct RelValue RelValue;
struct RelValue {
  int eType; /* 0 = absent, else SQLITE_NULL/INTEGER/FLOAT/TEXT */
  sqlite3_int64 i;
  double r;
  char *z;
};
void relValueClear(RelValue *p);
int relValueCopy(RelValue *pTo, const RelValue *pFrom);
int relValueFromSql(RelValue *p, sqlite3_value *v);
int relValueBind(sqlite3_stmt *pStmt, int i, const RelValue *p);
void relValueResult(sqlite3_context *ctx, const RelValue *p);
/* The text of a value in one of three styles (caller frees; NULL when out
** of memory): */
#define REL_FMT_PY 0  /* Python, as Django prints it: 5, 'x', None */
#define REL_FMT_SQL 1 /* an SQL literal that reads back exactly: 5, 'x' */
#define REL_FMT_MSG 2 /* for a message: 5, 'x', NULL */
char *relValueFormat(const RelValue *p, int eStyle);
int relValueEq(const RelValue *a, const RelValue *b);

/* The one way relext reports an error: *pzErr gets the message zFmt
** makes, and rc is returned (SQLite's convention). The first error wins: a
** message already in *pzErr is kept (pzErr may be NULL: no message). When
** the message cannot be made, SQLITE_NOMEM is returned instead. relext's
** own messages start with "relext: " (in zFmt). */
int relError(char **pzErr, int rc, const char *zFmt, ...);
/* Make rc and zErr (NULL, or a message it frees) the error of a function
** call. */
void relResultError(sqlite3_context *ctx, int rc, char *zErr);
/* Run SQL built with sqlite3_vmprintf (use %w / %Q for names and text).
** On failure *pzErr (if not NULL and still NULL) gets the message. */
int relExecf(sqlite3 *db, char **pzErr, const char *zFmt, ...);
/* Prepare SQL built like relExecf. */
int relPreparef(sqlite3 *db, sqlite3_stmt **pp, char **pzErr, const char *zFmt,
                ...);
/* Drop every object of schema zDb of type zType (table, trigger, index)
** for which the SQL condition zCond (a trusted fragment, its values quoted
** by the caller) holds on sqlite_schema. */
int relDropObjects(sqlite3 *db, const char *zDb, const char *zType,
                   const char *zCond, char **pzErr);
/* The value as SQL text for a message ('x', 5, NULL); NULL when out of
** memory. */
char *relValueText(sqlite3_value *v);

/* ------------------------------------------------------------------ */
/* vtab.c: the plumbing of relext's eponymous virtual tables           */
typedef struct RelVtab RelVtab;
struct RelVtab {
  sqlite3_vtab base; /* base class - must be first */
  RelCtx *pCtx;      /* connection state */
};
#define REL_VTAB_MAX_ARGS 8
int relVtabConnect(sqlite3 *db, void *pAux, const char *zSchema, int eConfig,
                   sqlite3_vtab **ppVtab);
int relVtabDisconnect(sqlite3_vtab *pVtab);
int relVtabOpen(size_t nByte, sqlite3_vtab_cursor **ppCur);
int relVtabArgsBestIndex(sqlite3_index_info *p, int iFirst, int nArg,
                         double rCost, sqlite3_int64 nRow);

/* ------------------------------------------------------------------ */
/* schema.c: the facts about the tables and columns of main. Each returns
** an SQLite result code and gives its answer through the last argument:
** names are new strings the caller frees (NULL: none), predicates 0 or 1.
** A failed probe returns its error, never an answer. */

/* Is zCol the name "rowid" (any case)? */
int relIsRowid(const char *zCol);
/* zAlias."zCol", or zAlias.rowid for "rowid"; without zAlias "zCol" or
** rowid. NULL when out of memory. Caller frees. */
char *relColExpr(const char *zAlias, const char *zCol);

/* Which tables relTableName finds. */
#define REL_TABLE_ANY 0      /* any table, virtual tables included */
#define REL_TABLE_ORDINARY 1 /* not a virtual table */
/* The exact spelling of table zTab (compared as SQLite does). */
int relTableName(sqlite3 *db, const char *zTab, int eWhich, char **pzName);
int relTableExists(sqlite3 *db, const char *zTab, int *pbExists);
/* Is zTab a rowid table (not WITHOUT ROWID)? zTab must exist: the probe
** prepares "SELECT rowid FROM zTab", and SQLITE_ERROR there means no. */
int relTableHasRowid(sqlite3 *db, const char *zTab, int *pbRowid);
/* The ordinary tables named <prefix>_<zSuffix>: how many, and the first. */
int relTablesEndingWith(sqlite3 *db, const char *zSuffix, char **pzFirst,
                        int *pnFound);
/* Does the CREATE TABLE text of zTab match the LIKE pattern zLike? */
int relTableDeclLike(sqlite3 *db, const char *zTab, const char *zLike,
                     int *pbLike);
/* Rows of zTab according to sqlite_stat1, or SQLite's default estimate
** (also when the database was never analyzed). */
int relTableRows(sqlite3 *db, const char *zTab, double *pnRow);
/* Does any object of main (table, index, trigger, view) have this name? */
int relObjectExists(sqlite3 *db, const char *zName, int *pbExists);
/* The text encoding of the database: SQLITE_UTF8, _UTF16LE or _UTF16BE. */
int relDbEncoding(sqlite3 *db, int *peEnc);

/* The column a relationship references by default: the single primary
** key column of zTab, or "rowid". */
int relPkColumn(sqlite3 *db, const char *zTab, char **pzCol);
/* How SQL names one row of zTab: rowid, or the quoted primary key column
** of a WITHOUT ROWID table; NULL when it has no single one. */
int relRowKey(sqlite3 *db, const char *zTab, char **pzKey);
/* The column of zTab that is its rowid (an INTEGER PRIMARY KEY), or NULL. */
int relRowidColumn(sqlite3 *db, const char *zTab, char **pzCol);
/* Is zCol of zTab the rowid (by name or as INTEGER PRIMARY KEY)? */
int relIsRowidAlias(sqlite3 *db, const char *zTab, const char *zCol,
                    int *pbAlias);

/* The exact spelling of column zCol of zTab; with bRowid, "rowid" for a
** table without a column of that name. */
int relColumnName(sqlite3 *db, const char *zTab, const char *zCol, int bRowid,
                  char **pzName);
/* Is zCol a column of zTab? ("rowid" always is.) */
int relColumnExists(sqlite3 *db, const char *zTab, const char *zCol,
                    int *pbExists);
/* The names of the columns of zTab, in order (free with
** relColumnNamesFree). */
int relColumnNames(sqlite3 *db, const char *zTab, char ***pazName, int *pnName);
void relColumnNamesFree(char **azName, int nName);
/* What relext needs to know about one column. */
typedef struct RelColumn RelColumn;
struct RelColumn {
  char *zName;      /* exact spelling; NULL when there is no such column */
  char *zType;      /* declared type ("" when none) */
  const char *zAff; /* its affinity as relTypeAffinity names it ("" for
                    ** none), except that ANY in a STRICT table has none */
  char *zColl;      /* collation, or NULL for BINARY */
  int bIndexed; /* an index (not partial), or the primary key, leads with it */
  int bUnique;  /* unique on its own: the only primary key column, or a
                ** unique index (not partial) on exactly this column */
  int bRowid;   /* the rowid, by name or as INTEGER PRIMARY KEY */
  int bDefault; /* declared with a DEFAULT */
};
int relColumnInfo(sqlite3 *db, const char *zTab, const char *zCol,
                  RelColumn *p);
void relColumnClear(RelColumn *p);
/* The affinity of declared type zType, as a type name ("" for BLOB). */
const char *relTypeAffinity(const char *zType);

/* ------------------------------------------------------------------ */
/* options.c: Python-ish syntax                                        */

typedef struct PyVal PyVal;
typedef struct PyArg PyArg;
#define PY_STRING 1 /* 'x' or "x": z holds the content */
#define PY_NUMBER 2 /* 12, -3.5: z holds the text */
#define PY_NAME 3   /* dotted identifier: z holds it (models.CASCADE) */
#define PY_CALL 4   /* NAME(args): z holds the callee */
#define PY_SEQ 5    /* (a, b) [a, b] {k: v}: args hold the items */
struct PyVal {
  int eType;
  char *z;
  int nArg;
  PyArg *aArg;
};
struct PyArg {
  char *zKey; /* keyword, or NULL for a positional argument */
  PyVal v;
};
void relPyArgsFree(PyArg *a, int n);
/* Parse "k=v, k=v" (all keywords). */
int relParseOptions(const char *zText, PyArg **paArg, int *pnArg, char **pzErr);
/* Parse "name = models.Kind(args)"; returns the field name and the call. */
int relParseFieldLine(const char *zText, char **pzField, PyVal *pCall,
                      char **pzErr);
void relPyValClear(PyVal *p);
/* The last component of a dotted name (models.CASCADE -> CASCADE). */
const char *relPyBaseName(const char *z);

/* ------------------------------------------------------------------ */
/* catalog.c                                                           */

/* Longest name (table, column, field, related name) in a definition, in
** bytes: rel_define refuses longer ones, and the catalog refuses them when
** it reads them back. */
#define REL_MAX_NAME 1000

/* One declared relationship, as stored in relext_relations. All names
** are resolved (the real spelling of tables and columns). */
typedef struct RelDef RelDef;
struct RelDef {
  char *zModel;     /* source table */
  char *zField;     /* relationship name */
  int eKind;        /* REL_FK, REL_O2O, REL_M2M */
  char *zTarget;    /* target table */
  char *zColumn;    /* FK/O2O: key column of zModel; M2M: NULL */
  char *zToField;   /* FK/O2O: referenced column of zTarget ("rowid" if
                       the target has no primary key column) */
  int eOnDelete;    /* ON_xxx (FK/O2O); ON_NONE for M2M */
  RelValue setVal;  /* value of SET(value) */
  int bNull;        /* null=True */
  RelValue defVal;  /* default= (eType 0 when none) */
  char *zRelName;   /* effective related_name ("" = none, ends in + hidden) */
  char *zRelQuery;  /* effective related_query_name */
  char *zDbTable;   /* M2M: junction table */
  char *zThrough;   /* M2M: through table given by the user, or NULL */
  char *zSrcCol;    /* M2M: junction column pointing at zModel */
  char *zDstCol;    /* M2M: junction column pointing at zTarget */
  char *zSrcKey;    /* M2M: referenced key of zModel ("rowid" if none) */
  char *zDstKey;    /* M2M: referenced key of zTarget */
  int bSymmetrical; /* M2M symmetrical */
  int bDbConstraint;
  int bDbIndex;
  /* The state of the definition in the database (stored.c): */
  char *zCatModel; /* the model as relext_relations names it, when the
                   ** table was renamed since (the catalog follows at the
                   ** next write); NULL otherwise */
  char *zWhy;      /* BROKEN: why the database cannot hold it (a table or
                   ** column gone); NULL when it can */
};
void relDefClear(RelDef *p);
int relDefHidden(const RelDef *p); /* no reverse accessor */

/* A rule edge: child.column -> parent.key with an on_delete rule. Every
** FK and O2O is one edge; an M2M adds one edge per end of its junction
** (CASCADE), except an end of a through table that has a declared FK. */
typedef struct RelEdge RelEdge;
struct RelEdge {
  int iDef;         /* index of the RelDef it comes from */
  int iChild;       /* index into RelCtx.azTable */
  int iParent;      /* index into RelCtx.azTable */
  char *zChildCol;  /* column of the child table holding the key */
  char *zParentCol; /* referenced column of the parent ("rowid" allowed) */
  int eRule;        /* ON_xxx */
  int bConstraint;  /* check dangling keys at commit */
  char *zName;      /* relationship name for messages: model.field */
  int iAsChild;     /* position among the edges of its child table */
  int iAsParent;    /* position among the edges of its parent table */
  int iKey;         /* its parent column's index in the parent's azKey */
  int bGoneTracked; /* PROTECT whose both ends one statement can delete:
                    ** its deleted protecting rows are remembered */
  int eEnd;         /* which end of its definition: 0 the key column of a
                    ** FK/O2O, 1 and 2 the source and target columns of an
                    ** M2M junction (an edge's identity across reloads) */
};

/* What the rules say about one table of RelCtx.azTable (catalog.c). The
** stored guards of a table name its edges by position in aChild/aParent
** and carry iGen, so that adding a relationship elsewhere changes nothing
** in them, and a connection is stale only for the tables whose rules it
** holds differently. */
typedef struct RelTable RelTable;
struct RelTable {
  sqlite3_int64 iGen; /* hash of everything the table's guards encode */
  int *aChild;        /* edges whose child is this table, in edge order */
  int nChild;
  int *aParent; /* edges whose parent is this table, in edge order */
  int nParent;
  const char **azKey; /* its distinct referenced columns (an edge's
                      ** zParentCol each), in the order of aParent */
  int nKey;
  int bPlain;    /* its delete rules are plain SQL (relRulesPlain) */
  int bLiftable; /* deleting its rows may meet a RESTRICT that a later row
                 ** of the same statement could lift (engine.c) */
  int bDoomable; /* deleting its rows may meet both a RESTRICT and a
                 ** PROTECT: a RESTRICT waits for the end of the statement,
                 ** since a later row's PROTECT wins (Django's order) */
  int bMissing;  /* the table does not exist (its definitions are BROKEN) */
  int bBlocked;  /* its stored guards take the blocked form: a BROKEN
                 ** definition involves it, or a table its triggers
                 ** would name is being rebuilt */
  int bRebuild;  /* being rebuilt (rel_rebuild_begin): its guards are
                 ** written again by rel_rebuild_end */
  char *zBlock;  /* NULL, or why every write to it is refused: a BROKEN
                 ** definition, guards that cannot be repaired now, TEMP
                 ** triggers this connection cannot install now */
  int eBlock;    /* REL_BLOCK_xxx: the kind of zBlock */
};

/* Why a table refuses writes (RelTable.eBlock). */
#define REL_BLOCK_BROKEN 1  /* a definition of it is BROKEN */
#define REL_BLOCK_TAMPER 2  /* the catalog was edited by hand */
#define REL_BLOCK_REBUILD 3 /* a table it names is being rebuilt */
#define REL_BLOCK_GUARDS 4  /* its stored guards are out of date */
#define REL_BLOCK_TEMP 5    /* this connection's TEMP triggers of it are */

/* The SQL that creates the catalog table. */
extern const char *relCatalogSchema;
int relCatalogEnsure(sqlite3 *db, char **pzErr);
/* Read the definitions of relext_relations into p (replacing what it
** had; nothing derived yet), and the hash of its rows exactly as stored
** (p->iCatHash; p->bCatalog: the table exists). A record relext could not
** have written is left out and the first such one described in *pzBad
** (caller frees): the catalog was edited by hand. Errors are I/O and
** memory only. */
int relCatalogRead(RelCtx *p, char **pzBad);
/* Why the database cannot hold definition d as its names now stand (a
** table or column gone), or NULL (also when a probe failed: *pRc). Fills
** in an M2M's end keys. */
const char *relDefCheckSchema(sqlite3 *db, RelDef *d, int *pRc);
int relCatalogInsert(sqlite3 *db, const RelDef *pDef, char **pzErr);
int relCatalogDelete(sqlite3 *db, const char *zModel, const char *zField,
                     char **pzErr);
/* Does the stored catalog hold a record for zModel.zField? */
int relCatalogHas(sqlite3 *db, const char *zModel, const char *zField,
                  int *pbHas);
/* Find a loaded definition, or -1. */
int relCtxFindDef(RelCtx *p, const char *zModel, const char *zField);
int relCtxTable(RelCtx *p, const char *zTab); /* index or -1 */
void relCtxClearDefs(RelCtx *p);
/* Forget what was derived from aDef (edges, tables), keeping aDef. */
void relCtxClearDerived(RelCtx *p);
/* Derive aEdge/azTable/aTab/iGen from aDef. */
int relCtxDerive(RelCtx *p);
/* Give the tables the generations aGen[] (one per table, in order). */
int relCtxSetGens(RelCtx *p, const sqlite3_int64 *aGen);
/* Compare two definitions: 0 if the same. */
int relDefCompare(const RelDef *a, const RelDef *b);
const char *relKindName(int eKind);
const char *relRuleName(int eRule);
/* The rule called z (exactly, or in any case with bNoCase), ON_NONE for
** none; SET(value) is a call, not a name. */
int relRuleByName(const char *z, int bNoCase);
/* on_delete text as listed: CASCADE, SET(5), ... (caller frees) */
char *relRuleText(const RelDef *p);

/* Definition rules: names (catalog.c). */
/* A kind as Django writes it (ForeignKey, models.OneToOneField, fk, m2m):
** REL_xxx, or 0. */
int relParseKind(const char *z);
/* Resolve a Django model reference (a table, 'app.Model', a class name,
** 'self' meaning zSelf) to a table of main. zCtx prefixes error messages,
** zRole names the model in them. */
int relResolveModel(sqlite3 *db, const char *zSelf, const char *zSpec,
                    const char *zCtx, const char *zRole, char **pzTab,
                    char **pzErr);
/* Is zTab reserved (sqlite_*, relext_*)? */
int relIsReservedName(const char *zTab);
int relIsPyKeyword(const char *z);
/* Is z a Python identifier (with bPlus: or one followed by '+'s, or only
** '+'s: a hidden related name)? */
int relIsIdentifier(const char *z, int bPlus);
/* The names of the accessor tables of a definition (caller frees); the
** reverse one is NULL when it has none (hidden, symmetrical). */
char *relAccessorForward(const RelDef *p);
char *relAccessorReverse(const RelDef *p);

/* ------------------------------------------------------------------ */
/* stored.c: what the database says about relext's rules, read back     */

/* The objects relext stores in a schema (guard.c writes them). */
#define REL_OBJ_INDEX 1   /* relext_guard_i_<t>: a table's guard index */
#define REL_OBJ_BEFORE 2  /* relext_guard_d_<t>: BEFORE DELETE trigger */
#define REL_OBJ_AFTER 3   /* relext_guard_a_<t>: AFTER DELETE trigger */
#define REL_OBJ_CATALOG 4 /* relext_catalog_<x>: the catalog's witness */
#define REL_OBJ_OTHER 5   /* a relext_guard_* object of no known form */
typedef struct RelStoredObj RelStoredObj;
struct RelStoredObj {
  int eKind;          /* REL_OBJ_xxx */
  int bIndex;         /* an index (else a trigger) */
  char *zName;        /* its name */
  char *zTbl;         /* the table it is on, as SQLite now names it */
  const char *zFor;   /* the table named in its name (into zName) */
  char *zSql;         /* its SQL */
  sqlite3_int64 iGen; /* the generation (witness: the catalog hash) it
                      ** carries, or 0 */
  int bBlocked;       /* a trigger in the blocked form */
  int nArg;           /* guard index: its edges, in the order it names */
  int *aPos;          /* the edge's position: k child, -1-k parent */
  char **azCol;       /* the column it names for it (NULL: none) */
};
typedef struct RelStoredSet RelStoredSet;
struct RelStoredSet {
  RelStoredObj *a;
  int n;
};
/* Every relext object stored in schema zDb ("main", or an attached one). */
int relStoredRead(sqlite3 *db, const char *zDb, RelStoredSet *pSet);
void relStoredClear(RelStoredSet *pSet);
/* A hash of relext's stored objects, its TEMP objects and (bCatalog) the
** catalog's rows: equal hashes, nothing relext reads changed. */
int relStoredFingerprint(sqlite3 *db, int bCatalog, sqlite3_uint64 *pH);
/* Load the catalog into p as the database holds it now: renames followed,
** BROKEN definitions and their tables' refusals, the catalog's
** legitimacy (p->zTamper); aMap[i] (one per edge loaded before, or NULL)
** gets the new index of old edge i, or -1. Fails only on I/O and memory
** errors. */
int relStoredLoad(RelCtx *p, int *aMap, char **pzErr);

/* ------------------------------------------------------------------ */
/* ctx.c                                                               */

/* The modules that keep state in a context, one slot each, in the order
** their hooks run (ctx.c). */
#define REL_SLOT_COMMIT 0   /* commit.c: the notes, the check's statements */
#define REL_SLOT_ENGINE 1   /* engine.c: the engine's statements and plans */
#define REL_SLOT_GUARD 2    /* guard.c: no state; installs the TEMP triggers */
#define REL_SLOT_ACCESSOR 3 /* accessor.c: the accessor prototypes */
#define REL_SLOT_N 4

/* What a module gives relCtxAttach() with its state. Any hook may be
** NULL. pState is the slot's state (which xLoaded may replace). */
typedef struct RelHooks RelHooks;
struct RelHooks {
  /* The catalog was reloaded and its edges renumbered: aMap[i] is the new
  ** index of old edge i (nOld of them), or -1. Runs after every load that
  ** found edges loaded before, even a failed one. */
  void (*xRemap)(RelCtx *p, void *pState, const int *aMap, int nOld);
  /* The catalog was loaded: install what this connection needs for it. */
  int (*xLoaded)(RelCtx *p, void *pState, char **pzErr);
  /* Finalize every statement the module keeps prepared. */
  void (*xStmtsFree)(RelCtx *p, void *pState);
  /* The context dies: free pState (NULL for a module without state). */
  void (*xFree)(RelCtx *p, void *pState);
};

typedef struct RelSlot RelSlot;
struct RelSlot {
  void *pState;           /* the module's private state, or NULL */
  const RelHooks *pHooks; /* its hooks, or NULL */
};

/* Per-connection state. */
struct RelCtx {
  sqlite3 *db;
  int nRef; /* registrations holding this context (ctx.c) */
  /* The catalog (catalog.c). */
  RelDef *aDef; /* the definitions, loaded */
  int nDef;
  RelEdge *aEdge; /* derived rule edges */
  int nEdge;
  char **azTable; /* every table that appears in an edge */
  int nTable;
  RelTable *aTab;     /* per table of azTable: its rules */
  int *aGenHash;      /* open-addressing map iGen -> table index + 1 */
  int nGenHash;       /* slots in aGenHash (a power of two) */
  sqlite3_int64 iGen; /* hash of the loaded catalog */
  /* What the database says of the catalog (stored.c). */
  int bCatalog;           /* relext_relations exists */
  sqlite3_int64 iCatHash; /* hash of its rows, exactly as stored */
  int bWitness;           /* its witness triggers are stored */
  sqlite3_int64 iWitness; /* the hash they carry */
  char *zTamper;    /* NULL, or why the catalog is not trusted (edited by
                    ** hand): every write to a governed table is refused */
  int bRenamed;     /* names followed in memory, not yet in the catalog */
  int bStale;       /* stored guards differ from the loaded rules */
  int bCatalogOpen; /* relext itself is writing relext_relations */
  char **azRebuild; /* tables being rebuilt (rel_rebuild_begin), as the
                    ** witness lists them; with bRebuildSet, as ddl.c
                    ** wants them written */
  int nRebuild;
  int bRebuildSet;  /* a load takes azRebuild as it is */
  int bRebuildTxn;  /* this transaction began a rebuild: COMMIT checks
                    ** that every rebuild has ended */
  /* Staying in step with the database (ctx.c: relCtxSync). */
  sqlite3_stmt *pProbe;      /* a statement whose re-preparations count
                             ** the schema changes (and rollbacks of them) */
  int nProbe;                /* its re-preparations when last in step */
  sqlite3_uint64 iStateHash; /* hash of relext's stored objects, TEMP
                             ** objects and catalog when last in step */
  int bSyncForce;            /* next relCtxSync reloads whatever it finds */
  int bSyncCheck;            /* relCtxSync compares fingerprints whatever
                             ** the probe says */
  int bCloseHooked;          /* relext_close is connected (commit.c): the
                             ** probe may stay prepared */
  int eLoad;                 /* REL_SYNC_xxx of the (re)load running */
  int nLoading;              /* >0 while a load runs (no sync nests) */
  int bInfra;                /* relext's TEMP tables (relext_txn, ...) are
                             ** there: notes can be taken (guard.c) */
  int bRestoring;            /* a load inside the CREATE INDEX of a guard
                             ** (a dump being restored): guards not made
                             ** yet are neither refused nor evidence */
  /* Write into the database what a load found out of step (renames into
  ** the catalog, guards repaired): set by the module that can (ddl.c),
  ** called by relCtxLoad in REL_SYNC_WRITE mode. */
  int (*xRepair)(RelCtx *p, char **pzErr);
  int bRepairSoft; /* a repair that fails leaves the tables concerned
                   ** refusing writes instead of failing (loading) */
  /* Cached statements (ctx.c). */
  int nBusy;      /* >0 while relext runs its cached statements: the delete
                  ** engine (rows it deletes meanwhile are its own: their
                  ** triggers and guards stand aside), the COMMIT check */
  int bFreeLater; /* free the cached statements when nBusy drops to 0 */
  int bFreeing;   /* relCtxStmtsFree is running */
  char *zBroken; /* a load that failed but could not be taken back: every
                 ** guard refuses with this message (relext.c) */
  char *zLastError;          /* relext's last refusal (rel_last_error) */
  size_t nLastError;         /* bytes allocated for it */
  int nNested;               /* >0 while an accessor runs its own writes */
  int nCareful; /* >0 while the engine runs in careful mode: application
                ** triggers fire on the rows it writes (engine.c) */
  RelSlot aSlot[REL_SLOT_N]; /* the modules' state */
  RelCtx *pNextCtx;          /* registry of live contexts (ctx.c) */
};

/* The table whose generation is iGen (RelTable.iGen), or -1: how a stored
** guard finds the table and edges it was written for. */
static inline int relCtxTableByGen(const RelCtx *p, sqlite3_int64 iGen) {
  unsigned m, h;
  if (p->nGenHash == 0 || p->zBroken) return -1;
  m = (unsigned)p->nGenHash - 1;
  h = (unsigned)((sqlite3_uint64)iGen * 0x9E3779B97F4A7C15ULL >> 40) & m;
  while (p->aGenHash[h]) {
    int t = p->aGenHash[h] - 1;
    if (p->aTab[t].iGen == iGen) return t;
    h = (h + 1) & m;
  }
  return -1;
}

/* Is table t being rebuilt (rel_rebuild_begin)? */
static inline int relCtxRebuilding(const RelCtx *p, int t) {
  return t >= 0 && t < p->nTable && p->aTab[t].bRebuild;
}

void relCtxUnref(void *p);
RelCtx *relCtxRef(RelCtx *p);
/* What a (re)load may change besides this connection's memory. */
#define REL_SYNC_MEM 0   /* nothing (inside a COMMIT, a virtual table, a rule
                         ** running): tables whose TEMP objects would change
                         ** refuse writes until rel_reload() */
#define REL_SYNC_TEMP 1  /* this connection's TEMP objects too */
#define REL_SYNC_WRITE 2 /* the database too: renames written into the
                         ** catalog, guards repaired (p->xRepair) */
/* Load the catalog as the database holds it, then let each module install
** what this connection needs (xLoaded, which reads p->eLoad). */
int relCtxLoad(RelCtx *p, int eMode, char **pzErr);
/* relCtxLoad(p, REL_SYNC_TEMP, ...). */
int relCtxReload(RelCtx *p, char **pzErr);
/* Only the definitions: stored.c's load, the edges renumbered for the
** modules (xRemap). For p->xRepair, which writes and reads again. */
int relCtxReloadDefs(RelCtx *p, char **pzErr);
/* Make sure this connection holds the rules as the database now has them
** before relext runs any: cheap when nothing changed (one step of a probe
** statement whose re-preparations count schema changes and rollbacks),
** else a fingerprint of what relext reads, and a load (relCtxLoad with
** eMode) when that changed. A no-op while relext's own statements run. */
int relCtxSync(RelCtx *p, int eMode, char **pzErr);
/* The registry of live contexts: put in, find by connection, take out. */
void relCtxRegister(RelCtx *p);
RelCtx *relCtxFind(sqlite3 *db);
void relCtxForget(RelCtx *p);
/* Give module slot iSlot its state and hooks (at registration). */
void relCtxAttach(RelCtx *p, int iSlot, void *pState, const RelHooks *pHooks);
/* Remember zMsg (copied; NULL forgets) as relext's last refusal on this
** connection: SELECT rel_last_error() returns it, for refusals SQLite
** reports in its own words (a statement failed through its foreign-key
** counter). */
void relCtxSetLastError(RelCtx *p, const char *zMsg);
/* Finalize every cached statement of every module now. */
void relCtxStmtsFree(RelCtx *p);
/* The same, or when nBusy drops to 0 if relext is running them. */
void relCtxStmtsRelease(RelCtx *p);
/* A stretch that runs cached statements: enter, leave. Inline, since the
** engine and the guard function run them per row. */
static inline void relCtxEnter(RelCtx *p) {
  p->nBusy++;
}
static inline void relCtxLeave(RelCtx *p) {
  if (--p->nBusy == 0 && p->bFreeLater) {
    p->bFreeLater = 0;
    relCtxStmtsFree(p);
  }
}

/* ------------------------------------------------------------------ */
/* Enforcement: commit.c, engine.c, guard.c                           */

/* The message of every refusal of a connection whose definitions are
** older than the stored guards. */
#define REL_STALE_MSG                                                          \
  "relext: relationship definitions changed in another connection; "           \
  "run SELECT rel_reload() first"

/* The refusal of a write this connection cannot check yet. */
#define REL_TEMP_STALE_MSG_ANY                                                 \
  "relext: the rules changed since this connection set them up (another "    \
  "connection, a dump restored): run SELECT rel_reload() first"

/* Kinds of note (commit.c). */
#define NOTE_DANGLING 1 /* key of edge may point nowhere */
#define NOTE_RESTRICT 2 /* key of edge was deleted under RESTRICT */
#define NOTE_NULL 3     /* row (key = rowid) of the child may hold NULL */

/* commit.c */
int relRegisterCommit(sqlite3 *db, RelCtx *p);
/* Note that key v (pV) of edge iEdge is a suspect of kind eKind for the
** COMMIT check (bGone: a key a parent gave up). For the delete engine. */
int relNoteAdd(RelCtx *p, int iEdge, int eKind, sqlite3_value *v, int bGone);
int relNoteAddValue(RelCtx *p, int iEdge, int eKind, const RelValue *pV,
                    int bGone);
/* A RESTRICT note carrying its refusal zMsg: for the end of the statement
** (bPending) or the COMMIT check; bCertain: refused whatever happens. */
int relNoteRestrict(RelCtx *p, int iEdge, sqlite3_value *pKey,
                    const char *zMsg, int bPending, int bCertain);
/* How many such RESTRICTs are still standing (*pnLeft). */
int relPendingCount(RelCtx *p, int *pnLeft, char **pzErr);
/* Enrol relext_txn in the write transaction (so that its COMMIT check
** runs), for a note taken outside relext's TEMP triggers. */
int relCommitEnrol(RelCtx *p);
/* Refuse the running autocommit statement with zMsg when it ends. */
int relCommitDoom(RelCtx *p, const char *zMsg);
/* Foreign keys on and immediate: a statement's violations fail it at its
** end (SQLite's counter; see commit.c's pending notes). */
int relFkImmediate(sqlite3 *db);
/* The savepoint depth relext_txn is at (the running statement's). */
int relCommitLevel(RelCtx *p);
/* A row on the child side of PROTECT edge iEdge with key pKey was deleted
** by the statement running at depth iLevel; relGoneNext iterates the keys
** so protected (*piPos from 0; NULL at the end). */
int relGoneAdd(RelCtx *p, int iEdge, sqlite3_value *pKey, int iLevel);
const RelValue *relGoneNext(RelCtx *p, int iEdge, int *piPos);
/* Connect relext_close so that statements may be cached across
** transactions; 1 when it is connected. */
int relCloseHook(RelCtx *p);
/* The table a guard or trigger of generation iGen that fires stands for:
** -1, with the reason in *pzErr, when this connection cannot act for it
** (rules this connection does not hold even after catching up with the
** database, a table whose writes are refused, a governed database attached
** and written). */
int relGuardFire(RelCtx *p, sqlite3_int64 iGen, char **pzErr);
/* Check every key of edge iEdge at COMMIT (rows written past relext). */
int relCommitCheckWhole(RelCtx *p, int iEdge);
/* Take no notes (bOn 1) or notes again (bOn 0), while guards are made. */
void relCommitQuiet(RelCtx *p, int bOn);

/* engine.c */
int relRegisterEngine(sqlite3 *db, RelCtx *p);

/* guard.c */
int relRegisterGuard(sqlite3 *db, RelCtx *p);
/* Rewrite the stored guard triggers after the catalog changed. */
int relGuardsWrite(RelCtx *p, char **pzErr);
/* Turn SQLite's foreign keys on where that changes nothing else (see
** guard.c); a no-op inside a transaction. */
int relGuardForeignKeys(RelCtx *p, char **pzErr);
/* Are the stored guards those of the loaded definitions? */
int relGuardsCurrent(RelCtx *p, int *pbCurrent);

/* ------------------------------------------------------------------ */
/* define.c                                                            */
int relRegisterDefine(sqlite3 *db, RelCtx *p);

/* ------------------------------------------------------------------ */
/* ddl.c                                                               */
int relRegisterDdl(sqlite3 *db, RelCtx *p);

/* ------------------------------------------------------------------ */
/* accessor.c                                                          */
int relRegisterAccessor(sqlite3 *db, RelCtx *p);

/* ------------------------------------------------------------------ */
/* inspect.c, lookup.c                                                 */
int relRegisterInspect(sqlite3 *db, RelCtx *p);
int relRegisterLookup(sqlite3 *db, RelCtx *p);

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility pop
#endif

#endif /* RELEXT_INT_H */
