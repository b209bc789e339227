/*
** commit.c -- the COMMIT check: the keys written in a transaction, noted
** as they are written and each checked once when it commits.
**
** WHAT IT HOLDS
**   No dangling key at COMMIT (db_constraint=True); NOT NULL for keys with
**   null=False; no row left referencing a row deleted under RESTRICT; and
**   the end of a statement that a RESTRICT refuses (stmtend.c, on the
**   notes and state kept here).
**
** THE MECHANISM
**   Suspects ("notes") come from three places:
**   - relext_must_be_loaded(T, k, key, row, ...) (admit.c), the WHERE
**     clause of the stored guard indexes (guard.c writes them). SQLite
**     evaluates it inline for every row inserted, deleted, or updated in
**     a key column; it notes the key (relGuardNote: once per distinct key
**     and transaction) as a suspect, and the row of a NULL key when
**     null=False. On a referenced key column the same function notes the
**     keys of parent rows written or deleted: a changed key, or a row
**     that REPLACE removes without delete triggers, leaves a suspect too.
**   - the delete engine (engine.c) and relext_fail (guard.c): RESTRICT
**     and DO_NOTHING keys still referenced from outside a closure, and the
**     value a SET rule wrote;
**   - TEMP triggers (guard.c) writing to relext_txn.
**
**   Notes go to relext_txn, an eponymous virtual table (xCreate is NULL:
**   it lives in main, made by no statement, so that enrolling it costs a
**   statement no transaction on the temp database, as a TEMP table did; a
**   table named relext_txn would be found first, and is refused: guard.c,
**   admit.c). Statements that can fire
**   some of relext's TEMP triggers enrol it in their transaction (the
**   triggers write to it); the guard function, and the delete engine when
**   it has a row to act on, enrol it with a nested statement the first
**   time they need it in a transaction. Either way its xSync runs
**   at COMMIT (or at the end of an autocommit statement). xSync checks each
**   suspect once, with one index probe: a key that points nowhere (or a
**   RESTRICT row still referencing a deleted row, or a NULL key) fails the
**   COMMIT with a "relext: " message and SQLITE_CONSTRAINT, and SQLite
**   rolls the transaction back. This is SQLite's deferred-constraint design
**   (src/fkey.c) with a set of suspects instead of a counter: writing a row
**   costs a function call and a hash probe, and the commit check costs one
**   probe per distinct key, never a scan. The integer keys of one edge are
**   checked in one statement over relext_notes, an internal table that
**   lists them; an edge that took too many notes (a bulk load) is checked
**   whole with one anti-join. The notes follow savepoints through
**   xSavepoint/xRollbackTo, so ROLLBACK TO and failed statements forget
**   what they noted.
**
**   Keys settled at the row. The first two guard calls of a transaction
**   (relGuardSettle) probe instead of noting: a child's key whose parent
**   row is there, and a parent's key no child holds, need nothing at
**   COMMIT, because every later change to that parent and every later
**   child holding the key meets a guard of its own. A transaction all of
**   whose keys settle (one row: a Django save()) enrols nothing, asks
**   nothing of the journal, and runs no COMMIT check; after two calls the
**   notes are cheaper than probes. Under journal_mode=OFF every call must
**   settle or is refused (admit.c): nothing may wait for a COMMIT that
**   could not be undone.
**
**   The end of a statement: the refusals a RESTRICT leaves for the end of
**   its statement (pending notes, relCommitDoom, the accessor tags,
**   relext_gone's keys) are stmtend.c's, which takes its notes with the
**   note set here (commit_int.h). What this file does for them: the COMMIT
**   check refuses first thing an autocommit statement relCommitDoom
**   doomed, relext_txn forgets their notes and keys with the savepoint or
**   transaction that took them, and rel_last_error gives relext's message
**   of a refusal SQLite words itself.
**
**   Why not sqlite3_commit_hook: it cannot run SQL, its failure message is
**   fixed ("constraint failed"), and there is one per connection, which an
**   application may replace. xSync can query, report its own message, and
**   coexists with any commit hook the application installs.
**
** INVARIANTS
**   - A note is taken at most once per (edge, kind, key) and transaction,
**     and forgotten with the savepoint or transaction that took it.
**   - Statements stay prepared across transactions only while relext_close
**     is connected to finalize them before sqlite3_close() checks.
**
** LIMITS
**   - NOT NULL (null=False) is checked with the other keys, at COMMIT.
*/
#include "relext_int.h"
#include "commit_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* ------------------------------------------------------------------ */
/* Notes                                                               */

/* Integer keys each edge remembers as noted (a direct-mapped cache in
** front of the note hash): the keys of a bulk write repeat, in runs (the
** articles of one category) or among a few (the tags of M2M links). An
** edge's cache is made when it first notes such a key, so a connection
** pays only for the edges it writes (a stream of keys of one edge does not
** evict the few keys another repeats). A power of two. */
#define REL_LAST_BITS 10
#define REL_LAST_N (1 << REL_LAST_BITS)

/* Forget every remembered key: O(1), a new generation. */
static void relLastClear(RelCommit *c) {
  if (++c->iLastGen == 0) {
    int i;
    for (i = 0; c->apLast && i <= c->nLast; i++) {
      if (c->apLast[i]) memset(c->apLast[i], 0, REL_LAST_N * sizeof(RelLast));
    }
    c->iLastGen = 1;
  }
}

/* The per-edge arrays, and the caches they point to. */
static void relEdgeArraysFree(RelCommit *c) {
  int i;
  for (i = 0; c->apLast && i <= c->nLast; i++) sqlite3_free(c->apLast[i]);
  sqlite3_free(c->apLast); /* the block of all three */
  c->aCount = 0;
  c->aBulk = 0;
  c->apLast = 0;
  c->nLast = 0;
}

static unsigned relNoteHash(int iEdge, int eKind, const RelValue *pV);

static void relNotesTruncate(RelCommit *c, int n) {
  if (c->nNote > n) {
    relLastClear(c);
    if (n == 0 && !c->bHashStale && c->aHash && c->nNote * 8 < c->nHash) {
      /* The end of a transaction: empty the slots of the notes (a large
      ** set left by an earlier transaction would cost a memset each). */
      unsigned m = (unsigned)c->nHash - 1;
      int i, k;
      for (i = 0; i < c->nNote; i++) {
        const RelNote *pN = &c->aNote[i];
        unsigned h = relNoteHash(pN->iEdge, pN->eKind, &pN->key) & m;
        for (k = 0; k < c->nHash && c->aHash[h] != i + 1; k++)
          h = (h + 1) & m;
        if (k < c->nHash)
          c->aHash[h] = 0;
        else
          c->bHashStale = 1; /* cannot happen; rebuild to be safe */
      }
    } else {
      c->bHashStale = 1;
    }
  }
  while (c->nNote > n) {
    c->nNote--;
    relValueClear(&c->aNote[c->nNote].key);
    sqlite3_free(c->aNote[c->nNote].zMsg);
  }
}

/* Forget the attached databases found without guards. */
static void relPlainForget(RelCommit *c) {
  int k;
  for (k = 0; k < c->nPlain; k++)
    sqlite3_free(c->azPlain[k]);
  sqlite3_free(c->azPlain);
  c->azPlain = 0;
  c->nPlain = 0;
}

/* Forget the per-edge counts of a transaction; give back the memory of a
** large one. */
static void relBulkReset(RelCommit *c) {
  c->bBulkAll = 0;
  if (c->aCount && c->bCounted) {
    memset(c->aCount, 0, sizeof(int) * (size_t)(c->nLast + 1));
    memset(c->aBulk, 0, (size_t)(c->nLast + 1));
  }
  c->bCounted = 0;
  if (c->nNote == 0 && c->nNoteAlloc > 4096) {
    sqlite3_free(c->aNote);
    sqlite3_free(c->aHash);
    c->aNote = 0;
    c->aHash = 0;
    c->nNoteAlloc = c->nHash = 0;
    c->bHashStale = 1;
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
  case SQLITE_BLOB: {
    const unsigned char *z = (const unsigned char *)pV->z;
    int k;
    h ^= 0x5bd1e995u; /* X'41' and 'A' are different keys */
    for (k = 0; k < pV->n; k++)
      h = (h ^ z[k]) * 16777619u;
    break;
  }
  default:
    break;
  }
  return h ^ (h >> 15);
}

/* Put note i into the hash set (which has room). */
static void relHashPut(RelCommit *c, int i) {
  const RelNote *pN = &c->aNote[i];
  unsigned m = (unsigned)c->nHash - 1;
  unsigned h = relNoteHash(pN->iEdge, pN->eKind, &pN->key) & m;
  while (c->aHash[h])
    h = (h + 1) & m;
  c->aHash[h] = i + 1;
}

/* Make the hash set hold every note, with room for one more. */
int relHashReady(RelCommit *c) {
  int i;
  if (!c->bHashStale && c->nHash > 2 * (c->nNote + 1)) return SQLITE_OK;
  if (c->nHash <= 2 * (c->nNote + 1)) {
    int n = c->nHash ? c->nHash : 64;
    int *a;
    while (n <= 2 * (c->nNote + 1))
      n *= 2;
    a = sqlite3_malloc64(sizeof(int) * (size_t)n);
    if (a == 0) return SQLITE_NOMEM;
    sqlite3_free(c->aHash);
    c->aHash = a;
    c->nHash = n;
  }
  memset(c->aHash, 0, sizeof(int) * (size_t)c->nHash);
  for (i = 0; i < c->nNote; i++)
    relHashPut(c, i);
  c->bHashStale = 0;
  return SQLITE_OK;
}

/* The note taken already with these values, or NULL. */
RelNote *relNoteSeen(RelCommit *c, int iEdge, int eKind, const RelValue *pV) {
  unsigned m = (unsigned)c->nHash - 1;
  unsigned h = relNoteHash(iEdge, eKind, pV) & m;
  while (c->aHash[h]) {
    RelNote *pN = &c->aNote[c->aHash[h] - 1];
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
static int relEdgeArrays(RelCommit *c, int nEdge) {
  size_t n = (size_t)(nEdge + 1);
  size_t nByte = n * (sizeof(RelLast *) + sizeof(int) + 1);
  char *a;
  if (c->nLast == nEdge && c->aCount) return SQLITE_OK;
  relEdgeArraysFree(c);
  c->bCounted = 0;
  if (c->iLastGen == 0) c->iLastGen = 1;
  a = sqlite3_malloc64(nByte);
  if (a == 0) return SQLITE_NOMEM;
  memset(a, 0, nByte);
  /* Pointers first, then the ints, then the bytes: each aligned. */
  c->apLast = (RelLast **)a;
  c->aCount = (int *)(a + n * sizeof(RelLast *));
  c->aBulk = (unsigned char *)(a + n * (sizeof(RelLast *) + sizeof(int)));
  c->nLast = nEdge;
  return SQLITE_OK;
}

/* Take a note (once: a note already taken is not taken again). bGone:
** the key is one a parent row gave up (a hint for the check). */
int noteAddValue(RelCommit *c, int iEdge, int eKind, const RelValue *pV,
                 int bGone) {
  RelNote *pN;
  int rc = relHashReady(c);
  if (rc) return rc;
  if ((pN = relNoteSeen(c, iEdge, eKind, pV)) != 0) {
    if (bGone) pN->bGone = 1;
    return SQLITE_OK;
  }
  {
    RelNote *a = relGrow(c->aNote, sizeof(RelNote), c->nNote, &c->nNoteAlloc, 16);
    if (a == 0) return SQLITE_NOMEM;
    c->aNote = a;
  }
  pN = &c->aNote[c->nNote];
  memset(pN, 0, sizeof(*pN));
  pN->iEdge = iEdge;
  pN->eKind = eKind;
  pN->bGone = bGone;
  rc = relValueCopy(&pN->key, pV);
  if (rc) return rc;
  relHashPut(c, c->nNote);
  c->nNote++;
  if (c->aCount && iEdge >= 0 && iEdge < c->nLast) {
    c->bCounted = 1;
    if (++c->aCount[iEdge] > REL_BULK_NOTES) c->aBulk[iEdge] = 1;
  }
  return SQLITE_OK;
}

static int noteAdd(RelCommit *c, int iEdge, int eKind, sqlite3_value *v,
                   int bGone) {
  RelValue val;
  int rc;
  memset(&val, 0, sizeof(val));
  rc = relValueFromSql(&val, v);
  if (rc == SQLITE_OK) rc = noteAddValue(c, iEdge, eKind, &val, bGone);
  relValueClear(&val);
  return rc;
}

/* Notes from the delete engine (see relext_int.h). */
int relNoteAdd(RelCtx *p, int iEdge, int eKind, sqlite3_value *v, int bGone) {
  RelCommit *c = relCommit(p);
  return c ? noteAdd(c, iEdge, eKind, v, bGone) : SQLITE_OK;
}

int relNoteAddValue(RelCtx *p, int iEdge, int eKind, const RelValue *pV,
                    int bGone) {
  RelCommit *c = relCommit(p);
  return c ? noteAddValue(c, iEdge, eKind, pV, bGone) : SQLITE_OK;
}

/* The catalog was reloaded (xRemap): renumber the edges of pending notes,
** aMap[old] = new index or -1 (then the note goes). */
static void relCommitRemap(RelCtx *p, void *pState, const int *aMap, int nOld) {
  RelCommit *c = (RelCommit *)pState;
  int i, j = 0;
  (void)p;
  for (i = 0; i < c->nNote; i++) {
    int iOld = c->aNote[i].iEdge;
    int iNew = (iOld >= 0 && iOld < nOld) ? aMap[iOld] : -1;
    if (iNew < 0) {
      relValueClear(&c->aNote[i].key);
      sqlite3_free(c->aNote[i].zMsg);
      continue;
    }
    c->aNote[j] = c->aNote[i];
    c->aNote[j].iEdge = iNew;
    j++;
  }
  c->nNote = j;
  c->bHashStale = 1;
  relLastClear(c);
  for (i = j = 0; i < c->nGone; i++) {
    int iOld = c->aGone[i].iEdge;
    int iNew = (iOld >= 0 && iOld < nOld) ? aMap[iOld] : -1;
    if (iNew < 0) {
      relValueClear(&c->aGone[i].key);
      continue;
    }
    c->aGone[j] = c->aGone[i];
    c->aGone[j++].iEdge = iNew;
  }
  c->nGone = j;
  for (i = 0; i < c->nMark; i++) {
    if (c->aMark[i] > j) c->aMark[i] = j;
  }
  /* Edges to be checked whole keep that, under their new numbers. */
  if (c->aBulk && c->nLast > 0) {
    unsigned char *aOld = sqlite3_malloc64((size_t)c->nLast);
    int nLast = c->nLast;
    if (aOld == 0) {
      /* Cannot remember which: check every edge whole. */
      c->bBulkAll = 1;
      return;
    }
    memcpy(aOld, c->aBulk, (size_t)nLast);
    relEdgeArraysFree(c); /* made again for the new numbers */
    if (relEdgeArrays(c, p->nEdge) != SQLITE_OK) {
      c->bBulkAll = 1;
    } else {
      for (i = 0; i < nLast && i < nOld; i++) {
        if (aOld[i] && aMap[i] >= 0) c->aBulk[aMap[i]] = 1;
      }
    }
    sqlite3_free(aOld);
  }
}

/* ------------------------------------------------------------------ */
/* Messages                                                            */

/* The COMMIT check's refusals of edge pE: the child row zRow holds key
** zKey, which points at no row; or it holds NULL where null=False. NULL
** texts (no memory to make them) make SQLITE_NOMEM. */
static int relDanglingError(RelCtx *p, const RelEdge *pE, const char *zRow,
                            const char *zKey, int bGone, char **pzErr) {
  /* A key its parent gave up, on an edge whose rule would have deleted,
  ** changed or kept the child: the rule did not take effect. */
  int bHint = bGone && (pE->eRule == ON_CASCADE || pE->eRule == ON_SET_NULL ||
                        pE->eRule == ON_PROTECT || pE->eRule == ON_RESTRICT);
  if (zRow == 0 || zKey == 0) return SQLITE_NOMEM;
  return relError(
      pzErr, SQLITE_CONSTRAINT,
      "relext: FOREIGN KEY: %s %s: %s=%s points at no row of %s (%s)%s",
      p->azTable[pE->iChild], zRow, pE->zChildCol, zKey,
      p->azTable[pE->iParent], pE->zName,
      bHint ? "; that row changed its key or went without its on_delete "
              "rule (REPLACE with recursive_triggers off)"
            : "");
}

static int relNotNullError(RelCtx *p, const RelEdge *pE, const char *zRow,
                           char **pzErr) {
  if (zRow == 0) return SQLITE_NOMEM;
  return relError(
      pzErr, SQLITE_CONSTRAINT,
      "relext: NOT NULL: %s %s: %s cannot be NULL (%s has null=False)",
      p->azTable[pE->iChild], zRow, pE->zChildCol, pE->zName);
}

/* ------------------------------------------------------------------ */
/* The commit check: xSync of relext_txn                               */

/* Statements of the COMMIT check per edge, kept from one transaction to
** the next (prepared on first use, finalized with the engine's): 0 a
** child's key, 1 a NULL key, 2 a key a parent gave up (relCheckStmt), 3
** and 4 the batches of integer keys, noted by children or by parents
** (relBatchCheck), 5 whether a child holds a key and 6 whether a parent
** row has it (relGuardSettle). */
#define REL_CHECK_SLOTS 7

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
    char *zRow = 0;
    const char *zC = p->azTable[pE->iChild];
    const char *zP = p->azTable[pE->iParent];
    char *zPKey = 0; /* p."key", or p.rowid */
    rc = relRowKey(p->db, zC, &zRow);
    if (rc) return rc;
    zPKey = relColExpr("p", pE->zParentCol);
    if (zPKey == 0) {
      sqlite3_free(zRow);
      return SQLITE_NOMEM;
    }
    if (eKind == NOTE_NULL) {
      /* (A NULL key is noted with its row: there is a row key.) */
      if (zRow == 0) {
        sqlite3_free(zPKey);
        return SQLITE_INTERNAL;
      }
      rc = relPreparef(p->db, pp, pzErr,
                       "SELECT c.%s, 1 FROM main.\"%w\" AS c WHERE c.%s=?1 "
                       "AND c.\"%w\" IS NULL",
                       zRow, zC, zRow, pE->zChildCol);
    } else if (bGone) {
      /* A key a parent gave up: its children are most likely gone with
      ** it, so they are probed first (one probe when there are none). The
      ** first referencing row, for the message, is looked for only then
      ** (and with min(), not ORDER BY, which costs a temporary b-tree
      ** where the index does not deliver rows in that order: a junction's
      ** unique pair). */
      rc = relPreparef(p->db, pp, pzErr,
                       "SELECT (SELECT min(%s%s) FROM main.\"%w\" AS c WHERE "
                       "c.\"%w\"=?1) WHERE EXISTS (SELECT 1 FROM main.\"%w\" "
                       "AS c WHERE c.\"%w\"=?1) AND NOT EXISTS (SELECT 1 FROM "
                       "main.\"%w\" AS p WHERE %s=?1)",
                       zRow ? "c." : "", zRow ? zRow : "1", zC, pE->zChildCol,
                       zC, pE->zChildCol, zP, zPKey);
    } else {
      /* The parent first: a constant WHERE of a SELECT without FROM is
      ** tested before anything else, so a key whose row exists costs one
      ** probe; else one more finds the first referencing row (NULL:
      ** none). The count for a RESTRICT message is taken when needed. */
      rc = relPreparef(p->db, pp, pzErr,
                       "SELECT (SELECT min(%s%s) FROM main.\"%w\" AS c WHERE "
                       "c.\"%w\"=?1) WHERE NOT EXISTS (SELECT 1 FROM "
                       "main.\"%w\" AS p WHERE %s=?1)",
                       zRow ? "c." : "", zRow ? zRow : "1", zC, pE->zChildCol,
                       zP, zPKey);
    }
    sqlite3_free(zRow);
    sqlite3_free(zPKey);
  }
  *ppOut = *pp;
  return rc;
}

static int relAnyBulk(RelCommit *c) {
  int i;
  if (c->bBulkAll) return 1;
  for (i = 0; c->aBulk && i < c->nLast; i++) {
    if (c->aBulk[i]) return 1;
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
  char *zRow = 0;
  int rc = relRowKey(p->db, zC, &zRow);
  if (rc) return rc;
  {
    /* c.rowid or c."pk"; NULL without a single row key. */
    char *z = zRow ? sqlite3_mprintf("c.%s", zRow) : sqlite3_mprintf("NULL");
    sqlite3_free(zRow);
    zRow = z;
  }
  if (zRow == 0) return SQLITE_NOMEM;
  if (pE->bConstraint) {
    char *zPKey = relColExpr("p", pE->zParentCol);
    if (zPKey == 0) {
      sqlite3_free(zRow);
      return SQLITE_NOMEM;
    }
    rc = relPreparef(p->db, &pStmt, pzErr,
                     "SELECT %s, c.\"%w\" FROM main.\"%w\" AS c WHERE "
                     "c.\"%w\" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                     "main.\"%w\" AS p WHERE %s=c.\"%w\") LIMIT 1",
                     zRow, pE->zChildCol, zC, pE->zChildCol,
                     p->azTable[pE->iParent], zPKey, pE->zChildCol);
    sqlite3_free(zPKey);
    if (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
      char *zR = relValueText(sqlite3_column_value(pStmt, 0));
      char *zK = relValueText(sqlite3_column_value(pStmt, 1));
      rc = relDanglingError(p, pE, zR, zK, 0, pzErr);
      sqlite3_free(zR);
      sqlite3_free(zK);
    }
    if (pStmt) {
      int rc2 = sqlite3_finalize(pStmt);
      if (rc == SQLITE_OK) rc = rc2;
      pStmt = 0;
    }
  }
  if (rc == SQLITE_OK && d->eKind != REL_M2M && !d->bNull) {
    rc = relPreparef(p->db, &pStmt, pzErr,
                     "SELECT %s FROM main.\"%w\" AS c WHERE c.\"%w\" IS NULL "
                     "LIMIT 1",
                     zRow, zC, pE->zChildCol);
    if (rc == SQLITE_OK && sqlite3_step(pStmt) == SQLITE_ROW) {
      char *zR = relValueText(sqlite3_column_value(pStmt, 0));
      rc = relNotNullError(p, pE, zR, pzErr);
      sqlite3_free(zR);
    }
    if (pStmt) {
      int rc2 = sqlite3_finalize(pStmt);
      if (rc == SQLITE_OK) rc = rc2;
    }
  }
  sqlite3_free(zRow);
  return rc;
}

/* The key as child row pRowKey of edge pE holds it, for a message (caller
** frees): the noted key may be another spelling of it (a parent's 'IT'
** for the child's 'it' under NOCASE). NULL when it cannot be read. Runs
** only on the way to an error. */
static char *relChildKeyText(RelCtx *p, const RelEdge *pE,
                             sqlite3_value *pRowKey) {
  sqlite3_stmt *pStmt = 0;
  char *zRow = 0, *zText = 0;
  if (relRowKey(p->db, p->azTable[pE->iChild], &zRow) || zRow == 0) return 0;
  if (relPreparef(p->db, &pStmt, 0,
                  "SELECT c.\"%w\" FROM main.\"%w\" AS c WHERE c.%s=?1",
                  pE->zChildCol, p->azTable[pE->iChild], zRow) == SQLITE_OK) {
    sqlite3_bind_value(pStmt, 1, pRowKey);
    if (sqlite3_step(pStmt) == SQLITE_ROW)
      zText = relValueText(sqlite3_column_value(pStmt, 0));
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zRow);
  return zText;
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
  if (pN->bCertain && pN->zMsg) {
    return relError(pzErr, SQLITE_CONSTRAINT, "%s", pN->zMsg);
  }
  rc = relCheckStmt(p, apCheck, pN->iEdge, pN->eKind, pN->bGone, &pStmt, pzErr);
  if (rc) return rc;
  relValueBind(pStmt, 1, &pN->key);
  if (sqlite3_step(pStmt) == SQLITE_ROW &&
      sqlite3_column_type(pStmt, 0) != SQLITE_NULL) {
    char *zKey = relValueFormat(&pN->key, REL_FMT_MSG);
    sqlite3_int64 nRef = 0;
    rc = SQLITE_NOMEM; /* when no message can be made */
    if (zKey == 0) {
      /* out of memory */
    } else if (pN->eKind == NOTE_RESTRICT && pN->zMsg) {
      /* The refusal as it was decided, with its count. */
      rc = relError(pzErr, SQLITE_CONSTRAINT, "%s", pN->zMsg);
    } else if (pN->eKind == NOTE_RESTRICT) {
      sqlite3_stmt *pCount = 0;
      int rcCount =
          relPreparef(p->db, &pCount, 0,
                      "SELECT count(*) FROM main.\"%w\" AS c WHERE c.\"%w\"=?1",
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
      if (rcCount == SQLITE_NOMEM) {
        rc = rcCount;
      } else if (rcCount != SQLITE_OK) {
        rc = relError(pzErr, rcCount, "%s", sqlite3_errmsg(p->db));
      } else {
        rc = relError(pzErr, SQLITE_CONSTRAINT,
                      "relext: RESTRICT: cannot delete %s %s: referenced by "
                      "%lld row%s of %s",
                      p->azTable[pE->iParent], zKey, nRef, nRef == 1 ? "" : "s",
                      pE->zName);
      }
    } else if (pN->eKind == NOTE_NULL) {
      rc = relNotNullError(p, pE, zKey, pzErr);
    } else {
      char *zRow = relValueText(sqlite3_column_value(pStmt, 0));
      char *zHeld = relChildKeyText(p, pE, sqlite3_column_value(pStmt, 0));
      rc = relDanglingError(p, pE, zRow, zHeld ? zHeld : zKey, pN->bGone,
                            pzErr);
      sqlite3_free(zRow);
      sqlite3_free(zHeld);
    }
    sqlite3_free(zKey);
  }
  if (rc == SQLITE_OK) {
    rc = sqlite3_reset(pStmt);
    if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
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
  RelCommit *c = relCommit(pCur->pCtx);
  int n = c ? c->nNote : 0;
  while (pCur->iNote < n) {
    const RelNote *pN = &c->aNote[pCur->iNote];
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
  RelCommit *c = relCommit(pCur->pCtx);
  return c == 0 || pCur->iNote >= c->nNote;
}

static int notesColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  NotesCursor *pCur = (NotesCursor *)cur;
  RelCommit *c = relCommit(pCur->pCtx);
  if (i == NOTES_K)
    sqlite3_result_int64(ctx, c->aNote[pCur->iNote].key.i);
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

static int relBatchCheck(RelCtx *p, sqlite3_stmt **apCheck, int iEdge,
                         int bGone, char **pzErr) {
  const RelEdge *pE = &p->aEdge[iEdge];
  const char *zC = p->azTable[pE->iChild];
  sqlite3_stmt **pp = &apCheck[iEdge * REL_CHECK_SLOTS + 3 + (bGone ? 1 : 0)];
  sqlite3_stmt *pStmt = *pp;
  char *zRow = 0, *zChildTest = 0, *zParentTest = 0;
  int rc = SQLITE_OK, bRowid = 0;
  if (pStmt) goto run;
  rc = relRowKey(p->db, zC, &zRow);
  if (rc == SQLITE_OK)
    rc = relIsRowidAlias(p->db, p->azTable[pE->iParent], pE->zParentCol,
                         &bRowid);
  if (rc) goto done;
  /* IN (SELECT column FROM table) probes the column's index with one
  ** cursor for the whole batch (a correlated EXISTS opens one per key).
  ** It is NULL, not false, for a key without match where the column holds
  ** NULLs: fine for the child test, so the parent test uses it only for a
  ** rowid, which is never NULL. */
  zChildTest = sqlite3_mprintf("j.k IN (SELECT c.\"%w\" FROM main.\"%w\" AS c)",
                               pE->zChildCol, zC);
  if (bRowid) {
    zParentTest =
        sqlite3_mprintf("NOT (j.k IN (SELECT rowid FROM main.\"%w\"))",
                        p->azTable[pE->iParent]);
  } else {
    zParentTest = sqlite3_mprintf(
        "NOT EXISTS (SELECT 1 FROM main.\"%w\" AS p WHERE p.\"%w\"=j.k)",
        p->azTable[pE->iParent], pE->zParentCol);
  }
  if (!zChildTest || !zParentTest) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  /* The WHERE terms are tested in the order written: the side most likely
  ** to settle the key first (see relCheckStmt). */
  rc = relPreparef(p->db, &pStmt, pzErr,
                   "SELECT j.k, (SELECT %s%s FROM main.\"%w\" AS c WHERE "
                   "c.\"%w\"=j.k ORDER BY 1 LIMIT 1) FROM relext_notes AS j "
                   "WHERE j.e=?1 AND j.gone=?2 AND %s AND %s LIMIT 1",
                   zRow ? "c." : "", zRow ? zRow : "1", zC, pE->zChildCol,
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
    rc = relDanglingError(p, pE, zChild, zKey, bGone, pzErr);
    sqlite3_free(zKey);
    sqlite3_free(zChild);
    sqlite3_reset(pStmt);
  } else {
    rc = sqlite3_reset(pStmt);
    if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  }
done:
  sqlite3_free(zRow);
  sqlite3_free(zChildTest);
  sqlite3_free(zParentTest);
  return rc;
}

static void relCheckStmtsFree(RelCommit *c);

/* The COMMIT check's statement slots, sized for the edges loaded (the
** statements stay prepared while relext_close can finalize them). */
static int relCheckSlots(RelCtx *p, RelCommit *c) {
  relCloseHook(p);
  if (c->apCheck == 0 || c->nCheck != p->nEdge) {
    size_t nByte = sizeof(sqlite3_stmt *) * (size_t)p->nEdge * REL_CHECK_SLOTS;
    relCheckStmtsFree(c);
    c->apCheck = sqlite3_malloc64(nByte);
    if (c->apCheck == 0) return SQLITE_NOMEM;
    memset(c->apCheck, 0, nByte);
    c->nCheck = p->nEdge;
  }
  return SQLITE_OK;
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

static int txnBegin(sqlite3_vtab *pVtab);

/* The cached statements go with any disconnect (they are prepared again on
** the next use); at close, relext_close's comes first (see there). */
static int txnDisconnect(sqlite3_vtab *pVtab) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  relCtxStmtsRelease(pTab->pCtx);
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

/* INSERT INTO relext_txn(c, k): note that key k of edge e may dangle. */
static int txnUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                     sqlite_int64 *pRowid) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelCommit *c = relCommit(pTab->pCtx);
  (void)pRowid;
  if (argc < 4 || sqlite3_value_type(argv[0]) != SQLITE_NULL) {
    return relError(&pVtab->zErrMsg, SQLITE_ERROR,
                    "relext: relext_txn is internal");
  }
  if (c == 0) return SQLITE_OK;
  return noteAdd(c, sqlite3_value_int(argv[2]), NOTE_DANGLING, argv[3], 0);
}

/* Forget the deleted protecting rows of statements deeper than iLevel. */
static void relGoneTruncate(RelCommit *c, int iLevel) {
  int i, j = 0;
  for (i = 0; i < c->nGone; i++) {
    if (c->aGone[i].iLevel > iLevel) {
      relValueClear(&c->aGone[i].key);
    } else {
      c->aGone[j++] = c->aGone[i];
    }
  }
  c->nGone = j;
}

static int txnBegin(sqlite3_vtab *pVtab) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelCommit *c = relCommit(pTab->pCtx);
  if (c) {
    relNotesTruncate(c, 0);
    relGoneTruncate(c, -1);
    c->bDoom = 0;
    c->bInTxn = 1;
    c->bTxnReady = 0;
    relBulkReset(c);
    relPlainForget(c);
  }
  return SQLITE_OK;
}

/* At COMMIT: every noted key must be settled. */
static int txnSync(sqlite3_vtab *pVtab) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelCtx *p = pTab->pCtx;
  RelCommit *c = relCommit(p);
  int i, pass, rc = SQLITE_OK;
  char *zErr = 0;
  sqlite3_stmt **apCheck;
  unsigned char *aBatch;
  if (c && c->bDoom) {
    size_t n = strlen(c->zDoom) + 1;
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = sqlite3_malloc64(n);
    if (pVtab->zErrMsg == 0) return SQLITE_NOMEM;
    memcpy(pVtab->zErrMsg, c->zDoom, n);
    return SQLITE_CONSTRAINT; /* rel_last_error() has it already */
  }
  if (c == 0) return SQLITE_OK;
  /* The notes name edges; the checks name tables and columns: with what
  ** the database has now (this connection's own ALTER TABLE since, another
  ** connection's change seen now). Nothing may be created here. */
  rc = relCtxSync(p, REL_SYNC_MEM, &zErr);
  /* In step with what this COMMIT makes durable. */
  if (rc == SQLITE_OK) relCtxSyncCommitting(p);
  if (rc == SQLITE_OK && p->bRebuildTxn && p->nRebuild > 0) {
    rc = relError(&zErr, SQLITE_CONSTRAINT,
                  "relext: the rebuild of %s is not finished: SELECT "
                  "rel_rebuild_end('%s') before COMMIT",
                  p->azRebuild[0], p->azRebuild[0]);
  }
  for (i = 0; rc == SQLITE_OK && i < c->nNote; i++) {
    /* A table whose writes are refused now (its definition BROKEN since,
    ** the catalog edited): nothing of it commits. */
    const RelNote *pN = &c->aNote[i];
    const RelEdge *pE;
    const char *zBlock;
    if (pN->iEdge < 0 || pN->iEdge >= p->nEdge) continue;
    pE = &p->aEdge[pN->iEdge];
    /* The table the note's write was to: a parent's key that went (or
    ** a RESTRICT), else the child's. */
    {
      const RelTable *pT = (pN->bGone || pN->eKind == NOTE_RESTRICT)
                               ? &p->aTab[pE->iParent]
                               : &p->aTab[pE->iChild];
      /* (Refused for what it holds, not for this connection's triggers:
      ** the notes can still be checked then.) */
      zBlock = pT->eBlock == REL_BLOCK_BROKEN || pT->eBlock == REL_BLOCK_TAMPER
                   ? pT->zBlock
                   : 0;
    }
    if (zBlock) rc = relError(&zErr, SQLITE_CONSTRAINT, "%s", zBlock);
  }
  if (rc) {
    if (rc == SQLITE_CONSTRAINT && zErr) relCtxSetLastError(p, zErr);
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = zErr;
    return rc;
  }
  if (p->nEdge == 0) return SQLITE_OK;
  if (c->nNote == 0 && !relAnyBulk(c)) return SQLITE_OK;
  rc = relCheckSlots(p, c);
  if (rc) return rc;
  apCheck = c->apCheck;
  /* A disconnect while the checks run (cannot happen, but) must not
  ** finalize them under our feet: it defers, as for the engine. */
  relCtxEnter(p);
  /* RESTRICT notes are reported first, then NOT NULL, then dangling keys
  ** (of relationships with db_constraint=True). */
  /* Integer keys of dangling notes go in one batch per edge and bGone,
  ** run where the first of them was noted (aBatch: 1 done). */
  aBatch = sqlite3_malloc64((size_t)p->nEdge * 2);
  if (aBatch == 0) {
    relCtxLeave(p);
    return SQLITE_NOMEM;
  }
  memset(aBatch, 0, (size_t)p->nEdge * 2);
  /* A batch pays a statement over relext_notes: worth it from
  ** REL_BATCH_MIN keys of an edge on; fewer are probed one by one
  ** (aBatch: 2 probe each). */
  for (i = 0; i < c->nNote; i++) {
    const RelNote *pN = &c->aNote[i];
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
    for (i = 0; rc == SQLITE_OK && i < c->nNote; i++) {
      const RelNote *pN = &c->aNote[i];
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
  for (i = 0; rc == SQLITE_OK && i < p->nEdge; i++) {
    if (c->bBulkAll || (c->aBulk && i < c->nLast && c->aBulk[i]))
      rc = relBulkCheck(p, i, &zErr);
  }
  relCtxLeave(p);
  if (rc) {
    if (rc == SQLITE_CONSTRAINT && zErr) relCtxSetLastError(p, zErr);
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = zErr;
  }
  return rc;
}

/* At the end of a transaction (xCommit and xRollback): forget the notes.
** relext's cached statements stay prepared for the next transaction while
** relext_close is connected to finalize them when the connection closes.
** Without it they go now (or, inside the engine, when it returns): they
** hold references to relext_txn through the triggers they fire, so
** xDisconnect would come too late and they would keep sqlite3_close()
** from closing. */
static int txnCommit(sqlite3_vtab *pVtab) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelCommit *c = relCommit(pTab->pCtx);
  if (c) {
    relNotesTruncate(c, 0);
    relGoneTruncate(c, -1);
    c->bDoom = 0;
    c->nMark = 0;
    c->bInTxn = 0;
    c->bTxnReady = 0;
    relBulkReset(c);
    relPlainForget(c);
    pTab->pCtx->bRebuildTxn = 0;
    if (!c->bHooked) relCtxStmtsRelease(pTab->pCtx);
  }
  return SQLITE_OK;
}

/* A tag no savepoint of this connection had before (never 0). */
static unsigned relMarkTag(RelCommit *c) {
  if (++c->iMarkTag == 0) c->iMarkTag = 1;
  return c->iMarkTag;
}

static int txnSavepoint(sqlite3_vtab *pVtab, int iSave) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelCommit *c = relCommit(pTab->pCtx);
  if (c == 0 || iSave < 0) return SQLITE_OK;
  if (iSave >= c->nMark) {
    int *a = sqlite3_realloc64(c->aMark, sizeof(int) * (size_t)(iSave + 1));
    unsigned *aTag;
    if (a == 0) return SQLITE_NOMEM;
    c->aMark = a;
    aTag = sqlite3_realloc64(c->aMarkTag,
                             sizeof(unsigned) * (size_t)(iSave + 1));
    if (aTag == 0) return SQLITE_NOMEM;
    c->aMarkTag = aTag;
    while (c->nMark <= iSave) {
      c->aMarkTag[c->nMark] = relMarkTag(c);
      c->aMark[c->nMark++] = c->nNote;
    }
  }
  c->aMark[iSave] = c->nNote;
  c->aMarkTag[iSave] = relMarkTag(c);
  return SQLITE_OK;
}

static int txnRelease(sqlite3_vtab *pVtab, int iSave) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelCommit *c = relCommit(pTab->pCtx);
  if (c && iSave >= 0 && iSave < c->nMark) c->nMark = iSave;
  if (c && iSave >= 0) relGoneTruncate(c, iSave);
  return SQLITE_OK;
}

static int txnRollbackTo(sqlite3_vtab *pVtab, int iSave) {
  TxnVtab *pTab = (TxnVtab *)pVtab;
  RelCommit *c = relCommit(pTab->pCtx);
  if (c && iSave >= 0 && iSave < c->nMark) relNotesTruncate(c, c->aMark[iSave]);
  if (c && iSave >= 0) relGoneTruncate(c, iSave);
  return SQLITE_OK;
}

static sqlite3_module txnModule = {
    2,             /* iVersion: 2 for the savepoint methods */
    0,             /* xCreate: eponymous only (main.relext_txn) */
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
  RelCommit *c = relCommit((RelCtx *)pAux);
  if (rc == SQLITE_OK && c) c->bHooked = 1;
  if (rc == SQLITE_OK) ((RelCtx *)pAux)->bCloseHooked = 1;
  return rc;
}

static int closeCreate(sqlite3 *db, void *pAux, int argc,
                       const char *const *argv, sqlite3_vtab **ppVtab,
                       char **pzErr) {
  return closeConnect(db, pAux, argc, argv, ppVtab, pzErr);
}

static int closeDisconnect(sqlite3_vtab *pVtab) {
  RelCommit *c = relCommit(((TxnVtab *)pVtab)->pCtx);
  if (c) c->bHooked = 0;
  ((TxnVtab *)pVtab)->pCtx->bCloseHooked = 0;
  return txnDisconnect(pVtab);
}

/* Statements may outlive a transaction only while relext_close is
** connected. A rollback that undoes a schema change (a failed rel_define)
** resets the schemas and disconnects it, and SQLite connects a virtual
** table again only when a statement names it: this does. 0 when it could
** not (the table was dropped): then statements are freed at the end of
** each transaction. */
int relCloseHook(RelCtx *p) {
  RelCommit *c = relCommit(p);
  sqlite3_stmt *pStmt = 0;
  if (c == 0) return 0;
  if (!c->bHooked) {
    sqlite3_prepare_v2(p->db, "SELECT 1 FROM temp.relext_close", -1, &pStmt, 0);
    sqlite3_finalize(pStmt);
  }
  return c->bHooked;
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

/* Enrol relext_txn in the write transaction, so that its xSync runs at
** COMMIT (or at the end of an autocommit statement), for a note taken
** outside the TEMP triggers (which enrol it themselves). */
int relCommitEnrol(RelCtx *p) {
  RelCommit *c = relCommit(p);
  int rc = SQLITE_OK;
  if (c == 0 || c->bInTxn) return SQLITE_OK;
  if (c->pEnroll == 0) {
    relCloseHook(p);
    rc = sqlite3_prepare_v2(p->db,
                            "INSERT INTO main.relext_txn(e, k) "
                            "SELECT -1, NULL WHERE 0",
                            -1, &c->pEnroll, 0);
  }
  if (rc == SQLITE_OK) {
    /* An OOM in the step rolls the transaction back: relCtxEnter keeps
    ** xRollback from finalizing pEnroll while it runs. */
    relCtxEnter(p);
    sqlite3_step(c->pEnroll);
    rc = sqlite3_reset(c->pEnroll);
    relCtxLeave(p);
  }
  if (rc == SQLITE_OK && !c->bInTxn) rc = SQLITE_INTERNAL;
  return rc;
}

/* Note what a guard index saw of edge iEdge: key pKey (NULL: pRow, the
** row's key, when the edge has null=False; else nothing to note). bGone:
** the guard of the edge's parent key, whose value here is going away (or
** arriving). */
int relGuardNote(RelCtx *p, int iEdge, int bGone, sqlite3_value *pKey,
                 sqlite3_value *pRow) {
  RelCommit *c = relCommit(p);
  int rc = SQLITE_OK;
  if (sqlite3_value_type(pKey) == SQLITE_NULL &&
      (pRow == 0 || sqlite3_value_type(pRow) == SQLITE_NULL))
    return SQLITE_OK;
  if (sqlite3_value_type(pKey) != SQLITE_NULL && !p->aEdge[iEdge].bConstraint)
    return SQLITE_OK;
  /* (The calls only when there is something to do: this runs per row.) */
  if (!c->bInTxn) rc = relCommitEnrol(p);
  if (rc == SQLITE_OK && (c->nLast != p->nEdge || c->aCount == 0))
    rc = relEdgeArrays(c, p->nEdge);
  if (rc == SQLITE_OK && c->aBulk[iEdge]) return SQLITE_OK; /* whole */
  if (rc) return rc;
  if (sqlite3_value_type(pKey) == SQLITE_NULL)
    return noteAdd(c, iEdge, NOTE_NULL, pRow, 0);
  if (sqlite3_value_type(pKey) == SQLITE_INTEGER && !bGone) {
    sqlite3_int64 k = sqlite3_value_int64(pKey);
    RelLast *pL = c->apLast[iEdge];
    if (pL == 0) {
      pL = sqlite3_malloc64(REL_LAST_N * sizeof(RelLast));
      if (pL == 0) return SQLITE_NOMEM;
      memset(pL, 0, REL_LAST_N * sizeof(RelLast));
      c->apLast[iEdge] = pL;
    }
    pL += ((sqlite3_uint64)k * 0x9E3779B97F4A7C15ULL) >> (64 - REL_LAST_BITS);
    if (pL->iGen == c->iLastGen && pL->k == k) return SQLITE_OK;
    rc = noteAdd(c, iEdge, NOTE_DANGLING, pKey, 0);
    if (rc == SQLITE_OK) {
      pL->k = k;
      pL->iGen = c->iLastGen;
    }
    return rc;
  }
  return noteAdd(c, iEdge, NOTE_DANGLING, pKey, bGone);
}

/* Settle at the row what the guard function would note for the row of
** table t it is called for (argv as relext_must_be_loaded has them), with
** the parent key's affinity and collation, as the COMMIT check compares:
**   - a key the row holds as a child is settled when its parent row is
**     there (the COMMIT check's own statement);
**   - a key the row holds as a parent (arriving, or going away: the guard
**     cannot tell) is settled when no child holds it now (a child that
**     holds it then, or later, is the COMMIT check's or its own guard's:
**     the delete engine runs after the row's index is maintained, and
**     leaves no child behind that it has not noted).
** A key settled here needs no COMMIT check: every later change to the
** parent, and every later child that holds the key, is guarded itself.
** *pbAll is 1 when nothing is left for COMMIT (and no NULL in a
** null=False key). Only the first REL_SETTLE_MAX calls of a transaction
** try (a probe costs several notes; a transaction that takes no note
** enrols nothing and runs no COMMIT check), or every call with bAlways
** (journal_mode=OFF, where nothing may wait for COMMIT). A failure other
** than out of memory only means "not settled". */
#define REL_SETTLE_MAX 2
int relGuardSettle(RelCtx *p, int t, int argc, sqlite3_value **argv,
                   int bAlways, int *pbAll) {
  RelCommit *c = relCommit(p);
  const RelTable *pT = &p->aTab[t];
  unsigned int uDv = 0;
  int i, rc = SQLITE_OK, bAll = 1, nProbe = 0;
  *pbAll = 0;
  /* (Not inside the delete engine: what it deletes next is its own.) */
  if (c == 0 || c->bQuiet || c->bBulkAll || p->nBusy > 0) return SQLITE_OK;
  if (sqlite3_file_control(p->db, 0, SQLITE_FCNTL_DATA_VERSION, &uDv) !=
      SQLITE_OK)
    return SQLITE_OK;
  /* The data version moves at each COMMIT: a new transaction. */
  if (uDv != c->uSettleDv) {
    c->uSettleDv = uDv;
    c->nSettled = 0;
  }
  if (c->nSettled >= REL_SETTLE_MAX && !bAlways) return SQLITE_OK;
  /* What the call would note (relGuardNote's cases). */
  for (i = 1; bAll && i + 1 < argc;) {
    int e = sqlite3_value_int(argv[i]);
    if (e >= 0) {
      if (e >= pT->nChild || i + 2 >= argc) return SQLITE_OK;
      if (sqlite3_value_type(argv[i + 1]) == SQLITE_NULL) {
        /* A NULL in a null=False key waits for COMMIT. */
        if (sqlite3_value_type(argv[i + 2]) != SQLITE_NULL) bAll = 0;
      } else if (p->aEdge[pT->aChild[e]].bConstraint) {
        nProbe++;
      }
      i += 3;
    } else {
      e = -1 - e;
      if (e >= pT->nParent) return SQLITE_OK;
      if (sqlite3_value_type(argv[i + 1]) != SQLITE_NULL &&
          p->aEdge[pT->aParent[e]].bConstraint)
        nProbe++;
      i += 2;
    }
  }
  if (!bAll) return SQLITE_OK;
  if (nProbe > 0) rc = relCheckSlots(p, c);
  if (rc) return rc;
  relCtxEnter(p);
  for (i = 1; rc == SQLITE_OK && bAll && nProbe > 0 && i + 1 < argc;) {
    int e = sqlite3_value_int(argv[i]);
    int bChild = e >= 0;
    int iEdge = bChild ? pT->aChild[e] : pT->aParent[-1 - e];
    sqlite3_value *pKey = argv[i + 1];
    i += bChild ? 3 : 2;
    if (sqlite3_value_type(pKey) != SQLITE_NULL &&
        p->aEdge[iEdge].bConstraint) {
      sqlite3_stmt *pStmt = 0;
      char *zErr = 0;
      sqlite3_stmt **pp = &c->apCheck[iEdge * REL_CHECK_SLOTS + 5 + bChild];
      const RelEdge *pE = &p->aEdge[iEdge];
      if (*pp == 0 && bChild) {
        /* As the COMMIT check compares (relCheckStmt). */
        char *zPKey = relColExpr("p", pE->zParentCol);
        rc = zPKey ? relPreparef(p->db, pp, &zErr,
                                 "SELECT 1 FROM main.\"%w\" AS p WHERE %s=?1",
                                 p->azTable[pE->iParent], zPKey)
                   : SQLITE_NOMEM;
        sqlite3_free(zPKey);
      } else if (*pp == 0) {
        rc = relPreparef(p->db, pp, &zErr,
                         "SELECT 1 FROM main.\"%w\" AS c WHERE c.\"%w\"=?1 "
                         "LIMIT 1",
                         p->azTable[pE->iChild], pE->zChildCol);
      }
      pStmt = *pp;
      sqlite3_free(zErr);
      if (rc == SQLITE_OK) {
        sqlite3_bind_value(pStmt, 1, pKey);
        /* Settled: the child's parent row is there; no child holds the
        ** parent's key. */
        if ((sqlite3_step(pStmt) == SQLITE_ROW) != bChild) bAll = 0;
        rc = sqlite3_reset(pStmt);
      }
      if (rc != SQLITE_OK && rc != SQLITE_NOMEM) {
        rc = SQLITE_OK;
        bAll = 0;
      }
    }
  }
  relCtxLeave(p);
  if (rc == SQLITE_OK && bAll) {
    c->nSettled++;
    *pbAll = 1;
  }
  return rc;
}

/* Finalize the COMMIT check's statements. */
static void relCheckStmtsFree(RelCommit *c) {
  sqlite3_stmt **a = c->apCheck;
  int i, n = c->nCheck * REL_CHECK_SLOTS;
  sqlite3_finalize(c->pJournal);
  c->pJournal = 0;
  c->apCheck = 0;
  c->nCheck = 0;
  for (i = 0; a && i < n; i++)
    sqlite3_finalize(a[i]);
  sqlite3_free(a);
}

/* Check every key of edge iEdge at COMMIT, as for a bulk load (relBulkCheck):
** its rows were written past relext (a table rel_flush emptied only in part,
** a table rebuilt). */
int relCommitWhole(RelCtx *p, int iEdge) {
  RelCommit *c = relCommit(p);
  int rc;
  if (c == 0 || iEdge < 0 || iEdge >= p->nEdge) return SQLITE_OK;
  rc = relCommitEnrol(p);
  if (rc == SQLITE_OK) rc = relEdgeArrays(c, p->nEdge);
  if (rc == SQLITE_OK) c->aBulk[iEdge] = 1;
  return rc;
}

/* Take no notes while guard.c creates the guard indexes (creating an index
** evaluates its WHERE clause for every existing row). */
void relCommitQuiet(RelCtx *p, int bOn) {
  RelCommit *c = relCommit(p);
  if (c) c->bQuiet += bOn ? 1 : -1;
}

/* xStmtsFree: finalize the statements kept prepared here (see ctx.c). */
static void relCommitStmtsFree(RelCtx *p, void *pState) {
  RelCommit *c = (RelCommit *)pState;
  (void)p;
  relCheckStmtsFree(c);
  sqlite3_finalize(c->pEnroll);
  c->pEnroll = 0;
  sqlite3_finalize(c->pShadow);
  c->pShadow = 0;
}

/* xFree: the context dies (its statements are gone already). */
static void relCommitFree(RelCtx *p, void *pState) {
  RelCommit *c = (RelCommit *)pState;
  (void)p;
  relNotesTruncate(c, 0);
  relGoneTruncate(c, -1);
  sqlite3_free(c->aGone);
  sqlite3_free(c->zDoom);
  sqlite3_free(c->aNote);
  sqlite3_free(c->aMark);
  sqlite3_free(c->aMarkTag);
  sqlite3_free(c->aHash);
  relEdgeArraysFree(c);
  relPlainForget(c);
  sqlite3_free(c);
}

static const RelHooks commitHooks = {
    relCommitRemap,     /* xRemap: renumber the notes' edges */
    0,                  /* xLoaded */
    relCommitStmtsFree, /* xStmtsFree */
    relCommitFree,      /* xFree */
};

/* rel_last_error(): relext's last refusal on this connection, or NULL:
** the full message of a statement SQLite failed in its own words. */
static void relLastErrorFunc(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  (void)argc;
  (void)argv;
  if (p->zLastError)
    sqlite3_result_text(ctx, p->zLastError, -1, SQLITE_TRANSIENT);
}

int relRegisterCommit(sqlite3 *db, RelCtx *p) {
  int rc;
  RelCommit *c = sqlite3_malloc64(sizeof(RelCommit));
  if (c == 0) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  relCtxAttach(p, REL_SLOT_COMMIT, c, &commitHooks);
  rc = sqlite3_create_function_v2(db, "rel_last_error", 0, SQLITE_UTF8,
                                  relCtxRef(p), relLastErrorFunc, 0, 0,
                                  relCtxUnref);
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
