/*
** stmtend.c -- the refusals at a statement's end: a RESTRICT that a later
** row of the same statement may still lift, decided when the statement
** ends, and the keys that rows the statement deleted keep protected.
**
** CONTRACT
**   A RESTRICT that the delete engine (engine.c) or relext_fail (guard.c)
**   finds while a later row of the same statement may still lift it (or a
**   PROTECT of a later row win over it, as in Django) is left here with
**   its message: the statement is refused at its end if the RESTRICT still
**   stands then, and only that statement is undone. relRestrictWait says
**   where it can wait; where it cannot (foreign keys off or deferred), the
**   COMMIT check decides it (commit.c). A key that a row the statement
**   deleted protected (engine.c's PROTECT) stays protected until the
**   statement ends.
**
** MECHANISM
**   The end of a statement. A RESTRICT that a later row of the same
**   statement may still lift (engine.c decides which) is a pending note;
**   while any stands, the engine's TEMP trigger program keeps one row in
**   relext_pending, whose REFERENCES to the empty relext_nowhere
**   is an immediate foreign-key violation that SQLite counts for the
**   statement and fails it with at its end, undoing only that statement
**   (relext_pending() recounts them as rows go). In autocommit, relCommitDoom
**   makes the COMMIT check refuse the statement first thing. An accessor's
**   DELETE, which writes through nested statements, has its notes tagged
**   with the application's statement (relAccTag) and decides them at its
**   last row (relAccDecide); relRestrictWait says which of these waits
**   applies. rel_last_error (registered in commit.c) gives relext's message
**   of a refusal SQLite words itself. relext_gone keeps, until the
**   statement ends, the keys that rows it deleted protected (engine.c's
**   PROTECT).
**
**   Both tables are in main (catalog.c, relCatalogEnsure), where the
**   DELETE that writes them has its write transaction already; a database
**   declared before they moved there, or whose tables are no longer what
**   relext made (another SQL, a trigger on one), gets TEMP ones (guard.c,
**   relGuardInstall), which SQLite finds first. The row's
**   key is the connection's own random one (RelCtx.iPendingKey), so that a
**   row another writer left in the table can neither stand in for it nor
**   cancel it.
**
**   What waits lives in commit.c's RelCommit (commit_int.h): a pending
**   RESTRICT is a note of the COMMIT check's set (NOTE_RESTRICT, with
**   bPending or iAcc), taken and found with commit.c's note set
**   (noteAddValue, relHashReady, relNoteSeen). commit.c's relext_txn
**   forgets these notes, the accessor tags and relext_gone's keys with the
**   savepoint or transaction that took them, and its xSync reports the
**   refusal relCommitDoom kept.
**
** INVARIANTS
**   - A failed statement forgets its pending notes (xRollbackTo); a
**     statement that ends has lifted them all.
**   - A note tagged for an accessor's DELETE is never taken for one of a
**     later statement: each statement's savepoint has a tag of its own.
**   - An autocommit statement reports its first refusal (relCommitDoom).
**
** LIMITS
**   - The statement's end needs PRAGMA foreign_keys on and not deferred;
**     otherwise a pending RESTRICT is checked at COMMIT (not one of an
**     accessor's DELETE, whose last row decides).
**   - An accessor's DELETE decides at the row it knows to be its last;
**     when it cannot know, the COMMIT check decides (accwrite.c, LIMITS).
*/
#include "relext_int.h"
#include "commit_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/*
** RESTRICT at the end of the statement. A RESTRICT that a later row of the
** same statement could still lift (the engine decides which, engine.c) is
** a pending note: while it is still referenced, the TEMP trigger program
** of the engine keeps a row in relext_pending, whose REFERENCES to
** the empty relext_nowhere counts as an immediate foreign-key
** violation of the statement; SQLite fails the statement at its end
** ("FOREIGN KEY constraint failed") unless the row is gone by then, and
** rel_last_error() says which RESTRICT it was. A failed statement forgets
** its notes (xRollbackTo); a statement that ends has lifted them all.
*/
/* A RESTRICT note that carries its refusal (zMsg), for the end of the
** statement (bPending) or the COMMIT check. */
int relNoteRestrict(RelCtx *p, int iEdge, sqlite3_value *pKey,
                    const char *zMsg, int bPending, int bCertain) {
  RelCommit *c = relCommit(p);
  RelValue val;
  RelNote *pN;
  int rc;
  if (c == 0) return SQLITE_OK;
  memset(&val, 0, sizeof(val));
  rc = relValueFromSql(&val, pKey);
  if (rc == SQLITE_OK) rc = noteAddValue(c, iEdge, NOTE_RESTRICT, &val, 1);
  if (rc == SQLITE_OK) rc = relHashReady(c);
  if (rc == SQLITE_OK) {
    pN = relNoteSeen(c, iEdge, NOTE_RESTRICT, &val);
    if (pN && pN->zMsg == 0) {
      pN->zMsg = sqlite3_mprintf("%s", zMsg);
      if (pN->zMsg == 0) rc = SQLITE_NOMEM;
    }
    if (pN && bCertain) pN->bCertain = 1;
    if (pN && bPending == REL_PENDING_ACC) {
      if (c->iAccTag != p->iAccTag) {
        c->iAccTag = p->iAccTag;
        c->nAcc = 0;
      }
      if (pN->iAcc != p->iAccTag) {
        pN->iAcc = p->iAccTag;
        c->nAcc++;
      }
    } else if (pN && bPending && !pN->bPending) {
      pN->bPending = 1;
      c->bAnyPending = 1;
    }
  }
  relValueClear(&val);
  return rc;
}

/* An autocommit statement is refused, with zMsg, when it ends (a RESTRICT
** that waited for a PROTECT of a later row, which would have won): its
** COMMIT check fails first thing. */
int relCommitDoom(RelCtx *p, const char *zMsg) {
  RelCommit *c = relCommit(p);
  size_t n = strlen(zMsg);
  int rc;
  if (c == 0) return SQLITE_OK;
  rc = relCommitEnrol(p);
  if (rc) return rc;
  if (c->bDoom) return SQLITE_OK; /* the first refusal is reported */
  if (n + 1 > c->nDoomAlloc) {
    char *z = sqlite3_realloc64(c->zDoom, n + 1);
    if (z == 0) return SQLITE_NOMEM;
    c->zDoom = z;
    c->nDoomAlloc = n + 1;
  }
  memcpy(c->zDoom, zMsg, n + 1);
  c->bDoom = 1;
  return SQLITE_OK;
}

/* Is foreign-key enforcement on, and immediate (the statement's counter)? */
int relFkImmediate(sqlite3 *db) {
  int bOn = 0, bDefer = 0;
  sqlite3_stmt *pStmt = 0;
  if (sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &bOn) ||
      bOn == 0)
    return 0;
  if (sqlite3_prepare_v2(db, "PRAGMA defer_foreign_keys", -1, &pStmt, 0) ==
          SQLITE_OK &&
      sqlite3_step(pStmt) == SQLITE_ROW)
    bDefer = sqlite3_column_int(pStmt, 0);
  sqlite3_finalize(pStmt);
  return !bDefer;
}

/* Where a RESTRICT found now can wait for the end of its statement: the
** one decision engine.c and relext_fail (guard.c) both need. An accessor's
** own nested statement (nNested 1, tagged) waits for the accessor's last
** row; the application's statement (nNested 0) for SQLite's counter. */
int relRestrictWait(RelCtx *p) {
  if (sqlite3_get_autocommit(p->db)) return REL_WAIT_COMMIT;
  if (p->nNested == 1 && p->iAccTag) return REL_WAIT_ACCESSOR;
  if (p->nNested == 0 && relFkImmediate(p->db)) return REL_WAIT_STATEMENT;
  return REL_WAIT_NONE;
}

/* Does RESTRICT note pN still stand: refused whatever happens, or its key
** still referenced by a row of the edge's child table? */
static int relNoteStands(RelCtx *p, const RelNote *pN, int *pbStands,
                         char **pzErr) {
  const RelEdge *pE = &p->aEdge[pN->iEdge];
  sqlite3_stmt *pStmt = 0;
  int rc;
  *pbStands = 1;
  if (pN->bCertain) return SQLITE_OK;
  rc = relPreparef(p->db, &pStmt, pzErr,
                   "SELECT 1 FROM main.\"%w\" AS c WHERE c.\"%w\"=?1",
                   p->azTable[pE->iChild], pE->zChildCol);
  if (rc) return rc;
  relValueBind(pStmt, 1, &pN->key);
  *pbStands = sqlite3_step(pStmt) == SQLITE_ROW;
  rc = sqlite3_finalize(pStmt);
  if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  return rc;
}

/* How many pending RESTRICT notes are still referenced (each probed once
** more; a note no row references any more is lifted). The message of the
** first one left becomes rel_last_error(). */
int relPendingCount(RelCtx *p, int *pnLeft, char **pzErr) {
  RelCommit *c = relCommit(p);
  int i, rc = SQLITE_OK, n = 0, bStands;
  const char *zFirst = 0;
  *pnLeft = 0;
  if (c == 0 || !c->bAnyPending) return SQLITE_OK;
  for (i = 0; rc == SQLITE_OK && i < c->nNote; i++) {
    RelNote *pN = &c->aNote[i];
    if (!pN->bPending) continue;
    if (pN->iEdge < 0 || pN->iEdge >= p->nEdge) {
      pN->bPending = 0;
      continue;
    }
    rc = relNoteStands(p, pN, &bStands, pzErr);
    if (rc == SQLITE_OK && bStands) {
      n++;
      if (zFirst == 0) zFirst = pN->zMsg;
    } else if (rc == SQLITE_OK) {
      pN->bPending = 0;
    }
  }
  if (n == 0) c->bAnyPending = 0;
  if (zFirst) relCtxSetLastError(p, zFirst);
  *pnLeft = n;
  return rc;
}

/*
** RESTRICT at the end of an accessor's DELETE. The accessor deletes row by
** row, each with a statement of its own (accwrite.c), so SQLite's counter
** of the application's statement is out of reach; but the accessor can
** fail that statement from its last row, and SQLite then undoes all of it.
** A RESTRICT that a later row may lift is noted with the tag of the
** application's statement (the savepoint relext_txn was given when it
** began, so a note left by an earlier statement is never taken for one of
** this); the accessor asks relAccDecide at the row it knows to be the
** last.
*/
int relAccTag(RelCtx *p, unsigned *piTag) {
  RelCommit *c = relCommit(p);
  int rc;
  *piTag = 0;
  if (c == 0 || sqlite3_get_autocommit(p->db)) return SQLITE_OK;
  rc = relCommitEnrol(p);
  if (rc == SQLITE_OK && c->nMark > 0) *piTag = c->aMarkTag[c->nMark - 1];
  return rc;
}

int relAccWaiting(RelCtx *p, unsigned iTag) {
  RelCommit *c = relCommit(p);
  return c && iTag && c->iAccTag == iTag && c->nAcc > 0;
}

int relAccDecide(RelCtx *p, unsigned iTag, char **pzErr) {
  RelCommit *c = relCommit(p);
  int i, rc = SQLITE_OK, bStands;
  if (!relAccWaiting(p, iTag)) return SQLITE_OK;
  for (i = 0; rc == SQLITE_OK && i < c->nNote; i++) {
    RelNote *pN = &c->aNote[i];
    if (pN->iAcc != iTag) continue;
    if (pN->iEdge < 0 || pN->iEdge >= p->nEdge) {
      pN->iAcc = 0;
      continue;
    }
    rc = relNoteStands(p, pN, &bStands, pzErr);
    if (rc == SQLITE_OK && bStands) {
      if (pN->zMsg == 0) return SQLITE_NOMEM; /* relNoteRestrict failed */
      relCtxSetLastError(p, pN->zMsg);
      return relError(pzErr, SQLITE_CONSTRAINT, "%s", pN->zMsg);
    }
    pN->iAcc = 0;
  }
  if (rc == SQLITE_OK) c->nAcc = 0;
  return rc;
}

/*
** PROTECT within a statement. Django never lets a PROTECT be bypassed,
** also not by a protecting row that the same statement deleted before it
** came to the protected row. A TEMP trigger (guard.c) tells the engine of
** every deleted row on the child side of a PROTECT edge whose both ends
** one statement can reach; the keys they protected are kept here until
** the statement ends (the savepoint depth it runs at, iLevel, is left).
*/
int relCommitLevel(RelCtx *p) {
  RelCommit *c = relCommit(p);
  return c ? c->nMark : 0;
}

int relGoneAdd(RelCtx *p, int iEdge, sqlite3_value *pKey, int iLevel) {
  RelCommit *c = relCommit(p);
  RelGone *pG;
  if (c == 0 || sqlite3_value_type(pKey) == SQLITE_NULL) return SQLITE_OK;
  {
    RelGone *a = relGrow(c->aGone, sizeof(RelGone), c->nGone, &c->nGoneAlloc, 8);
    if (a == 0) return SQLITE_NOMEM;
    c->aGone = a;
  }
  pG = &c->aGone[c->nGone];
  memset(pG, 0, sizeof(*pG));
  pG->iEdge = iEdge;
  pG->iLevel = iLevel;
  if (relValueFromSql(&pG->key, pKey)) return SQLITE_NOMEM;
  c->nGone++;
  return SQLITE_OK;
}

/* The next key of edge iEdge protected by a row deleted in this statement,
** from position *piPos on; NULL when there is none. */
const RelValue *relGoneNext(RelCtx *p, int iEdge, int *piPos) {
  RelCommit *c = relCommit(p);
  while (c && *piPos < c->nGone) {
    const RelGone *pG = &c->aGone[(*piPos)++];
    if (pG->iEdge == iEdge) return &pG->key;
  }
  return 0;
}
