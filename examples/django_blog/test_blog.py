#!/usr/bin/python3
"""
The relext blog example, tested: relext's backend under Django's ORM, and
the same database written by another program (the sqlite3 shell).

    /usr/bin/python3 examples/django_blog/test_blog.py

With RELEXT_PACKAGE_INSTALLED=1 it uses the installed relext package (and
the relext.so it carries), not the source checkout's.

1. `manage.py migrate` builds the database on the relext backend (which
   declares every relationship); `manage.py relext check` finds nothing.
2. For each delete (a category: CASCADE to articles and their tag links; a
   user: SET_NULL on articles, CASCADE to the profile, auth's M2M links; a
   tag: links cleared), the ORM deletes from one copy of the database
   (Model.objects.get(pk=...).delete()) and the sqlite3 shell runs the
   plain DELETE on another copy, with relext loaded: every table is the
   same afterwards.
3. A raw SQL delete of a PROTECTed tag (a profile's favourite) is refused:
   from Python's sqlite3 with relext.load() as relext.ProtectedError, from
   Django's connection as an exception that is both Django's IntegrityError
   and relext.ProtectedError, and from the shell with relext's message.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if not os.environ.get('RELEXT_PACKAGE_INSTALLED'):
    sys.path.insert(0, os.path.join(ROOT, 'python'))

import relext  # noqa: E402

PYTHON = os.environ.get('PYTHON', sys.executable)
SQLITE3 = os.environ.get('SQLITE3', 'sqlite3')
# The extension under test: RELEXT_LIBRARY_PATH (which the example's
# settings also read), else the one the package finds.
LIBRARY = os.environ.get('RELEXT_LIBRARY_PATH') or relext.loadable_path()


def manage(db, *args, stdin=None):
    env = dict(os.environ, BLOG_DB=db, PYTHONDONTWRITEBYTECODE='1')
    return subprocess.run(
        [PYTHON, os.path.join(HERE, 'manage.py')] + list(args),
        input=stdin, env=env, cwd=HERE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, universal_newlines=True)


def tables(db):
    """Every table's rows, in rowid order (relext's own tables left out)."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'relext_%' "
            "AND name != 'django_migrations' ORDER BY name")]
        return {n: conn.execute('SELECT * FROM "%s" ORDER BY rowid' % n).fetchall()
                for n in names}
    finally:
        conn.close()


class BlogTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix='relext-blog-')
        cls.base = os.path.join(cls.dir, 'base.sqlite3')
        out = manage(cls.base, 'migrate', '--noinput')
        assert out.returncode == 0, out.stdout
        out = manage(cls.base, 'shell', stdin='from pages.fixtures import load; load()\n')
        assert out.returncode == 0, out.stdout

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def copy(self, name):
        path = os.path.join(self.dir, name)
        shutil.copyfile(self.base, path)
        return path

    def test_declared(self):
        conn = sqlite3.connect(self.base)
        rows = conn.execute(
            "SELECT model || '.' || field, kind, target, coalesce(on_delete, '-'), "
            "related_name FROM relext_relations WHERE model LIKE 'pages_%' "
            "ORDER BY model, field").fetchall()
        conn.close()
        self.assertEqual(rows, [
            ('pages_article.author', 'ForeignKey', 'auth_user', 'SET_NULL', 'article_set'),
            ('pages_article.category', 'ForeignKey', 'pages_category', 'CASCADE', 'articles'),
            ('pages_article.tags', 'ManyToManyField', 'pages_tag', '-', 'articles'),
            ('pages_profile.favorite_tag', 'ForeignKey', 'pages_tag', 'PROTECT', 'fans'),
            ('pages_profile.user', 'OneToOneField', 'auth_user', 'CASCADE', 'profile'),
        ])
        out = manage(self.base, 'relext', 'check')
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertEqual(out.stdout.strip(), 'No violations.')

    def test_adopt_existing_database(self):
        """A database migrated on Django's own backend gets every
        relationship declared at its next migrate on relext's."""
        db = os.path.join(self.dir, 'plain.sqlite3')
        env = dict(os.environ, BLOG_ENGINE='django.db.backends.sqlite3')
        out = subprocess.run(
            [PYTHON, os.path.join(HERE, 'manage.py'), 'migrate', '--noinput'],
            env=dict(env, BLOG_DB=db), cwd=HERE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(out.returncode, 0, out.stdout)
        conn = sqlite3.connect(db)
        self.assertEqual(conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'relext_relations'").fetchone(), (0,))
        conn.close()
        out = manage(db, 'migrate', '--noinput')
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertIn('No migrations to apply.', out.stdout)
        conn = sqlite3.connect(db)
        self.assertEqual(conn.execute('SELECT count(*) FROM relext_relations').fetchone(), (9,))
        conn.close()

    def test_orm_and_shell_deletes_agree(self):
        orm, shell = self.copy('orm.sqlite3'), self.copy('shell.sqlite3')
        deletes = [
            ('pages.Category', 'pages_category', 1),
            ('auth.User', 'auth_user', 2),
            ('pages.Tag', 'pages_tag', 3),
        ]
        for label, table, pk in deletes:
            with self.subTest(delete=label):
                out = manage(orm, 'shell', stdin=(
                    'from django.apps import apps\n'
                    'apps.get_model(%r).objects.get(pk=%d).delete()\n' % (label, pk)))
                self.assertEqual(out.returncode, 0, out.stdout)
                sh = subprocess.run(
                    [SQLITE3, '-bail', '-cmd', '.load ' + LIBRARY, shell,
                     'DELETE FROM "%s" WHERE id = %d' % (table, pk)],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    universal_newlines=True)
                self.assertEqual(sh.returncode, 0, sh.stdout)
                self.assertEqual(tables(shell), tables(orm))
        # The deletes did something.
        left = tables(orm)
        self.assertEqual([r[1] for r in left['pages_article']], ['Compost'])
        self.assertEqual(left['pages_article_tags'], [])
        self.assertEqual(len(left['auth_user']), 1)
        self.assertEqual(len(left['pages_profile']), 1)

    def test_protect_from_python(self):
        db = self.copy('protect.sqlite3')
        conn = sqlite3.connect(db)
        relext.load(conn, LIBRARY)
        with self.assertRaises(relext.ProtectedError) as cm:
            with relext.errors(conn):
                conn.execute('DELETE FROM pages_tag WHERE id = 2')
        e = cm.exception
        self.assertIsInstance(e, sqlite3.IntegrityError)
        self.assertEqual((e.rule, e.table, e.key, e.count, e.relationship),
                         ('PROTECT', 'pages_tag', 2, 1, 'pages_profile.favorite_tag'))
        self.assertEqual(str(e), 'relext: PROTECT: cannot delete pages_tag 2: '
                                 'referenced by 1 row of pages_profile.favorite_tag')
        # Nothing changed.
        self.assertEqual(conn.execute('SELECT count(*) FROM pages_tag').fetchone(), (3,))
        conn.close()

    def test_protect_from_django(self):
        db = self.copy('protect2.sqlite3')
        out = manage(db, 'shell', stdin=(
            'import relext\n'
            'from django.db import connection, IntegrityError\n'
            'try:\n'
            '    with connection.cursor() as c:\n'
            '        c.execute("DELETE FROM pages_tag WHERE id = 2")\n'
            'except IntegrityError as e:\n'
            '    print(type(e).__name__, isinstance(e, relext.ProtectedError), e.relationship)\n'))
        self.assertEqual(out.stdout.strip(), 'ProtectedError True pages_profile.favorite_tag')

    def test_protect_from_shell(self):
        db = self.copy('protect3.sqlite3')
        sh = subprocess.run(
            [SQLITE3, '-cmd', '.load ' + LIBRARY, db,
             'DELETE FROM pages_tag WHERE id = 2'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertNotEqual(sh.returncode, 0)
        self.assertIn('relext: PROTECT: cannot delete pages_tag 2: referenced by 1 row '
                      'of pages_profile.favorite_tag', sh.stdout)


if __name__ == '__main__':
    unittest.main()
