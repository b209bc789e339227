/*
** crash.c -- SIGKILL during a large cascade delete.
**
** A file database holds a self-referencing chain node(id, parent_id) of
** -rows rows, declared ForeignKey('self', on_delete=CASCADE): deleting the
** head deletes every row, in one statement. For journal_mode=DELETE and
** WAL, -kills times: a child process opens a fresh copy, starts that
** DELETE and is killed with SIGKILL at a random moment within the time a
** clean run takes. The parent reopens the database and checks that the
** cascade happened entirely or not at all (count(*) is -rows or 0),
** PRAGMA integrity_check is ok and rel_check is empty.
**
** Usage: crash [-rows N] [-kills K] [-seed S]
*/
#define _DEFAULT_SOURCE
#include "relfault.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timeval tv;
  gettimeofday(&tv, 0);
  return tv.tv_sec + tv.tv_usec / 1e6;
}

/* In a child: open zPath, tell the parent, delete the head, tell again. */
static void child(const char *zPath, int fd) {
  sqlite3 *db = 0;
  char c = 's';
  if (sqlite3_open(zPath, &db) != SQLITE_OK) _exit(3);
  sqlite3_busy_timeout(db, 5000);
  if (write(fd, &c, 1) != 1) _exit(4);
  if (sqlite3_exec(db, "DELETE FROM node WHERE id = 1", 0, 0, 0) != SQLITE_OK)
    _exit(5);
  c = 'd';
  if (write(fd, &c, 1) != 1) _exit(4);
  sqlite3_close(db);
  _exit(0);
}

/* Run the delete in a child; kill it after dDelay seconds (<0: never).
** Returns 1 if the child finished the delete before the kill, 0 if not,
** -1 on a child failure. */
static int runChild(const char *zPath, double dDelay, double *pdTime) {
  int fds[2], status;
  pid_t pid;
  char c;
  int bDone = 0;
  double t0;
  if (pipe(fds)) {
    perror("pipe");
    exit(2);
  }
  pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(2);
  }
  if (pid == 0) {
    close(fds[0]);
    child(zPath, fds[1]);
  }
  close(fds[1]);
  if (read(fds[0], &c, 1) != 1) {
    waitpid(pid, &status, 0);
    close(fds[0]);
    return -1;
  }
  t0 = now();
  if (dDelay >= 0) {
    struct timespec ts;
    ts.tv_sec = (time_t)dDelay;
    ts.tv_nsec = (long)((dDelay - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, 0);
    kill(pid, SIGKILL);
  }
  waitpid(pid, &status, 0);
  if (pdTime) *pdTime = now() - t0;
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  if (read(fds[0], &c, 1) == 1 && c == 'd') bDone = 1;
  close(fds[0]);
  if (dDelay < 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) return -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) return -1;
  return bDone;
}

int main(int argc, char **argv) {
  int nRows = 20000, nKill = 3, i, m, nFail = 0, nMid = 0, nAfter = 0;
  unsigned seed = (unsigned)time(0) ^ (unsigned)getpid();
  const char *zTmp = getenv("RELEXT_TMP");
  const char *azMode[] = {"delete", "wal"};
  char zDir[1024], zTmpl[1200], zWork[1200];
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-rows") == 0 && i + 1 < argc) nRows = atoi(argv[++i]);
    else if (strcmp(argv[i], "-kills") == 0 && i + 1 < argc)
      nKill = atoi(argv[++i]);
    else if (strcmp(argv[i], "-seed") == 0 && i + 1 < argc)
      seed = (unsigned)strtoul(argv[++i], 0, 10);
  }
  setvbuf(stdout, 0, _IOLBF, 0);
  srand(seed);
  rf_register();
  snprintf(zDir, sizeof zDir, "%s/relext-crash-XXXXXX", zTmp ? zTmp : "/tmp");
  if (mkdtemp(zDir) == 0) {
    perror("mkdtemp");
    return 2;
  }
  printf("crash: %d rows, %d kills per journal mode, seed %u\n", nRows, nKill,
         seed);
  for (m = 0; m < 2; m++) {
    sqlite3 *db = 0;
    char zSql[512];
    double dClean = 0;
    int r;
    snprintf(zTmpl, sizeof zTmpl, "%s/tmpl-%s.db", zDir, azMode[m]);
    snprintf(zWork, sizeof zWork, "%s/work-%s.db", zDir, azMode[m]);
    rf_unlink_db(zTmpl);
    if (sqlite3_open(zTmpl, &db) != SQLITE_OK) return 2;
    rf_must(db, m ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE");
    rf_must(db, "CREATE TABLE node(id INTEGER PRIMARY KEY, pad TEXT);"
                "SELECT rel_define('node.parent', 'ForeignKey', 'self', "
                "'on_delete=CASCADE, null=True')");
    snprintf(zSql, sizeof zSql,
             "BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 "
             "FROM c WHERE i<%d) INSERT INTO node(id, pad, parent_id) SELECT "
             "i, 'xxxxxxxxxxxxxxxx', CASE WHEN i>1 THEN i-1 END FROM c; COMMIT",
             nRows);
    rf_must(db, zSql);
    if (m) rf_must(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);

    /* A clean run, for its duration. */
    rf_unlink_db(zWork);
    rf_copy_file(zTmpl, zWork);
    r = runChild(zWork, -1, &dClean);
    if (r != 1) {
      fprintf(stderr, "crash: the clean run failed\n");
      return 1;
    }
    printf("crash: %s: a clean cascade of %d rows takes %.3f s\n", azMode[m],
           nRows, dClean);

    for (i = 0; i < nKill; i++) {
      double dDelay = 0.95 * dClean * (rand() / (double)RAND_MAX);
      long long n;
      char zWhat[128];
      snprintf(zWhat, sizeof zWhat, "crash %s kill %d (%.3f s)", azMode[m], i,
               dDelay);
      rf_unlink_db(zWork);
      rf_copy_file(zTmpl, zWork);
      r = runChild(zWork, dDelay, 0);
      if (r < 0) {
        fprintf(stderr, "%s: the child failed\n", zWhat);
        nFail++;
        continue;
      }
      if (r) nAfter++;
      else nMid++;
      db = 0;
      if (sqlite3_open_v2(zWork, &db, SQLITE_OPEN_READWRITE, 0) != SQLITE_OK) {
        fprintf(stderr, "%s: cannot reopen: %s\n", zWhat, sqlite3_errmsg(db));
        nFail++;
      } else {
        n = rf_int(db, "SELECT count(*) FROM node");
        if (n != 0 && n != nRows) {
          fprintf(stderr, "%s: %lld rows left: the cascade was cut\n", zWhat, n);
          nFail++;
        }
        if (r && n != 0) {
          fprintf(stderr, "%s: finished, yet %lld rows left\n", zWhat, n);
          nFail++;
        }
        nFail += rf_check_db(db, zWhat);
        printf("crash: %s: %s, %lld rows after reopening\n", zWhat,
               r ? "killed after it finished" : "killed mid-cascade", n);
      }
      sqlite3_close(db);
    }
    rf_unlink_db(zWork);
    rf_unlink_db(zTmpl);
  }
  rmdir(zDir);
  printf("crash: %d kills survived (%d mid-cascade, %d after it), %d failures\n",
         nMid + nAfter - nFail, nMid, nAfter, nFail);
  return nFail ? 1 : 0;
}
