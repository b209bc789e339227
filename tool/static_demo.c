/*
** static_demo.c -- relext linked statically into a program.
**
** The ext/ sources (every .c file) are compiled together with this file, with
** -DSQLITE_CORE so that sqlite3ext.h's macros call SQLite's API directly,
** and the program links -lsqlite3 (`make static-demo`):
**
**   cc -std=c11 -DSQLITE_CORE -Iext -o tool/static_demo \
**      tool/static_demo.c ext/[a-z]*.c -lsqlite3
**
** sqlite3_auto_extension() registers relext before any database is opened,
** so every connection the program opens has it, with no load_extension().
**
**   tool/static_demo              a short built-in scenario
**   tool/static_demo FILE.sql     run FILE the way the other hosts run
**                                 test/hosts/scenario.sql (its header gives
**                                 the rules): one statement per line
*/
#include "relext.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* Run one statement; print each row as its values joined by '|' (NULL as
** NULL), or the error as "error CODE: MESSAGE". */
static void run(sqlite3 *db, const char *zSql) {
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  if (rc == SQLITE_OK && pStmt) {
    while ((rc = sqlite3_step(pStmt)) == SQLITE_ROW) {
      int i, n = sqlite3_column_count(pStmt);
      for (i = 0; i < n; i++) {
        const char *z = (const char *)sqlite3_column_text(pStmt, i);
        printf("%s%s", i ? "|" : "", z ? z : "NULL");
      }
      printf("\n");
    }
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  if (rc != SQLITE_OK) {
    printf("error %d: %s\n", sqlite3_errcode(db) & 0xff, sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
}

/* Trim leading and trailing white space in place. */
static char *trim(char *z) {
  size_t n;
  while (*z == ' ' || *z == '\t') z++;
  n = strlen(z);
  while (n > 0 && strchr(" \t\r\n", z[n - 1])) z[--n] = 0;
  return z;
}

static int runFile(sqlite3 *db, const char *zFile) {
  static char zLine[65536];
  FILE *f = fopen(zFile, "r");
  if (f == 0) {
    perror(zFile);
    return 1;
  }
  while (fgets(zLine, sizeof(zLine), f)) {
    char *z = trim(zLine);
    if (strncmp(z, ".print ", 7) == 0) {
      size_t n;
      z = trim(z + 7);
      n = strlen(z);
      if (n >= 2 && z[0] == '"' && z[n - 1] == '"') {
        z[n - 1] = 0;
        z++;
      }
      printf("%s\n", z);
      continue;
    }
    if (z[0] == 0 || z[0] == '.' || strncmp(z, "--", 2) == 0) continue;
    run(db, z);
  }
  fclose(f);
  return 0;
}

static const char *azDemo[] = {
    "SELECT 'relext ' || relext_version() || ', linked statically'",
    "CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT)",
    "CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT)",
    "SELECT rel_define('article.category', 'ForeignKey', 'category',"
    " 'on_delete=models.CASCADE, related_name=\"articles\"')",
    "CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT)",
    "SELECT rel_define('tag.category', 'fk', 'category',"
    " 'on_delete=PROTECT')",
    "INSERT INTO category VALUES (1, 'tech'), (2, 'life')",
    "INSERT INTO article VALUES (1, 'SQLite internals', 1),"
    " (2, 'Django ORM', 1), (3, 'Gardening', 2)",
    "INSERT INTO tag VALUES (1, 'compost', 2)",
    "DELETE FROM category WHERE id = 1",
    "SELECT id, title, category_id FROM article ORDER BY id",
    "DELETE FROM category WHERE id = 2",
    "INSERT INTO article VALUES (4, 'Orphan', 42)",
    "SELECT count(*) FROM article",
};

int main(int argc, char **argv) {
  sqlite3 *db = 0;
  int rc;
  size_t i;

  /* Before the first sqlite3_open(): every connection gets relext. */
  rc = sqlite3_auto_extension((void (*)(void))sqlite3_relext_init);
  if (rc != SQLITE_OK) {
    fprintf(stderr, "sqlite3_auto_extension: %s\n", sqlite3_errstr(rc));
    return 1;
  }
  rc = sqlite3_open(":memory:", &db);
  if (rc != SQLITE_OK) {
    fprintf(stderr, "sqlite3_open: %s\n", db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    return 1;
  }
  if (argc > 1) {
    rc = runFile(db, argv[1]);
  } else {
    for (i = 0; i < sizeof(azDemo) / sizeof(azDemo[0]); i++) {
      run(db, azDemo[i]);
    }
  }
  sqlite3_close(db);
  sqlite3_reset_auto_extension();
  return rc;
}
