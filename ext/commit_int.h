/*
** commit_int.h -- commit.c's state, shared with stmtend.c and admit.c.
**
** One RelCommit per connection (REL_SLOT_COMMIT): the notes of the
** transaction and what the COMMIT check keeps prepared (commit.c), what
** waits for the end of a statement (stmtend.c: pending notes, accessor
** tags, the refusal of a doomed autocommit statement, relext_gone's
** keys), and what the admission of a write remembers for the transaction
** (admit.c: bTxnReady, bQuiet, the journal-mode statement, the attached
** databases found without guards). commit.c owns its life: it makes it,
** resets it at the end of each transaction, and frees it; stmtend.c takes
** its notes with commit.c's note set (declared below). Only commit.c,
** stmtend.c and admit.c include this header.
*/
#ifndef RELEXT_COMMIT_INT_H
#define RELEXT_COMMIT_INT_H

#include "relext_int.h"

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(hidden)
#endif

/* A slot of an edge's cache of integer keys noted (commit.c,
** relGuardNote). */
typedef struct RelLast RelLast;
struct RelLast {
  sqlite3_int64 k; /* the key */
  unsigned iGen;   /* valid while RelCommit.iLastGen has this value */
};

typedef struct RelNote RelNote;
struct RelNote {
  int iEdge; /* the edge (index into RelCtx.aEdge) */
  int eKind; /* NOTE_xxx */
  int bGone; /* NOTE_DANGLING: noted where a parent key went away */
  int bPending; /* NOTE_RESTRICT: fails the statement while referenced */
  int bCertain; /* NOTE_RESTRICT: refused whatever happens (only waiting
                ** for a PROTECT of a later row to win over it) */
  unsigned iAcc; /* NOTE_RESTRICT: waits for the last row of the accessor
                 ** DELETE of this tag (REL_PENDING_ACC), or 0 */
  char *zMsg;   /* bPending, iAcc: the refusal, for rel_last_error() */
  RelValue key;
};

/* A row on the child side of a PROTECT edge, deleted by the statement
** that is running: its key stays protected until the statement ends
** (relGoneAdd). iLevel: the savepoint depth the statement runs at. */
typedef struct RelGone RelGone;
struct RelGone {
  int iEdge;
  int iLevel;
  RelValue key;
};

/* commit.c's state, one per connection (REL_SLOT_COMMIT). */
typedef struct RelCommit RelCommit;
struct RelCommit {
  RelNote *aNote; /* the notes of this transaction */
  int nNote, nNoteAlloc;
  int *aMark; /* aMark[i]: nNote when savepoint i was opened */
  unsigned *aMarkTag; /* aMarkTag[i]: a tag no other savepoint or statement
                      ** of this connection had (relAccTag) */
  int nMark;
  unsigned iMarkTag;  /* the last tag given */
  unsigned iAccTag;   /* the tag of the accessor DELETE notes wait for */
  int nAcc;           /* notes that may wait for it (an upper bound) */
  int bHooked;            /* relext_close is connected (see there) */
  sqlite3_stmt **apCheck; /* the COMMIT check's statements, REL_CHECK_SLOTS
                          ** per edge (see relCheckStmt, relBatchCheck) */
  int nCheck;             /* edges apCheck is sized for */
  int *aHash;             /* open-addressing set of note indexes + 1 */
  int nHash;              /* slots in aHash (a power of two), or 0 */
  int bHashStale;         /* notes were truncated: rebuild before use */
  int bInTxn;             /* relext_txn is enrolled in the transaction */
  int bQuiet;             /* take no notes (while guards are created) */
  int bAnyPending;        /* a note may be bPending (relPendingCount) */
  char *zDoom;            /* an autocommit statement refused at its end */
  size_t nDoomAlloc;      /* bytes allocated for zDoom */
  int bDoom;              /* zDoom holds the refusal */
  RelGone *aGone;         /* keys protecting rows deleted in this statement */
  int nGone, nGoneAlloc;
  sqlite3_stmt *pEnroll;  /* enrols relext_txn in the transaction */
  sqlite3_stmt *pShadow;  /* the attached databases holding a table named
                          ** relext_txn (admit.c, relSchemaShadows) */
  RelLast **apLast;       /* per edge: REL_LAST_N integer keys noted, made
                          ** at the edge's first such note */
  int nLast;              /* edges the per-edge arrays are sized for */
  unsigned iLastGen;      /* generation of the valid slots (never 0) */
  int bCounted;           /* aCount has counted in this transaction */
  int *aCount;            /* per edge: notes taken this transaction */
  unsigned char *aBulk;   /* per edge: too many notes, check it whole */
  sqlite3_stmt *pJournal; /* PRAGMA main.journal_mode */
  char **azPlain;         /* attached databases found without relext's
                          ** guards in this transaction */
  int nPlain;
  int bBulkAll;           /* every edge is to be checked whole (a remap
                          ** that ran out of memory) */
  int bTxnReady;          /* the guard function has seen this transaction
                          ** (relMustBeLoadedFunc) */
  int nSettled;           /* guard calls of this transaction settled at
                          ** the row (relGuardSettle) */
  unsigned int uSettleDv; /* the data version they were counted under */
};

static inline RelCommit *relCommit(RelCtx *p) {
  return (RelCommit *)p->aSlot[REL_SLOT_COMMIT].pState;
}

/* The note set (commit.c), for stmtend.c's RESTRICT notes: */
/* Make the hash set hold every note, with room for one more. */
int relHashReady(RelCommit *c);
/* The note taken already with these values, or NULL (hash set ready). */
RelNote *relNoteSeen(RelCommit *c, int iEdge, int eKind, const RelValue *pV);
/* Take a note once (bGone: a key a parent gave up; a hint for the check). */
int noteAddValue(RelCommit *c, int iEdge, int eKind, const RelValue *pV,
                 int bGone);

/* Note what a guard index saw of edge iEdge: key pKey (NULL: pRow, the
** row's key, when the edge has null=False); bGone: the guard of the edge's
** parent key (commit.c, for relext_must_be_loaded in admit.c). */
int relGuardNote(RelCtx *p, int iEdge, int bGone, sqlite3_value *pKey,
                 sqlite3_value *pRow);
/* Settle at the row, when it can, what a guard call for a row of table t
** would note (argv as relext_must_be_loaded has them): in the first calls
** of a transaction, or always (bAlways); *pbAll: nothing is left for
** COMMIT (commit.c). */
int relGuardSettle(RelCtx *p, int t, int argc, sqlite3_value **argv,
                   int bAlways, int *pbAll);

#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility pop
#endif

#endif /* RELEXT_COMMIT_INT_H */
