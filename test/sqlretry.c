/*
** sqlretry.c -- what SQLite does when a function fails a statement with
** SQLITE_SCHEMA, measured on the host's SQLite (test/sqlretry.test compares
** the output line by line). No relext here: these are the facts relext
** builds on to make a connection's TEMP triggers at its first write that
** needs them instead of at load (ctx.c, relLazyBounce).
**
**   1. A statement prepared with sqlite3_prepare_v2 whose function
**      returns the error code SQLITE_SCHEMA is rolled back (the rows it
**      changed before are back) and re-prepared and run again by
**      sqlite3_step itself, up to SQLITE_MAX_SCHEMA_RETRY (50) times.
**   2. A legacy profile callback (sqlite3_profile) set during a run fires
**      after the next run halts, when no statement of the connection is
**      busy; DDL there commits on its own in autocommit (inside the
**      transaction otherwise), and the next run's program has what it
**      made.
**   3. sqlite3_prepare (v1) statements are not run again: the step fails.
**   4. sqlite3_trace_v2 called after sqlite3_profile turns the profile
**      callback off (one mask holds both); sqlite3_profile keeps a
**      trace_v2 callback.
**
** Output: one line per fact, "name: what happened".
*/
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static sqlite3 *db;
static int bInstalled, bPending, nGuard, nProfile, nBusyAtProfile, bInProfile;
static int bQuiet; /* the probe's own reads: not counted, nothing made */

static void profileCb(void *pArg, const char *zSql, sqlite3_uint64 ns);

/* guard(x): fails with SQLITE_SCHEMA until the TEMP trigger is there; the
** first failure asks for the profile callback. */
static void guardFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  nGuard++;
  if (bInstalled) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  if (!bPending) {
    bPending = 1;
    sqlite3_profile(db, profileCb, 0);
  }
  sqlite3_result_error(ctx, "not yet", -1);
  sqlite3_result_error_code(ctx, SQLITE_SCHEMA);
}

static void profileCb(void *pArg, const char *zSql, sqlite3_uint64 ns) {
  sqlite3_stmt *p;
  int rc;
  (void)pArg;
  (void)zSql;
  (void)ns;
  if (bQuiet) return;
  nProfile++;
  if (!bPending || bInProfile) return;
  for (p = sqlite3_next_stmt(db, 0); p; p = sqlite3_next_stmt(db, p))
    if (sqlite3_stmt_busy(p)) nBusyAtProfile++;
  bInProfile = 1;
  rc = sqlite3_exec(db,
                    "CREATE TEMP TRIGGER cascade AFTER DELETE ON p BEGIN "
                    "DELETE FROM c WHERE pid = OLD.id; END",
                    0, 0, 0);
  bInProfile = 0;
  if (rc == SQLITE_OK) {
    bInstalled = 1;
    bPending = 0;
    sqlite3_profile(db, 0, 0);
  }
}

static void reset(void) {
  if (db) sqlite3_close(db);
  sqlite3_open(":memory:", &db);
  sqlite3_create_function(db, "guard", 1, SQLITE_UTF8, 0, guardFunc, 0, 0);
  sqlite3_exec(db,
               "CREATE TABLE p(id INTEGER PRIMARY KEY);"
               "CREATE TABLE c(id INTEGER PRIMARY KEY, pid INT);"
               "CREATE TRIGGER g BEFORE DELETE ON p BEGIN "
               "  SELECT guard(OLD.id) WHERE OLD.id = 2; END;"
               "INSERT INTO p VALUES(1), (2), (3);"
               "INSERT INTO c VALUES(1, 1), (2, 1), (3, 2), (4, 3);",
               0, 0, 0);
  bInstalled = bPending = nGuard = nProfile = nBusyAtProfile = 0;
}

static void one(const char *zSql, char *z, int n) {
  sqlite3_stmt *p = 0;
  z[0] = 0;
  bQuiet = 1;
  if (sqlite3_prepare_v2(db, zSql, -1, &p, 0) == SQLITE_OK &&
      sqlite3_step(p) == SQLITE_ROW && sqlite3_column_text(p, 0))
    snprintf(z, (size_t)n, "%s", (const char *)sqlite3_column_text(p, 0));
  sqlite3_finalize(p);
  bQuiet = 0;
}

static void report(const char *zName, int rc) {
  char zP[100], zC[100], zT[100];
  one("SELECT group_concat(id) FROM p", zP, sizeof(zP));
  one("SELECT group_concat(id) FROM c", zC, sizeof(zC));
  one("SELECT count(*) FROM temp.sqlite_schema WHERE type='trigger'", zT,
      sizeof(zT));
  printf("%s: rc=%d p=%s c=%s guard=%d profile=%d busy=%d trigger=%s\n",
         zName, rc, zP, zC, nGuard, nProfile, nBusyAtProfile, zT);
}

static int stepOnce(const char *zSql, int bV1) {
  sqlite3_stmt *p = 0;
  int rc = bV1 ? sqlite3_prepare(db, zSql, -1, &p, 0)
               : sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  if (rc == SQLITE_OK) rc = sqlite3_step(p);
  if (bV1 && rc == SQLITE_ERROR) rc = sqlite3_reset(p);
  sqlite3_finalize(p);
  return rc;
}

static int traceCb2(unsigned m, void *c, void *p, void *x) {
  (void)m, (void)c, (void)p, (void)x;
  return 0;
}

int main(void) {
  int rc;
  /* 1, 2: autocommit. Row 1 is deleted before the guard fails on row 2:
  ** it is back, and the third run deletes rows 1 and 2 with the
  ** trigger's cascade. */
  reset();
  rc = stepOnce("DELETE FROM p WHERE id IN (1, 2)", 0);
  report("autocommit", rc);
  /* The same inside BEGIN: earlier work stays, the trigger belongs to the
  ** transaction and goes with its ROLLBACK. */
  reset();
  sqlite3_exec(db, "BEGIN; INSERT INTO p VALUES(4);", 0, 0, 0);
  rc = stepOnce("DELETE FROM p WHERE id IN (1, 2)", 0);
  report("transaction", rc);
  sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  report("rolled back", 0);
  /* sqlite3_exec runs its statements as v2 ones. */
  reset();
  rc = sqlite3_exec(db, "DELETE FROM p WHERE id IN (1, 2)", 0, 0, 0);
  report("sqlite3_exec", rc);
  /* 3: a v1 statement is not run again: each run fails until one, after
  ** the profile callback, finds the trigger. */
  reset();
  rc = stepOnce("DELETE FROM p WHERE id IN (1, 2)", 1);
  report("v1 first", rc);
  rc = stepOnce("DELETE FROM p WHERE id IN (1, 2)", 1);
  report("v1 second", rc);
  rc = stepOnce("DELETE FROM p WHERE id IN (1, 2)", 1);
  report("v1 third", rc);
  /* 4: the masks. */
  reset();
  sqlite3_profile(db, profileCb, 0);
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT, traceCb2, 0);
  bPending = 1;
  sqlite3_exec(db, "SELECT 1", 0, 0, 0);
  printf("trace_v2 after profile: profile=%d\n", nProfile);
  sqlite3_trace_v2(db, 0, 0, 0);
  bPending = 0;
  nProfile = 0;
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT, traceCb2, 0);
  sqlite3_profile(db, profileCb, 0);
  sqlite3_exec(db, "SELECT 1", 0, 0, 0);
  printf("profile after trace_v2: profile=%d\n", nProfile);
  reset();
  sqlite3_close(db);
  return 0;
}
