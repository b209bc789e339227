/*
** admit.c -- the admission of a write: which rules a guard names, and
** whether this connection may let the write proceed.
**
** CONTRACT
**   relext_must_be_loaded(T): 0 when this connection holds the rules that
**   the guard of generation T (RelTable.iGen) was written for; else it
**   fails with the reason (the stored trigger's RAISE is for connections
**   without relext). relext_must_be_loaded(T, e1, key1, row1, ..., -1-k1,
**   pkey1, ...), the WHERE clause of the guard index of a table, does the
**   same for every row written or deleted, and hands the keys to commit.c
**   as notes for the COMMIT check. relGuardFire answers the same question
**   for the TEMP triggers (engine.c's relext_on_delete, guard.c's
**   relext_fail). A write is refused when, even after catching up with the
**   database, this connection does not hold its rules, its table's writes
**   are refused, a governed database is attached and written, or
**   journal_mode is OFF and the row's keys would wait for COMMIT.
**
** MECHANISM
**   A guard names its rules by generation (RelTable.iGen). A generation
**   this connection does not know, or a table whose writes it refuses,
**   means another connection changed the rules, a rollback undid a change
**   of this one, a dump is being restored, or the guards of a blocked
**   table were written again: relGenTable catches up with the database
**   (relCtxSync) before it decides. The first write of a transaction to a
**   governed table (bTxnReady, commit_int.h) pays for the rest: in step
**   with the database (another connection's ALTER TABLE since the last
**   transaction; relCtxSyncRow), then either every key of the row settled
**   at the row (commit.c's relGuardSettle, the first two calls of a
**   transaction: this path runs again for the next row), or the journal
**   able to undo a refusal and relext_txn enrolled for the COMMIT check;
**   later rows find their table by generation and note their keys.
**
** INVARIANTS
**   - The guard function returns 0 or fails: the guard indexes stay empty.
**   - It is SQLITE_INNOCUOUS (and, but for the one-argument form,
**     deterministic), so that the guards work under trusted_schema=OFF.
**   - What admission remembers for a transaction lives in commit.c's
**     RelCommit (commit_int.h), which forgets it when the transaction ends.
**
** LIMITS
**   - relext enforces the rules of the main database only: a governed
**     database attached and written in the same transaction is refused
**     (known by its guards' names and SQL, relSchemaGuarded).
**   - journal_mode=OFF: a write whose keys cannot be settled at the row
**     is refused.
*/
#include "relext_int.h"
#include "commit_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* ------------------------------------------------------------------ */
/* Which rules a guard names                                           */

/* Is a guard index being built now (a CREATE INDEX of relext's, as a dump
** restored with relext loaded runs them)? Then a load takes the guards not
** made yet for guards to come: it refuses nothing for them (see stored.c).
** Known by the statements running: one is that CREATE INDEX. */
static int relInIndexBuild(RelCtx *p) {
  sqlite3_stmt *pStmt;
  for (pStmt = sqlite3_next_stmt(p->db, 0); pStmt;
       pStmt = sqlite3_next_stmt(p->db, pStmt)) {
    const char *z = sqlite3_sql(pStmt);
    if (!sqlite3_stmt_busy(pStmt) || z == 0) continue;
    while (*z == ' ' || *z == '\t' || *z == '\n' || *z == '\r')
      z++;
    if (sqlite3_strnicmp(z, "CREATE", 6) == 0 &&
        strstr(z, "relext_must_be_loaded(") != 0 &&
        (strstr(z, "INDEX") != 0 || strstr(z, "index") != 0))
      return 1;
  }
  return 0;
}

/* Does schema zDb hold relext guards (of generation iGen, when not 0)? */
static int relSchemaGuarded(RelCtx *p, const char *zDb, sqlite3_int64 iGen) {
  sqlite3_stmt *pStmt = 0;
  int bYes = 0;
  char zA[48], zB[48], zC[48];
  sqlite3_snprintf((int)sizeof(zA), zA, "relext_must_be_loaded(%lld,", iGen);
  sqlite3_snprintf((int)sizeof(zB), zB, "relext_must_be_loaded(%lld)", iGen);
  sqlite3_snprintf((int)sizeof(zC), zC, "/* relext %lld ", iGen);
  if (relPreparef(p->db, &pStmt, 0,
                  "SELECT 1 FROM \"%w\".sqlite_schema WHERE name GLOB "
                  "'relext_guard_*' AND (?1 OR instr(sql, ?2) > 0 OR "
                  "instr(sql, ?3) > 0 OR instr(sql, ?4) > 0)",
                  zDb) == SQLITE_OK) {
    sqlite3_bind_int(pStmt, 1, iGen == 0);
    sqlite3_bind_text(pStmt, 2, zA, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 3, zB, -1, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 4, zC, -1, SQLITE_STATIC);
    bYes = sqlite3_step(pStmt) == SQLITE_ROW;
  }
  sqlite3_finalize(pStmt);
  return bYes;
}

/* The attached database written now that holds a table (or view) named
** relext_txn, or NULL: SQLite finds it before relext's eponymous
** relext_txn (commit.c), which the TEMP triggers name unqualified (a
** trigger may not qualify the table it writes). Asked at every call, not
** remembered with azPlain: such a table can be made in the middle of the
** transaction. One statement for all of them, kept prepared. When it
** cannot be asked (out of memory), "?": the write is refused, not let
** through unchecked. */
static const char *relSchemaShadows(RelCtx *p) {
  RelCommit *c = relCommit(p);
  const char *zDb = 0;
  int i, rc;
  if (c == 0) return 0;
  if (c->pShadow == 0) {
    relCloseHook(p);
    if (sqlite3_prepare_v2(p->db,
                           "SELECT schema FROM pragma_table_list('relext_txn') "
                           "WHERE schema NOT IN ('main', 'temp')",
                           -1, &c->pShadow, 0) != SQLITE_OK)
      return "?";
  }
  while (zDb == 0 && sqlite3_step(c->pShadow) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(c->pShadow, 0);
    const char *zName;
    for (i = 2; z && (zName = sqlite3_db_name(p->db, i)) != 0; i++) {
      if (sqlite3_stricmp(zName, z) == 0 &&
          sqlite3_txn_state(p->db, zName) == SQLITE_TXN_WRITE) {
        zDb = zName;
        break;
      }
    }
  }
  rc = sqlite3_reset(c->pShadow);
  return zDb ? zDb : rc == SQLITE_OK ? 0 : "?";
}

/* The message for a guard of generation iGen that this connection does
** not hold (in *pzErr), after it caught up with the database. */
static int relUnknownGen(RelCtx *p, sqlite3_int64 iGen, char **pzErr) {
  int i;
  const char *zDb;
  if (p->zBroken) return relError(pzErr, SQLITE_ERROR, "%s", p->zBroken);
  if (p->zTamper) return relError(pzErr, SQLITE_CONSTRAINT, "%s", p->zTamper);
  for (i = 2; (zDb = sqlite3_db_name(p->db, i)) != 0; i++) {
    if (relSchemaGuarded(p, zDb, iGen)) {
      return relError(pzErr, SQLITE_CONSTRAINT,
                      "relext: cannot write the governed tables of the "
                      "database attached as '%s': relext enforces the rules "
                      "of the main database only (open that file as main to "
                      "write them)",
                      zDb);
    }
  }
  if (p->nBusy > 0 || p->nNested > 0) {
    return relError(pzErr, SQLITE_CONSTRAINT,
                    "relext: the rules changed while relext was running a "
                    "rule; run the statement again");
  }
  return relError(pzErr, SQLITE_CONSTRAINT, "%s", REL_STALE_MSG);
}

/* The table of generation iGen, after catching up with the database when
** this connection does not know it or refuses its writes; -1 with the
** reason in *pzErr. */
static int relGenTable(RelCtx *p, sqlite3_int64 iGen, char **pzErr) {
  int t = relCtxTableByGen(p, iGen);
  if ((t < 0 || p->aTab[t].zBlock) && !p->zBroken && p->nBusy == 0 &&
      p->nNested == 0) {
    /* Another connection changed the rules, a rollback undid a change of
    ** this one, a dump is being restored, the guards of a table refusing
    ** writes were written again: catch up with the database (a refusal
    ** is rare: the fingerprint is compared whatever the probe says). */
    int bBuild = relInIndexBuild(p), rc;
    p->bRestoring = bBuild;
    p->bSyncCheck = 1;
    rc = relCtxSync(p, REL_SYNC_MEM, pzErr);
    p->bSyncCheck = 0;
    p->bRestoring = 0;
    /* (The restore goes on making guards and the witness: the probe sees
    ** those changes, and the next load outside a guard's CREATE INDEX
    ** judges the whole database.) */
    if (rc) return -1;
    t = relCtxTableByGen(p, iGen);
  }
  if (t < 0) {
    relUnknownGen(p, iGen, pzErr);
    return -1;
  }
  if (p->aTab[t].zBlock) {
    relError(pzErr, SQLITE_CONSTRAINT, "%s", p->aTab[t].zBlock);
    return -1;
  }
  return t;
}

/* A governed database attached to this connection and written in its
** transaction: its guards would be taken for main's. Returns its name (a
** writer of it is refused), or NULL. Databases found without guards are
** remembered for the transaction. */
static const char *relAttachedWriting(RelCtx *p, int *pbShadow) {
  RelCommit *c = relCommit(p);
  const char *zDb;
  int i, k;
  *pbShadow = 0;
  for (i = 2; (zDb = sqlite3_db_name(p->db, i)) != 0; i++) {
    if (sqlite3_txn_state(p->db, zDb) == SQLITE_TXN_WRITE) break;
  }
  if (zDb == 0) return 0;
  if ((zDb = relSchemaShadows(p)) != 0) {
    *pbShadow = 1;
    return zDb;
  }
  for (i = 2; (zDb = sqlite3_db_name(p->db, i)) != 0; i++) {
    if (sqlite3_txn_state(p->db, zDb) != SQLITE_TXN_WRITE) continue;
    for (k = 0; c && k < c->nPlain; k++) {
      if (strcmp(c->azPlain[k], zDb) == 0) break;
    }
    if (c && k < c->nPlain) continue;
    if (relSchemaGuarded(p, zDb, 0)) return zDb;
    if (c) {
      char **az = sqlite3_realloc64(c->azPlain,
                                    sizeof(char *) * (size_t)(c->nPlain + 1));
      if (az) {
        c->azPlain = az;
        az[c->nPlain] = relStrdup(zDb);
        if (az[c->nPlain]) c->nPlain++;
      }
    }
  }
  return 0;
}


int relGuardFire(RelCtx *p, sqlite3_int64 iGen, char **pzErr) {
  int t;
  if (p->bSyncForce && p->nBusy == 0 && p->nNested == 0 &&
      relCtxSync(p, REL_SYNC_MEM, pzErr) != SQLITE_OK)
    return -1;
  t = relCtxTableByGen(p, iGen);
  if (t < 0 || p->aTab[t].zBlock) t = relGenTable(p, iGen, pzErr);
  if (t >= 0 && sqlite3_db_name(p->db, 2) != 0) {
    int bShadow = 0;
    const char *zDb = relAttachedWriting(p, &bShadow);
    if (bShadow && strcmp(zDb, "?") == 0) {
      relError(pzErr, SQLITE_CONSTRAINT,
               "relext: cannot check the attached databases for a table "
               "named relext_txn (%s): the write is refused",
               sqlite3_errmsg(p->db));
      return -1;
    }
    if (bShadow) {
      /* Its table took the write relext's TEMP triggers meant for the
      ** eponymous relext_txn (a table is found first). */
      relError(pzErr, SQLITE_CONSTRAINT,
               "relext: the database attached as '%s' has a table named "
               "relext_txn, which hides relext's own (the name is relext's): "
               "detach it to write governed tables",
               zDb);
      return -1;
    }
    if (zDb && sqlite3_txn_state(p->db, "main") != SQLITE_TXN_WRITE) {
      /* Only the attached database is written: the row is its. */
      relError(pzErr, SQLITE_CONSTRAINT,
               "relext: cannot write the governed tables of the database "
               "attached as '%s': relext enforces the rules of the main "
               "database only (open that file as main to write them)",
               zDb);
      return -1;
    }
    if (zDb) {
      relError(pzErr, SQLITE_CONSTRAINT,
               "relext: cannot write governed tables while the database "
               "attached as '%s' is written in the same transaction: it is "
               "governed by relext too, and relext enforces the rules of the "
               "main database only (write it on its own, opened as main)",
               zDb);
      return -1;
    }
  }
  return t;
}

/* journal_mode=OFF: a write relext refuses at COMMIT could not be undone
** (SQLite's ROLLBACK needs the journal; without one it leaves the file
** corrupt), so under OFF nothing may wait for the COMMIT check: a guard
** call whose keys cannot be settled at the row is refused, at the first
** write of the transaction that would take a note. *pbOff: the mode is
** OFF. Only a PRAGMA tells the mode, and SQLite prepares a PRAGMA anew at
** every run (sqlite3VdbeRunOnlyOnce): about 8,000 instructions. An open
** journal (or WAL file) says it for about 200: switching to OFF closes the
** journal, and OFF never opens one. So the PRAGMA runs only while no
** journal is open yet: the transaction's first page is still to be
** written, or the mode is OFF. */
static int relJournalOff(RelCtx *p, int *pbOff, char **pzErr) {
  RelCommit *c = relCommit(p);
  sqlite3_file *pJournal = 0;
  int rc = SQLITE_OK;
  *pbOff = 0;
  if (sqlite3_file_control(p->db, 0, SQLITE_FCNTL_JOURNAL_POINTER,
                           &pJournal) == SQLITE_OK &&
      pJournal && pJournal->pMethods) {
    return SQLITE_OK;
  }
  if (c->pJournal == 0) {
    rc = sqlite3_prepare_v2(p->db, "PRAGMA main.journal_mode", -1, &c->pJournal,
                            0);
    if (rc) return relError(pzErr, rc, "%s", sqlite3_errmsg(p->db));
  }
  if (sqlite3_step(c->pJournal) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(c->pJournal, 0);
    if (z && sqlite3_stricmp(z, "off") == 0) *pbOff = 1;
  }
  sqlite3_reset(c->pJournal);
  return rc;
}

/* relext_must_be_loaded(T): 0 when this connection holds the rules that
** the guard of generation T (RelTable.iGen) was written for; else it fails
** with the reason (the stored trigger's RAISE is for connections without
** relext). relext_must_be_loaded(T, e1, key1, row1, ..., -1-k1, pkey1,
** ...): the WHERE clause of the guard index of a table, evaluated for every
** row written or deleted: e >= 0 is the table's e-th edge as a child,
** followed by the key and the row (NULL where null=True); a negative -1-k
** its k-th edge as a parent, followed by the referenced key. It returns 0
** (the index stays empty), or fails when the rules are not this
** connection's, and notes the keys for the COMMIT check.
** relext_must_be_loaded(T, NULL): the blocked form (stored.c): every row
** refused. SQLITE_INNOCUOUS, so that the guards work under PRAGMA
** trusted_schema=OFF. */
static void relMustBeLoadedFunc(sqlite3_context *ctx, int argc,
                                sqlite3_value **argv) {
  RelCtx *p = (RelCtx *)sqlite3_user_data(ctx);
  RelCommit *c = relCommit(p);
  int i, t, rc = SQLITE_OK;
  const RelTable *pT;
  /* relext itself is writing guards: creating an index reads the rows. */
  if (c && c->bQuiet) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  if (p->bLazyTxn) {
    char *zErr = 0;
    if (relLazyCatchUp(p, &zErr) != SQLITE_OK) {
      relResultError(ctx, zErr ? SQLITE_ERROR : SQLITE_NOMEM, zErr);
      return;
    }
  }
  /* The stored trigger of a table whose delete needs this connection's
  ** TEMP trigger (the engine's): in step with the database first (another
  ** connection's rename leaves the TEMP trigger on the old name). */
  if (argc == 1 && p->nBusy == 0 && p->nNested == 0) {
    char *zErr = 0;
    if (relCtxSyncRow(p, &zErr) != SQLITE_OK) {
      relResultError(ctx, zErr ? SQLITE_ERROR : SQLITE_NOMEM, zErr);
      return;
    }
  }
  t = relCtxTableByGen(p, sqlite3_value_int64(argv[0]));
  if (t < 0 || p->aTab[t].zBlock || p->bSyncForce ||
      sqlite3_db_name(p->db, 2) != 0) {
    char *zErr = 0;
    t = relGuardFire(p, sqlite3_value_int64(argv[0]), &zErr);
    if (t < 0) {
      relResultError(ctx, zErr ? SQLITE_CONSTRAINT : SQLITE_NOMEM, zErr);
      return;
    }
  }
  /* A write that needs this connection's TEMP triggers before they are
  ** made (guard.c): the stored BEFORE DELETE guard's call (argc 1) of a
  ** table whose deletes need them, any row of a junction. */
  if (p->bLazyWant && p->aTab[t].eLazy &&
      (argc == 1 || p->aTab[t].eLazy == REL_LAZY_WRITE) &&
      relLazyBounceResult(p, t, ctx))
    return;
  sqlite3_result_int(ctx, 0); /* never indexed: the index stays empty */
  if (argc == 1) return;
  if (argc == 2) {
    /* A blocked index on a table this connection does not block: its
    ** guards are out of date. */
    sqlite3_result_error(ctx, REL_STALE_MSG, -1);
    return;
  }
  if (c == 0 || (p->nBusy > 0 && p->nCareful == 0)) return;
  /* rel_flush empties the table: its rows' keys need no check. */
  if (relCtxFlushing(p, t)) return;
  /* Only a write to main needs a note. PRAGMA integrity_check evaluates
  ** this too, in a read transaction: enrolling relext_txn there would
  ** commit at once and free pEnroll while it runs. (Once relext_txn is
  ** enrolled the transaction writes, and sqlite3_txn_state, a name lookup
  ** under a mutex, is a fifth of this function's cost.) */
  if (!c->bTxnReady) {
    char *zErr = 0;
    if (sqlite3_txn_state(p->db, "main") != SQLITE_TXN_WRITE) return;
    if (!p->bInfra) {
      /* No TEMP tables for the notes (nothing was declared when relext
      ** loaded; none can be made inside a statement): a dump being
      ** restored is taken as it is (rel_check lists what it holds), any
      ** other write waits for rel_reload(). */
      if (p->bRestoring || relInIndexBuild(p)) return;
      sqlite3_result_error(ctx, REL_TEMP_STALE_MSG_ANY, -1);
      sqlite3_result_error_code(ctx, SQLITE_CONSTRAINT);
      return;
    }
    /* The first write of the transaction to a governed table: in step
    ** with the database (another connection's ALTER TABLE since the last
    ** transaction); then either every key the row holds is settled now
    ** (relGuardSettle: a one-row transaction whose parents are there
    ** leaves nothing for COMMIT, and this call comes again for the next
    ** row), or the journal must be able to undo a refusal and relext_txn
    ** is enrolled for the COMMIT check. */
    rc = relCtxSyncRow(p, &zErr);
    if (rc == SQLITE_OK) {
      t = relGuardFire(p, sqlite3_value_int64(argv[0]), &zErr);
      if (t < 0) rc = zErr ? SQLITE_CONSTRAINT : SQLITE_NOMEM;
    }
    if (rc == SQLITE_OK) {
      int bAll = 0;
      rc = relGuardSettle(p, t, argc, argv, 0, &bAll);
      if (rc == SQLITE_OK && bAll) return;
    }
    if (rc == SQLITE_OK) {
      int bOff = 0, bAll = 0;
      rc = relJournalOff(p, &bOff, &zErr);
      /* Under OFF every row is settled at the row, or refused. */
      if (rc == SQLITE_OK && bOff) {
        rc = relGuardSettle(p, t, argc, argv, 1, &bAll);
        if (rc == SQLITE_OK && bAll) return;
        if (rc == SQLITE_OK) {
          rc = relError(&zErr, SQLITE_CONSTRAINT,
                        "relext: PRAGMA journal_mode is OFF: SQLite could not "
                        "undo a write that relext refuses, so a write to a "
                        "governed table that would wait for the COMMIT check "
                        "is refused; use journal_mode=DELETE, TRUNCATE, "
                        "PERSIST, MEMORY or WAL");
        }
      }
    }
    if (rc == SQLITE_OK) rc = relCommitEnrol(p);
    if (rc) {
      relResultError(ctx, rc, zErr);
      return;
    }
    c->bTxnReady = 1;
  }
  pT = &p->aTab[t];
  for (i = 1; rc == SQLITE_OK && i + 1 < argc;) {
    int e = sqlite3_value_int(argv[i]);
    if (e >= 0) {
      if (e >= pT->nChild || i + 2 >= argc) break;
      rc = relGuardNote(p, pT->aChild[e], 0, argv[i + 1], argv[i + 2]);
      i += 3;
    } else {
      e = -1 - e;
      if (e >= pT->nParent) break;
      rc = relGuardNote(p, pT->aParent[e], 1, argv[i + 1], 0);
      i += 2;
    }
  }
  if (rc == SQLITE_NOMEM) {
    sqlite3_result_error_nomem(ctx);
  } else if (rc) {
    sqlite3_result_error(ctx, "relext: cannot note a key for the commit check",
                         -1);
    sqlite3_result_error_code(ctx, rc);
  }
}

int relRegisterAdmit(sqlite3 *db, RelCtx *p) {
  int rc;
  /* Pure: the stored guard triggers call it, even under trusted_schema=OFF.
   */
  rc = sqlite3_create_function_v2(db, "relext_must_be_loaded", 1,
                                  SQLITE_UTF8 | SQLITE_INNOCUOUS, relCtxRef(p),
                                  relMustBeLoadedFunc, 0, 0, relCtxUnref);
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
  return rc;
}
