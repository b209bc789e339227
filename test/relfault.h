/*
** relfault.h -- shared helpers of relext's reliability drivers
** (test/oom.c, test/iofault.c, test/crash.c, test/concurrency.c).
**
** Each driver compiles the ext/ sources in statically (-DSQLITE_CORE), links
** -lsqlite3 and registers relext with sqlite3_auto_extension(), so every
** connection it opens has relext loaded.
**
** The helpers here: run SQL, build the standard blog schema used by the
** fault scenarios, fingerprint a database (schema + every row of every
** table, in a fixed order) and run the after-checks (integrity_check ok,
** rel_check empty).
*/
#ifndef RELFAULT_H
#define RELFAULT_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ext/relext.h"

#define RF_UNUSED __attribute__((unused))

static RF_UNUSED void rf_register(void) {
  sqlite3_auto_extension((void (*)(void))sqlite3_relext_init);
}

/* Run SQL; return the result code; on error put the message in *pzErr
** (malloc'd with the C library, caller frees) when pzErr is given. */
static RF_UNUSED int rf_exec(sqlite3 *db, const char *zSql, char **pzErr) {
  char *zErr = 0;
  int rc = sqlite3_exec(db, zSql, 0, 0, &zErr);
  if (pzErr) {
    *pzErr = zErr ? strdup(zErr) : (rc ? strdup(sqlite3_errstr(rc)) : 0);
  }
  sqlite3_free(zErr);
  return rc;
}

/* Run SQL that must succeed (set-up and checks); exits on failure. */
static RF_UNUSED void rf_must(sqlite3 *db, const char *zSql) {
  char *zErr = 0;
  if (sqlite3_exec(db, zSql, 0, 0, &zErr) != SQLITE_OK) {
    fprintf(stderr, "set-up SQL failed: %s\n  in: %s\n",
            zErr ? zErr : sqlite3_errmsg(db), zSql);
    exit(2);
  }
}

/* A growable C-heap string (not sqlite3_malloc: fingerprints must not
** disturb the allocation counts of the OOM driver). */
typedef struct RfBuf RfBuf;
struct RfBuf {
  char *z;
  size_t n, a;
};
static RF_UNUSED void rf_buf_add(RfBuf *b, const char *z, size_t n) {
  if (b->n + n + 1 > b->a) {
    b->a = (b->a + n + 1) * 2;
    b->z = realloc(b->z, b->a);
    if (!b->z) {
      perror("realloc");
      exit(2);
    }
  }
  memcpy(b->z + b->n, z, n);
  b->n += n;
  b->z[b->n] = 0;
}
static RF_UNUSED void rf_buf_str(RfBuf *b, const char *z) { rf_buf_add(b, z, strlen(z)); }

/* Append every row of one query to b. */
static RF_UNUSED int rf_dump_query(sqlite3 *db, const char *zSql, RfBuf *b) {
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  if (rc) return rc;
  while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
    int i, n = sqlite3_column_count(p);
    for (i = 0; i < n; i++) {
      char t[8];
      const unsigned char *z = sqlite3_column_text(p, i);
      snprintf(t, sizeof t, "%d:", sqlite3_column_type(p, i));
      rf_buf_str(b, i ? "|" : "");
      rf_buf_str(b, t);
      rf_buf_str(b, z ? (const char *)z : "");
    }
    rf_buf_str(b, "\n");
  }
  rc = sqlite3_finalize(p);
  return rc;
}

/* The fingerprint of db's main schema: its schema and every row of every
** table, in rowid order. Returns a malloc'd string, or NULL on error. */
static RF_UNUSED char *rf_fingerprint(sqlite3 *db) {
  RfBuf b = {0, 0, 0};
  sqlite3_stmt *p = 0;
  int rc = rf_dump_query(db,
                         "SELECT type, name, tbl_name, sql FROM main.sqlite_schema "
                         "ORDER BY type, name",
                         &b);
  if (rc) goto fail;
  rc = sqlite3_prepare_v2(db,
                          "SELECT name FROM main.sqlite_schema WHERE type='table' "
                          "AND name NOT LIKE 'sqlite_%' ORDER BY name",
                          -1, &p, 0);
  if (rc) goto fail;
  while (sqlite3_step(p) == SQLITE_ROW) {
    char *zQ = sqlite3_mprintf("SELECT * FROM main.\"%w\" ORDER BY rowid",
                               sqlite3_column_text(p, 0));
    rf_buf_str(&b, "== ");
    rf_buf_str(&b, (const char *)sqlite3_column_text(p, 0));
    rf_buf_str(&b, "\n");
    rc = rf_dump_query(db, zQ, &b);
    sqlite3_free(zQ);
    if (rc) break;
  }
  if (sqlite3_finalize(p) || rc) goto fail;
  if (b.z == 0) rf_buf_str(&b, "");
  return b.z;
fail:
  free(b.z);
  return 0;
}

/* One integer from a query, or -1 on error. */
static long long rf_int(sqlite3 *db, const char *zSql) {
  sqlite3_stmt *p = 0;
  long long v = -1;
  if (sqlite3_prepare_v2(db, zSql, -1, &p, 0) == SQLITE_OK &&
      sqlite3_step(p) == SQLITE_ROW) {
    v = sqlite3_column_int64(p, 0);
  }
  sqlite3_finalize(p);
  return v;
}

/* integrity_check is "ok" and rel_check is empty. Returns 0 when both hold,
** else 1 with a message on stderr naming zWhat. */
static RF_UNUSED int rf_check_db(sqlite3 *db, const char *zWhat) {
  sqlite3_stmt *p = 0;
  int bad = 0;
  long long n;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &p, 0) == SQLITE_OK &&
      sqlite3_step(p) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(p, 0);
    if (!z || strcmp(z, "ok") != 0) {
      fprintf(stderr, "%s: integrity_check: %s\n", zWhat, z ? z : "NULL");
      bad = 1;
    }
  } else {
    fprintf(stderr, "%s: integrity_check failed: %s\n", zWhat, sqlite3_errmsg(db));
    bad = 1;
  }
  sqlite3_finalize(p);
  n = rf_int(db, "SELECT count(*) FROM rel_check");
  if (n != 0) {
    fprintf(stderr, "%s: rel_check has %lld rows (%s)\n", zWhat, n,
            n < 0 ? sqlite3_errmsg(db) : "violations");
    bad = 1;
  }
  return bad;
}

/* The tables of the fault scenarios: Django's blog, plus a
** self-referencing tree and a symmetrical M2M. */
static const char *rf_schema_sql =
    "CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT);"
    "CREATE TABLE author(id INTEGER PRIMARY KEY, name TEXT);"
    "CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT);"
    "CREATE TABLE tag(id INTEGER PRIMARY KEY, name TEXT);"
    "CREATE TABLE comment(id INTEGER PRIMARY KEY, body TEXT);"
    "CREATE TABLE profile(id INTEGER PRIMARY KEY, bio TEXT);";

/* The definitions (one statement each, in this order). */
static const char *rf_define_sql[] = {
    "SELECT rel_define('article.category', 'ForeignKey', 'category', "
    "'on_delete=models.CASCADE, related_name=\"articles\"')",
    "SELECT rel_define('article.editor', 'fk', 'author', "
    "'on_delete=SET_NULL, null=True, related_name=\"edited\"')",
    "SELECT rel_define('comment.article', 'ForeignKey', 'article', "
    "'on_delete=CASCADE')",
    "SELECT rel_define('comment.author', 'ForeignKey', 'author', "
    "'on_delete=PROTECT')",
    "SELECT rel_define('profile.user', 'OneToOneField', 'author', "
    "'on_delete=CASCADE')",
    "SELECT rel_define('article.tags', 'ManyToManyField', 'tag', "
    "'related_name=\"articles\"')",
    "SELECT rel_define('author.friends', 'm2m', 'self')",
    "SELECT rel_define('category.parent', 'fk', 'self', "
    "'on_delete=CASCADE, null=True, related_name=\"children\"')",
    "SELECT rel_define('tag.category', 'fk', 'category', "
    "'on_delete=RESTRICT, null=True')",
    /* a RESTRICT another row of the same statement can lift */
    "SELECT rel_define('comment.reply_to', 'fk', 'self', "
    "'on_delete=RESTRICT, null=True, related_name=\"replies\"')",
    0};

static const char *rf_data_sql =
    "INSERT INTO category(id, title, parent_id) VALUES (1,'tech',NULL),"
    " (2,'db',1), (3,'life',NULL), (4,'sqlite',2);"
    "INSERT INTO author(id, name) VALUES (1,'ann'),(2,'bob'),(3,'cy');"
    "INSERT INTO profile(id, bio, user_id) VALUES (1,'a',1),(2,'b',2),(3,'c',3);"
    "INSERT INTO tag(id, name, category_id) VALUES (1,'x',NULL),(2,'y',3),"
    " (3,'z',NULL),(4,'w',NULL);"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<12)"
    " INSERT INTO article(id, title, category_id, editor_id)"
    " SELECT i, 'art'||i, 1+(i%4), 1+(i%3) FROM c;"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<24)"
    " INSERT INTO comment(id, body, article_id, author_id)"
    " SELECT i, 'c'||i, 1+(i%12), 1+(i%2) FROM c;"
    "UPDATE comment SET reply_to_id = 1 WHERE id = 13;"
    "INSERT INTO article_tags(article_id, tag_id) VALUES (1,1),(1,2),(2,2),"
    " (3,1),(4,3),(5,1),(6,2),(7,3),(8,1);"
    "INSERT INTO author_friends(from_author_id, to_author_id) VALUES (1,2);";

/* Create the full scenario database on db (schema, definitions, data). */
static RF_UNUSED void rf_build_full(sqlite3 *db) {
  int i;
  rf_must(db, rf_schema_sql);
  for (i = 0; rf_define_sql[i]; i++) rf_must(db, rf_define_sql[i]);
  rf_must(db, rf_data_sql);
}

static RF_UNUSED void rf_unlink_db(const char *zPath) {
  char z[4096];
  const char *aSuf[] = {"", "-journal", "-wal", "-shm", 0};
  int i;
  for (i = 0; aSuf[i]; i++) {
    snprintf(z, sizeof z, "%s%s", zPath, aSuf[i]);
    remove(z);
  }
}

/* Copy file zFrom to zTo (whole file). Returns 0 on success. */
static RF_UNUSED int rf_copy_file(const char *zFrom, const char *zTo) {
  FILE *in = fopen(zFrom, "rb"), *out;
  char buf[65536];
  size_t n;
  if (!in) return 1;
  out = fopen(zTo, "wb");
  if (!out) {
    fclose(in);
    return 1;
  }
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
  fclose(in);
  return fclose(out) != 0;
}

#endif /* RELFAULT_H */
