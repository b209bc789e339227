/*
** enforce.c -- holding every write to Django's rules.
**
** WHAT IS ENFORCED
**   on_delete (CASCADE, PROTECT, RESTRICT, SET_NULL, SET_DEFAULT, SET(v),
**   DO_NOTHING) for every DELETE of a row that a relationship references;
**   no dangling key at COMMIT (db_constraint=True); NOT NULL for keys with
**   null=False; M2M junction link rows going with either end; symmetrical
**   junctions mirrored.
**
** THE MECHANISM
**   The catalog is reduced to rule edges (child.column -> parent.key, rule;
**   see catalog.c). For this connection, relEnforceInstall() creates TEMP
**   triggers on the governed tables of the main schema:
**
**   - Where the order of deletion cannot matter (relPlainMode), a parent's
**     rules are plain SQL in its stored BEFORE DELETE guard trigger
**     (relext_guard_d_<table>, written by relGuardsWrite for catalog hash
**     G): DELETE for CASCADE, UPDATE for SET_*, one counting probe per
**     PROTECT/RESTRICT edge that calls relext_fail(G, ...). A stored
**     trigger, not a TEMP one, because the guard has to be there anyway
**     (see below) and one trigger per deleted row costs half of two. It
**     calls only SQLITE_INNOCUOUS functions. (Guards written by relext
**     0.1.0 lack the rules: then a TEMP trigger relext_del_<table> holds
**     them until rel_reload() rewrites the guards.)
**   - Elsewhere a TEMP BEFORE DELETE trigger on the parent calls
**     relext_on_delete(table, rowid). That C function is the delete
**     engine. It works like Django's
**     Collector, but set-based and iterative: one recursive CTE collects
**     the closure of rows reached through CASCADE edges (no trigger
**     recursion, so no depth limit and no dependence on
**     PRAGMA recursive_triggers); then PROTECT is checked against that
**     closure (any referencing row blocks, even one the same cascade would
**     delete), RESTRICT rows outside the closure are noted, SET_* updates
**     run, and each table's share of the closure goes in one
**     DELETE ... WHERE rowid IN (...). While the engine runs, the triggers
**     of the rows it deletes return at once: those rows were collected.
**     Shortcuts: a row nothing references is left alone after one probe
**     per edge (relAnySql), and a self-referencing tree goes in one
**     recursive DELETE (relTreeSql).
**   - A child's key columns are watched by stored guard indexes: an index
**     on the key column whose WHERE clause is
**     relext_must_be_loaded(G, edge, key [, row]) (one index per child
**     table: with several edges, (G, e1, key1, row1, e2, key2, row2...)). It
**     always returns 0, so
**     the index stays empty, but SQLite evaluates it inline for every row
**     inserted, deleted, or updated in that column -- a function call,
**     where a trigger would cost a whole sub-program per row (measured:
**     an empty AFTER INSERT trigger costs more per row than SQLite's entire
**     native foreign key check). The function notes the key (once per
**     distinct key and transaction) as a suspect for the commit check, and
**     the row of a NULL key when null=False.
**   - The same kind of guard index on each referenced key column notes the
**     keys of parent rows written or deleted: a changed key, or a row that
**     REPLACE removes without delete triggers, leaves a suspect that the
**     commit check verifies. (A bare rowid cannot be indexed; for it an
**     AFTER UPDATE TEMP trigger notes an old key still referenced.)
**
**   Notes go to relext_txn, a TEMP virtual table. Statements that can fire
**   relext's TEMP triggers enrol it in their transaction (the triggers
**   write to it); the guard function enrols it with a nested statement the
**   first time it notes a key in a transaction. Either way its xSync runs
**   at COMMIT (or at the end of an autocommit statement). xSync checks each
**   suspect once, with one index probe: a key that points nowhere (or a
**   RESTRICT row still referencing a deleted row, or a NULL key) fails the
**   COMMIT with a "relext: " message and SQLITE_CONSTRAINT, and SQLite
**   rolls the transaction back. This is SQLite's deferred-constraint design
**   (src/fkey.c) with a set of suspects instead of a counter: writing a row
**   costs a function call and a hash probe, and the commit check costs one
**   probe per distinct key, never a scan. The notes follow savepoints
**   through xSavepoint/xRollbackTo, so ROLLBACK TO and failed statements
**   forget what they noted.
**
**   Why not sqlite3_commit_hook: it cannot run SQL, its failure message is
**   fixed ("constraint failed"), and there is one per connection, which an
**   application may replace. xSync can query, report its own message, and
**   coexists with any commit hook the application installs.
**
**   Connections without relext: every write that could break a rule meets
**   a relext function: relext_must_be_loaded() in the guard indexes of
**   children and parents, and stored triggers (relext_guard_*) on every
**   DELETE and UPDATE of a parent (a trigger there, so that a DELETE
**   without WHERE cannot truncate past it). Without relext the write fails
**   with "no such function" (or "unknown function");
**   with relext loaded but holding definitions older than G (another
**   connection changed them), it fails with a message asking for
**   SELECT rel_reload(). Reads never involve them.
**
** INVARIANTS
**   - PROTECT is decided before anything is changed for that row.
**   - RESTRICT is lifted by any deletion in the same statement (autocommit)
**     or transaction; a RESTRICT violation outside the closure of the row
**     is reported when the statement's transaction commits.
**   - The engine never holds the closure in C memory: it lives in the TEMP
**     table relext_victim (or the tree DELETE's own temporary tables) and
**     is cleared after each row.
**   - Statements stay prepared across transactions only while relext_close
**     is connected to finalize them before sqlite3_close() checks.
**
** LIMITS
**   - Inside an explicit transaction, a RESTRICT violation is reported at
**     COMMIT, not at the DELETE (see README).
**   - Rows deleted by the application's own triggers while a relext
**     cascade runs are not followed by relext.
**   - REPLACE conflict resolution deletes rows without delete triggers
**     unless PRAGMA recursive_triggers is on: the parent's on_delete rules
**     do not run for such a row (the COMMIT check still refuses the
**     dangling keys it leaves).
**   - NOT NULL (null=False) is checked with the other keys, at COMMIT.
**   - Without relext, PRAGMA integrity_check and VACUUM cannot evaluate the
**     guard indexes of governed tables: run them with relext loaded.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Kinds of pending note. */
#define NOTE_DANGLING 1 /* key of edge may point nowhere */
#define NOTE_RESTRICT 2 /* key of edge was deleted under RESTRICT */
#define NOTE_NULL 3     /* row (key = rowid) of the child may hold NULL */

typedef struct RelNote RelNote;
struct RelNote {
  int iEdge;
  int eKind;
  int bGone; /* NOTE_DANGLING: noted where a parent key went away */
  RelValue key;
};

/* Per-table engine plan. */
typedef struct RelPlan RelPlan;
struct RelPlan {
  int *aReach; /* tables reached through CASCADE, deepest first */
  int nReach;
  sqlite3_stmt **apDel; /* DELETE ... rowid IN victims, per aReach entry */
  sqlite3_stmt *pTree;  /* or, for a self-referencing tree, one DELETE */
  sqlite3_stmt *pAny;   /* a row if anything references row ?1 */
};

typedef struct RelEnforce RelEnforce;
struct RelEnforce {
  RelNote *aNote;
  int nNote, nNoteAlloc;
  int *aMark; /* aMark[i]: nNote when savepoint i was opened */
  int nMark;
  sqlite3_stmt *pCollect;  /* the closure CTE */
  sqlite3_stmt *pClear;    /* DELETE FROM temp.relext_victim */
  sqlite3_stmt *pDropRoot; /* remove the root from the victims */
  sqlite3_stmt **apEdge;   /* per edge: the rule's statement (or NULL) */
  int nEdgeStmt;           /* entries in apEdge */
  int bPrepared;           /* statements match the loaded definitions */
  int bFreeLater;          /* free the statements when the engine returns */
  int bFreeing;            /* relEnforceStmtsFree is running */
  int bHooked;             /* relext_close is connected (see there) */
  sqlite3_stmt **apCheck;  /* the COMMIT check's statements, REL_CHECK_SLOTS
                           ** per edge (see relCheckStmt, relBatchCheck) */
  int nCheck;              /* edges apCheck is sized for */
  int *aHash;              /* open-addressing set of note indexes + 1 */
  int nHash;               /* slots in aHash (a power of two), or 0 */
  int bHashStale;          /* notes were truncated: rebuild before use */
  int bInTxn;              /* relext_txn is enrolled in the transaction */
  int bQuiet;              /* take no notes (while guards are created) */
  sqlite3_stmt *pEnroll;   /* enrols relext_txn in the transaction */
  sqlite3_int64 *aLast;    /* per edge: REL_LAST_N integer keys noted */
  int nLast;               /* edges the per-edge arrays are sized for */
  unsigned *aLastGen;      /* per slot of aLast: valid if == iLastGen */
  unsigned iLastGen;       /* generation of the valid slots (never 0) */
  int *aCount;             /* per edge: notes taken this transaction */
  unsigned char *aBulk;    /* per edge: too many notes, check it whole */
  RelPlan *aPlan;          /* per table */
  int nPlan;
};

static RelEnforce *relEnf(RelCtx *p) {
  return (RelEnforce *)p->pEnforce;
}

/* ------------------------------------------------------------------ */
/* Notes                                                               */

/* Integer keys each edge remembers as noted (a direct-mapped cache in
** front of the note hash): the keys of a bulk write repeat, in runs (the
** articles of one category) or among a few (the tags of M2M links). */
#define REL_LAST_N 1024

/* Forget every remembered key: O(1), a new generation. */
static void relLastClear(RelEnforce *e) {
  if (++e->iLastGen == 0) {
    if (e->aLastGen)
      memset(e->aLastGen, 0,
             (size_t)(e->nLast + 1) * REL_LAST_N * sizeof(unsigned));
    e->iLastGen = 1;
  }
}

static unsigned relNoteHash(int iEdge, int eKind, const RelValue *pV);

static void relNotesTruncate(RelEnforce *e, int n) {
  if (e->nNote > n) {
    relLastClear(e);
    if (n == 0 && !e->bHashStale && e->aHash && e->nNote * 8 < e->nHash) {
      /* The end of a transaction: empty the slots of the notes (a large
      ** set left by an earlier transaction would cost a memset each). */
      unsigned m = (unsigned)e->nHash - 1;
      int i, k;
      for (i = 0; i < e->nNote; i++) {
        const RelNote *pN = &e->aNote[i];
        unsigned h = relNoteHash(pN->iEdge, pN->eKind, &pN->key) & m;
        for (k = 0; k < e->nHash && e->aHash[h] != i + 1; k++)
          h = (h + 1) & m;
        if (k < e->nHash)
          e->aHash[h] = 0;
        else
          e->bHashStale = 1; /* cannot happen; rebuild to be safe */
      }
    } else {
      e->bHashStale = 1;
    }
  }
  while (e->nNote > n) {
    e->nNote--;
    relValueClear(&e->aNote[e->nNote].key);
  }
}

/* Forget the per-edge counts of a transaction; give back the memory of a
** large one. */
static void relBulkReset(RelEnforce *e) {
  if (e->aCount) {
    memset(e->aCount, 0, sizeof(int) * (size_t)(e->nLast + 1));
    memset(e->aBulk, 0, (size_t)(e->nLast + 1));
  }
  if (e->nNote == 0 && e->nNoteAlloc > 4096) {
    sqlite3_free(e->aNote);
    sqlite3_free(e->aHash);
    e->aNote = 0;
    e->aHash = 0;
    e->nNoteAlloc = e->nHash = 0;
    e->bHashStale = 1;
  }
}

/* The hash of a note. */
static unsigned relNoteHash(int iEdge, int eKind, const RelValue *pV) {
  unsigned h = (unsigned)iEdge * 2654435761u ^ (unsigned)eKind * 40503u;
  switch (pV->eType) {
  case SQLITE_INTEGER:
    h ^= (unsigned)(pV->i ^ (pV->i >> 32)) * 2246822519u;
    break;
  case SQLITE_FLOAT: {
    sqlite3_int64 x;
    memcpy(&x, &pV->r, sizeof(x));
    h ^= (unsigned)(x ^ (x >> 32)) * 3266489917u;
    break;
  }
  case SQLITE_TEXT: {
    const unsigned char *z = (const unsigned char *)pV->z;
    for (; z && *z; z++)
      h = (h ^ *z) * 16777619u;
    break;
  }
  default:
    break;
  }
  return h ^ (h >> 15);
}

/* Put note i into the hash set (which has room). */
static void relHashPut(RelEnforce *e, int i) {
  const RelNote *pN = &e->aNote[i];
  unsigned m = (unsigned)e->nHash - 1;
  unsigned h = relNoteHash(pN->iEdge, pN->eKind, &pN->key) & m;
  while (e->aHash[h])
    h = (h + 1) & m;
  e->aHash[h] = i + 1;
}

/* Make the hash set hold every note, with room for one more. */
static int relHashReady(RelEnforce *e) {
  int i;
  if (!e->bHashStale && e->nHash > 2 * (e->nNote + 1)) return SQLITE_OK;
  if (e->nHash <= 2 * (e->nNote + 1)) {
    int n = e->nHash ? e->nHash : 64;
    int *a;
    while (n <= 2 * (e->nNote + 1))
      n *= 2;
    a = sqlite3_malloc64(sizeof(int) * (size_t)n);
    if (a == 0) return SQLITE_NOMEM;
    sqlite3_free(e->aHash);
    e->aHash = a;
    e->nHash = n;
  }
  memset(e->aHash, 0, sizeof(int) * (size_t)e->nHash);
  for (i = 0; i < e->nNote; i++)
    relHashPut(e, i);
  e->bHashStale = 0;
  return SQLITE_OK;
}

/* The note taken already with these values, or NULL. */
static RelNote *relNoteSeen(RelEnforce *e, int iEdge, int eKind,
                            const RelValue *pV) {
  unsigned m = (unsigned)e->nHash - 1;
  unsigned h = relNoteHash(iEdge, eKind, pV) & m;
  while (e->aHash[h]) {
    RelNote *pN = &e->aNote[e->aHash[h] - 1];
    if (pN->iEdge == iEdge && pN->eKind == eKind && relValueEq(&pN->key, pV))
      return pN;
    h = (h + 1) & m;
  }
  return 0;
}

/* An edge with more distinct suspects than this in one transaction (a bulk
** load) stops taking notes and is checked whole at COMMIT, with one
** anti-join: memory stays bounded (about 60 bytes a note), and a set-based
** check is then cheaper than one probe per key. Not lower: W5 of make
** bench (100,000 keys over a 1,000,000-row junction) is checked key by key
** in a third of the time of the anti-join. */
#define REL_BULK_NOTES 262144

/* Size the per-edge arrays for nEdge edges (and clear them). */
static int relEdgeArrays(RelEnforce *e, int nEdge) {
  size_t n = (size_t)(nEdge + 1);
  size_t nByte = n * (REL_LAST_N * (sizeof(sqlite3_int64) + sizeof(unsigned)) +
                      sizeof(int) + 1);
  char *a;
  if (e->nLast == nEdge && e->aLast) return SQLITE_OK;
  sqlite3_free(e->aLast);
  e->aLast = 0;
  e->aCount = 0;
  e->aLastGen = 0;
  e->aBulk = 0;
  e->nLast = 0;
  e->iLastGen = 1;
  a = sqlite3_malloc64(nByte);
  if (a == 0) return SQLITE_NOMEM;
  memset(a, 0, nByte);
  e->aLast = (sqlite3_int64 *)a;
  a += n * REL_LAST_N * sizeof(sqlite3_int64);
  e->aCount = (int *)a;
  a += n * sizeof(int);
  e->aLastGen = (unsigned *)a;
  a += n * REL_LAST_N * sizeof(unsigned);
  e->aBulk = (unsigned char *)a;
  e->nLast = nEdge;
  return SQLITE_OK;
}

/* Take a note (once: a note already taken is not taken again). bGone:
** the key is one a parent row gave up (a hint for the check). */
static int relNoteAddValue(RelEnforce *e, int iEdge, int eKind,
                           const RelValue *pV, int bGone) {
  RelNote *pN;
  int rc = relHashReady(e);
  if (rc) return rc;
  if ((pN = relNoteSeen(e, iEdge, eKind, pV)) != 0) {
    if (bGone) pN->bGone = 1;
    return SQLITE_OK;
  }
  if (e->nNote >= e->nNoteAlloc) {
    int nNew = e->nNoteAlloc ? e->nNoteAlloc * 2 : 16;
    RelNote *a = sqlite3_realloc64(e->aNote, sizeof(RelNote) * (size_t)nNew);
    if (a == 0) return SQLITE_NOMEM;
    e->aNote = a;
    e->nNoteAlloc = nNew;
  }
  pN = &e->aNote[e->nNote];
  memset(pN, 0, sizeof(*pN));
  pN->iEdge = iEdge;
  pN->eKind = eKind;
  pN->bGone = bGone;
  rc = relValueCopy(&pN->key, pV);
  if (rc) return rc;
  relHashPut(e, e->nNote);
  e->nNote++;
  if (e->aCount && iEdge >= 0 && iEdge < e->nLast &&
      ++e->aCount[iEdge] > REL_BULK_NOTES) {
    e->aBulk[iEdge] = 1;
  }
  return SQLITE_OK;
}

static int relNoteAdd(RelEnforce *e, int iEdge, int eKind, sqlite3_value *v,
                      int bGone) {
  RelValue val;
  int rc;
  memset(&val, 0, sizeof(val));
  rc = relValueFromSql(&val, v);
  if (rc == SQLITE_OK) rc = relNoteAddValue(e, iEdge, eKind, &val, bGone);
  relValueClear(&val);
  return rc;
}

/* Remap the edges of pending notes after the catalog was reloaded:
** aMap[old] = new index or -1. */
static void relEnforceStmtsFree(RelEnforce *e);
void relEnforceRemap(RelCtx *p, const int *aMap, int nOld);
void relEnforceRemap(RelCtx *p, const int *aMap, int nOld) {
  RelEnforce *e = relEnf(p);
  int i, j = 0;
  if (e == 0) return;
  /* The cached statements name the old edges by number. */
  if (p->nEngine > 0)
    e->bFreeLater = 1;
  else
    relEnforceStmtsFree(e);
  for (i = 0; i < e->nNote; i++) {
    int iOld = e->aNote[i].iEdge;
    int iNew = (iOld >= 0 && iOld < nOld) ? aMap[iOld] : -1;
    if (iNew < 0) {
      relValueClear(&e->aNote[i].key);
      continue;
    }
    e->aNote[j] = e->aNote[i];
    e->aNote[j].iEdge = iNew;
    j++;
  }
  e->nNote = j;
  e->bHashStale = 1;
  relLastClear(e);
  for (i = 0; i < e->nMark; i++) {
    if (e->aMark[i] > j) e->aMark[i] = j;
  }
}

/* ------------------------------------------------------------------ */
/* Messages                                                            */

/* The value as SQL text for a message; NULL when out of memory (also when
** SQLite cannot make the value's text). */
static char *relValueText(sqlite3_value *v) {
  int eType = sqlite3_value_type(v);
  const unsigned char *z;
  if (eType == SQLITE_NULL) return sqlite3_mprintf("NULL");
  z = sqlite3_value_text(v);
  if (z == 0) return 0;
  return sqlite3_mprintf(eType == SQLITE_TEXT ? "%Q" : "%s", z);
}

static char *relRelValueText(const RelValue *p) {
  switch (p->eType) {
  case SQLITE_INTEGER:
    return sqlite3_mprintf("%lld", p->i);
  case SQLITE_FLOAT:
    return sqlite3_mprintf("%!.15g", p->r);
  case SQLITE_TEXT:
    return sqlite3_mprintf("%Q", p->z);
  default:
    return sqlite3_mprintf("NULL");
  }
}

/* Is zCol a name for the rowid of zTab? We treat "rowid" and the INTEGER
** PRIMARY KEY the same; the catalog stores the real column name. */
static int relIsRowid(const char *zCol) {
  return sqlite3_stricmp(zCol, "rowid") == 0;
}

/* ------------------------------------------------------------------ */
/* The commit check: xSync of relext_txn                               */

/* How a row of zTab is named in SQL: "rowid", or the primary key column
** of a WITHOUT ROWID table (quoted), or NULL when it has no single one.
** Caller frees. */
static char *relRowKey(sqlite3 *db, const char *zTab, int *pRc) {
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

/* Statements of the COMMIT check per edge, kept from one transaction to
** the next (prepared on first use, finalized with the engine's): 0 a
** child's key, 1 a NULL key, 2 a key a parent gave up (relCheckStmt), 3
** and 4 the batches of integer keys, noted by children or by parents
** (relBatchCheck). */
#define REL_CHECK_SLOTS 5

/* Integer keys of an edge checked in one statement from this many on. */
#define REL_BATCH_MIN 8

/* The statement that checks notes of edge iEdge and kind eKind: a row
** whose first column (a child's row key) is not NULL when the note is a
** violation; none, or NULL, otherwise. Kept in apCheck[]. */
static int relCheckStmt(RelCtx *p, sqlite3_stmt **apCheck, int iEdge, int eKind,
                        int bGone, sqlite3_stmt **ppOut, char **pzErr) {
  const RelEdge *pE = &p->aEdge[iEdge];
  int iSlot = eKind == NOTE_NULL ? 1 : bGone ? 2 : 0;
  sqlite3_stmt **pp = &apCheck[iEdge * REL_CHECK_SLOTS + iSlot];
  int rc = SQLITE_OK;
  if (*pp == 0) {
    char *zRow = relRowKey(p->db, p->azTable[pE->iChild], &rc);
    const char *zC = p->azTable[pE->iChild];
    const char *zP = p->azTable[pE->iParent];
    if (rc) return rc;
    if (eKind == NOTE_NULL) {
      if (zRow == 0) return SQLITE_NOMEM;
      rc = relPreparef(p->db, pp, pzErr,
                       "SELECT %s, 1 FROM main.\"%w\" WHERE %s=?1 AND "
                       "\"%w\" IS NULL",
                       zRow, zC, zRow, pE->zChildCol);
    } else if (bGone) {
      /* A key a parent gave up: its children are most likely gone with
      ** it, so they are probed first (one probe when there are none). The
      ** first referencing row, for the message, is looked for only then
      ** (and with min(), not ORDER BY, which costs a temporary b-tree
      ** where the index does not deliver rows in that order: a junction's
      ** unique pair). */
      rc = relPreparef(p->db, pp, pzErr,
                       "SELECT (SELECT min(%s) FROM main.\"%w\" WHERE "
                       "\"%w\"=?1) WHERE EXISTS (SELECT 1 FROM main.\"%w\" "
                       "WHERE \"%w\"=?1) AND NOT EXISTS (SELECT 1 FROM "
                       "main.\"%w\" WHERE \"%w\"=?1)",
                       zRow ? zRow : "1", zC, pE->zChildCol, zC, pE->zChildCol,
                       zP, pE->zParentCol);
    } else {
      /* The parent first: a constant WHERE of a SELECT without FROM is
      ** tested before anything else, so a key whose row exists costs one
      ** probe; else one more finds the first referencing row (NULL:
      ** none). The count for a RESTRICT message is taken when needed. */
      rc =
          relPreparef(p->db, pp, pzErr,
                      "SELECT (SELECT min(%s) FROM main.\"%w\" WHERE "
                      "\"%w\"=?1) WHERE NOT EXISTS (SELECT 1 FROM "
                      "main.\"%w\" WHERE \"%w\"=?1)",
                      zRow ? zRow : "1", zC, pE->zChildCol, zP, pE->zParentCol);
    }
    sqlite3_free(zRow);
  }
  *ppOut = *pp;
  return rc;
}

static int relAnyBulk(RelEnforce *e) {
  int i;
  for (i = 0; e->aBulk && i < e->nLast; i++) {
    if (e->aBulk[i]) return 1;
  }
  return 0;
}

/* Check a whole edge (one that took too many notes): every key of the
** child must point at a row (db_constraint=True), and no key may be NULL
** (null=False). */
static int relBulkCheck(RelCtx *p, int iEdge, char **pzErr) {
  const RelEdge *pE = &p->aEdge[iEdge];
  const RelDef *d = &p->aDef[pE->iDef];
  const char *zC = p->azTable[pE->iChild];
  sqlite3_stmt *pStmt = 0;
  int rc = SQLITE_OK;
  char *zRow = relRowKey(p->db, zC, &rc);
  if (zRow == 0) return SQLITE_NOMEM;
  if (pE->bConstraint) {
    rc = relPreparef(p->db, &pStmt, pzErr,
                     "SELECT c.%s, c.\"%w\" FROM main.\"%w\" AS c WHERE "
                     "c.\"%w\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                     "main.\"%w\" AS p WHERE p.\"%w\"=c.\"%w\") LIMIT 1",
                     zRow, pE->zChildCol, zC, pE->zChildCol,
                     p->azTable[pE->iParent], pE->zParentCol, pE->zChildCol);
    if (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
      char *zR = relValueText(sqlite3_column_value(pStmt, 0));
      char *zK = relValueText(sqlite3_column_value(pStmt, 1));
      if (zR && zK) {
        *pzErr = sqlite3_mprintf(
            "relext: FOREIGN KEY: %s %s: %s=%s points at no row of %s (%s)", zC,
            zR, pE->zChildCol, zK, p->azTable[pE->iParent], pE->zName);
      }
      sqlite3_free(zR);
      sqlite3_free(zK);
      rc = *pzErr ? SQLITE_CONSTRAINT : SQLITE_NOMEM;
    }
    if (pStmt) {
      int rc2 = sqlite3_finalize(pStmt);
      if (rc == SQLITE_OK) rc = rc2;
      pStmt = 0;
    }
  }
  if (rc == SQLITE_OK && d->eKind != REL_M2M && !d->bNull) {
    rc = relPreparef(p->db, &pStmt, pzErr,
                     "SELECT %s FROM main.\"%w\" WHERE \"%w\" IS NULL LIMIT 1",
                     zRow, zC, pE->zChildCol);
    if (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
      char *zR = relValueText(sqlite3_column_value(pStmt, 0));
      if (zR) {
        *pzErr = sqlite3_mprintf(
            "relext: NOT NULL: %s %s: %s cannot be NULL (%s has null=False)",
            zC, zR, pE->zChildCol, pE->zName);
      }
      sqlite3_free(zR);
      rc = *pzErr ? SQLITE_CONSTRAINT : SQLITE_NOMEM;
    }
    if (pStmt) {
      int rc2 = sqlite3_finalize(pStmt);
      if (rc == SQLITE_OK) rc = rc2;
    }
  }
  sqlite3_free(zRow);
  return rc;
}

/* Check one note. Returns SQLITE_OK, or SQLITE_CONSTRAINT with *pzErr. */
static int relNoteCheck(RelCtx *p, sqlite3_stmt **apCheck, const RelNote *pN,
                        char **pzErr) {
  const RelEdge *pE;
  sqlite3_stmt *pStmt = 0;
  int rc;
  if (pN->iEdge < 0 || pN->iEdge >= p->nEdge) return SQLITE_OK;
  pE = &p->aEdge[pN->iEdge];
  if (pN->key.eType == SQLITE_NULL || pN->key.eType == 0) return SQLITE_OK;
  rc = relCheckStmt(p, apCheck, pN->iEdge, pN->eKind, pN->bGone, &pStmt, pzErr);
  if (rc) return rc;
  relValueBind(pStmt, 1, &pN->key);
  if (sqlite3_step(pStmt) == SQLITE_ROW &&
      sqlite3_column_type(pStmt, 0) != SQLITE_NULL) {
    char *zKey = relRelValueText(&pN->key);
    sqlite3_int64 nRef = 0;
    int rcFail = SQLITE_NOMEM; /* when no message could be made */
    if (zKey == 0) {
      /* out of memory: *pzErr stays NULL */
    } else if (pN->eKind == NOTE_RESTRICT) {
      sqlite3_stmt *pCount = 0;
      int rcCount = relPreparef(
          p->db, &pCount, 0, "SELECT count(*) FROM main.\"%w\" WHERE \"%w\"=?1",
          p->azTable[pE->iChild], pE->zChildCol);
      if (rcCount == SQLITE_OK) {
        relValueBind(pCount, 1, &pN->key);
        if (sqlite3_step(pCount) == SQLITE_ROW)
          nRef = sqlite3_column_int64(pCount, 0);
        else
          rcCount = sqlite3_reset(pCount);
      }
      sqlite3_finalize(pCount);
      /* Without the count the message would lie: report the failure. */
      if (rcCount != SQLITE_OK) {
        rcFail = rcCount;
        if (rcCount != SQLITE_NOMEM)
          *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
      } else {
        *pzErr = sqlite3_mprintf(
            "relext: RESTRICT: cannot delete %s %s: referenced by %lld row%s "
            "of %s",
            p->azTable[pE->iParent], zKey, nRef, nRef == 1 ? "" : "s",
            pE->zName);
      }
    } else if (pN->eKind == NOTE_NULL) {
      *pzErr = sqlite3_mprintf(
          "relext: NOT NULL: %s %s: %s cannot be NULL (%s has null=False)",
          p->azTable[pE->iChild], zKey, pE->zChildCol, pE->zName);
    } else {
      char *zRow = relValueText(sqlite3_column_value(pStmt, 0));
      if (zRow && zKey) {
        *pzErr = sqlite3_mprintf(
            "relext: FOREIGN KEY: %s %s: %s=%s points at no row of %s (%s)",
            p->azTable[pE->iChild], zRow, pE->zChildCol, zKey,
            p->azTable[pE->iParent], pE->zName);
      }
      sqlite3_free(zRow);
    }
    sqlite3_free(zKey);
    rc = rcFail != SQLITE_NOMEM ? rcFail
         : *pzErr               ? SQLITE_CONSTRAINT
                                : SQLITE_NOMEM;
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_reset(pStmt);
    if (rc && *pzErr == 0)
      *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
  } else {
    sqlite3_reset(pStmt);
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* relext_notes: the integer keys of this transaction's dangling notes  */

/*
** An eponymous-only, SQLITE_VTAB_DIRECTONLY virtual table that lists the
** integer keys noted for one edge and side, for txnSync's batched checks:
**   SELECT k FROM relext_notes WHERE e=?1 AND gone=?2
** Both hidden columns must be constrained by equality. Nothing is added to
** the notes while it is read (the checks only read).
*/
typedef struct NotesCursor NotesCursor;
struct NotesCursor {
  sqlite3_vtab_cursor base;
  RelCtx *pCtx;
  int iEdge, bGone; /* the filter */
  int iNote;        /* current note, or nNote at EOF */
};

#define NOTES_K 0
#define NOTES_E 1
#define NOTES_GONE 2

static int notesConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr) {
  (void)argc;
  (void)argv;
  (void)pzErr;
  return relVtabConnect(db, pAux, "CREATE TABLE x(k, e HIDDEN, gone HIDDEN)",
                        SQLITE_VTAB_DIRECTONLY, ppVtab);
}

static int notesBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo) {
  (void)pVtab;
  return relVtabArgsBestIndex(pInfo, NOTES_E, 2, 10.0, 10);
}

static int notesOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur) {
  int rc = relVtabOpen(sizeof(NotesCursor), ppCur);
  if (rc == SQLITE_OK) ((NotesCursor *)*ppCur)->pCtx = ((RelVtab *)pVtab)->pCtx;
  return rc;
}

static int notesClose(sqlite3_vtab_cursor *cur) {
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* Move to the first matching note at or after iNote. */
static void notesSeek(NotesCursor *pCur) {
  RelEnforce *e = relEnf(pCur->pCtx);
  int n = e ? e->nNote : 0;
  while (pCur->iNote < n) {
    const RelNote *pN = &e->aNote[pCur->iNote];
    if (pN->iEdge == pCur->iEdge && pN->eKind == NOTE_DANGLING &&
        pN->key.eType == SQLITE_INTEGER && pN->bGone == pCur->bGone)
      return;
    pCur->iNote++;
  }
}

static int notesFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                       int argc, sqlite3_value **argv) {
  NotesCursor *pCur = (NotesCursor *)cur;
  (void)idxNum;
  (void)idxStr;
  pCur->iNote = 0;
  pCur->iEdge = argc > 0 ? sqlite3_value_int(argv[0]) : -1;
  pCur->bGone = argc > 1 ? sqlite3_value_int(argv[1]) : 0;
  notesSeek(pCur);
  return SQLITE_OK;
}

static int notesNext(sqlite3_vtab_cursor *cur) {
  NotesCursor *pCur = (NotesCursor *)cur;
  pCur->iNote++;
  notesSeek(pCur);
  return SQLITE_OK;
}

static int notesEof(sqlite3_vtab_cursor *cur) {
  NotesCursor *pCur = (NotesCursor *)cur;
  RelEnforce *e = relEnf(pCur->pCtx);
  return e == 0 || pCur->iNote >= e->nNote;
}

static int notesColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  NotesCursor *pCur = (NotesCursor *)cur;
  RelEnforce *e = relEnf(pCur->pCtx);
  if (i == NOTES_K)
    sqlite3_result_int64(ctx, e->aNote[pCur->iNote].key.i);
  else
    sqlite3_result_int(ctx, i == NOTES_E ? pCur->iEdge : pCur->bGone);
  return SQLITE_OK;
}

static int notesRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid) {
  *pRowid = ((NotesCursor *)cur)->iNote;
  return SQLITE_OK;
}

static sqlite3_module notesModule = {
    0,                 /* iVersion */
    0,                 /* xCreate: eponymous-only */
    notesConnect,      /* xConnect */
    notesBestIndex,    /* xBestIndex */
    relVtabDisconnect, /* xDisconnect */
    0,                 /* xDestroy */
    notesOpen,         /* xOpen */
    notesClose,        /* xClose */
    notesFilter,       /* xFilter */
    notesNext,         /* xNext */
    notesEof,          /* xEof */
    notesColumn,       /* xColumn */
    notesRowid,        /* xRowid */
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
    0 /* no writes, no transactions */
};

/* Check every integer-keyed dangling note of edge iEdge with this bGone in
** one statement over relext_notes: one statement instead of one per key
** (a statement step costs more than the probe it makes). */
static int relIsRowidAlias(sqlite3 *db, const char *zTab, const char *zCol);

static int relBatchCheck(RelCtx *p, sqlite3_stmt **apCheck, int iEdge,
                         int bGone, char **pzErr) {
  const RelEdge *pE = &p->aEdge[iEdge];
  const char *zC = p->azTable[pE->iChild];
  sqlite3_stmt **pp = &apCheck[iEdge * REL_CHECK_SLOTS + 3 + (bGone ? 1 : 0)];
  sqlite3_stmt *pStmt = *pp;
  char *zRow = 0, *zChildTest = 0, *zParentTest = 0;
  int rc = SQLITE_OK, rcRow = SQLITE_OK;
  if (pStmt) goto run;
  zRow = relRowKey(p->db, zC, &rcRow);
  /* IN (SELECT column FROM table) probes the column's index with one
  ** cursor for the whole batch (a correlated EXISTS opens one per key).
  ** It is NULL, not false, for a key without match where the column holds
  ** NULLs: fine for the child test, so the parent test uses it only for a
  ** rowid, which is never NULL. */
  zChildTest = sqlite3_mprintf("j.k IN (SELECT \"%w\" FROM main.\"%w\")",
                               pE->zChildCol, zC);
  if (relIsRowid(pE->zParentCol) ||
      relIsRowidAlias(p->db, p->azTable[pE->iParent], pE->zParentCol)) {
    zParentTest =
        sqlite3_mprintf("NOT (j.k IN (SELECT rowid FROM main.\"%w\"))",
                        p->azTable[pE->iParent]);
  } else {
    zParentTest = sqlite3_mprintf(
        "NOT EXISTS (SELECT 1 FROM main.\"%w\" WHERE \"%w\"=j.k)",
        p->azTable[pE->iParent], pE->zParentCol);
  }
  if (rcRow || !zChildTest || !zParentTest) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  /* The WHERE terms are tested in the order written: the side most likely
  ** to settle the key first (see relCheckStmt). */
  rc = relPreparef(p->db, &pStmt, pzErr,
                   "SELECT j.k, (SELECT %s FROM main.\"%w\" WHERE \"%w\"=j.k "
                   "ORDER BY 1 LIMIT 1) FROM relext_notes AS j WHERE j.e=?1 "
                   "AND j.gone=?2 AND %s AND %s LIMIT 1",
                   zRow ? zRow : "1", zC, pE->zChildCol,
                   bGone ? zChildTest : zParentTest,
                   bGone ? zParentTest : zChildTest);
  if (rc) goto done;
  *pp = pStmt;
run:
  sqlite3_bind_int(pStmt, 1, iEdge);
  sqlite3_bind_int(pStmt, 2, bGone);
  if (sqlite3_step(pStmt) == SQLITE_ROW) {
    char *zKey = relValueText(sqlite3_column_value(pStmt, 0));
    char *zChild = relValueText(sqlite3_column_value(pStmt, 1));
    if (zKey && zChild) {
      *pzErr = sqlite3_mprintf(
          "relext: FOREIGN KEY: %s %s: %s=%s points at no row of %s (%s)", zC,
          zChild, pE->zChildCol, zKey, p->azTable[pE->iParent], pE->zName);
    }
    sqlite3_free(zKey);
    sqlite3_free(zChild);
    rc = *pzErr ? SQLITE_CONSTRAINT : SQLITE_NOMEM;
    sqlite3_reset(pStmt);
  } else {
    rc = sqlite3_reset(pStmt);
    if (rc && *pzErr == 0)
      *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
  }
done:
  sqlite3_free(zRow);
  sqlite3_free(zChildTest);
  sqlite3_free(zParentTest);
  return rc;
}

static void relCheckStmtsFree(RelEnforce *e);
static int relCloseHook(RelCtx *p);

/* Leave a stretch that runs relext's cached statements (entered with
** p->nEngine++): statements that a disconnect wanted freed meanwhile are
** freed now. */
static void relEngineLeave(RelCtx *p) {
  RelEnforce *e = relEnf(p);
  p->nEngine--;
  if (p->nEngine == 0 && e && e->bFreeLater) {
    e->bFreeLater = 0;
    relEnforceStmtsFree(e);
  }
}

typedef struct TxnVtab TxnVtab;
struct TxnVtab {
  sqlite3_vtab base; /* base class - must be first */
  RelCtx *pCtx;      /* the connection's relext state */
};

static int txnConnect(sqlite3 *db, void *pAux, int argc,
                      const char *const *argv, sqlite3_vtab **ppVtab,
                      char **pzErr) {
  TxnVtab *pTab;
  int rc;
  (void)argc;
  (void)argv;
  (void)pzErr;
  rc = sqlite3_declare_vtab(db, "CREATE TABLE x(e INTEGER, k)");
  if (rc) return rc;
  /* The TEMP triggers write here; allowed under PRAGMA trusted_schema=OFF.
  ** The worst a hostile writer can do is make its own COMMIT fail. */
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  pTab = sqlite3_malloc64(sizeof(*pTab));
  if (pTab == 0) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->pCtx = (RelCtx *)pAux;
  *ppVtab = &pTab->base;
  return SQLITE_OK;
}

/* A distinct xCreate keeps relext_txn from being eponymous: it exists only
** as the TEMP table relext creates. */
static int txnCreate(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                     sqlite3_vtab **ppVtab, char **pzErr) {
  return txnConnect(db, pAux, argc, argv, ppVtab, pzErr);
}

/* The cached statements go with any disconnect (they are prepared again on
** the next use); at close, relext_close's comes first (see there). */
static int txnDisconnect(sqlite3_vtab *pVtab) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelEnforce *e = relEnf(pTab->pCtx);
  if (e && pTab->pCtx->nEngine > 0)
    e->bFreeLater = 1;
  else if (e)
    relEnforceStmtsFree(e);
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int txnBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo) {
  (void)pVtab;
  pInfo->estimatedCost = 1.0;
  pInfo->estimatedRows = 1;
  return SQLITE_OK;
}

/* Scans return nothing: the notes are internal. */
typedef struct TxnCursor TxnCursor;
struct TxnCursor {
  sqlite3_vtab_cursor base;
};
static int txnOpen(sqlite3_vtab *p, sqlite3_vtab_cursor **ppCur) {
  TxnCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  (void)p;
  if (pCur == 0) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCur = &pCur->base;
  return SQLITE_OK;
}
static int txnClose(sqlite3_vtab_cursor *cur) {
  sqlite3_free(cur);
  return SQLITE_OK;
}
static int txnFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                     int argc, sqlite3_value **argv) {
  (void)cur;
  (void)idxNum;
  (void)idxStr;
  (void)argc;
  (void)argv;
  return SQLITE_OK;
}
static int txnNext(sqlite3_vtab_cursor *cur) {
  (void)cur;
  return SQLITE_OK;
}
static int txnEof(sqlite3_vtab_cursor *cur) {
  (void)cur;
  return 1;
}
static int txnColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  (void)cur;
  (void)ctx;
  (void)i;
  return SQLITE_OK;
}
static int txnRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  (void)cur;
  *pRowid = 0;
  return SQLITE_OK;
}

/* INSERT INTO relext_txn(e, k): note that key k of edge e may dangle. */
static int txnUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                     sqlite_int64 *pRowid) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelEnforce *e = relEnf(pTab->pCtx);
  (void)pRowid;
  if (argc < 4 || sqlite3_value_type(argv[0]) != SQLITE_NULL) {
    pVtab->zErrMsg = sqlite3_mprintf("relext: relext_txn is internal");
    return SQLITE_ERROR;
  }
  if (e == 0) return SQLITE_OK;
  return relNoteAdd(e, sqlite3_value_int(argv[2]), NOTE_DANGLING, argv[3], 0);
}

static int txnBegin(sqlite3_vtab *pVtab) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelEnforce *e = relEnf(pTab->pCtx);
  if (e) {
    relNotesTruncate(e, 0);
    e->bInTxn = 1;
    relBulkReset(e);
  }
  return SQLITE_OK;
}

/* At COMMIT: every noted key must be settled. */
static int txnSync(sqlite3_vtab *pVtab) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelCtx *p = pTab->pCtx;
  RelEnforce *e = relEnf(p);
  int i, pass, rc = SQLITE_OK;
  char *zErr = 0;
  sqlite3_stmt **apCheck;
  unsigned char *aBatch;
  if (e == 0 || p->nEdge == 0) return SQLITE_OK;
  if (e->nNote == 0 && !relAnyBulk(e)) return SQLITE_OK;
  relCloseHook(p);
  if (e->apCheck == 0 || e->nCheck != p->nEdge) {
    size_t nByte = sizeof(sqlite3_stmt *) * (size_t)p->nEdge * REL_CHECK_SLOTS;
    relCheckStmtsFree(e);
    e->apCheck = sqlite3_malloc64(nByte);
    if (e->apCheck == 0) return SQLITE_NOMEM;
    memset(e->apCheck, 0, nByte);
    e->nCheck = p->nEdge;
  }
  apCheck = e->apCheck;
  /* A disconnect while the checks run (cannot happen, but) must not
  ** finalize them under our feet: it defers, as for the engine. */
  p->nEngine++;
  /* RESTRICT notes are reported first, then NOT NULL, then dangling keys
  ** (of relationships with db_constraint=True). */
  /* Integer keys of dangling notes go in one batch per edge and bGone,
  ** run where the first of them was noted (aBatch: 1 done). */
  aBatch = sqlite3_malloc64((size_t)p->nEdge * 2);
  if (aBatch == 0) {
    relEngineLeave(p);
    return SQLITE_NOMEM;
  }
  memset(aBatch, 0, (size_t)p->nEdge * 2);
  /* A batch pays a statement over relext_notes: worth it from
  ** REL_BATCH_MIN keys of an edge on; fewer are probed one by one
  ** (aBatch: 2 probe each). */
  for (i = 0; i < e->nNote; i++) {
    const RelNote *pN = &e->aNote[i];
    unsigned char *pB;
    if (pN->eKind != NOTE_DANGLING || pN->key.eType != SQLITE_INTEGER) continue;
    if (pN->iEdge < 0 || pN->iEdge >= p->nEdge) continue;
    pB = &aBatch[pN->iEdge * 2 + (pN->bGone ? 1 : 0)];
    if (*pB < REL_BATCH_MIN) (*pB)++;
  }
  for (i = 0; i < p->nEdge * 2; i++)
    aBatch[i] = aBatch[i] < REL_BATCH_MIN ? 2 : 0;
  for (pass = 0; rc == SQLITE_OK && pass < 3; pass++) {
    static const int aKind[3] = {NOTE_RESTRICT, NOTE_NULL, NOTE_DANGLING};
    for (i = 0; rc == SQLITE_OK && i < e->nNote; i++) {
      const RelNote *pN = &e->aNote[i];
      if (pN->eKind != aKind[pass]) continue;
      if (pN->iEdge < 0 || pN->iEdge >= p->nEdge) continue;
      if (pN->eKind == NOTE_DANGLING && !p->aEdge[pN->iEdge].bConstraint)
        continue;
      if (pN->eKind == NOTE_DANGLING && pN->key.eType == SQLITE_INTEGER &&
          aBatch[pN->iEdge * 2 + (pN->bGone ? 1 : 0)] != 2) {
        unsigned char *pB = &aBatch[pN->iEdge * 2 + (pN->bGone ? 1 : 0)];
        if (*pB == 0) {
          *pB = 1;
          rc = relBatchCheck(p, apCheck, pN->iEdge, pN->bGone ? 1 : 0, &zErr);
        }
        continue;
      }
      rc = relNoteCheck(p, apCheck, pN, &zErr);
    }
  }
  sqlite3_free(aBatch);
  /* Edges that took too many notes are checked whole. */
  for (i = 0; rc == SQLITE_OK && e->aBulk && i < p->nEdge && i < e->nLast;
       i++) {
    if (e->aBulk[i]) rc = relBulkCheck(p, i, &zErr);
  }
  relEngineLeave(p);
  if (rc) {
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = zErr;
  }
  return rc;
}

/* At the end of a transaction: forget the notes, and finalize the engine's
** statements. They hold references to relext_txn through the triggers
** they fire, so they could not be finalized in xDisconnect and would keep
** sqlite3_close() from closing; they are cached per transaction instead. */
static int txnCommit(sqlite3_vtab *pVtab) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelEnforce *e = relEnf(pTab->pCtx);
  if (e) {
    relNotesTruncate(e, 0);
    e->nMark = 0;
    e->bInTxn = 0;
    relBulkReset(e);
    /* The statements stay prepared for the next transaction while
    ** relext_close can finalize them when the connection closes; else
    ** they go now (or, inside the engine, when it returns). */
    if (!e->bHooked) {
      if (pTab->pCtx->nEngine > 0)
        e->bFreeLater = 1;
      else
        relEnforceStmtsFree(e);
    }
  }
  return SQLITE_OK;
}

static int txnSavepoint(sqlite3_vtab *pVtab, int iSave) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelEnforce *e = relEnf(pTab->pCtx);
  if (e == 0 || iSave < 0) return SQLITE_OK;
  if (iSave >= e->nMark) {
    int *a = sqlite3_realloc64(e->aMark, sizeof(int) * (size_t)(iSave + 1));
    if (a == 0) return SQLITE_NOMEM;
    e->aMark = a;
    while (e->nMark <= iSave)
      e->aMark[e->nMark++] = e->nNote;
  }
  e->aMark[iSave] = e->nNote;
  return SQLITE_OK;
}

static int txnRelease(sqlite3_vtab *pVtab, int iSave) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelEnforce *e = relEnf(pTab->pCtx);
  if (e && iSave >= 0 && iSave < e->nMark) e->nMark = iSave;
  return SQLITE_OK;
}

static int txnRollbackTo(sqlite3_vtab *pVtab, int iSave) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelEnforce *e = relEnf(pTab->pCtx);
  if (e && iSave >= 0 && iSave < e->nMark) relNotesTruncate(e, e->aMark[iSave]);
  return SQLITE_OK;
}

static sqlite3_module txnModule = {
    2,             /* iVersion: 2 for the savepoint methods */
    txnCreate,     /* xCreate */
    txnConnect,    /* xConnect */
    txnBestIndex,  /* xBestIndex */
    txnDisconnect, /* xDisconnect */
    txnDisconnect, /* xDestroy */
    txnOpen,       /* xOpen */
    txnClose,      /* xClose */
    txnFilter,     /* xFilter */
    txnNext,       /* xNext */
    txnEof,        /* xEof */
    txnColumn,     /* xColumn */
    txnRowid,      /* xRowid */
    txnUpdate,     /* xUpdate: notes */
    txnBegin,      /* xBegin */
    txnSync,       /* xSync: the commit check */
    txnCommit,     /* xCommit */
    txnCommit,     /* xRollback: forget the notes too */
    0,             /* xFindFunction */
    0,             /* xRename */
    txnSavepoint,  /* xSavepoint */
    txnRelease,    /* xRelease */
    txnRollbackTo, /* xRollbackTo */
    0,             /* xShadowName */
#if SQLITE_VERSION_NUMBER >= 3044000
    0 /* xIntegrity */
#endif
};

/* relext_close: a TEMP virtual table that no statement uses. SQLite
** disconnects virtual tables before sqlite3_close() checks for unfinalized
** statements; relext_txn itself cannot serve, since the cached statements
** that fire relext's TEMP triggers (or enrol relext_txn) hold it. So its
** xDisconnect finalizes every statement relext keeps prepared, and they
** can stay prepared from one transaction to the next. */
static int closeConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr) {
  int rc = txnConnect(db, pAux, argc, argv, ppVtab, pzErr);
  RelEnforce *e = relEnf((RelCtx *)pAux);
  if (rc == SQLITE_OK && e) e->bHooked = 1;
  return rc;
}

static int closeCreate(sqlite3 *db, void *pAux, int argc,
                       const char *const *argv, sqlite3_vtab **ppVtab,
                       char **pzErr) {
  return closeConnect(db, pAux, argc, argv, ppVtab, pzErr);
}

static int closeDisconnect(sqlite3_vtab *pVtab) {
  RelEnforce *e = relEnf(((TxnVtab *)pVtab)->pCtx);
  if (e) e->bHooked = 0;
  return txnDisconnect(pVtab);
}

/* Statements may outlive a transaction only while relext_close is
** connected. A rollback that undoes a schema change (a failed rel_define)
** resets the schemas and disconnects it, and SQLite connects a virtual
** table again only when a statement names it: this does. 0 when it could
** not (the table was dropped): then statements are freed at the end of
** each transaction. */
static int relCloseHook(RelCtx *p) {
  RelEnforce *e = relEnf(p);
  sqlite3_stmt *pStmt = 0;
  if (e == 0) return 0;
  if (!e->bHooked) {
    sqlite3_prepare_v2(p->db, "SELECT 1 FROM temp.relext_close", -1, &pStmt, 0);
    sqlite3_finalize(pStmt);
  }
  return e->bHooked;
}

static sqlite3_module closeModule = {
    0,               /* iVersion */
    closeCreate,     /* xCreate: not eponymous */
    closeConnect,    /* xConnect */
    txnBestIndex,    /* xBestIndex */
    closeDisconnect, /* xDisconnect: finalizes the statements */
    closeDisconnect, /* xDestroy */
    txnOpen,         /* xOpen: scans return nothing */
    txnClose,        /* xClose */
    txnFilter,       /* xFilter */
    txnNext,         /* xNext */
    txnEof,          /* xEof */
    txnColumn,       /* xColumn */
    txnRowid,        /* xRowid */
    0,               /* xUpdate: read-only */
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
/* The delete engine                                                   */

static int relEnforcePrepare(RelCtx *p, char **pzErr);

/* Report an engine error on ctx. */
static void relEngineError(sqlite3_context *ctx, int rc, char *zErr) {
  if (rc == SQLITE_NOMEM) {
    sqlite3_result_error_nomem(ctx);
  } else {
    sqlite3_result_error(ctx, zErr ? zErr : "relext: delete failed", -1);
    sqlite3_result_error_code(ctx, rc);
  }
  sqlite3_free(zErr);
}

/* Step a statement that returns no rows; reset it. */
static int relStepDone(sqlite3 *db, sqlite3_stmt *pStmt, char **pzErr) {
  int rc;
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  if (rc && *pzErr == 0) *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  return rc;
}

/* Is table iTab in the plan of root iRoot? */
static int relPlanHas(const RelPlan *pPlan, int iTab) {
  int i;
  for (i = 0; i < pPlan->nReach; i++) {
    if (pPlan->aReach[i] == iTab) return 1;
  }
  return 0;
}

/* Run the engine for one row of table iRoot about to be deleted. */
static int relEngineRun(RelCtx *p, int iRoot, sqlite3_int64 iRowid,
                        char **pzErr) {
  RelEnforce *e = relEnf(p);
  sqlite3 *db = p->db;
  const RelPlan *pPlan;
  int rc = SQLITE_OK;
  int i, pass;

  if (e == 0) return SQLITE_OK;
  if (!e->bPrepared) {
    relCloseHook(p);
    rc = relEnforcePrepare(p, pzErr);
    if (rc) return rc;
  }
  if (iRoot < 0 || iRoot >= e->nPlan) {
    *pzErr =
        sqlite3_mprintf("relext: internal error: no plan for table %d", iRoot);
    return SQLITE_INTERNAL;
  }
  pPlan = &e->aPlan[iRoot];
  /* Most rows deleted one at a time are referenced by nothing: then there
  ** is nothing to collect, check or set (one probe per relationship). */
  if (pPlan->pAny) {
    int bAny;
    sqlite3_bind_int64(pPlan->pAny, 1, iRowid);
    bAny = sqlite3_step(pPlan->pAny) == SQLITE_ROW;
    rc = sqlite3_reset(pPlan->pAny);
    if (rc) {
      *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
      return rc;
    }
    if (!bAny) return SQLITE_OK;
  }
  if (pPlan->pTree) {
    sqlite3_bind_int64(pPlan->pTree, 1, iRowid);
    return relStepDone(db, pPlan->pTree, pzErr);
  }

  /* 1. Collect the closure of CASCADE edges into temp.relext_victim. */
  sqlite3_bind_int(e->pCollect, 1, iRoot);
  sqlite3_bind_int64(e->pCollect, 2, iRowid);
  rc = relStepDone(db, e->pCollect, pzErr);

  /* 2. PROTECT first (it wins over RESTRICT), then RESTRICT, then SET_*,
  **    then DO_NOTHING notes. */
  for (pass = 0; rc == SQLITE_OK && pass < 4; pass++) {
    static const int aRule[4][3] = {{ON_PROTECT, -1, -1},
                                    {ON_RESTRICT, -1, -1},
                                    {ON_SET_NULL, ON_SET_DEFAULT, ON_SET},
                                    {ON_DO_NOTHING, -1, -1}};
    for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
      const RelEdge *pE = &p->aEdge[i];
      sqlite3_stmt *pStmt = e->apEdge[i];
      if (pStmt == 0) continue;
      if (pE->eRule != aRule[pass][0] && pE->eRule != aRule[pass][1] &&
          pE->eRule != aRule[pass][2])
        continue;
      if (!relPlanHas(pPlan, pE->iParent)) continue;
      if (pE->eRule == ON_PROTECT) {
        if (sqlite3_step(pStmt) == SQLITE_ROW) {
          char *zKey = relValueText(sqlite3_column_value(pStmt, 0));
          sqlite3_int64 n = sqlite3_column_int64(pStmt, 1);
          if (zKey) {
            *pzErr = sqlite3_mprintf(
                "relext: PROTECT: cannot delete %s %s: referenced by %lld "
                "row%s of %s",
                p->azTable[pE->iParent], zKey, n, n == 1 ? "" : "s", pE->zName);
          }
          sqlite3_free(zKey);
          rc = *pzErr ? SQLITE_CONSTRAINT : SQLITE_NOMEM;
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_reset(pStmt);
          if (rc && !*pzErr) *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        } else {
          sqlite3_reset(pStmt);
        }
      } else if (pE->eRule == ON_RESTRICT || pE->eRule == ON_DO_NOTHING) {
        /* Keys still referenced from outside the closure. */
        while (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
          if (pE->eRule == ON_RESTRICT || pE->bConstraint) {
            rc = relNoteAdd(
                e, i, pE->eRule == ON_RESTRICT ? NOTE_RESTRICT : NOTE_DANGLING,
                sqlite3_column_value(pStmt, 0), 1);
          }
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_reset(pStmt);
          if (rc && !*pzErr) *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        } else {
          sqlite3_reset(pStmt);
        }
      } else {
        /* SET_NULL / SET_DEFAULT / SET(v): the statement has its value
        ** bound at install time. The new value may name a missing row or
        ** one this very delete removes: note it for the commit check. */
        rc = relStepDone(db, pStmt, pzErr);
        if (rc == SQLITE_OK && pE->bConstraint && pE->eRule != ON_SET_NULL &&
            sqlite3_changes(db) > 0) {
          const RelDef *d = &p->aDef[pE->iDef];
          rc =
              relNoteAddValue(e, i, NOTE_DANGLING,
                              pE->eRule == ON_SET ? &d->setVal : &d->defVal, 0);
        }
      }
    }
  }

  /* 3. Delete the closure, deepest tables first; the root row is left to
  **    the statement that is deleting it. */
  if (rc == SQLITE_OK) {
    sqlite3_bind_int(e->pDropRoot, 1, iRoot);
    sqlite3_bind_int64(e->pDropRoot, 2, iRowid);
    rc = relStepDone(db, e->pDropRoot, pzErr);
  }
  for (i = 0; rc == SQLITE_OK && i < pPlan->nReach; i++) {
    if (pPlan->apDel[i]) rc = relStepDone(db, pPlan->apDel[i], pzErr);
  }
  /* 4. Forget the closure. */
  {
    char *zIgnore = 0;
    int rc2 = relStepDone(db, e->pClear, rc ? &zIgnore : pzErr);
    sqlite3_free(zIgnore);
    if (rc == SQLITE_OK) rc = rc2;
  }
  return rc;
}

/* relext_on_delete(table, rowid): called by the BEFORE DELETE trigger. */
static void relOnDeleteFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  char *zErr = 0;
  int rc;
  (void)argc;
  if (p->nEngine > 0) return; /* a row the running engine collected */
  p->nEngine++;
  rc = relEngineRun(p, sqlite3_value_int(argv[0]), sqlite3_value_int64(argv[1]),
                    &zErr);
  relEngineLeave(p);
  if (rc) relEngineError(ctx, rc, zErr);
}

static const char *zStaleMsg =
    "relext: relationship definitions changed in another connection; "
    "run SELECT rel_reload() first";

/* Decimal text of x into z (at least 21 bytes). */
static void relFormatInt(char *z, sqlite3_int64 x) {
  char aTmp[24];
  int n = 0, i = 0;
  sqlite3_uint64 u =
      x < 0 ? (sqlite3_uint64)0 - (sqlite3_uint64)x : (sqlite3_uint64)x;
  do {
    aTmp[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  if (x < 0) z[i++] = '-';
  while (n > 0)
    z[i++] = aTmp[--n];
  z[i] = 0;
}

/* relext_fail(G, kind, edge, key, count): a PROTECT (kind 2) or RESTRICT
** (kind 3) violation found by a plain-mode delete guard: key is the
** deleted row's key, count the number of rows referencing it. While the
** delete engine runs it returns NULL: the engine has decided. G is the
** catalog hash the guard was written for: with other definitions loaded,
** the edge numbers mean nothing here, and the error says to reload. */
static void relFailFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  int eKind = sqlite3_value_int(argv[1]);
  int iEdge = sqlite3_value_int(argv[2]);
  sqlite3_int64 n = sqlite3_value_int64(argv[4]);
  const RelEdge *pE;
  char zKey[24], zCount[24], zBuf[400];
  char *zErr, *zKeyAlloc = 0;
  const char *zRule;
  size_t nOut = 0;
  (void)argc;
  /* Rows the delete engine removes: it has decided already. */
  if (p->nEngine > 0) return;
  if (sqlite3_value_int64(argv[0]) != p->iGen || iEdge < 0 ||
      iEdge >= p->nEdge) {
    sqlite3_result_error(ctx, zStaleMsg, -1);
    return;
  }
  pE = &p->aEdge[iEdge];
  /* An error path that W4 of make bench measures: the usual message is put
  ** together on the stack, without printf. */
  zRule = eKind == 2 ? "PROTECT" : "RESTRICT";
  if (sqlite3_value_type(argv[3]) == SQLITE_INTEGER) {
    relFormatInt(zKey, sqlite3_value_int64(argv[3]));
  } else {
    zKeyAlloc = relValueText(argv[3]);
    if (zKeyAlloc == 0) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  relFormatInt(zCount, n);
  {
    const char *azPart[] = {"relext: ",
                            zRule,
                            ": cannot delete ",
                            p->azTable[pE->iParent],
                            " ",
                            zKeyAlloc ? zKeyAlloc : zKey,
                            ": referenced by ",
                            zCount,
                            n == 1 ? " row of " : " rows of ",
                            pE->zName};
    size_t k;
    zErr = zBuf;
    for (k = 0; k < sizeof(azPart) / sizeof(azPart[0]); k++)
      nOut += strlen(azPart[k]);
    if (nOut >= sizeof(zBuf)) zErr = sqlite3_malloc64(nOut + 1);
    if (zErr == 0) {
      sqlite3_free(zKeyAlloc);
      sqlite3_result_error_nomem(ctx);
      return;
    }
    for (nOut = 0, k = 0; k < sizeof(azPart) / sizeof(azPart[0]); k++) {
      size_t m = strlen(azPart[k]);
      memcpy(&zErr[nOut], azPart[k], m);
      nOut += m;
    }
    zErr[nOut] = 0;
  }
  sqlite3_result_error(ctx, zErr, (int)nOut);
  sqlite3_result_error_code(ctx, SQLITE_CONSTRAINT);
  if (zErr != zBuf) sqlite3_free(zErr);
  sqlite3_free(zKeyAlloc);
}

/* Note what a guard index saw of edge iEdge: key pKey (NULL: pRow, the
** row's key, when the edge has null=False; else nothing to note). */
static int relGuardNote(RelCtx *p, int iEdge, sqlite3_value *pKey,
                        sqlite3_value *pRow) {
  RelEnforce *e = relEnf(p);
  int rc = SQLITE_OK, bGone = 0;
  /* A negative edge -1-e: the guard of edge e's parent key, whose value
  ** here is going away (or arriving). */
  if (iEdge < 0) {
    iEdge = -1 - iEdge;
    bGone = 1;
  }
  if (iEdge < 0 || iEdge >= p->nEdge) return SQLITE_OK;
  if (sqlite3_value_type(pKey) == SQLITE_NULL &&
      (pRow == 0 || sqlite3_value_type(pRow) == SQLITE_NULL))
    return SQLITE_OK;
  if (sqlite3_value_type(pKey) != SQLITE_NULL && !p->aEdge[iEdge].bConstraint)
    return SQLITE_OK;
  /* Enrol relext_txn so that its xSync runs at COMMIT. */
  if (!e->bInTxn) {
    if (e->pEnroll == 0) {
      relCloseHook(p);
      rc = sqlite3_prepare_v2(p->db,
                              "INSERT INTO temp.relext_txn(e, k) "
                              "SELECT -1, NULL WHERE 0",
                              -1, &e->pEnroll, 0);
    }
    if (rc == SQLITE_OK) {
      /* An OOM in the step rolls the transaction back: nEngine keeps
      ** xRollback from finalizing pEnroll while it runs. */
      p->nEngine++;
      sqlite3_step(e->pEnroll);
      rc = sqlite3_reset(e->pEnroll);
      relEngineLeave(p);
    }
    if (rc == SQLITE_OK && !e->bInTxn) rc = SQLITE_INTERNAL;
  }
  if (rc == SQLITE_OK) rc = relEdgeArrays(e, p->nEdge);
  if (rc == SQLITE_OK && e->aBulk[iEdge]) return SQLITE_OK; /* whole */
  if (rc) return rc;
  if (sqlite3_value_type(pKey) == SQLITE_NULL)
    return relNoteAdd(e, iEdge, NOTE_NULL, pRow, 0);
  if (sqlite3_value_type(pKey) == SQLITE_INTEGER && !bGone) {
    sqlite3_int64 k = sqlite3_value_int64(pKey);
    int iSlot = iEdge * REL_LAST_N +
                (int)(((sqlite3_uint64)k * 0x9E3779B97F4A7C15ULL) >> 54);
    if (e->aLastGen[iSlot] == e->iLastGen && e->aLast[iSlot] == k)
      return SQLITE_OK;
    rc = relNoteAdd(e, iEdge, NOTE_DANGLING, pKey, 0);
    if (rc == SQLITE_OK) {
      e->aLast[iSlot] = k;
      e->aLastGen[iSlot] = e->iLastGen;
    }
    return rc;
  }
  return relNoteAdd(e, iEdge, NOTE_DANGLING, pKey, bGone);
}

/* relext_must_be_loaded(G): 0 when this connection's definitions are the
** ones the guard was written for, 1 when they are stale.
** relext_must_be_loaded(G, edge, key [, row]) and, for a table that is the
** child of several edges, relext_must_be_loaded(G, e1, key1, row1, e2,
** key2, row2, ...) (row NULL where null=True): the WHERE clause of a guard
** index, evaluated for every row written or deleted. It returns 0 (the
** index stays empty), or fails when the definitions are stale, and notes
** the keys for the COMMIT check. SQLITE_INNOCUOUS, so that the guards work
** under PRAGMA trusted_schema=OFF. */
static void relMustBeLoadedFunc(sqlite3_context *ctx, int argc,
                                sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  RelEnforce *e = relEnf(p);
  int i, rc = SQLITE_OK;
  if (argc == 1) {
    sqlite3_result_int(ctx, sqlite3_value_int64(argv[0]) != p->iGen);
    return;
  }
  if (sqlite3_value_int64(argv[0]) != p->iGen) {
    sqlite3_result_error(ctx, zStaleMsg, -1);
    return;
  }
  sqlite3_result_int(ctx, 0); /* never indexed: the index stays empty */
  if (e == 0 || e->bQuiet || p->nEngine > 0) return;
  /* Only a write to main needs a note. PRAGMA integrity_check evaluates
  ** this too, in a read transaction: enrolling relext_txn there would
  ** commit at once and free pEnroll while it runs. (Once relext_txn is
  ** enrolled the transaction writes, and sqlite3_txn_state, a name lookup
  ** under a mutex, is a fifth of this function's cost.) */
  if (!e->bInTxn && sqlite3_txn_state(p->db, "main") != SQLITE_TXN_WRITE)
    return;
  if (argc <= 4) {
    rc = relGuardNote(p, sqlite3_value_int(argv[1]), argv[2],
                      argc == 4 ? argv[3] : 0);
  } else {
    for (i = 1; rc == SQLITE_OK && i + 2 < argc; i += 3)
      rc =
          relGuardNote(p, sqlite3_value_int(argv[i]), argv[i + 1], argv[i + 2]);
  }
  if (rc == SQLITE_NOMEM) {
    sqlite3_result_error_nomem(ctx);
  } else if (rc) {
    sqlite3_result_error(ctx, "relext: cannot note a key for the commit check",
                         -1);
    sqlite3_result_error_code(ctx, rc);
  }
}

/* ------------------------------------------------------------------ */
/* Installing: TEMP triggers, the engine's statements, guards          */

/* Is zCol of zTab the rowid (by name or as INTEGER PRIMARY KEY)? */
static int relIsRowidAlias(sqlite3 *db, const char *zTab, const char *zCol) {
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
static char *relKeyExpr(const char *zAlias, const char *zCol) {
  if (relIsRowid(zCol)) return sqlite3_mprintf("%s.rowid", zAlias);
  return sqlite3_mprintf("%s.\"%w\"", zAlias, zCol);
}

static void relPlansFree(RelEnforce *e) {
  int i, j;
  for (i = 0; i < e->nPlan; i++) {
    for (j = 0; e->aPlan[i].apDel && j < e->aPlan[i].nReach; j++)
      sqlite3_finalize(e->aPlan[i].apDel[j]);
    sqlite3_free(e->aPlan[i].apDel);
    sqlite3_free(e->aPlan[i].aReach);
    sqlite3_finalize(e->aPlan[i].pTree);
    sqlite3_finalize(e->aPlan[i].pAny);
  }
  sqlite3_free(e->aPlan);
  e->aPlan = 0;
  e->nPlan = 0;
}

/* Finalize the COMMIT check's statements. */
static void relCheckStmtsFree(RelEnforce *e) {
  sqlite3_stmt **a = e->apCheck;
  int i, n = e->nCheck * REL_CHECK_SLOTS;
  e->apCheck = 0;
  e->nCheck = 0;
  for (i = 0; a && i < n; i++)
    sqlite3_finalize(a[i]);
  sqlite3_free(a);
}

/* Finalize every cached statement. Finalizing one that fires relext's
** TEMP triggers can disconnect relext_txn, whose xDisconnect calls back
** here: that nested call returns at once. */
static void relEnforceStmtsFree(RelEnforce *e) {
  int i;
  int nEdge = e->nEdgeStmt;
  if (e->bFreeing) return;
  e->bFreeing = 1;
  relCheckStmtsFree(e);
  sqlite3_finalize(e->pEnroll);
  e->pEnroll = 0;
  sqlite3_finalize(e->pCollect);
  sqlite3_finalize(e->pClear);
  sqlite3_finalize(e->pDropRoot);
  e->pCollect = e->pClear = e->pDropRoot = 0;
  if (e->apEdge) {
    for (i = 0; i < nEdge; i++)
      sqlite3_finalize(e->apEdge[i]);
    sqlite3_free(e->apEdge);
    e->apEdge = 0;
  }
  e->nEdgeStmt = 0;
  e->bPrepared = 0;
  relPlansFree(e);
  e->bFreeing = 0;
}

void relEnforceFree(RelCtx *p) {
  RelEnforce *e = relEnf(p);
  if (e == 0) return;
  relEnforceStmtsFree(e);
  relNotesTruncate(e, 0);
  sqlite3_free(e->aNote);
  sqlite3_free(e->aMark);
  sqlite3_free(e->aHash);
  sqlite3_free(e->aLast);
  sqlite3_free(e);
  p->pEnforce = 0;
}

/* Drop every object of schema zDb whose name starts with zPrefix and whose
** type is zType. */
static int relDropByPrefix(sqlite3 *db, const char *zDb, const char *zType,
                           const char *zPrefix, char **pzErr) {
  char *zCond =
      sqlite3_mprintf("substr(name, 1, length(%Q))=%Q", zPrefix, zPrefix);
  int rc;
  if (zCond == 0) return SQLITE_NOMEM;
  rc = relDropObjects(db, zDb, zType, zCond, pzErr);
  sqlite3_free(zCond);
  return rc;
}

/* Build the closure CTE over all CASCADE edges. */
static char *relCollectSql(RelCtx *p, const int *aRowidParent) {
  RelStr s = {0};
  int i;
  relStrPrintf(&s, "WITH RECURSIVE v(t, r) AS (VALUES(?1, ?2)");
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    if (pE->eRule != ON_CASCADE) continue;
    if (aRowidParent[i]) {
      relStrPrintf(&s,
                   " UNION SELECT %d, c.rowid FROM v JOIN main.\"%w\" AS c "
                   "ON c.\"%w\"=v.r WHERE v.t=%d",
                   pE->iChild, p->azTable[pE->iChild], pE->zChildCol,
                   pE->iParent);
    } else {
      relStrPrintf(&s,
                   " UNION SELECT %d, c.rowid FROM v JOIN main.\"%w\" AS p "
                   "ON p.rowid=v.r JOIN main.\"%w\" AS c ON c.\"%w\"=p.\"%w\" "
                   "WHERE v.t=%d",
                   pE->iChild, p->azTable[pE->iParent], p->azTable[pE->iChild],
                   pE->zChildCol, pE->zParentCol, pE->iParent);
    }
  }
  relStrPrintf(&s, ") INSERT OR IGNORE INTO temp.relext_victim(t, r) "
                   "SELECT t, r FROM v");
  return relStrFinish(&s);
}

/* Prepare the rule statement of edge i (NULL for CASCADE). */
static int relEdgeStmt(RelCtx *p, int i, sqlite3_stmt **pp, char **pzErr) {
  const RelEdge *pE = &p->aEdge[i];
  const char *zP = p->azTable[pE->iParent];
  const char *zC = p->azTable[pE->iChild];
  char *zKey = relKeyExpr("p", pE->zParentCol);
  int rc = SQLITE_OK;
  *pp = 0;
  if (zKey == 0) return SQLITE_NOMEM;
  switch (pE->eRule) {
  case ON_PROTECT:
    rc = relPreparef(p->db, pp, pzErr,
                     "SELECT %s, count(*) FROM temp.relext_victim AS v "
                     "JOIN main.\"%w\" AS p ON p.rowid=v.r "
                     "JOIN main.\"%w\" AS c ON c.\"%w\"=%s "
                     "WHERE v.t=%d GROUP BY 1 ORDER BY 1 LIMIT 1",
                     zKey, zP, zC, pE->zChildCol, zKey, pE->iParent);
    break;
  case ON_RESTRICT:
  case ON_DO_NOTHING:
    rc =
        relPreparef(p->db, pp, pzErr,
                    "SELECT DISTINCT %s FROM temp.relext_victim AS v "
                    "JOIN main.\"%w\" AS p ON p.rowid=v.r "
                    "JOIN main.\"%w\" AS c ON c.\"%w\"=%s "
                    "WHERE v.t=%d AND NOT EXISTS (SELECT 1 FROM "
                    "temp.relext_victim AS w WHERE w.t=%d AND w.r=c.rowid)",
                    zKey, zP, zC, pE->zChildCol, zKey, pE->iParent, pE->iChild);
    break;
  case ON_SET_NULL:
  case ON_SET_DEFAULT:
  case ON_SET: {
    const RelDef *d = &p->aDef[pE->iDef];
    rc = relPreparef(p->db, pp, pzErr,
                     "UPDATE main.\"%w\" SET \"%w\"=?1 WHERE \"%w\" IN "
                     "(SELECT %s FROM temp.relext_victim AS v JOIN "
                     "main.\"%w\" AS p ON p.rowid=v.r WHERE v.t=%d) AND "
                     "rowid NOT IN (SELECT r FROM temp.relext_victim WHERE "
                     "t=%d)",
                     zC, pE->zChildCol, pE->zChildCol, zKey, zP, pE->iParent,
                     pE->iChild);
    if (rc == SQLITE_OK && pE->eRule == ON_SET_DEFAULT)
      relValueBind(*pp, 1, &d->defVal);
    if (rc == SQLITE_OK && pE->eRule == ON_SET)
      relValueBind(*pp, 1, &d->setVal);
    break;
  }
  default:
    break;
  }
  sqlite3_free(zKey);
  return rc;
}

/*
** The tree plan. When the only edges out of table t are CASCADE edges from
** t to itself (a self-referencing tree: replies to comments, subcategories),
** nothing is checked or set: the closure is deleted, whatever the order.
** Then one statement does it, with no victim table and no second pass:
**   WITH RECURSIVE v(r) AS (VALUES(?1) UNION SELECT c.rowid FROM v JOIN t
**   AS c ON c.key_column=v.r WHERE c.rowid<>?1)
**   DELETE FROM t WHERE rowid IN v AND rowid<>?1
** With one such edge, each row has one parent, so the walk from the root
** meets a row at most once unless it comes back to the root, which the
** WHERE excludes (the statement deleting the root deletes it): then
** UNION ALL, without the set that UNION keeps, is exact. Returns the SQL,
** or NULL (with *pRc unchanged) when t's plan is not a tree.
*/
static char *relTreeSql(RelCtx *p, const RelPlan *pPlan, int t, int *pRc) {
  RelStr s = {0};
  int i, nSelf = 0;
  if (pPlan->nReach != 1) return 0;
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    if (pE->iParent != t) continue;
    if (pE->eRule != ON_CASCADE || pE->iChild != t) return 0;
    nSelf++;
  }
  if (nSelf == 0) return 0;
  relStrPrintf(&s, "WITH RECURSIVE v(r) AS (VALUES(?1)");
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    const char *zT = p->azTable[t];
    if (pE->iParent != t) continue;
    relStrPrintf(&s, " UNION%s SELECT c.rowid FROM v JOIN ",
                 nSelf == 1 ? " ALL" : "");
    if (relIsRowidAlias(p->db, zT, pE->zParentCol)) {
      relStrPrintf(&s, "main.\"%w\" AS c ON c.\"%w\"=v.r", zT, pE->zChildCol);
    } else {
      char *zKey = relKeyExpr("p", pE->zParentCol);
      if (zKey == 0) s.eRc = SQLITE_NOMEM;
      relStrPrintf(&s,
                   "main.\"%w\" AS p ON p.rowid=v.r JOIN main.\"%w\" AS c ON "
                   "c.\"%w\"=%s",
                   zT, zT, pE->zChildCol, zKey ? zKey : "NULL");
      sqlite3_free(zKey);
    }
    relStrPrintf(&s, " WHERE c.rowid<>?1");
  }
  relStrPrintf(&s, ") DELETE FROM main.\"%w\" WHERE rowid IN v AND rowid<>?1",
               p->azTable[t]);
  if (s.eRc) *pRc = s.eRc;
  return relStrFinish(&s);
}

/* A query with a row when any row references row ?1 of table t, through
** any relationship; NULL (with *pRc unchanged) when t is no parent. */
static char *relAnySql(RelCtx *p, int t, int *pRc) {
  RelStr s = {0};
  int i, n = 0;
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    char *zKey;
    if (pE->iParent != t) continue;
    zKey = relKeyExpr("p", pE->zParentCol);
    if (zKey == 0) s.eRc = SQLITE_NOMEM;
    if (n++ == 0) {
      relStrPrintf(&s, "SELECT 1 FROM main.\"%w\" AS p WHERE p.rowid=?1 AND (",
                   p->azTable[t]);
    } else {
      relStrPrintf(&s, " OR ");
    }
    relStrPrintf(&s, "EXISTS (SELECT 1 FROM main.\"%w\" WHERE \"%w\"=%s)",
                 p->azTable[pE->iChild], pE->zChildCol, zKey ? zKey : "NULL");
    sqlite3_free(zKey);
  }
  if (n == 0) return 0;
  relStrPrintf(&s, ")");
  if (s.eRc) *pRc = s.eRc;
  return relStrFinish(&s);
}

/* The per-root plans: tables reached through CASCADE edges. */
static int relBuildPlans(RelCtx *p, RelEnforce *e, char **pzErr) {
  int t, rc = SQLITE_OK;
  e->aPlan = sqlite3_malloc64(sizeof(RelPlan) * (size_t)(p->nTable + 1));
  if (e->aPlan == 0) return SQLITE_NOMEM;
  memset(e->aPlan, 0, sizeof(RelPlan) * (size_t)(p->nTable + 1));
  e->nPlan = p->nTable;
  for (t = 0; rc == SQLITE_OK && t < p->nTable; t++) {
    RelPlan *pPlan = &e->aPlan[t];
    int *aQ = sqlite3_malloc64(sizeof(int) * (size_t)(p->nTable + 1));
    int nQ = 0, iHead = 0, i, k;
    if (aQ == 0) return SQLITE_NOMEM;
    aQ[nQ++] = t;
    while (iHead < nQ) {
      int iCur = aQ[iHead++];
      for (i = 0; i < p->nEdge; i++) {
        const RelEdge *pE = &p->aEdge[i];
        if (pE->eRule != ON_CASCADE || pE->iParent != iCur) continue;
        for (k = 0; k < nQ && aQ[k] != pE->iChild; k++) {
        }
        if (k == nQ) aQ[nQ++] = pE->iChild;
      }
    }
    /* Deepest first. */
    for (i = 0; i < nQ / 2; i++) {
      int tmp = aQ[i];
      aQ[i] = aQ[nQ - 1 - i];
      aQ[nQ - 1 - i] = tmp;
    }
    pPlan->aReach = aQ;
    pPlan->nReach = nQ;
    {
      char *zAny = relAnySql(p, t, &rc);
      if (zAny) rc = relPreparef(p->db, &pPlan->pAny, pzErr, "%s", zAny);
      sqlite3_free(zAny);
      if (rc) return rc;
    }
    {
      char *zTree = relTreeSql(p, pPlan, t, &rc);
      if (zTree) rc = relPreparef(p->db, &pPlan->pTree, pzErr, "%s", zTree);
      sqlite3_free(zTree);
      if (rc) return rc;
      if (pPlan->pTree) continue;
    }
    pPlan->apDel = sqlite3_malloc64(sizeof(sqlite3_stmt *) * (size_t)nQ);
    if (pPlan->apDel == 0) return SQLITE_NOMEM;
    memset(pPlan->apDel, 0, sizeof(sqlite3_stmt *) * (size_t)nQ);
    for (i = 0; rc == SQLITE_OK && i < nQ; i++) {
      /* Only tables that can hold victims other than the root. */
      int bChild = 0;
      for (k = 0; k < p->nEdge; k++) {
        if (p->aEdge[k].eRule == ON_CASCADE && p->aEdge[k].iChild == aQ[i])
          bChild = 1;
      }
      if (!bChild) continue;
      rc = relPreparef(p->db, &pPlan->apDel[i], pzErr,
                       "DELETE FROM main.\"%w\" WHERE rowid IN (SELECT r FROM "
                       "temp.relext_victim WHERE t=%d)",
                       p->azTable[aQ[i]], aQ[i]);
    }
  }
  return rc;
}

/*
** The plain mode. Where the order in which rows are deleted cannot change
** the outcome, a table's delete rules compile to plain SQL in its BEFORE
** DELETE trigger, like a hand-written cascade, with no call into C:
**   - the tables reached from it through CASCADE edges form no cycle (so
**     trigger nesting is bounded by the number of tables, not rows);
**   - PROTECT and RESTRICT appear only on edges out of the table itself,
**     and only when nothing cascades from it: then no row this delete
**     removes can be a protecting or restricting row, and the check is a
**     single probe in the pre-delete state, exactly Django's answer.
**     (When the engine deletes such rows, it has decided already: the
**     checks stand aside while it runs: see relext_fail.)
** Everything else (cycles, self references, PROTECT below a CASCADE) goes
** through the delete engine.
*/
static int relPlainMode(RelCtx *p, int t, int *pRc) {
  int *aState; /* 0 unvisited, 1 on stack, 2 done */
  int *aStack;
  int *aEdgeAt;
  int nStack = 0, i, bOk = 1, bCascade = 0;
  for (i = 0; i < p->nEdge; i++) {
    if (p->aEdge[i].iParent == t && p->aEdge[i].eRule == ON_CASCADE)
      bCascade = 1;
  }
  aState = sqlite3_malloc64(sizeof(int) * (size_t)(p->nTable + 1) * 3);
  if (aState == 0) {
    *pRc = SQLITE_NOMEM;
    return 0;
  }
  memset(aState, 0, sizeof(int) * (size_t)(p->nTable + 1) * 3);
  aStack = &aState[p->nTable + 1];
  aEdgeAt = &aStack[p->nTable + 1];
  /* Depth-first over CASCADE edges from t, checking every edge met. */
  aStack[nStack] = t;
  aEdgeAt[nStack++] = 0;
  aState[t] = 1;
  while (nStack > 0 && bOk) {
    int iCur = aStack[nStack - 1];
    int e = aEdgeAt[nStack - 1]++;
    const RelEdge *pE;
    if (e >= p->nEdge) {
      aState[iCur] = 2;
      nStack--;
      continue;
    }
    pE = &p->aEdge[e];
    if (pE->iParent != iCur) continue;
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
        aEdgeAt[nStack++] = 0;
      }
      break;
    default:
      break;
    }
  }
  sqlite3_free(aState);
  return bOk;
}

/* A literal for SQL text (values are quoted, never pasted). */
static char *relValueSql(const RelValue *p) {
  switch (p->eType) {
  case SQLITE_INTEGER:
    return sqlite3_mprintf("%lld", p->i);
  case SQLITE_FLOAT:
    return sqlite3_mprintf("%!.17g", p->r);
  case SQLITE_TEXT:
    return sqlite3_mprintf("%Q", p->z);
  default:
    return sqlite3_mprintf("NULL");
  }
}

/* The statements of table t's BEFORE DELETE trigger in plain mode,
** appended to body. They call only SQLITE_INNOCUOUS functions, so that the
** trigger can be stored in the database (relGuardsWrite). */
static void relPlainBody(RelCtx *p, int t, RelStr *pBody) {
  int pass, i;
  /* Checks first (PROTECT before RESTRICT), then updates, then deletes. */
  for (pass = 0; pass < 5; pass++) {
    for (i = 0; i < p->nEdge; i++) {
      const RelEdge *pE = &p->aEdge[i];
      const RelDef *d = &p->aDef[pE->iDef];
      const char *zC = p->azTable[pE->iChild];
      char *zOld;
      if (pE->iParent != t) continue;
      zOld = relKeyExpr("OLD", pE->zParentCol);
      if (zOld == 0) {
        pBody->eRc = SQLITE_NOMEM;
        continue;
      }
      if ((pass == 0 && pE->eRule == ON_PROTECT) ||
          (pass == 1 && pE->eRule == ON_RESTRICT)) {
        /* One probe: count(*) of an empty index range is one seek. */
        relStrPrintf(pBody,
                     "SELECT relext_fail(%lld, %d, %d, %s, count(*)) FROM "
                     "main.\"%w\" WHERE \"%w\"=%s HAVING count(*) > 0; ",
                     p->iGen, pE->eRule == ON_PROTECT ? 2 : 3, i, zOld, zC,
                     pE->zChildCol, zOld);
      } else if (pass == 2 &&
                 (pE->eRule == ON_SET_NULL || pE->eRule == ON_SET_DEFAULT ||
                  pE->eRule == ON_SET)) {
        char *zVal =
            pE->eRule == ON_SET_NULL
                ? sqlite3_mprintf("NULL")
                : relValueSql(pE->eRule == ON_SET ? &d->setVal : &d->defVal);
        if (zVal == 0) {
          pBody->eRc = SQLITE_NOMEM;
        } else {
          relStrPrintf(pBody, "UPDATE \"%w\" SET \"%w\"=%s WHERE \"%w\"=%s; ",
                       zC, pE->zChildCol, zVal, pE->zChildCol, zOld);
          if (pE->eRule != ON_SET_NULL && pE->bConstraint) {
            /* The new value may name this very row: check at COMMIT. */
            relStrPrintf(pBody,
                         "SELECT relext_must_be_loaded(%lld, %d, %s) WHERE "
                         "changes() > 0; ",
                         p->iGen, i, zVal);
          }
        }
        sqlite3_free(zVal);
      } else if (pass == 3 && pE->eRule == ON_DO_NOTHING && pE->bConstraint) {
        relStrPrintf(pBody,
                     "SELECT relext_must_be_loaded(%lld, %d, %s) WHERE EXISTS "
                     "(SELECT 1 FROM main.\"%w\" WHERE \"%w\"=%s); ",
                     p->iGen, -1 - i, zOld, zC, pE->zChildCol, zOld);
      } else if (pass == 4 && pE->eRule == ON_CASCADE) {
        relStrPrintf(pBody, "DELETE FROM \"%w\" WHERE \"%w\"=%s; ", zC,
                     pE->zChildCol, zOld);
      }
      sqlite3_free(zOld);
    }
  }
}

/* The stored BEFORE DELETE trigger of parent table t, appended to s: a
** connection whose definitions are not the ones of catalog hash G (or
** without relext) is refused; in plain mode the rules follow. */
static void relGuardDeleteSql(RelCtx *p, int t, RelStr *s) {
  const char *zT = p->azTable[t];
  RelStr body = {0};
  int i, bIndexed = 1;
  if (relPlainMode(p, t, &s->eRc)) relPlainBody(p, t, &body);
  /* The G check may be left to the parent guard indexes, which SQLite
  ** evaluates for every row deleted, when each key has one and the rules
  ** leave statements in the body (for the refusal of connections without
  ** relext). A stale connection running the body meets a G check in each
  ** path: relext_fail takes G, and the children's guard indexes see the
  ** rows the body deletes or changes. */
  for (i = 0; i < p->nEdge; i++) {
    if (p->aEdge[i].iParent == t && relIsRowid(p->aEdge[i].zParentCol))
      bIndexed = 0;
  }
  relStrPrintf(s,
               "CREATE TRIGGER main.\"relext_guard_d_%w\" BEFORE DELETE ON "
               "\"%w\" BEGIN ",
               zT, zT);
  if (!bIndexed || body.n == 0) {
    relStrPrintf(s,
                 "SELECT RAISE(ABORT, %Q) WHERE relext_must_be_loaded(%lld); ",
                 zStaleMsg, p->iGen);
  }
  relStrPrintf(s, "%s/* relext %lld */ END;\n", body.z ? body.z : "", p->iGen);
  if (body.eRc) s->eRc = body.eRc;
  relStrReset(&body);
}

/* Does the stored delete guard of plain-mode table t hold its rules (as
** relGuardDeleteSql writes them for this catalog)? Guards written by
** relext 0.1.0 only refused stale connections: the rules then live in a
** TEMP trigger (relTriggerSql) until rel_reload() rewrites them. */
static int relGuardHoldsRules(RelCtx *p, int t) {
  sqlite3_stmt *pStmt = 0;
  int bYes = 0;
  char *zMark = sqlite3_mprintf("/* relext %lld */ END", p->iGen);
  if (zMark && sqlite3_prepare_v2(p->db,
                                  "SELECT instr(sql, ?2) > 0 FROM "
                                  "main.sqlite_schema WHERE type='trigger' "
                                  "AND name='relext_guard_d_' || ?1",
                                  -1, &pStmt, 0) == SQLITE_OK) {
    sqlite3_bind_text(pStmt, 1, p->azTable[t], -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, zMark, -1, SQLITE_STATIC);
    if (sqlite3_step(pStmt) == SQLITE_ROW) bYes = sqlite3_column_int(pStmt, 0);
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zMark);
  return bYes;
}

/* The TEMP trigger of plain-mode table t, for stored guards that do not
** hold its rules (see relGuardHoldsRules). */
static void relPlainDeleteSql(RelCtx *p, int t, RelStr *s) {
  const char *zT = p->azTable[t];
  RelStr body = {0};
  relPlainBody(p, t, &body);
  if (body.n > 0) {
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_del_%w\" BEFORE DELETE ON "
                 "main.\"%w\" BEGIN %sEND;\n",
                 zT, zT, body.z);
  }
  if (body.eRc) s->eRc = body.eRc;
  relStrReset(&body);
}

/* Append the TEMP triggers of table t to s. */
static void relTriggerSql(RelCtx *p, int t, const int *aRowidParent,
                          RelStr *s) {
  const char *zT = p->azTable[t];
  int i, bParent = 0, bChild = 0, bRowidKey = 0;
  RelStr body = {0};
  RelStr cols = {0};
  for (i = 0; i < p->nEdge; i++) {
    if (p->aEdge[i].iParent == t) {
      bParent = 1;
      if (relIsRowid(p->aEdge[i].zParentCol)) bRowidKey = 1;
    }
    if (p->aEdge[i].iChild == t) bChild = 1;
  }
  if (bParent && relPlainMode(p, t, &s->eRc)) {
    if (!relGuardHoldsRules(p, t)) relPlainDeleteSql(p, t, s);
  } else if (bParent) {
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_del_%w\" BEFORE DELETE ON "
                 "main.\"%w\" BEGIN SELECT relext_on_delete(%d, OLD.rowid); "
                 "INSERT INTO relext_txn(e, k) SELECT -1, NULL WHERE 0; END;\n",
                 zT, zT, t);
  }
  if (bParent) {
    /* Key changes: an old key still referenced is noted. */
    for (i = 0; i < p->nEdge; i++) {
      const RelEdge *pE = &p->aEdge[i];
      char *zOld, *zNew;
      if (pE->iParent != t) continue;
      /* A key column has a guard index that notes changes (see
      ** relGuardsWrite); only a bare rowid needs the trigger. */
      if (!relIsRowid(pE->zParentCol)) continue;
      zOld = relKeyExpr("OLD", pE->zParentCol);
      zNew = relKeyExpr("NEW", pE->zParentCol);
      if (zOld && zNew) {
        relStrPrintf(&body,
                     "INSERT INTO relext_txn(e, k) SELECT %d, %s WHERE %s IS "
                     "NOT %s AND EXISTS (SELECT 1 FROM main.\"%w\" WHERE "
                     "\"%w\"=%s); ",
                     i, zOld, zOld, zNew, p->azTable[pE->iChild], pE->zChildCol,
                     zOld);
        if (!relIsRowid(pE->zParentCol)) {
          relStrPrintf(&cols, "%s\"%w\"", cols.n ? "," : "", pE->zParentCol);
        }
      } else {
        s->eRc = SQLITE_NOMEM;
      }
      sqlite3_free(zOld);
      sqlite3_free(zNew);
    }
    if (body.n) {
      relStrPrintf(s,
                   "CREATE TEMP TRIGGER \"relext_key_%w\" AFTER UPDATE %s%s ON "
                   "main.\"%w\" BEGIN %s END;\n",
                   zT, bRowidKey || !cols.n ? "" : "OF ",
                   bRowidKey || !cols.n ? "" : cols.z, zT, body.z);
    }
    relStrReset(&body);
    relStrReset(&cols);
  }
  (void)bChild;
  (void)aRowidParent;
}

/* Extra TEMP triggers of M2M junctions: duplicate pairs as no-ops (when the
** table was not created with ON CONFLICT IGNORE) and symmetrical mirror. */
static void relJunctionSql(RelCtx *p, const RelDef *d, RelStr *s) {
  const char *zJ = d->zDbTable;
  if (d->zThrough == 0) {
    sqlite3_stmt *pStmt = 0;
    int bIgnore = 0;
    if (sqlite3_prepare_v2(p->db,
                           "SELECT sql LIKE '%ON CONFLICT IGNORE%' FROM "
                           "main.sqlite_schema WHERE type='table' AND "
                           "name=?1 COLLATE NOCASE",
                           -1, &pStmt, 0) == SQLITE_OK) {
      sqlite3_bind_text(pStmt, 1, zJ, -1, SQLITE_STATIC);
      if (sqlite3_step(pStmt) == SQLITE_ROW)
        bIgnore = sqlite3_column_int(pStmt, 0);
    }
    sqlite3_finalize(pStmt);
    if (!bIgnore) {
      relStrPrintf(s,
                   "CREATE TEMP TRIGGER \"relext_dup_%w\" BEFORE INSERT ON "
                   "main.\"%w\" WHEN EXISTS (SELECT 1 FROM main.\"%w\" WHERE "
                   "\"%w\"=NEW.\"%w\" AND \"%w\"=NEW.\"%w\") BEGIN SELECT "
                   "RAISE(IGNORE); END;\n",
                   zJ, zJ, zJ, d->zSrcCol, d->zSrcCol, d->zDstCol, d->zDstCol);
    }
  }
  if (d->bSymmetrical) {
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_symi_%w\" AFTER INSERT ON "
                 "main.\"%w\" BEGIN INSERT INTO \"%w\"(\"%w\", \"%w\") SELECT "
                 "NEW.\"%w\", NEW.\"%w\" WHERE NOT EXISTS (SELECT 1 FROM "
                 "main.\"%w\" WHERE \"%w\"=NEW.\"%w\" AND \"%w\"=NEW.\"%w\"); "
                 "END;\n",
                 zJ, zJ, zJ, d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol, zJ,
                 d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol);
    relStrPrintf(s,
                 "CREATE TEMP TRIGGER \"relext_symd_%w\" AFTER DELETE ON "
                 "main.\"%w\" BEGIN DELETE FROM \"%w\" WHERE \"%w\"=OLD.\"%w\" "
                 "AND \"%w\"=OLD.\"%w\"; END;\n",
                 zJ, zJ, zJ, d->zSrcCol, d->zDstCol, d->zDstCol, d->zSrcCol);
  }
}

/* Prepare the engine's statements for the loaded definitions. */
static int relEnforcePrepare(RelCtx *p, char **pzErr) {
  RelEnforce *e = relEnf(p);
  sqlite3 *db = p->db;
  int rc = SQLITE_OK, i;
  int *aRowidParent;
  char *zSql;
  relEnforceStmtsFree(e);
  aRowidParent = sqlite3_malloc64(sizeof(int) * (size_t)(p->nEdge + 1));
  if (aRowidParent == 0) return SQLITE_NOMEM;
  for (i = 0; i < p->nEdge; i++) {
    aRowidParent[i] = relIsRowidAlias(db, p->azTable[p->aEdge[i].iParent],
                                      p->aEdge[i].zParentCol);
  }
  zSql = relCollectSql(p, aRowidParent);
  if (zSql == 0)
    rc = SQLITE_NOMEM;
  else
    rc = relPreparef(db, &e->pCollect, pzErr, "%s", zSql);
  sqlite3_free(zSql);
  sqlite3_free(aRowidParent);
  if (rc == SQLITE_OK)
    rc = relPreparef(db, &e->pClear, pzErr, "DELETE FROM temp.relext_victim");
  if (rc == SQLITE_OK)
    rc = relPreparef(db, &e->pDropRoot, pzErr,
                     "DELETE FROM temp.relext_victim WHERE t=?1 AND r=?2");
  if (rc == SQLITE_OK) {
    e->apEdge =
        sqlite3_malloc64(sizeof(sqlite3_stmt *) * (size_t)(p->nEdge + 1));
    if (e->apEdge == 0)
      rc = SQLITE_NOMEM;
    else {
      memset(e->apEdge, 0, sizeof(sqlite3_stmt *) * (size_t)(p->nEdge + 1));
      e->nEdgeStmt = p->nEdge;
    }
  }
  for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
    rc = relEdgeStmt(p, i, &e->apEdge[i], pzErr);
  }
  if (rc == SQLITE_OK) rc = relBuildPlans(p, e, pzErr);
  if (rc == SQLITE_OK)
    e->bPrepared = 1;
  else
    relEnforceStmtsFree(e);
  return rc;
}

int relEnforceInstall(RelCtx *p, char **pzErr) {
  RelEnforce *e = relEnf(p);
  sqlite3 *db = p->db;
  int rc, i;
  int *aRowidParent = 0;
  char *zSql = 0;
  RelStr s = {0};

  if (e == 0) return SQLITE_MISUSE;
  relEnforceStmtsFree(e);
  rc = relDropByPrefix(db, "temp", "trigger", "relext_", pzErr);
  if (rc == SQLITE_OK && p->nDef == 0) return SQLITE_OK;
  if (rc == SQLITE_OK) {
    rc = relExecf(db, pzErr,
                  "CREATE TEMP TABLE IF NOT EXISTS relext_victim(t INTEGER "
                  "NOT NULL, r INTEGER NOT NULL, PRIMARY KEY(t, r)) WITHOUT "
                  "ROWID;"
                  "CREATE VIRTUAL TABLE IF NOT EXISTS temp.relext_txn USING "
                  "relext_txn;"
                  "CREATE VIRTUAL TABLE IF NOT EXISTS temp.relext_close USING "
                  "relext_close");
  }
  if (rc) return rc;

  aRowidParent = sqlite3_malloc64(sizeof(int) * (size_t)(p->nEdge + 1));
  if (aRowidParent == 0) return SQLITE_NOMEM;
  for (i = 0; i < p->nEdge; i++) {
    aRowidParent[i] = relIsRowidAlias(db, p->azTable[p->aEdge[i].iParent],
                                      p->aEdge[i].zParentCol);
  }
  for (i = 0; i < p->nTable; i++)
    relTriggerSql(p, i, aRowidParent, &s);
  for (i = 0; i < p->nDef; i++) {
    if (p->aDef[i].eKind == REL_M2M) relJunctionSql(p, &p->aDef[i], &s);
  }
  sqlite3_free(aRowidParent);
  zSql = relStrFinish(&s);
  if (zSql == 0) rc = SQLITE_NOMEM;
  if (rc == SQLITE_OK) rc = relExecf(db, pzErr, "%s", zSql);
  sqlite3_free(zSql);
  return rc;
}

/* Are the stored guards in place for the loaded definitions? 1 yes, 0 no
** (missing, or written for another catalog), <0 an error code negated. */
int relGuardsCurrent(RelCtx *p) {
  sqlite3_stmt *pStmt = 0;
  int nWant = 0, nHave = -1, t, i, rc;
  /* Two triggers per parent table, a guard index per child table, and one
  ** per referenced key column (relGuardsWrite). */
  for (t = 0; t < p->nTable; t++) {
    int bParent = 0, bChild = 0;
    for (i = 0; i < p->nEdge; i++) {
      if (p->aEdge[i].iParent == t) bParent = 1;
      if (p->aEdge[i].iChild == t) bChild = 1;
    }
    nWant += 2 * bParent + bChild;
  }
  for (i = 0; i < p->nEdge; i++) {
    if (!relIsRowid(p->aEdge[i].zParentCol)) nWant++;
  }
  rc = sqlite3_prepare_v2(p->db,
                          "SELECT count(*) FROM main.sqlite_schema WHERE type "
                          "IN ('trigger', 'index') AND name GLOB "
                          "'relext_guard_*' AND (instr(sql, "
                          "'relext_must_be_loaded(' || ?1) > 0 OR instr(sql, "
                          "'/* relext ' || ?1 || ' */') > 0)",
                          -1, &pStmt, 0);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(pStmt, 1, p->iGen);
    if (sqlite3_step(pStmt) == SQLITE_ROW) nHave = sqlite3_column_int(pStmt, 0);
    rc = sqlite3_finalize(pStmt);
  } else {
    sqlite3_finalize(pStmt);
  }
  if (rc) return -rc;
  if (nHave != nWant) return 0;
  /* Guards of relext 0.1.0 have the same names but lack the rules. */
  for (t = 0; t < p->nTable; t++) {
    for (i = 0; i < p->nEdge && p->aEdge[i].iParent != t; i++) {
    }
    if (i < p->nEdge && relPlainMode(p, t, &rc) && !relGuardHoldsRules(p, t))
      return 0;
    if (rc) return -rc;
  }
  return 1;
}

int relGuardsWrite(RelCtx *p, char **pzErr) {
  sqlite3 *db = p->db;
  RelEnforce *e = relEnf(p);
  RelStr s = {0};
  char *zSql;
  int rc, t, i;
  rc = relDropByPrefix(db, "main", "trigger", "relext_guard_", pzErr);
  if (rc == SQLITE_OK)
    rc = relDropByPrefix(db, "main", "index", "relext_guard_", pzErr);
  if (rc) return rc;
  /* Parents: every DELETE, every UPDATE (a key may change). A trigger,
  ** not an index, so that DELETE without WHERE cannot truncate the table
  ** past it. */
  for (t = 0; t < p->nTable; t++) {
    const char *zT = p->azTable[t];
    int bParent = 0;
    for (i = 0; i < p->nEdge; i++) {
      if (p->aEdge[i].iParent == t) bParent = 1;
    }
    if (!bParent) continue;
    relGuardDeleteSql(p, t, &s);
    if (relPlainMode(p, t, &s.eRc)) {
      /* Its TEMP twin, if the guards it replaces had one. */
      relStrPrintf(&s, "DROP TRIGGER IF EXISTS temp.\"relext_del_%w\";\n", zT);
    }
    relStrPrintf(&s,
                 "CREATE TRIGGER main.\"relext_guard_u_%w\" BEFORE UPDATE "
                 "ON \"%w\" WHEN relext_must_be_loaded(%lld) BEGIN SELECT "
                 "RAISE(ABORT, %Q); END;\n",
                 zT, zT, p->iGen, zStaleMsg);
  }
  /* Children: an always-empty partial index, whose WHERE clause SQLite
  ** evaluates for every row written (see the header). One per child table:
  ** a table that is the child of several edges (an M2M junction, a model
  ** with several ForeignKeys) gets one index whose WHERE names them all,
  ** since each index costs every statement a cursor. */
  for (t = 0; t < p->nTable; t++) {
    RelStr args = {0};
    int iFirst = -1, nChild = 0;
    char *zFirstRow = 0; /* the row argument of edge iFirst, or NULL */
    for (i = 0; i < p->nEdge; i++) {
      const RelEdge *pE = &p->aEdge[i];
      const RelDef *d = &p->aDef[pE->iDef];
      char *zRow = 0;
      if (pE->iChild != t) continue;
      if (iFirst < 0) iFirst = i;
      nChild++;
      if (d->eKind != REL_M2M && !d->bNull) {
        /* null=False: the row's key comes along, for the NOT NULL check. */
        int rcRow = SQLITE_OK;
        zRow = relRowKey(db, p->azTable[t], &rcRow);
        if (rcRow) s.eRc = rcRow;
      }
      relStrPrintf(&args, ", %d, \"%w\"", i, pE->zChildCol);
      if (zRow)
        relStrPrintf(&args, ", %s", zRow);
      else
        relStrPrintf(&args, ", NULL");
      if (i == iFirst)
        zFirstRow = zRow;
      else
        sqlite3_free(zRow);
    }
    if (args.eRc) s.eRc = args.eRc;
    if (iFirst >= 0) {
      const char *zC = p->azTable[t];
      if (nChild == 1) {
        /* The original form: relext_guard_<edge>_<table>, (G, e, key
        ** [, row]). */
        const RelEdge *pE = &p->aEdge[iFirst];
        const char *zRow = zFirstRow;
        relStrPrintf(&s,
                     "CREATE INDEX main.\"relext_guard_%d_%w\" ON "
                     "\"%w\"(\"%w\") WHERE relext_must_be_loaded(%lld, %d, "
                     "\"%w\"%s%s);\n",
                     iFirst, zC, zC, pE->zChildCol, p->iGen, iFirst,
                     pE->zChildCol, zRow ? ", " : "", zRow ? zRow : "");
      } else {
        relStrPrintf(&s,
                     "CREATE INDEX main.\"relext_guard_c_%w\" ON "
                     "\"%w\"(\"%w\") WHERE relext_must_be_loaded(%lld%s);\n",
                     zC, zC, p->aEdge[iFirst].zChildCol, p->iGen,
                     args.z ? args.z : "");
      }
    }
    relStrReset(&args);
    sqlite3_free(zFirstRow);
  }
  for (i = 0; i < p->nEdge; i++) {
    const RelEdge *pE = &p->aEdge[i];
    /* The parent's key too: a key that goes (a changed key, a row that
    ** REPLACE removes without delete triggers) is a suspect as well. */
    if (!relIsRowid(pE->zParentCol)) {
      const char *zP = p->azTable[pE->iParent];
      relStrPrintf(&s,
                   "CREATE INDEX main.\"relext_guard_p%d_%w\" ON "
                   "\"%w\"(\"%w\") WHERE relext_must_be_loaded(%lld, %d, "
                   "\"%w\");\n",
                   i, zP, zP, pE->zParentCol, p->iGen, -1 - i, pE->zParentCol);
    }
  }
  zSql = relStrFinish(&s);
  if (zSql == 0) return SQLITE_NOMEM;
  /* Creating an index reads the existing rows: take no notes of them. */
  if (e) e->bQuiet++;
  rc = relExecf(db, pzErr, "%s", zSql);
  if (e) e->bQuiet--;
  sqlite3_free(zSql);
  return rc;
}

int relRegisterEnforce(sqlite3 *db, RelCtx *p) {
  int rc;
  RelEnforce *e = sqlite3_malloc64(sizeof(RelEnforce));
  if (e == 0) return SQLITE_NOMEM;
  memset(e, 0, sizeof(*e));
  p->pEnforce = e;
  /* Side effects: only TEMP triggers (which are trusted) may call it. */
  rc = sqlite3_create_function_v2(db, "relext_on_delete", 2,
                                  SQLITE_UTF8 | SQLITE_DIRECTONLY, relCtxRef(p),
                                  relOnDeleteFunc, 0, 0, relCtxUnref);
  /* No side effect but an error: the stored delete guards of plain-mode
  ** tables call it, also under trusted_schema=OFF. */
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(
        db, "relext_fail", 5, SQLITE_UTF8 | SQLITE_INNOCUOUS, relCtxRef(p),
        relFailFunc, 0, 0, relCtxUnref);

  /* Pure: the stored guard triggers call it, even under trusted_schema=OFF.
   */
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(
        db, "relext_must_be_loaded", 1, SQLITE_UTF8 | SQLITE_INNOCUOUS,
        relCtxRef(p), relMustBeLoadedFunc, 0, 0, relCtxUnref);
  /* The guard indexes' WHERE clause: an index expression must be
  ** deterministic and, under trusted_schema=OFF, innocuous. It is
  ** deterministic in what it returns (always 0, or an error when stale);
  ** its one effect is a note for relext's own commit check. */
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(
        db, "relext_must_be_loaded", 3,
        SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC, relCtxRef(p),
        relMustBeLoadedFunc, 0, 0, relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(
        db, "relext_must_be_loaded", 4,
        SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC, relCtxRef(p),
        relMustBeLoadedFunc, 0, 0, relCtxUnref);
  /* The combined form of a table that is the child of several edges. */
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function_v2(
        db, "relext_must_be_loaded", -1,
        SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC, relCtxRef(p),
        relMustBeLoadedFunc, 0, 0, relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_module_v2(db, "relext_txn", &txnModule, relCtxRef(p),
                                  relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_module_v2(db, "relext_notes", &notesModule,
                                  relCtxRef(p), relCtxUnref);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_module_v2(db, "relext_close", &closeModule,
                                  relCtxRef(p), relCtxUnref);
  return rc;
}
