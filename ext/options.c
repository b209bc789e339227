/*
** options.c -- a small parser for the Django syntax that rel_define()
** accepts.
**
** Two entry points:
**
**   relParseOptions("on_delete=models.CASCADE, related_name='articles'")
**       -> a list of keyword arguments
**
**   relParseFieldLine("category = models.ForeignKey(Category, "
**                     "on_delete=models.CASCADE)")
**       -> the field name and the call (callee + arguments)
**
** Values are Python literals as they appear in a models.py file:
** 'strings' and "strings" (with backslash escapes), numbers (with sign),
** dotted names (models.CASCADE, True, None, Category), calls
** (models.SET(0)) and tuples, lists and dicts (kept as items, so that
** through_fields=('a', 'b') and limit_choices_to={...} parse).
**
** Contract: the parser only builds a tree; it never evaluates anything
** and never hands text to SQLite. Errors say what was expected and where
** ("near ..."), in a message the caller prefixes with "relext: ".
** Nesting is limited to RELPY_MAX_DEPTH levels so hostile input cannot
** exhaust the stack.
*/
#include "relext_int.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

#define RELPY_MAX_DEPTH 32

typedef struct PyParser PyParser;
struct PyParser {
  const char *z; /* whole input */
  size_t i;      /* current offset */
  char *zErr;    /* first error */
  int rc;
};

static void pySkipSpace(PyParser *p) {
  while (p->z[p->i] == ' ' || p->z[p->i] == '\t' || p->z[p->i] == '\n' ||
         p->z[p->i] == '\r')
    p->i++;
}

/* Record an error that quotes the input near the current position. */
static int pyError(PyParser *p, const char *zExpected) {
  if (p->rc == SQLITE_OK) {
    const char *zNear = p->z + p->i;
    if (*zNear == 0) {
      p->rc = relError(&p->zErr, SQLITE_ERROR, "expected %s at end of text",
                       zExpected);
    } else {
      p->rc = relError(&p->zErr, SQLITE_ERROR, "expected %s near \"%.20s\"",
                       zExpected, zNear);
    }
  }
  return p->rc;
}

static int pyNoMem(PyParser *p) {
  if (p->rc == SQLITE_OK) p->rc = SQLITE_NOMEM;
  return p->rc;
}

static int pyIsIdStart(unsigned char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c >= 0x80;
}
static int pyIsIdChar(unsigned char c) {
  return pyIsIdStart(c) || (c >= '0' && c <= '9');
}
static int pyIsDigit(unsigned char c) {
  return c >= '0' && c <= '9';
}

void relPyValClear(PyVal *p) {
  sqlite3_free(p->z);
  relPyArgsFree(p->aArg, p->nArg);
  memset(p, 0, sizeof(*p));
}

void relPyArgsFree(PyArg *a, int n) {
  int k;
  for (k = 0; k < n; k++) {
    sqlite3_free(a[k].zKey);
    relPyValClear(&a[k].v);
  }
  sqlite3_free(a);
}

const char *relPyBaseName(const char *z) {
  const char *zDot = z ? strrchr(z, '.') : 0;
  return zDot ? zDot + 1 : z;
}

/* Read an identifier at the current position (no dots). */
static char *pyIdent(PyParser *p) {
  size_t i0 = p->i;
  char *z;
  if (!pyIsIdStart((unsigned char)p->z[p->i])) return 0;
  while (pyIsIdChar((unsigned char)p->z[p->i]))
    p->i++;
  z = sqlite3_mprintf("%.*s", (int)(p->i - i0), p->z + i0);
  if (z == 0) pyNoMem(p);
  return z;
}

/* Read a quoted string; the opening quote is at the current position. */
static char *pyString(PyParser *p) {
  char q = p->z[p->i];
  RelStr s = {0};
  p->i++;
  while (p->z[p->i] && p->z[p->i] != q) {
    char c = p->z[p->i];
    if (c == '\\' && p->z[p->i + 1]) {
      p->i++;
      c = p->z[p->i];
      if (c == 'n')
        c = '\n';
      else if (c == 't')
        c = '\t';
    }
    relStrAppend(&s, &c, 1);
    p->i++;
  }
  if (p->z[p->i] != q) {
    relStrReset(&s);
    pyError(p, "a closing quote");
    return 0;
  }
  p->i++;
  {
    char *z = relStrFinish(&s);
    if (z == 0) pyNoMem(p);
    return z;
  }
}

static int pyArgList(PyParser *p, char cClose, PyArg **pa, int *pn, int nDepth,
                     int bDict);

static int pyValue(PyParser *p, PyVal *pV, int nDepth) {
  unsigned char c;
  memset(pV, 0, sizeof(*pV));
  if (nDepth > RELPY_MAX_DEPTH) return pyError(p, "less nesting");
  pySkipSpace(p);
  c = (unsigned char)p->z[p->i];
  if (c == '\'' || c == '"') {
    pV->eType = PY_STRING;
    pV->z = pyString(p);
    return p->rc;
  }
  if (pyIsDigit(c) ||
      ((c == '-' || c == '+' || c == '.') &&
       (pyIsDigit((unsigned char)p->z[p->i + 1]) || p->z[p->i + 1] == '.'))) {
    size_t i0 = p->i;
    if (c == '-' || c == '+') p->i++;
    while (pyIsDigit((unsigned char)p->z[p->i]) || p->z[p->i] == '.')
      p->i++;
    if (p->z[p->i] == 'e' || p->z[p->i] == 'E') {
      p->i++;
      if (p->z[p->i] == '-' || p->z[p->i] == '+') p->i++;
      while (pyIsDigit((unsigned char)p->z[p->i]))
        p->i++;
    }
    pV->eType = PY_NUMBER;
    pV->z = sqlite3_mprintf("%.*s", (int)(p->i - i0), p->z + i0);
    if (pV->z == 0) return pyNoMem(p);
    return p->rc;
  }
  if (pyIsIdStart(c)) {
    RelStr s = {0};
    for (;;) {
      char *zId = pyIdent(p);
      if (zId == 0) {
        relStrReset(&s);
        return p->rc ? p->rc : pyError(p, "a name");
      }
      relStrAppend(&s, zId, (size_t)-1);
      sqlite3_free(zId);
      if (p->z[p->i] == '.' && pyIsIdStart((unsigned char)p->z[p->i + 1])) {
        relStrAppend(&s, ".", 1);
        p->i++;
        continue;
      }
      break;
    }
    pV->z = relStrFinish(&s);
    if (pV->z == 0) return pyNoMem(p);
    pV->eType = PY_NAME;
    pySkipSpace(p);
    if (p->z[p->i] == '(') {
      p->i++;
      pV->eType = PY_CALL;
      return pyArgList(p, ')', &pV->aArg, &pV->nArg, nDepth + 1, 0);
    }
    return p->rc;
  }
  if (c == '(' || c == '[' || c == '{') {
    char cClose = (c == '(' ? ')' : c == '[' ? ']' : '}');
    p->i++;
    pV->eType = PY_SEQ;
    return pyArgList(p, cClose, &pV->aArg, &pV->nArg, nDepth + 1, c == '{');
  }
  return pyError(p, "a value");
}

/* Parse "arg, arg, ..." up to cClose (0: up to the end of the text).
** An arg is "name=value" or "value"; in a dict, "value: value". */
static int pyArgList(PyParser *p, char cClose, PyArg **pa, int *pn, int nDepth,
                     int bDict) {
  PyArg *a = 0;
  int n = 0;
  for (;;) {
    PyArg *aNew;
    size_t iSave;
    char *zKey = 0;
    pySkipSpace(p);
    if (p->z[p->i] == cClose) break;
    if (cClose == 0 && p->z[p->i] == 0) break;
    iSave = p->i;
    if (!bDict && pyIsIdStart((unsigned char)p->z[p->i])) {
      zKey = pyIdent(p);
      if (zKey == 0) break;
      pySkipSpace(p);
      if (p->z[p->i] == '=' && p->z[p->i + 1] != '=') {
        p->i++;
      } else {
        sqlite3_free(zKey);
        zKey = 0;
        p->i = iSave;
      }
    }
    aNew = sqlite3_realloc64(a, sizeof(PyArg) * (size_t)(n + 1));
    if (aNew == 0) {
      sqlite3_free(zKey);
      pyNoMem(p);
      break;
    }
    a = aNew;
    memset(&a[n], 0, sizeof(PyArg));
    a[n].zKey = zKey;
    n++;
    if (pyValue(p, &a[n - 1].v, nDepth)) break;
    pySkipSpace(p);
    if (bDict) {
      PyVal vIgnored;
      if (p->z[p->i] != ':') {
        pyError(p, "':'");
        break;
      }
      p->i++;
      if (pyValue(p, &vIgnored, nDepth)) {
        relPyValClear(&vIgnored);
        break;
      }
      relPyValClear(&vIgnored);
      pySkipSpace(p);
    }
    if (p->z[p->i] == ',') {
      p->i++;
      continue;
    }
    if (p->z[p->i] == cClose || (cClose == 0 && p->z[p->i] == 0)) break;
    pyError(p, cClose ? "',' or a closing bracket" : "','");
    break;
  }
  if (p->rc == SQLITE_OK && cClose) {
    if (p->z[p->i] != cClose) {
      pyError(p, "a closing bracket");
    } else {
      p->i++;
    }
  }
  *pa = a;
  *pn = n;
  return p->rc;
}

int relParseOptions(const char *zText, PyArg **paArg, int *pnArg,
                    char **pzErr) {
  PyParser p = {0};
  int k;
  p.z = zText ? zText : "";
  *paArg = 0;
  *pnArg = 0;
  pyArgList(&p, 0, paArg, pnArg, 0, 0);
  for (k = 0; p.rc == SQLITE_OK && k < *pnArg; k++) {
    if ((*paArg)[k].zKey == 0) {
      p.rc = relError(&p.zErr, SQLITE_ERROR,
                      "expected key=value, got a bare value in options \"%s\"",
                      p.z);
    }
  }
  if (p.rc) {
    relPyArgsFree(*paArg, *pnArg);
    *paArg = 0;
    *pnArg = 0;
    *pzErr = p.zErr;
  }
  return p.rc;
}

int relParseFieldLine(const char *zText, char **pzField, PyVal *pCall,
                      char **pzErr) {
  PyParser p = {0};
  char *zField = 0;
  p.z = zText ? zText : "";
  memset(pCall, 0, sizeof(*pCall));
  pySkipSpace(&p);
  zField = pyIdent(&p);
  if (zField == 0) {
    if (p.rc == SQLITE_OK) pyError(&p, "a field name");
  } else {
    pySkipSpace(&p);
    if (p.z[p.i] != '=') {
      pyError(&p, "'='");
    } else {
      p.i++;
      if (pyValue(&p, pCall, 0) == SQLITE_OK) {
        pySkipSpace(&p);
        if (pCall->eType != PY_CALL) {
          p.i = 0;
          pyError(&p, "a field such as models.ForeignKey(...)");
        } else if (p.z[p.i] != 0 && p.z[p.i] != '#') {
          pyError(&p, "end of text");
        }
      }
    }
  }
  if (p.rc) {
    sqlite3_free(zField);
    relPyValClear(pCall);
    *pzErr = p.zErr;
    *pzField = 0;
    return p.rc;
  }
  *pzField = zField;
  return SQLITE_OK;
}
