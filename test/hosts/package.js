// package.js -- the relext Node.js package (node/) with better-sqlite3 12:
// the scenario of test/hosts/scenario.sql through require('relext').load(),
// then one line per relext error kind: class, SqliteError or not, parts.
//
//   NODE_PATH=test/hosts/node_modules node test/hosts/package.js EXT [SCENARIO]
'use strict';
const path = require('path');
const Database = require('better-sqlite3');
const relext = require(path.join(__dirname, '..', '..', 'node'));

const ext = process.argv[2];
const db = relext.load(new Database(':memory:'), ext);
const show = (v) => (v === null ? 'NULL' : String(v));
db.exec(`
  CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT);
  CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT);
  CREATE TABLE album(id INTEGER PRIMARY KEY);
  CREATE TABLE song(id INTEGER PRIMARY KEY);
  CREATE TABLE "my things"(code TEXT PRIMARY KEY);
  CREATE TABLE part(id INTEGER PRIMARY KEY);
  SELECT rel_define('article.category', 'ForeignKey', 'category', 'on_delete=PROTECT');
  SELECT rel_define('song.album', 'ForeignKey', 'album', 'on_delete=RESTRICT');
  SELECT rel_define('part.thing', 'fk', 'my things', 'on_delete=PROTECT');
  INSERT INTO category VALUES (1, 'tech');
  INSERT INTO article VALUES (1, 'a', 1), (2, 'b', 1);
  INSERT INTO album VALUES (1);
  INSERT INTO song VALUES (1, 1);
  INSERT INTO "my things" VALUES ('it''s: 1');
  INSERT INTO part VALUES (1, 'it''s: 1');
`);
db.exec(`
  CREATE TABLE artist(id INTEGER PRIMARY KEY);
  CREATE TABLE record(id INTEGER PRIMARY KEY);
  CREATE TABLE track(id INTEGER PRIMARY KEY);
  SELECT rel_define('record.artist', 'fk', 'artist', 'on_delete=CASCADE');
  SELECT rel_define('track.record', 'fk', 'record', 'on_delete=RESTRICT');
  SELECT rel_define('track.artist', 'fk', 'artist', 'on_delete=CASCADE');
  INSERT INTO artist VALUES (1), (2);
  INSERT INTO record VALUES (1, 1);
  INSERT INTO track VALUES (1, 1, 2);
`);
const report = (e) => {
  const parts = ['table', 'key', 'count', 'column', 'value', 'target', 'relationship']
    .filter((k) => e[k] !== undefined && e[k] !== null).map((k) => k + '=' + show(e[k]));
  console.log([e.name, e instanceof relext.RelextError, e instanceof Database.SqliteError,
    e.rule || '-', ...parts].join(' '));
};
for (const sql of [
  'DELETE FROM category WHERE id = 1',
  'DELETE FROM album',
  'INSERT INTO article VALUES (3, \'c\', 42)',
  'INSERT INTO article VALUES (4, \'d\', NULL)',
  'DELETE FROM "my things"',
  'SELECT * FROM nowhere',
]) {
  try {
    relext.run(() => db.prepare(sql).run());
    console.log('no error: ' + sql);
  } catch (e) {
    report(e);
  }
}
// Inside a transaction, a RESTRICT that another row of the same DELETE
// could lift fails at the statement's end as SQLite's "FOREIGN KEY
// constraint failed": mapped through rel_last_error() when run() is given
// the database, left as it is without.
db.exec('BEGIN');
for (const withDb of [false, true]) {
  try {
    relext.run(() => db.prepare('DELETE FROM artist WHERE id = 1').run(), withDb ? db : undefined);
    console.log('no error');
  } catch (e) {
    report(e);
    if (!withDb) console.log(e.message);
  }
}
db.exec('DELETE FROM artist; COMMIT');
console.log(db.prepare('SELECT count(*) FROM track').pluck().get());
