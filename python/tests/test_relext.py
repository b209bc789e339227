#!/usr/bin/python3
"""
Tests of the relext package without Django: loading, and the mapping of
relext's errors to exception classes.

    /usr/bin/python3 python/tests/test_relext.py
"""
import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import relext  # noqa: E402

# The extension under test (test/python.test passes the one it tests).
LIBRARY = os.environ.get('RELEXT_LIBRARY_PATH')

SCHEMA = """
CREATE TABLE category(id INTEGER PRIMARY KEY, title TEXT);
CREATE TABLE article(id INTEGER PRIMARY KEY, title TEXT);
CREATE TABLE album(id INTEGER PRIMARY KEY);
CREATE TABLE song(id INTEGER PRIMARY KEY);
SELECT rel_define('article.category', 'ForeignKey', 'category',
                  'on_delete=PROTECT, related_name="articles"');
SELECT rel_define('song.album', 'ForeignKey', 'album', 'on_delete=RESTRICT');
INSERT INTO category VALUES (1, 'tech'), (2, 'life');
INSERT INTO article VALUES (1, 'a', 1), (2, 'b', 1);
INSERT INTO album VALUES (1);
INSERT INTO song VALUES (1, 1);
"""


class LoadTests(unittest.TestCase):

    def test_loadable_path(self):
        path = relext.loadable_path()
        self.assertTrue(os.path.exists(path + '.so'), path)
        self.assertFalse(path.endswith('.so'))

    def test_load(self):
        conn = sqlite3.connect(':memory:')
        relext.load(conn, LIBRARY)
        self.assertEqual(conn.execute('SELECT relext_version()').fetchone()[0], '0.1.0')
        relext.load(conn, LIBRARY)  # twice is harmless
        # Extension loading is off again.
        with self.assertRaises(sqlite3.OperationalError):
            conn.execute("SELECT load_extension('nothing')")
        conn.close()

    def test_load_bad_path(self):
        conn = sqlite3.connect(':memory:')
        with self.assertRaises(sqlite3.OperationalError):
            relext.load(conn, '/nonexistent/relext')
        conn.close()


class ErrorTests(unittest.TestCase):

    def setUp(self):
        self.conn = sqlite3.connect(':memory:', isolation_level=None)
        relext.load(self.conn, LIBRARY)
        self.conn.executescript(SCHEMA)

    def tearDown(self):
        self.conn.close()

    def raised(self, sql):
        try:
            with relext.errors(self.conn):
                self.conn.execute(sql)
        except Exception as e:
            return e
        self.fail('no error from %s' % sql)

    def test_protect(self):
        e = self.raised('DELETE FROM category WHERE id = 1')
        self.assertIs(type(e), relext.ProtectedError)
        self.assertIsInstance(e, sqlite3.IntegrityError)
        self.assertEqual(
            (e.rule, e.table, e.key, e.count, e.relationship),
            ('PROTECT', 'category', 1, 2, 'article.category'))
        self.assertEqual(str(e), 'relext: PROTECT: cannot delete category 1: '
                                 'referenced by 2 rows of article.category')
        self.assertEqual(e.sqlite_errorname[:17], 'SQLITE_CONSTRAINT')
        self.assertIsInstance(e.__cause__, sqlite3.IntegrityError)

    def test_restrict(self):
        e = self.raised('DELETE FROM album WHERE id = 1')
        self.assertIs(type(e), relext.RestrictedError)
        self.assertEqual(
            (e.rule, e.table, e.key, e.count, e.relationship),
            ('RESTRICT', 'album', 1, 1, 'song.album'))

    def test_dangling(self):
        e = self.raised('INSERT INTO article VALUES (3, "c", 42)')
        self.assertIs(type(e), relext.DanglingKeyError)
        self.assertEqual(
            (e.rule, e.table, e.key, e.column, e.value, e.target, e.relationship),
            ('FOREIGN KEY', 'article', 3, 'category_id', 42, 'category',
             'article.category'))

    def test_dangling_at_commit(self):
        self.conn.execute('BEGIN')
        self.conn.execute('INSERT INTO article VALUES (3, "c", 42)')
        e = self.raised('COMMIT')
        self.assertIs(type(e), relext.DanglingKeyError)
        self.assertEqual(e.value, 42)

    def test_null(self):
        e = self.raised('INSERT INTO article VALUES (4, "d", NULL)')
        self.assertIs(type(e), relext.NullKeyError)
        self.assertEqual(
            (e.rule, e.table, e.key, e.column, e.relationship),
            ('NOT NULL', 'article', 4, 'category_id', 'article.category'))

    def test_other_errors_pass(self):
        e = self.raised('SELECT * FROM nowhere')
        self.assertIs(type(e), sqlite3.OperationalError)
        e = self.raised("SELECT rel_define('x.y', 'fk', 'z')")
        self.assertIs(type(e), sqlite3.OperationalError)

    def test_errors_of_an_exception(self):
        try:
            self.conn.execute('DELETE FROM category WHERE id = 1')
        except sqlite3.IntegrityError as exc:
            e = relext.errors(exc)
        self.assertIs(type(e), relext.ProtectedError)
        self.assertEqual(e.key, 1)
        other = ValueError('x')
        self.assertIs(relext.errors(other), other)
        self.assertIs(relext.errors(e), e)

    def test_refused_at_the_statement_end(self):
        """Inside a transaction, a RESTRICT that another row of the same
        DELETE could lift is decided at the end of the statement: SQLite
        fails it as "FOREIGN KEY constraint failed", and relext's message
        is SELECT rel_last_error()."""
        self.conn.executescript("""
            CREATE TABLE artist(id INTEGER PRIMARY KEY);
            CREATE TABLE record(id INTEGER PRIMARY KEY);
            CREATE TABLE track(id INTEGER PRIMARY KEY);
            SELECT rel_define('record.artist', 'fk', 'artist', 'on_delete=CASCADE');
            SELECT rel_define('track.record', 'fk', 'record', 'on_delete=RESTRICT');
            SELECT rel_define('track.artist', 'fk', 'artist', 'on_delete=CASCADE');
            INSERT INTO artist VALUES (1), (2);
            INSERT INTO record VALUES (1, 1);
            INSERT INTO track VALUES (1, 1, 2);
        """)
        self.conn.execute('BEGIN')
        with self.assertRaises(sqlite3.IntegrityError) as cm:
            self.conn.execute('DELETE FROM artist WHERE id = 1')
        self.assertEqual(str(cm.exception), relext.SQLITE_FOREIGN_KEY)
        message = ('relext: RESTRICT: cannot delete record 1: referenced by '
                   '1 row of track.record')
        self.assertEqual(relext.last_error(self.conn), message)
        # Without the connection, the error stays SQLite's.
        self.assertIs(relext.errors(cm.exception), cm.exception)
        e = relext.errors(cm.exception, self.conn)
        self.assertIs(type(e), relext.RestrictedError)
        self.assertEqual((str(e), e.table, e.key, e.relationship),
                         (message, 'record', 1, 'track.record'))
        e = self.raised('DELETE FROM artist WHERE id = 1')
        self.assertIs(type(e), relext.RestrictedError)
        self.assertIsInstance(e.__cause__, sqlite3.IntegrityError)
        # The transaction goes on; deleting both artists lifts it.
        self.conn.execute('DELETE FROM artist')
        self.conn.execute('COMMIT')
        self.assertEqual(self.conn.execute('SELECT count(*) FROM track').fetchone(), (0,))

    def test_sqlite_foreign_keys_pass(self):
        """SQLite's own foreign keys keep their message when relext has no
        refusal of the kind to give."""
        self.conn.executescript("""
            CREATE TABLE p(id INTEGER PRIMARY KEY);
            CREATE TABLE c(id INTEGER PRIMARY KEY, p_id REFERENCES p(id));
            PRAGMA foreign_keys = ON;
        """)
        e = self.raised('INSERT INTO c VALUES (1, 5)')
        self.assertIs(type(e), sqlite3.IntegrityError)
        self.assertEqual(str(e), relext.SQLITE_FOREIGN_KEY)

    def test_text_keys(self):
        self.conn.executescript("""
            CREATE TABLE country(code TEXT PRIMARY KEY);
            CREATE TABLE city(id INTEGER PRIMARY KEY, country_id TEXT);
            SELECT rel_define('city.country', 'fk', 'country', 'on_delete=PROTECT');
            INSERT INTO country VALUES ('New Zealand');
            INSERT INTO city VALUES (1, 'New Zealand');
        """)
        e = self.raised("DELETE FROM country WHERE code = 'New Zealand'")
        self.assertEqual((e.table, e.key, e.relationship),
                         ('country', 'New Zealand', 'city.country'))
        # Quotes in a key, a table name with a space, a dangling text key.
        self.conn.executescript("""
            CREATE TABLE "my things"(code TEXT PRIMARY KEY);
            CREATE TABLE part(id INTEGER PRIMARY KEY, thing_id TEXT);
            SELECT rel_define('part.thing', 'fk', 'my things', 'on_delete=PROTECT');
            INSERT INTO "my things" VALUES ('it''s: 1');
            INSERT INTO part VALUES (1, 'it''s: 1');
        """)
        e = self.raised("""DELETE FROM "my things" """)
        self.assertEqual((e.table, e.key, e.count), ('my things', "it's: 1", 1))
        e = self.raised("INSERT INTO part VALUES (2, 'x y')")
        self.assertEqual((e.table, e.key, e.value, e.target), ('part', 2, 'x y', 'my things'))


if __name__ == '__main__':
    unittest.main()
