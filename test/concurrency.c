/*
** concurrency.c -- several processes writing one WAL database with relext.
**
** The parent builds the scenario database (every on_delete rule, an O2O,
** an M2M and a symmetrical M2M; see relfault.h, plus DO_NOTHING and
** SET_DEFAULT edges), in WAL mode. It forks -procs children; each opens
** its own connection (relext registered with sqlite3_auto_extension), sets
** a busy timeout and, for -seconds, runs random statements: inserts with
** good and bad keys, deletes of parents under every rule, M2M adds and
** removes, and small multi-statement transactions. Every statement that
** fails must fail for a relext rule (message starting with "relext: ") or
** for SQLITE_BUSY/SQLITE_LOCKED; anything else is a failure. At the end the
** parent checks PRAGMA integrity_check and that rel_check is empty, and
** prints the counts.
**
** Usage: concurrency [-procs N] [-seconds S] [-seed S]
*/
#define _DEFAULT_SOURCE
#include "relfault.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define C_OK 0
#define C_PROTECT 1
#define C_RESTRICT 2
#define C_FKEY 3
#define C_NOTNULL 4
#define C_RELOTHER 5
#define C_BUSY 6
#define C_OTHER 7
#define C_TXN 8 /* transactions committed */
#define C_N 9
static const char *azCount[C_N] = {
    "ok", "relext PROTECT", "relext RESTRICT", "relext FOREIGN KEY",
    "relext NOT NULL", "relext other", "SQLITE_BUSY/LOCKED", "other errors",
    "transactions committed"};

static double now(void) {
  struct timeval tv;
  gettimeofday(&tv, 0);
  return tv.tv_sec + tv.tv_usec / 1e6;
}

static int classify(int rc, const char *zErr) {
  int prim = rc & 0xff;
  if (rc == SQLITE_OK) return C_OK;
  if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) return C_BUSY;
  if (zErr && strncmp(zErr, "relext: ", 8) == 0) {
    if (strncmp(zErr + 8, "PROTECT", 7) == 0) return C_PROTECT;
    if (strncmp(zErr + 8, "RESTRICT", 8) == 0) return C_RESTRICT;
    if (strncmp(zErr + 8, "FOREIGN KEY", 11) == 0) return C_FKEY;
    if (strncmp(zErr + 8, "NOT NULL", 8) == 0) return C_NOTNULL;
    return C_RELOTHER;
  }
  return C_OTHER;
}

/* One random statement (SQL text; caller frees with sqlite3_free). */
static char *randomSql(void) {
  int k = 1 + rand() % 40; /* keys 1..40: some exist, some do not */
  int j = 1 + rand() % 40;
  switch (rand() % 16) {
  case 0:
    if (rand() % 2)
      return sqlite3_mprintf("INSERT INTO category(title) VALUES ('c')");
    return sqlite3_mprintf("INSERT INTO category(title, parent_id) VALUES "
                           "('c', %d)", k);
  case 1:
    return sqlite3_mprintf("INSERT INTO article(title, category_id, "
                           "editor_id) VALUES ('a', %d, %d)", k, j);
  case 2:
    return sqlite3_mprintf("INSERT INTO comment(body, article_id, author_id) "
                           "VALUES ('c', %d, %d)", k, 1 + rand() % 6);
  case 3:
    return sqlite3_mprintf(
        "BEGIN IMMEDIATE; INSERT INTO author(name) VALUES ('n');"
        " INSERT INTO profile(bio, user_id) VALUES ('b', last_insert_rowid());"
        " COMMIT");
  case 4:
  case 5:
    return sqlite3_mprintf("DELETE FROM category WHERE id = %d", k);
  case 6:
    return sqlite3_mprintf("DELETE FROM author WHERE id = %d", 1 + rand() % 8);
  case 7:
    return sqlite3_mprintf("DELETE FROM article WHERE id = %d", k);
  case 8:
    return sqlite3_mprintf("INSERT INTO article_tags(article_id, tag_id) "
                           "VALUES (%d, %d)", k, 1 + rand() % 6);
  case 9:
    return sqlite3_mprintf("DELETE FROM article_tags WHERE article_id = %d", k);
  case 10:
    return sqlite3_mprintf("INSERT INTO author_friends(from_author_id, "
                           "to_author_id) VALUES (%d, %d)",
                           1 + rand() % 8, 1 + rand() % 8);
  case 11:
    return sqlite3_mprintf("DELETE FROM tag WHERE id = %d", 1 + rand() % 6);
  case 12:
    return sqlite3_mprintf("INSERT INTO tag(name, category_id) VALUES "
                           "('t', %d)", k);
  case 13:
    return sqlite3_mprintf("INSERT INTO note(body, article_id, author_id) "
                           "VALUES ('n', %d, %d)", k, 1 + rand() % 8);
  case 14:
    return sqlite3_mprintf(
        "BEGIN; INSERT INTO article(title, category_id) VALUES ('t', %d);"
        " DELETE FROM category WHERE id = %d;"
        " INSERT INTO category(id, title) VALUES (%d, 'again')"
        " ON CONFLICT DO NOTHING; COMMIT", k, k, k);
  default:
    return sqlite3_mprintf("UPDATE article SET category_id = %d WHERE id = %d",
                           k, j);
  }
}

static void child(const char *zPath, double dSeconds, unsigned seed, int fd) {
  sqlite3 *db = 0;
  long aCount[C_N];
  double tEnd = now() + dSeconds;
  memset(aCount, 0, sizeof aCount);
  srand(seed);
  if (sqlite3_open(zPath, &db) != SQLITE_OK) _exit(3);
  sqlite3_busy_timeout(db, 500);
  while (now() < tEnd) {
    char *zSql = randomSql();
    char *zErr = 0;
    int rc = sqlite3_exec(db, zSql, 0, 0, &zErr);
    int c = classify(rc, zErr ? zErr : sqlite3_errstr(rc));
    aCount[c]++;
    if (c == C_OK && strncmp(zSql, "BEGIN", 5) == 0) aCount[C_TXN]++;
    if (c == C_OTHER) {
      fprintf(stderr, "concurrency: unexpected error %d: %s\n  in: %s\n", rc,
              zErr ? zErr : sqlite3_errstr(rc), zSql);
    }
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    sqlite3_free(zErr);
    sqlite3_free(zSql);
  }
  if (sqlite3_close(db) != SQLITE_OK) aCount[C_OTHER]++;
  if (write(fd, aCount, sizeof aCount) != (ssize_t)sizeof aCount) _exit(4);
  _exit(0);
}

int main(int argc, char **argv) {
  int nProc = 4, i, k, nFail = 0;
  double dSeconds = 2;
  unsigned seed = (unsigned)time(0) ^ (unsigned)getpid();
  long aTotal[C_N], nStmt = 0;
  const char *zTmp = getenv("RELEXT_TMP");
  char zDir[1024], zPath[1200];
  sqlite3 *db = 0;
  int fds[2];
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-procs") == 0 && i + 1 < argc) nProc = atoi(argv[++i]);
    else if (strcmp(argv[i], "-seconds") == 0 && i + 1 < argc)
      dSeconds = atof(argv[++i]);
    else if (strcmp(argv[i], "-seed") == 0 && i + 1 < argc)
      seed = (unsigned)strtoul(argv[++i], 0, 10);
  }
  setvbuf(stdout, 0, _IOLBF, 0);
  rf_register();
  snprintf(zDir, sizeof zDir, "%s/relext-conc-XXXXXX", zTmp ? zTmp : "/tmp");
  if (mkdtemp(zDir) == 0) {
    perror("mkdtemp");
    return 2;
  }
  snprintf(zPath, sizeof zPath, "%s/conc.db", zDir);
  if (sqlite3_open(zPath, &db) != SQLITE_OK) return 2;
  rf_must(db, "PRAGMA journal_mode=WAL");
  rf_build_full(db);
  rf_must(db,
          "CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT);"
          "SELECT rel_define('note.article', 'fk', 'article', "
          "'on_delete=DO_NOTHING, null=True');"
          "SELECT rel_define('note.author', 'fk', 'author', "
          "'on_delete=SET_DEFAULT, null=True, default=1');");
  sqlite3_close(db);
  db = 0;

  printf("concurrency: %d processes, %.1f s, WAL, seed %u\n", nProc, dSeconds,
         seed);
  if (pipe(fds)) return 2;
  for (i = 0; i < nProc; i++) {
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      close(fds[0]);
      child(zPath, dSeconds, seed + (unsigned)i * 7919u, fds[1]);
    }
  }
  close(fds[1]);
  memset(aTotal, 0, sizeof aTotal);
  for (i = 0; i < nProc; i++) {
    long a[C_N];
    if (read(fds[0], a, sizeof a) != (ssize_t)sizeof a) {
      fprintf(stderr, "concurrency: a child did not report\n");
      nFail++;
      break;
    }
    for (k = 0; k < C_N; k++) aTotal[k] += a[k];
  }
  for (i = 0; i < nProc; i++) {
    int status;
    wait(&status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "concurrency: a child died (status %d)\n", status);
      nFail++;
    }
  }
  close(fds[0]);
  for (k = 0; k < C_TXN; k++) nStmt += aTotal[k];
  printf("concurrency: %ld statements run\n", nStmt);
  for (k = 0; k < C_N; k++) printf("  %-24s %ld\n", azCount[k], aTotal[k]);
  if (aTotal[C_OTHER]) nFail++;

  if (sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE, 0) != SQLITE_OK) {
    nFail++;
  } else {
    nFail += rf_check_db(db, "concurrency");
    printf("concurrency: final rows: %lld categories, %lld articles, "
           "%lld comments, %lld links\n",
           rf_int(db, "SELECT count(*) FROM category"),
           rf_int(db, "SELECT count(*) FROM article"),
           rf_int(db, "SELECT count(*) FROM comment"),
           rf_int(db, "SELECT count(*) FROM article_tags"));
  }
  sqlite3_close(db);
  rf_unlink_db(zPath);
  rmdir(zDir);
  printf("concurrency: %s\n", nFail ? "FAILED" : "ok");
  return nFail ? 1 : 0;
}
