/*
** fuzz_define.c -- libFuzzer target for rel_define.
**
** The first input byte picks a form; the rest is split on '\n':
**   0: rel_define('article.<line1>', <line2 kind>, <line3 target>, <rest>)
**   1: rel_define(<line1 model>, <rest: a pasted field line>)
**   2: rel_define('article.f', 'ForeignKey', 'category', <rest: options>)
**   3: like 2 with kind ManyToManyField and target tag
** on an in-memory database with a few tables. When the definition is
** accepted, a few writes, rel_check, rel_collect and rel_undefine exercise
** what it created. Errors are expected; crashes, leaks (ASan) and UB are
** not. Built with -fsanitize=fuzzer by `make fuzz`, and with
** test/fuzz/replay.c (no libFuzzer) for `make test`.
*/
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ext/relext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *zSchema =
    "CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT);"
    "CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT);"
    "CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT UNIQUE);"
    "CREATE TABLE auth_user(id INTEGER PRIMARY KEY, username TEXT);"
    "CREATE TABLE pages_category(id INTEGER PRIMARY KEY);"
    "INSERT INTO category VALUES (1,'a'),(2,'b');"
    "INSERT INTO article VALUES (1,'x'),(2,'y');"
    "INSERT INTO tag VALUES (1,'t');"
    "INSERT INTO auth_user VALUES (1,'u');";

static const char *zAfter =
    "INSERT INTO article(id, title) VALUES (3, 'z');"
    "DELETE FROM category WHERE id = 1;"
    "SELECT count(*) FROM rel_check;"
    "SELECT * FROM rel_collect('category', 2);"
    "SELECT * FROM relext_relations;"
    "SELECT rel_graph('dot');"
    "DELETE FROM article;";

/* The i-th '\n'-separated piece of z (n bytes); the last piece takes the
** rest. Returns a NUL-terminated copy (caller frees). */
static char *piece(const char *z, size_t n, int i, int bLast) {
  size_t a = 0, b;
  int k;
  for (k = 0; k < i; k++) {
    while (a < n && z[a] != '\n') a++;
    if (a < n) a++;
  }
  b = a;
  if (bLast) b = n;
  else
    while (b < n && z[b] != '\n') b++;
  {
    char *r = malloc(b - a + 1);
    if (!r) abort();
    memcpy(r, z + a, b - a);
    r[b - a] = 0;
    return r;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int bInit = 0;
  sqlite3 *db = 0;
  sqlite3_stmt *p = 0;
  const char *z = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  int form, rc;
  if (!bInit) {
    sqlite3_auto_extension((void (*)(void))sqlite3_relext_init);
    bInit = 1;
  }
  if (size < 1 || size > 4096) return 0;
  form = data[0] % 4;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) abort();
  if (sqlite3_exec(db, zSchema, 0, 0, 0) != SQLITE_OK) abort();
  if (form == 0) {
    char *a = piece(z, n, 0, 0), *b = piece(z, n, 1, 0), *c = piece(z, n, 2, 0),
         *d = piece(z, n, 3, 1);
    char *f = sqlite3_mprintf("article.%s", a);
    rc = sqlite3_prepare_v2(db, "SELECT rel_define(?1, ?2, ?3, ?4)", -1, &p, 0);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(p, 1, f, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(p, 2, b, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(p, 3, c, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(p, 4, d, -1, SQLITE_TRANSIENT);
    }
    sqlite3_free(f);
    free(a), free(b), free(c), free(d);
  } else if (form == 1) {
    char *a = piece(z, n, 0, 0), *b = piece(z, n, 1, 1);
    rc = sqlite3_prepare_v2(db, "SELECT rel_define(?1, ?2)", -1, &p, 0);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(p, 1, a, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(p, 2, b, -1, SQLITE_TRANSIENT);
    }
    free(a), free(b);
  } else {
    rc = sqlite3_prepare_v2(
        db,
        form == 2 ? "SELECT rel_define('article.f', 'ForeignKey', 'category', ?1)"
                  : "SELECT rel_define('article.f', 'ManyToManyField', 'tag', ?1)",
        -1, &p, 0);
    if (rc == SQLITE_OK) sqlite3_bind_text(p, 1, z, (int)n, SQLITE_TRANSIENT);
  }
  if (rc != SQLITE_OK) abort();
  rc = sqlite3_step(p);
  sqlite3_finalize(p);
  if (rc == SQLITE_ROW) {
    /* Accepted: use what it made, then take it away again. */
    sqlite3_exec(db, zAfter, 0, 0, 0);
    sqlite3_exec(db,
                 "SELECT rel_undefine(model || '.' || field) FROM "
                 "relext_relations",
                 0, 0, 0);
  }
  if (sqlite3_close(db) != SQLITE_OK) abort(); /* unfinalized statements */
  return 0;
}
