/*
** fuzz_lookup.c -- libFuzzer target for rel_lookup paths.
**
** Input: "<model>\n<path>\n<value>" (missing pieces are ''); the first byte
** picks the value's type (text, integer, NULL, JSON-ish text as is). The
** query SELECT key FROM rel_lookup(?1, ?2, ?3) runs on an in-memory
** database with Django's blog declared (FK, O2O, M2M, self M2M, related
** names and query names). Errors are expected (unknown field, bad lookup,
** and "no such table" when rel_lookup is not built); crashes, leaks and UB
** are not. The database is built on the first call and kept.
*/
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ext/relext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *zSchema =
    "CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT);"
    "CREATE TABLE auth_user(id INTEGER PRIMARY KEY, username TEXT);"
    "CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT, body TEXT);"
    "CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT);"
    "CREATE TABLE profile(id INTEGER PRIMARY KEY, bio TEXT);"
    "SELECT rel_define('article.category', 'fk', 'category', "
    " 'on_delete=CASCADE, related_name=\"articles\"');"
    "SELECT rel_define('article.author', 'fk', 'auth.User', "
    " 'on_delete=SET_NULL, null=True');"
    "SELECT rel_define('article.tags', 'm2m', 'tag', "
    " 'related_name=\"articles\", related_query_name=\"article\"');"
    "SELECT rel_define('profile.user', 'o2o', 'auth_user', 'on_delete=CASCADE');"
    "SELECT rel_define('auth_user.friends', 'm2m', 'self');"
    "SELECT rel_define('category.parent', 'fk', 'self', "
    " 'on_delete=CASCADE, null=True, related_name=\"children+\"');"
    "INSERT INTO category VALUES (1,'tech',NULL),(2,'life',1);"
    "INSERT INTO auth_user VALUES (1,'ann'),(2,'bob');"
    "INSERT INTO article VALUES (1,'orm','b',1,1),(2,'sql','c',2,NULL);"
    "INSERT INTO tag VALUES (1,'django'),(2,'sqlite');"
    "INSERT INTO article_tags(article_id, tag_id) VALUES (1,1),(1,2),(2,2);"
    "INSERT INTO profile VALUES (1,'p',1);"
    "INSERT INTO auth_user_friends(from_auth_user_id, to_auth_user_id) "
    " VALUES (1,2);";

static char *piece(const char *z, size_t n, int i, int bLast) {
  size_t a = 0, b;
  int k;
  char *r;
  for (k = 0; k < i; k++) {
    while (a < n && z[a] != '\n') a++;
    if (a < n) a++;
  }
  b = a;
  if (bLast) b = n;
  else
    while (b < n && z[b] != '\n') b++;
  r = malloc(b - a + 1);
  if (!r) abort();
  memcpy(r, z + a, b - a);
  r[b - a] = 0;
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int bInit = 0;
  static sqlite3 *db = 0; /* built once: rel_lookup only reads */
  sqlite3_stmt *p = 0;
  const char *z = (const char *)data + 1;
  size_t n = size ? size - 1 : 0;
  char *zModel, *zPath, *zValue;
  int rc, nRow = 0;
  if (!bInit) {
    sqlite3_auto_extension((void (*)(void))sqlite3_relext_init);
    bInit = 1;
  }
  if (size < 1 || size > 4096) return 0;
  if (db == 0) {
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) abort();
    if (sqlite3_exec(db, zSchema, 0, 0, 0) != SQLITE_OK) abort();
  }
  zModel = piece(z, n, 0, 0);
  zPath = piece(z, n, 1, 0);
  zValue = piece(z, n, 2, 1);
  rc = sqlite3_prepare_v2(db, "SELECT key FROM rel_lookup(?1, ?2, ?3)", -1, &p,
                          0);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(p, 1, zModel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(p, 2, zPath, -1, SQLITE_TRANSIENT);
    switch (data[0] % 3) {
    case 0:
      sqlite3_bind_text(p, 3, zValue, -1, SQLITE_TRANSIENT);
      break;
    case 1:
      sqlite3_bind_int64(p, 3, strtoll(zValue, 0, 10));
      break;
    default:
      sqlite3_bind_null(p, 3);
      break;
    }
    while (sqlite3_step(p) == SQLITE_ROW && nRow < 10000) nRow++;
  } else if (strstr(sqlite3_errmsg(db), "no such table") == 0) {
    /* Preparing with bound parameters can fail only when rel_lookup is
    ** missing. */
    abort();
  }
  sqlite3_finalize(p);
  free(zModel);
  free(zPath);
  free(zValue);
  /* Nothing may be left running. (relext keeps some statements prepared
  ** between transactions; they are reset, and finalized at close.) */
  for (p = sqlite3_next_stmt(db, 0); p; p = sqlite3_next_stmt(db, p)) {
    if (sqlite3_stmt_busy(p)) abort();
  }
  return 0;
}
