/*
** util.c -- small helpers used everywhere in relext.
**
** CONTRACT
**   - RelStr builds strings; after an allocation failure it stays failed
**     (eRc==SQLITE_NOMEM) and relStrFinish() returns NULL.
**   - relExecf()/relPreparef() take a sqlite3_mprintf() format: callers
**     quote every name with %w (inside "...") and every text with %Q.
**     Nothing built here pastes a user-supplied name unquoted.
**   - RelValue holds a value: a literal from Django syntax (default=,
**     SET(v)), or a key read from SQL. Every storage class is kept as it
**     is, a BLOB as its bytes: relValueEq is exact equality (same class,
**     same bytes), relValueBind gives SQLite back the same value, and
**     relValueFormat prints it for Python, for SQL or for a message (a
**     BLOB as X'0A0B', the form SQLite's quote() gives).
**   - relLowerName lower-cases a Django name as Python's str.lower() does
**     (full Unicode case mapping, Final_Sigma included), from the tables
**     tool/gen_unicase.py generates into unicase.h.
**   - RelSavepoint is a savepoint whose end cannot fail for want of
**     memory (rel_define's and rel_flush's all or nothing).
**   - relError is the one way relext reports an error, SQLite's way: an
**     rc returned, the message in *pzErr (the first one wins), and
**     SQLITE_NOMEM when the message cannot be made. relResultError turns
**     the pair into the error of an SQL function call.
**
** MECHANISM
**   Thin wrappers over sqlite3_mprintf, sqlite3_exec and
**   sqlite3_prepare_v2; no state.
**
** INVARIANTS
**   All memory comes from sqlite3_malloc64()/sqlite3_free(); a function
**   that fails frees what it took.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "unicase.h"

/* Append n bytes of z (n may be (size_t)-1 for strlen). */
void relStrAppend(RelStr *p, const char *z, size_t n) {
  if (p->eRc) return;
  if (n == (size_t)-1) n = strlen(z);
  if (p->n + n + 1 > p->a) {
    size_t a = (p->a ? p->a * 2 : 64);
    char *zNew;
    while (a < p->n + n + 1)
      a *= 2;
    zNew = sqlite3_realloc64(p->z, a);
    if (zNew == 0) {
      p->eRc = SQLITE_NOMEM;
      return;
    }
    p->z = zNew;
    p->a = a;
  }
  memcpy(p->z + p->n, z, n);
  p->n += n;
  p->z[p->n] = 0;
}

/* Append text formatted by sqlite3_vmprintf (so %w and %Q work). */
void relStrPrintf(RelStr *p, const char *zFmt, ...) {
  va_list ap;
  char *z;
  if (p->eRc) return;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if (z == 0) {
    p->eRc = SQLITE_NOMEM;
    return;
  }
  relStrAppend(p, z, (size_t)-1);
  sqlite3_free(z);
}

char *relStrFinish(RelStr *p) {
  char *z = p->z;
  if (p->eRc) {
    sqlite3_free(z);
    z = 0;
  } else if (z == 0) {
    z = sqlite3_malloc64(1);
    if (z) z[0] = 0;
  }
  p->z = 0;
  p->n = p->a = 0;
  return z;
}

void relStrReset(RelStr *p) {
  sqlite3_free(p->z);
  memset(p, 0, sizeof(*p));
}

void *relGrow(void *a, size_t szElem, int n, int *pnAlloc, int nFirst) {
  int nNew;
  if (n < *pnAlloc) return a;
  nNew = *pnAlloc ? 2 * *pnAlloc : nFirst;
  a = sqlite3_realloc64(a, szElem * (size_t)nNew);
  if (a) *pnAlloc = nNew;
  return a;
}

char *relStrdup(const char *z) {
  char *zNew;
  size_t n;
  if (z == 0) return 0;
  n = strlen(z);
  zNew = sqlite3_malloc64(n + 1);
  if (zNew) memcpy(zNew, z, n + 1);
  return zNew;
}

int relStrICmp(const char *a, const char *b) {
  if (a == 0 || b == 0) return a == b ? 0 : (a ? 1 : -1);
  return sqlite3_stricmp(a, b);
}

struct RelIndexSlot {
  unsigned h; /* the key's hash */
  int v;      /* the value + 1; 0: an empty slot */
};

/* Fold n bytes of z into h, eight at a time (relext hashes texts that run
** to megabytes at a thousand relationships). Hashes made with it live only
** in a connection's memory: they may change from one version to the next. */
sqlite3_uint64 relHashBytes(sqlite3_uint64 h, const unsigned char *z,
                            size_t n) {
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    sqlite3_uint64 w;
    memcpy(&w, z + j, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
  }
  for (; j < n; j++) {
    h ^= z[j];
    h *= 1099511628211ULL;
  }
  return h;
}

unsigned relNameHash(unsigned h, const char *z) {
  h = h * 0x01000193u ^ 0x9e3779b9u;
  if (z == 0) return h ^ 0x5bd1e995u;
  for (; *z; z++) {
    unsigned char c = (unsigned char)*z;
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
    h = (h ^ c) * 0x01000193u;
  }
  return h;
}

int relIndexHashAdd(RelIndexHash *p, unsigned h, int v) {
  unsigned m, k;
  if (2 * (p->nUsed + 1) > p->nSlot) {
    int nNew = p->nSlot ? 2 * p->nSlot : 32, j;
    RelIndexSlot *aNew = sqlite3_malloc64(sizeof(RelIndexSlot) * (size_t)nNew);
    if (aNew == 0) return SQLITE_NOMEM;
    memset(aNew, 0, sizeof(RelIndexSlot) * (size_t)nNew);
    m = (unsigned)nNew - 1;
    for (j = 0; j < p->nSlot; j++) {
      if (p->a[j].v == 0) continue;
      for (k = p->a[j].h & m; aNew[k].v; k = (k + 1) & m) {
      }
      aNew[k] = p->a[j];
    }
    sqlite3_free(p->a);
    p->a = aNew;
    p->nSlot = nNew;
  }
  m = (unsigned)p->nSlot - 1;
  for (k = h & m; p->a[k].v; k = (k + 1) & m) {
  }
  p->a[k].h = h;
  p->a[k].v = v + 1;
  p->nUsed++;
  return SQLITE_OK;
}

int relIndexHashNext(const RelIndexHash *p, unsigned h, int *pi) {
  unsigned m, k;
  if (p->nSlot == 0) return -1;
  m = (unsigned)p->nSlot - 1;
  k = *pi < 0 ? (h & m) : (((unsigned)*pi + 1) & m);
  for (; p->a[k].v; k = (k + 1) & m) {
    if (p->a[k].h == h) {
      *pi = (int)k;
      return p->a[k].v - 1;
    }
  }
  *pi = (int)k;
  return -1;
}

void relIndexHashClear(RelIndexHash *p) {
  sqlite3_free(p->a);
  memset(p, 0, sizeof(*p));
}

int relStrEq(const char *a, const char *b) {
  if (a == 0 || b == 0) return a == b;
  return strcmp(a, b) == 0;
}

void relValueClear(RelValue *p) {
  sqlite3_free(p->z);
  memset(p, 0, sizeof(*p));
}

int relValueCopy(RelValue *pTo, const RelValue *pFrom) {
  relValueClear(pTo);
  *pTo = *pFrom;
  pTo->z = 0;
  if (pFrom->z) {
    size_t n =
        pFrom->eType == SQLITE_BLOB ? (size_t)pFrom->n : strlen(pFrom->z);
    pTo->z = sqlite3_malloc64(n + 1);
    if (pTo->z == 0) {
      memset(pTo, 0, sizeof(*pTo));
      return SQLITE_NOMEM;
    }
    memcpy(pTo->z, pFrom->z, n);
    pTo->z[n] = 0;
  }
  return SQLITE_OK;
}

/* Fill p from an SQL value (a NULL stored value means "absent" only when
** the caller says so; here it is SQLITE_NULL). */
int relValueFromSql(RelValue *p, sqlite3_value *v) {
  relValueClear(p);
  p->eType = sqlite3_value_type(v);
  switch (p->eType) {
  case SQLITE_INTEGER:
    p->i = sqlite3_value_int64(v);
    break;
  case SQLITE_FLOAT:
    p->r = sqlite3_value_double(v);
    break;
  case SQLITE_TEXT: {
    const char *z = (const char *)sqlite3_value_text(v);
    p->z = z ? relStrdup(z) : 0;
    if (p->z == 0) {
      p->eType = 0;
      return SQLITE_NOMEM;
    }
    break;
  }
  case SQLITE_BLOB: {
    /* The bytes as they are (NUL bytes included), NUL-terminated too. */
    const void *pBlob = sqlite3_value_blob(v);
    int n = sqlite3_value_bytes(v);
    p->z = sqlite3_malloc64((size_t)n + 1);
    if (p->z == 0 || (pBlob == 0 && n > 0)) {
      sqlite3_free(p->z);
      p->z = 0;
      p->eType = 0;
      return SQLITE_NOMEM;
    }
    if (n > 0) memcpy(p->z, pBlob, (size_t)n);
    p->z[n] = 0;
    p->n = n;
    break;
  }
  default:
    p->eType = SQLITE_NULL;
  }
  return SQLITE_OK;
}

int relValueBind(sqlite3_stmt *pStmt, int i, const RelValue *p) {
  switch (p->eType) {
  case SQLITE_INTEGER:
    return sqlite3_bind_int64(pStmt, i, p->i);
  case SQLITE_FLOAT:
    return sqlite3_bind_double(pStmt, i, p->r);
  case SQLITE_TEXT:
    return sqlite3_bind_text(pStmt, i, p->z, -1, SQLITE_TRANSIENT);
  case SQLITE_BLOB:
    return sqlite3_bind_blob(pStmt, i, p->z, p->n, SQLITE_TRANSIENT);
  default:
    return sqlite3_bind_null(pStmt, i);
  }
}

void relValueResult(sqlite3_context *ctx, const RelValue *p) {
  switch (p->eType) {
  case SQLITE_INTEGER:
    sqlite3_result_int64(ctx, p->i);
    break;
  case SQLITE_FLOAT:
    sqlite3_result_double(ctx, p->r);
    break;
  case SQLITE_TEXT:
    sqlite3_result_text(ctx, p->z, -1, SQLITE_TRANSIENT);
    break;
  case SQLITE_BLOB:
    sqlite3_result_blob(ctx, p->z, p->n, SQLITE_TRANSIENT);
    break;
  default:
    sqlite3_result_null(ctx);
  }
}

/* A BLOB of n bytes at z as X'0A0B' (SQLite's quote()), or for Python
** as b'\x0a\x0b'. */
static char *relBlobFormat(const unsigned char *z, int n, int bPy) {
  static const char aHex[] = "0123456789ABCDEF";
  static const char aLow[] = "0123456789abcdef";
  RelStr s = {0};
  int i;
  relStrAppend(&s, bPy ? "b'" : "X'", 2);
  for (i = 0; i < n; i++) {
    char a[4];
    if (bPy) {
      a[0] = '\\';
      a[1] = 'x';
      a[2] = aLow[z[i] >> 4];
      a[3] = aLow[z[i] & 15];
      relStrAppend(&s, a, 4);
    } else {
      a[0] = aHex[z[i] >> 4];
      a[1] = aHex[z[i] & 15];
      relStrAppend(&s, a, 2);
    }
  }
  relStrAppend(&s, "'", 1);
  return relStrFinish(&s);
}

char *relValueFormat(const RelValue *p, int eStyle) {
  switch (p->eType) {
  case SQLITE_INTEGER:
    return sqlite3_mprintf("%lld", p->i);
  case SQLITE_FLOAT:
    /* 17 digits tell every double apart; 15 are what SQLite prints. */
    return sqlite3_mprintf(eStyle == REL_FMT_SQL ? "%!.17g" : "%!.15g", p->r);
  case SQLITE_TEXT:
    return sqlite3_mprintf("%Q", p->z);
  case SQLITE_BLOB:
    return relBlobFormat((const unsigned char *)p->z, p->n,
                         eStyle == REL_FMT_PY);
  case SQLITE_NULL:
    return sqlite3_mprintf("%s", eStyle == REL_FMT_PY ? "None" : "NULL");
  default: /* absent */
    return sqlite3_mprintf("%s", eStyle == REL_FMT_PY ? "" : "NULL");
  }
}

int relValueEq(const RelValue *a, const RelValue *b) {
  if (a->eType != b->eType) return 0;
  switch (a->eType) {
  case SQLITE_INTEGER:
    return a->i == b->i;
  case SQLITE_FLOAT:
    return a->r == b->r;
  case SQLITE_TEXT:
    return relStrEq(a->z, b->z);
  case SQLITE_BLOB:
    return a->n == b->n && (a->n == 0 || memcmp(a->z, b->z, (size_t)a->n) == 0);
  default:
    return 1;
  }
}

int relError(char **pzErr, int rc, const char *zFmt, ...) {
  va_list ap;
  if (pzErr == 0 || *pzErr) return rc;
  va_start(ap, zFmt);
  *pzErr = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  return *pzErr ? rc : SQLITE_NOMEM;
}

void relResultError(sqlite3_context *ctx, int rc, char *zErr) {
  if (rc == SQLITE_NOMEM) {
    sqlite3_result_error_nomem(ctx);
  } else if (zErr == 0) {
    zErr = sqlite3_mprintf("relext: %s", sqlite3_errstr(rc));
    if (zErr == 0) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  if (rc != SQLITE_NOMEM) {
    sqlite3_result_error(ctx, zErr, -1);
    sqlite3_result_error_code(ctx, rc);
  }
  sqlite3_free(zErr);
}

int relExecf(sqlite3 *db, char **pzErr, const char *zFmt, ...) {
  va_list ap;
  char *zSql;
  int rc;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if (zSql == 0) return SQLITE_NOMEM;
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  if (rc != SQLITE_OK) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
  sqlite3_free(zSql);
  return rc;
}

int relPreparef(sqlite3 *db, sqlite3_stmt **pp, char **pzErr, const char *zFmt,
                ...) {
  va_list ap;
  char *zSql;
  int rc;
  *pp = 0;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if (zSql == 0) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, pp, 0);
  if (rc != SQLITE_OK) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
  sqlite3_free(zSql);
  return rc;
}

int relCompoundMax(sqlite3 *db) {
  int n = sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, -1);
  if (n <= 0 || n > 500) n = 500;
  return n < 2 ? 2 : n;
}

int relDropObjects(sqlite3 *db, const char *zDb, const char *zType,
                   const char *zCond, char **pzErr) {
  sqlite3_stmt *pStmt = 0;
  char **azName = 0;
  int nName = 0, i, rc;
  rc = relPreparef(db, &pStmt, pzErr,
                   "SELECT name FROM \"%w\".sqlite_schema WHERE type=%Q AND %s",
                   zDb, zType, zCond);
  if (rc) return rc;
  while (sqlite3_step(pStmt) == SQLITE_ROW) {
    char **a = sqlite3_realloc64(azName, sizeof(char *) * (size_t)(nName + 1));
    if (a == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    azName = a;
    azName[nName] = relStrdup((const char *)sqlite3_column_text(pStmt, 0));
    if (azName[nName] == 0) {
      rc = SQLITE_NOMEM;
      break;
    }
    nName++;
  }
  if (rc == SQLITE_OK)
    rc = sqlite3_finalize(pStmt);
  else
    sqlite3_finalize(pStmt);
  for (i = 0; i < nName; i++) {
    if (rc == SQLITE_OK) {
      rc = relExecf(db, pzErr, "DROP %s IF EXISTS \"%w\".\"%w\"",
                    strcmp(zType, "table") == 0 ? "TABLE" : zType, zDb,
                    azName[i]);
    }
    sqlite3_free(azName[i]);
  }
  sqlite3_free(azName);
  return rc;
}

/* The value as SQL text for a message; NULL when out of memory (also when
** SQLite cannot make the value's text). */
char *relValueText(sqlite3_value *v) {
  int eType = sqlite3_value_type(v);
  const unsigned char *z;
  if (eType == SQLITE_NULL) return sqlite3_mprintf("NULL");
  if (eType == SQLITE_BLOB) {
    int n = sqlite3_value_bytes(v);
    z = sqlite3_value_blob(v);
    if (z == 0 && n > 0) return 0;
    return relBlobFormat(z, n, 0);
  }
  z = sqlite3_value_text(v);
  if (z == 0) return 0;
  return sqlite3_mprintf(eType == SQLITE_TEXT ? "%Q" : "%s", z);
}

/* ------------------------------------------------------------------ */
/* Lower-casing names as Python does                                   */

/* A byte that is not part of valid UTF-8: kept as it is. */
#define REL_UNI_RAW 0x80000000u

/* Decode the code point at z (n > 0 bytes left) into *pCp; returns its
** length in bytes. Invalid UTF-8 (overlong, surrogate, beyond U+10FFFF,
** cut short) decodes one byte as REL_UNI_RAW | byte. */
static int relUtf8Decode(const unsigned char *z, size_t n, unsigned int *pCp) {
  unsigned int c = z[0], cp;
  int nLen, i;
  if (c < 0x80) {
    *pCp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    nLen = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    nLen = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    nLen = 4;
    cp = c & 0x07;
  } else {
    *pCp = REL_UNI_RAW | c;
    return 1;
  }
  if ((size_t)nLen > n) {
    *pCp = REL_UNI_RAW | c;
    return 1;
  }
  for (i = 1; i < nLen; i++) {
    if ((z[i] & 0xC0) != 0x80) {
      *pCp = REL_UNI_RAW | c;
      return 1;
    }
    cp = (cp << 6) | (z[i] & 0x3F);
  }
  if ((nLen == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (nLen == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    *pCp = REL_UNI_RAW | c;
    return 1;
  }
  *pCp = cp;
  return nLen;
}

static void relUtf8Append(RelStr *p, unsigned int cp) {
  unsigned char a[4];
  size_t n;
  if (cp & REL_UNI_RAW) {
    a[0] = (unsigned char)(cp & 0xFF);
    n = 1;
  } else if (cp < 0x80) {
    a[0] = (unsigned char)cp;
    n = 1;
  } else if (cp < 0x800) {
    a[0] = (unsigned char)(0xC0 | (cp >> 6));
    a[1] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    a[0] = (unsigned char)(0xE0 | (cp >> 12));
    a[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    a[2] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    a[0] = (unsigned char)(0xF0 | (cp >> 18));
    a[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    a[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    a[3] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  relStrAppend(p, (const char *)a, n);
}

/* The one code point cp lower-cases to (cp itself when none). */
static unsigned int relUniLower1(unsigned int cp) {
  int lo = 0, hi = (int)(sizeof(relUniRun) / sizeof(relUniRun[0])) - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    unsigned int first = relUniRun[mid].first;
    unsigned int last =
        first + (unsigned int)(relUniRun[mid].count - 1) * relUniRun[mid].step;
    if (cp < first) {
      hi = mid - 1;
    } else if (cp > last) {
      lo = mid + 1;
    } else {
      if ((cp - first) % relUniRun[mid].step) return cp;
      return (unsigned int)((int)cp + relUniRun[mid].delta);
    }
  }
  return cp;
}

/* Final_Sigma class of cp: 1 cased, 2 case-ignorable, 0 neither. */
static int relUniSigmaClass(unsigned int cp) {
  int lo = 0, hi = (int)(sizeof(relUniSigma) / sizeof(relUniSigma[0])) - 1;
  if (cp & REL_UNI_RAW) return 0;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (cp < relUniSigma[mid].first)
      hi = mid - 1;
    else if (cp > relUniSigma[mid].last)
      lo = mid + 1;
    else
      return relUniSigma[mid].cls;
  }
  return 0;
}

/* Python's Final_Sigma: a capital sigma (aCp[i]) preceded by a cased
** letter and not followed by one, case-ignorable code points skipped
** both ways, lower-cases to the final form U+03C2. */
static int relUniFinalSigma(const unsigned int *aCp, size_t nCp, size_t i) {
  size_t j;
  int k = 0;
  for (j = i; j > 0; j--) {
    k = relUniSigmaClass(aCp[j - 1]);
    if (k != 2) break;
  }
  if (j == 0 || k != 1) return 0;
  for (j = i + 1; j < nCp; j++) {
    k = relUniSigmaClass(aCp[j]);
    if (k != 2) break;
  }
  return j == nCp || k != 1;
}

char *relLowerName(const char *z) {
  const unsigned char *zIn = (const unsigned char *)z;
  size_t n = strlen(z), nCp = 0, i, k;
  unsigned int *aCp;
  RelStr s = {0};
  aCp = sqlite3_malloc64(sizeof(unsigned int) * (n + 1));
  if (aCp == 0) return 0;
  for (i = 0; i < n;)
    i += (size_t)relUtf8Decode(zIn + i, n - i, &aCp[nCp++]);
  for (i = 0; i < nCp; i++) {
    unsigned int cp = aCp[i];
    if (cp & REL_UNI_RAW) {
      relUtf8Append(&s, cp);
    } else if (cp < 0x80) {
      relUtf8Append(&s, cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    } else if (cp == 0x03A3) {
      relUtf8Append(&s, relUniFinalSigma(aCp, nCp, i) ? 0x03C2 : 0x03C3);
    } else {
      for (k = 0; k < sizeof(relUniMulti) / sizeof(relUniMulti[0]); k++) {
        if (relUniMulti[k].cp == cp) break;
      }
      if (k < sizeof(relUniMulti) / sizeof(relUniMulti[0])) {
        int m;
        for (m = 0; m < REL_UNI_MULTI_MAX && relUniMulti[k].aTo[m]; m++)
          relUtf8Append(&s, relUniMulti[k].aTo[m]);
      } else {
        relUtf8Append(&s, relUniLower1(cp));
      }
    }
  }
  sqlite3_free(aCp);
  return relStrFinish(&s);
}

/* SQLite rolls the whole transaction back after an out-of-memory or I/O
** error in any statement, savepoint included. Once that has happened, no
** further write may run: it would commit on its own. */
int relTxnLost(sqlite3 *db, char **pzErr) {
  int rc;
  if (!sqlite3_get_autocommit(db)) return SQLITE_OK;
  rc = sqlite3_errcode(db);
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
    rc = SQLITE_NOMEM; /* the only silent cause: an allocation failed */
  if (rc != SQLITE_NOMEM) {
    rc = relError(pzErr, rc,
                  "relext: the transaction was rolled back (%s); "
                  "nothing was changed",
                  sqlite3_errstr(rc));
  }
  return rc;
}

/* A savepoint whose end cannot fail for want of memory: the statements
** that close it are prepared before it is opened. Under persistent OOM a
** RELEASE or ROLLBACK TO run through sqlite3_exec could not even be
** prepared, and a savepoint opened in autocommit mode left the connection
** inside a transaction (found by test/oom.c -persist). */

static int relSavepointRun(sqlite3_stmt *pStmt) {
  int rc;
  if (pStmt == 0) return SQLITE_OK;
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  return rc;
}

/* Open savepoint zName ("relext_define", "relext_reload"). */
int relSavepointOpen(sqlite3 *db, const char *zName, RelSavepoint *pSp,
                            char **pzErr) {
  int rc;
  memset(pSp, 0, sizeof(*pSp));
  rc = relPreparef(db, &pSp->pRollbackTo, pzErr, "ROLLBACK TO %s", zName);
  if (rc == SQLITE_OK)
    rc = relPreparef(db, &pSp->pRelease, pzErr, "RELEASE %s", zName);
  if (rc == SQLITE_OK && sqlite3_get_autocommit(db))
    rc = relPreparef(db, &pSp->pRollback, pzErr, "ROLLBACK");
  if (rc == SQLITE_OK) rc = relExecf(db, pzErr, "SAVEPOINT %s", zName);
  if (rc) {
    sqlite3_finalize(pSp->pRollbackTo);
    sqlite3_finalize(pSp->pRelease);
    sqlite3_finalize(pSp->pRollback);
    memset(pSp, 0, sizeof(*pSp));
  }
  return rc;
}

/* Close it: keep the work (bKeep) or undo it. Returns the result of
** RELEASE when keeping (which commits, if the savepoint began the
** transaction); on any failure the work is undone and, if the savepoint
** began a transaction, the transaction is ended. */
int relSavepointClose(sqlite3 *db, RelSavepoint *pSp, int bKeep,
                             char **pzErr) {
  int rc = SQLITE_OK;
  if (bKeep) {
    rc = relSavepointRun(pSp->pRelease);
    if (rc) rc = relError(pzErr, rc, "%s", sqlite3_errmsg(db));
  }
  if (!bKeep || rc) {
    if (!sqlite3_get_autocommit(db)) {
      relSavepointRun(pSp->pRollbackTo);
      relSavepointRun(pSp->pRelease);
    }
    if (pSp->pRollback && !sqlite3_get_autocommit(db))
      relSavepointRun(pSp->pRollback);
  }
  sqlite3_finalize(pSp->pRollbackTo);
  sqlite3_finalize(pSp->pRelease);
  sqlite3_finalize(pSp->pRollback);
  memset(pSp, 0, sizeof(*pSp));
  return rc;
}
