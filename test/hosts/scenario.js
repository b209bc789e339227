// scenario.js -- relext from Node.js with better-sqlite3 (version 12).
//
//   make hosts-deps        # npm install better-sqlite3@12 into test/hosts
//   node test/hosts/scenario.js [EXT [SCENARIO]]
//
// EXT is the extension path (default ./relext); SCENARIO is
// test/hosts/scenario.sql, whose header gives the rules.
'use strict';
const fs = require('fs');
const path = require('path');
const Database = require('better-sqlite3');

const ext = process.argv[2] || './relext';
const script = process.argv[3] || path.join(__dirname, 'scenario.sql');

// SQLite's primary result codes, by name: better-sqlite3 reports err.code as
// a name ('SQLITE_CONSTRAINT', or an extended one such as
// 'SQLITE_CONSTRAINT_TRIGGER').
const CODES = ['OK', 'ERROR', 'INTERNAL', 'PERM', 'ABORT', 'BUSY', 'LOCKED',
  'NOMEM', 'READONLY', 'INTERRUPT', 'IOERR', 'CORRUPT', 'NOTFOUND', 'FULL',
  'CANTOPEN', 'PROTOCOL', 'EMPTY', 'SCHEMA', 'TOOBIG', 'CONSTRAINT',
  'MISMATCH', 'MISUSE', 'NOLFS', 'AUTH', 'FORMAT', 'RANGE', 'NOTADB',
  'NOTICE', 'WARNING'];

function primaryCode(name) {
  const m = /^SQLITE_([A-Z]+)/.exec(name || '');
  const i = m ? CODES.indexOf(m[1]) : -1;
  return i < 0 ? 1 : i;
}

const show = (v) => (v === null ? 'NULL' : String(v));

const db = new Database(':memory:');
if (process.env.RELEXT_NODE_PACKAGE) {
  // The relext package (node/): require('relext').load(db, ext).
  require(path.join(__dirname, '..', '..', 'node')).load(db, ext);
} else {
  db.loadExtension(ext);
}

for (let line of fs.readFileSync(script, 'utf8').split('\n')) {
  line = line.trim();
  if (line.startsWith('.print ')) {
    console.log(line.slice(7).trim().replace(/^"|"$/g, ''));
    continue;
  }
  if (!line || line.startsWith('.') || line.startsWith('--')) continue;
  try {
    const stmt = db.prepare(line);
    if (stmt.reader) {
      for (const row of stmt.raw().all()) console.log(row.map(show).join('|'));
    } else {
      stmt.run();
    }
  } catch (e) {
    if (!(e instanceof Database.SqliteError)) throw e;
    console.log(`error ${primaryCode(e.code)}: ${e.message}`);
  }
}
db.close();
