// relext for Node.js: load the relext SQLite extension into a
// better-sqlite3 (version 12) database, and map relext's errors to classes.
//
//   const Database = require('better-sqlite3');
//   const relext = require('relext');
//   const db = relext.load(new Database('blog.db'));
//   try {
//     db.prepare('DELETE FROM category WHERE id = 1').run();
//   } catch (e) {
//     const err = relext.errors(e);
//     if (err instanceof relext.ProtectedError) console.log(err.table, err.key, err.relationship);
//   }
//
// The classes are those of the Python package (relext.ProtectedError ...):
// RelextError and its subclasses ProtectedError, RestrictedError,
// DanglingKeyError, NullKeyError. Each is also a better-sqlite3 SqliteError
// (err.code is SQLite's, e.g. 'SQLITE_CONSTRAINT_TRIGGER'), with the parts
// of relext's message: rule, table, key, relationship, and count (PROTECT,
// RESTRICT) or column, value, target (FOREIGN KEY), column (NOT NULL).
//
// Inside a transaction, a refusal relext can only decide at the end of the
// statement (a RESTRICT another row of the same DELETE could still lift)
// fails through SQLite's foreign-key counter, as "FOREIGN KEY constraint
// failed"; relext's message is then SELECT rel_last_error(). errors(err,
// db) and run(fn, db) read it when given the database. (SQLite's own
// foreign keys fail a COMMIT with the same message: that is not relext's.)
'use strict';
const fs = require('fs');
const path = require('path');

// better-sqlite3's error class, when it can be found (a peer dependency).
let SqliteError = Error;
try {
  SqliteError = require('better-sqlite3').SqliteError || Error;
} catch (e) {
  // not installed beside this package: the classes extend Error only
}

// The path of relext.so without its suffix, as loadExtension() takes it:
// the one built into this package (build.js), else the one `make` builds
// at the root of the relext checkout this package sits in.
function loadablePath() {
  const candidates = [path.join(__dirname, 'relext'), path.join(__dirname, '..', 'relext')];
  for (const base of candidates) {
    if (fs.existsSync(base + '.so')) return base;
  }
  throw new Error('relext.so not found (looked for ' +
    candidates.map((c) => c + '.so').join(', ') + '): run `make` at the repository root');
}

// Load relext into a better-sqlite3 Database; returns the database.
function load(db, file) {
  db.loadExtension(file || loadablePath());
  return db;
}

// A key as relext writes it: an SQL literal.
const LITERAL = "'(?:[^']|'')*'|[xX]'[0-9A-Fa-f]*'|NULL|[-+0-9.eE]+";

function literal(text) {
  if (text === undefined || text === null || text === 'NULL') return null;
  if (text[0] === "'") return text.slice(1, -1).replace(/''/g, "'");
  if (/^[xX]'/.test(text)) return Buffer.from(text.slice(2, -1), 'hex');
  const n = Number(text);
  return Number.isSafeInteger(n) || !/^[-+]?\d+$/.test(text) ? n : BigInt(text);
}

class RelextError extends Error {
  constructor(message, code, parts) {
    super(message);
    this.code = code;
    this.rule = this.constructor.rule;
    for (const k of ['table', 'key', 'relationship', 'count', 'column', 'value', 'target']) {
      this[k] = parts[k] === undefined ? null : parts[k];
    }
  }
}
// Instances are SqliteErrors too (SqliteError cannot be extended with
// `class ... extends`: its constructor returns a new plain SqliteError).
Object.setPrototypeOf(RelextError.prototype, SqliteError.prototype);
Object.defineProperty(RelextError.prototype, 'name', {
  value: 'RelextError', writable: true, enumerable: false, configurable: true,
});

const REFUSED = 'cannot delete (.+) (' + LITERAL + '): referenced by (\\d+) rows? of (\\S+)$';

function define(name, rule, pattern, names) {
  const cls = {
    [name]: class extends RelextError {},
  }[name];
  cls.rule = rule;
  cls.pattern = new RegExp(pattern, 's');
  cls.names = names;
  Object.defineProperty(cls.prototype, 'name', {
    value: name, writable: true, enumerable: false, configurable: true,
  });
  return cls;
}

const ProtectedError = define('ProtectedError', 'PROTECT', '^relext: PROTECT: ' + REFUSED,
  ['table', 'key', 'count', 'relationship']);
const RestrictedError = define('RestrictedError', 'RESTRICT', '^relext: RESTRICT: ' + REFUSED,
  ['table', 'key', 'count', 'relationship']);
const DanglingKeyError = define('DanglingKeyError', 'FOREIGN KEY',
  '^relext: FOREIGN KEY: (.+) (' + LITERAL + '): (.+)=(' + LITERAL +
  ') points at no row of (.+) \\((\\S+)\\)$',
  ['table', 'key', 'column', 'value', 'target', 'relationship']);
const NullKeyError = define('NullKeyError', 'NOT NULL',
  '^relext: NOT NULL: (.+) (' + LITERAL + '): (.+) cannot be NULL \\((\\S+) has null=False\\)$',
  ['table', 'key', 'column', 'relationship']);

const CLASSES = [ProtectedError, RestrictedError, DanglingKeyError, NullKeyError];

// SQLite's message when relext fails a statement through its foreign-key
// counter (and when SQLite's own foreign keys fail).
const SQLITE_FOREIGN_KEY = 'FOREIGN KEY constraint failed';

// lastError(db): relext's last refusal on db (SELECT rel_last_error()), or
// null.
function lastError(db) {
  try {
    const v = db.prepare('SELECT rel_last_error()').pluck().get();
    return typeof v === 'string' ? v : null;
  } catch (e) {
    return null;
  }
}

// errors(err[, db]): the relext class instance that err (an error from
// better-sqlite3) stands for, or err itself when relext did not raise it.
// With db, SQLite's "FOREIGN KEY constraint failed" of a statement relext
// refused at its end is mapped through relext's message (call it right
// after the statement).
function errors(err, db) {
  if (!err || err instanceof RelextError || typeof err.message !== 'string') return err;
  let message = err.message;
  if (message === SQLITE_FOREIGN_KEY && db) {
    message = lastError(db) || '';
    if (!/^relext: (PROTECT|RESTRICT): /.test(message)) return err;
  }
  if (!message.startsWith('relext: ')) return err;
  for (const cls of CLASSES) {
    const m = cls.pattern.exec(message);
    if (!m) continue;
    const parts = {};
    cls.names.forEach((n, i) => { parts[n] = m[i + 1]; });
    parts.key = literal(parts.key);
    if (parts.value !== undefined) parts.value = literal(parts.value);
    if (parts.count !== undefined) parts.count = Number(parts.count);
    const out = new cls(message, err.code, parts);
    out.cause = err;
    return out;
  }
  return err;
}

// run(fn[, db]): call fn() and throw relext's errors as its classes.
function run(fn, db) {
  try {
    return fn();
  } catch (e) {
    throw errors(e, db);
  }
}

module.exports = {
  load, loadablePath, errors, run, lastError, SQLITE_FOREIGN_KEY,
  RelextError, ProtectedError, RestrictedError, DanglingKeyError, NullKeyError,
};
