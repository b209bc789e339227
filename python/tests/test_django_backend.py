#!/usr/bin/python3
"""
Tests of the relext.django backend beyond Django's own suite: the catalog
follows the schema editor's operations, table rebuilds keep the rules,
flush works under PROTECT, introspection and inspectdb read the catalog,
`manage.py relext` works, and a rollback that undoes declarations reloads
them.

    /usr/bin/python3 python/tests/test_django_backend.py
"""
import io
import os
import sqlite3
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import django  # noqa: E402
from django.conf import settings  # noqa: E402

DB = os.path.join(tempfile.mkdtemp(prefix='relext-backend-'), 'db.sqlite3')
settings.configure(
    INSTALLED_APPS=['relext.django', 'backend_app'],
    DATABASES={'default': {'ENGINE': 'relext.django', 'NAME': DB}},
    RELEXT_LIBRARY_PATH=os.environ.get('RELEXT_LIBRARY_PATH'),
    DEFAULT_AUTO_FIELD='django.db.models.AutoField',
    USE_TZ=False,
)
django.setup()

import relext  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import IntegrityError, connection, models, transaction  # noqa: E402

from backend_app.models import Author, Book, Code  # noqa: E402


def catalog():
    with connection.cursor() as c:
        c.execute("SELECT model || '.' || field, kind, target, coalesce(\"column\", db_table), "
                  "coalesce(on_delete, '-'), related_name FROM relext_relations "
                  "ORDER BY model, field")
        return c.fetchall()


def raw(sql):
    with connection.cursor() as c:
        c.execute(sql)
        return c.fetchall()


class BackendTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with connection.schema_editor() as editor:
            for model in (Author, Code, Book):
                editor.create_model(model)

    def tearDown(self):
        with connection.cursor() as c:
            for t in ('backend_app_book_readers', 'backend_app_book', 'backend_app_code',
                      'backend_app_author'):
                c.execute('DELETE FROM %s WHERE true' % t)

    def test_1_declared(self):
        self.assertEqual(catalog(), [
            ('backend_app_book.author', 'ForeignKey', 'backend_app_author', 'author_id',
             'PROTECT', 'books'),
            ('backend_app_book.code', 'ForeignKey', 'backend_app_code', 'code_id',
             'CASCADE', 'book_set'),
            ('backend_app_book.editor', 'ForeignKey', 'backend_app_author', 'editor_id',
             'SET_NULL', '+'),
            ('backend_app_book.readers', 'ManyToManyField', 'backend_app_author',
             'backend_app_book_readers', '-', 'read'),
        ])

    def test_2_rules_from_raw_sql(self):
        a = Author.objects.create(name='a')
        Book.objects.create(author=a, editor=a)
        with self.assertRaises(relext.ProtectedError) as cm:
            with transaction.atomic():
                raw('DELETE FROM backend_app_author')
        e = cm.exception
        self.assertIsInstance(e, IntegrityError)
        self.assertEqual((e.table, e.key, e.relationship),
                         ('backend_app_author', a.pk, 'backend_app_book.author'))
        # Django's own (deferred) foreign keys answer first where they
        # exist; relext's hold where they do not.
        raw('CREATE TABLE legacy2(id INTEGER PRIMARY KEY, author_id INTEGER)')
        raw("SELECT rel_define('legacy2.author', 'fk', 'backend_app_author', "
            "'on_delete=CASCADE, related_name=\"legacies2\"')")
        with self.assertRaises(relext.DanglingKeyError) as cm:
            raw('INSERT INTO legacy2 VALUES (1, 999)')
        self.assertEqual((cm.exception.value, cm.exception.relationship),
                         (999, 'legacy2.author'))
        raw("SELECT rel_undefine('legacy2.author')")

    def test_2b_refused_at_statement_end(self):
        """A RESTRICT that another row of the same DELETE could lift is
        decided at the end of the statement: inside atomic() SQLite fails it
        as "FOREIGN KEY constraint failed", and the backend raises
        relext's class with relext's message (rel_last_error). A COMMIT that
        SQLite's deferred constraints fail stays Django's IntegrityError."""
        raw('CREATE TABLE artist(id INTEGER PRIMARY KEY)')
        raw('CREATE TABLE record(id INTEGER PRIMARY KEY)')
        raw('CREATE TABLE track(id INTEGER PRIMARY KEY)')
        raw("SELECT rel_define('record.artist', 'fk', 'artist', 'on_delete=CASCADE')")
        raw("SELECT rel_define('track.record', 'fk', 'record', 'on_delete=RESTRICT')")
        raw("SELECT rel_define('track.artist', 'fk', 'artist', 'on_delete=CASCADE')")
        raw('INSERT INTO artist VALUES (1), (2)')
        raw('INSERT INTO record VALUES (1, 1)')
        raw('INSERT INTO track VALUES (1, 1, 2)')
        with transaction.atomic():
            with self.assertRaises(relext.RestrictedError) as cm:
                with transaction.atomic():
                    raw('DELETE FROM artist WHERE id = 1')
            e = cm.exception
            self.assertIsInstance(e, IntegrityError)
            self.assertEqual((str(e), e.table, e.key, e.relationship), (
                'relext: RESTRICT: cannot delete record 1: referenced by 1 row of '
                'track.record', 'record', 1, 'track.record'))
            raw('DELETE FROM artist')
        self.assertEqual(raw('SELECT count(*) FROM track'), [(0,)])
        a = Author.objects.create(name='a')
        with self.assertRaises(IntegrityError) as cm:
            with transaction.atomic():
                raw('INSERT INTO backend_app_book(author_id, code_id) VALUES (%d, NULL)'
                    % (a.pk + 100))
        self.assertNotIsInstance(cm.exception, relext.RelextError)
        for field in ('track.artist', 'track.record', 'record.artist'):
            raw("SELECT rel_undefine('%s')" % field)
        for t in ('track', 'record', 'artist'):
            raw('DROP TABLE %s' % t)

    def test_3_alter_and_rebuild(self):
        """AlterField of on_delete (no DDL for Django), then of null (a table
        rebuild): the catalog follows, the rules stay in force."""
        old = Book._meta.get_field('author')
        new = models.ForeignKey(Author, models.CASCADE, related_name='books')
        new.set_attributes_from_name('author')
        with connection.schema_editor() as editor:
            editor.alter_field(Book, old, new)
        self.assertIn(('backend_app_book.author', 'ForeignKey', 'backend_app_author',
                       'author_id', 'CASCADE', 'books'), catalog())
        old_code = Book._meta.get_field('code')
        new_code = models.ForeignKey(Code, models.CASCADE, to_field='code')
        new_code.set_attributes_from_name('code')
        with connection.schema_editor() as editor:
            editor.alter_field(Book, old_code, new_code)   # Django rebuilds the table
        with connection.cursor() as c:
            c.execute("SELECT \"null\" FROM relext_relations WHERE field = 'code'")
            self.assertEqual(c.fetchall(), [(0,)])
        # The rebuilt table's guard index, and the triggers of its parents
        # (whose rules name it), are there again. (A trigger's name ends in
        # the hint a refused rename shows.)
        names = {r[0].split(' (relext: ')[0] for r in raw(
            "SELECT name FROM sqlite_master WHERE name GLOB 'relext_guard_*'")}
        self.assertTrue({'relext_guard_i_backend_app_book',
                         'relext_guard_a_backend_app_author',
                         'relext_guard_a_backend_app_code'} <= names, names)
        a = Author.objects.create(name='a')
        Code.objects.create(code='x')
        raw("INSERT INTO backend_app_book(author_id, code_id) VALUES (%d, 'x')" % a.pk)
        raw('DELETE FROM backend_app_author WHERE id = %d' % a.pk)   # CASCADE
        self.assertEqual(raw('SELECT count(*) FROM backend_app_book'), [(0,)])
        with connection.schema_editor() as editor:
            editor.alter_field(Book, new_code, old_code)
            editor.alter_field(Book, new, old)
        self.assertEqual(catalog()[0], ('backend_app_book.author', 'ForeignKey',
                                        'backend_app_author', 'author_id', 'PROTECT', 'books'))

    def test_4_rename_and_remove(self):
        """A renamed table carries its declarations; a removed field and a
        dropped table take theirs away."""
        class Note(models.Model):
            author = models.ForeignKey(Author, models.CASCADE)
            tags = models.ManyToManyField(Code)

            class Meta:
                app_label = 'backend_app'

        with connection.schema_editor() as editor:
            editor.create_model(Note)
        self.assertIn(('backend_app_note.author', 'ForeignKey', 'backend_app_author',
                       'author_id', 'CASCADE', 'note_set'), catalog())
        with connection.schema_editor() as editor:
            editor.alter_db_table(Note, 'backend_app_note', 'memo')
        rows = [r for r in catalog() if 'note' in r[0] or 'memo' in r[0]]
        self.assertEqual([r[0] for r in rows], ['memo.author', 'memo.tags'])
        Note._meta.db_table = 'memo'
        with connection.schema_editor() as editor:
            editor.remove_field(Note, Note._meta.get_field('author'))
        self.assertEqual([r[0] for r in catalog() if r[0].startswith('memo')], ['memo.tags'])
        with connection.schema_editor() as editor:
            editor.delete_model(Note)
        self.assertEqual([r[0] for r in catalog() if r[0].startswith('memo')], [])

    def test_4b_m2m_through_to_field(self):
        """A ManyToManyField whose through model's keys point at a to_field
        is left out (relext links M2M rows by primary key); the through
        model's ForeignKeys, to_field and all, are declared."""
        from relext.django.declare import declarations

        class Dish(models.Model):
            dname = models.CharField(max_length=20, unique=True)
            parts = models.ManyToManyField(Code, through='DishPart')

            class Meta:
                app_label = 'backend_app'

        class DishPart(models.Model):
            dish = models.ForeignKey(Dish, models.CASCADE, to_field='dname')
            code = models.ForeignKey(Code, models.PROTECT)

            class Meta:
                app_label = 'backend_app'

        excluded = []
        decls = declarations([Dish, DishPart], excluded)
        self.assertEqual(sorted((d.field.name, d.kind) for d in decls),
                         [('code', 'ForeignKey'), ('dish', 'ForeignKey')])
        self.assertEqual([(e.field.name, e.category) for e in excluded],
                         [('parts', 'ManyToManyField through a model whose keys use to_field')])
        dish = [d for d in decls if d.field.name == 'dish'][0]
        self.assertIn('to_field="dname"', dish.options)

    def test_4c_many_in_one_call(self):
        """The relations of a schema editor's models are declared by one
        rel_define_many call; when it fails, one by one, so that the error
        is rel_define's own."""
        class Shelf(models.Model):
            owner = models.ForeignKey(Author, models.CASCADE, related_name='shelves')
            code = models.OneToOneField(Code, models.PROTECT)
            books = models.ManyToManyField(Book, related_name='shelves')

            class Meta:
                app_label = 'backend_app'

        statements = []

        def record(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            with connection.schema_editor() as editor:
                editor.create_model(Shelf)
        calls = [s for s in statements if 'rel_define' in s]
        self.assertEqual(calls, ['SELECT rel_define_many(%s)'])
        self.assertEqual([r[0] for r in catalog() if 'shelf' in r[0]],
                         ['backend_app_shelf.books', 'backend_app_shelf.code',
                          'backend_app_shelf.owner'])
        raw('INSERT INTO backend_app_author(id, name) VALUES (70, %s)' % "'x'")
        raw("INSERT INTO backend_app_code(code) VALUES ('c70')")
        raw("INSERT INTO backend_app_shelf(id, owner_id, code_id) VALUES (1, 70, 'c70')")
        raw('DELETE FROM backend_app_author WHERE id = 70')
        self.assertEqual(raw('SELECT count(*) FROM backend_app_shelf'), [(0,)])
        with connection.schema_editor() as editor:
            editor.delete_model(Shelf)

        class Crate(models.Model):
            owner = models.ForeignKey(Author, models.CASCADE, related_name='crates')
            # clashes with Book.author's reverse accessor: relext refuses it
            other = models.ForeignKey(Author, models.CASCADE, related_name='books')

            class Meta:
                app_label = 'backend_app'

        statements.clear()
        with self.assertRaises(Exception) as cm:
            with connection.execute_wrapper(record):
                with connection.schema_editor() as editor:
                    editor.create_model(Crate)
        self.assertTrue(str(cm.exception).startswith('relext: backend_app_crate.other: '),
                        str(cm.exception))
        self.assertNotIn('rel_define_many', str(cm.exception))
        self.assertEqual([s for s in statements if 'rel_define' in s],
                         ['SELECT rel_define_many(%s)', 'SELECT rel_define(%s, %s, %s, %s)',
                          'SELECT rel_define(%s, %s, %s, %s)'])
        # The schema editor's transaction is rolled back, the table with it.
        self.assertFalse([r for r in catalog() if 'crate' in r[0]])
        self.assertEqual(raw("SELECT count(*) FROM sqlite_master WHERE name = 'backend_app_crate'"),
                         [(0,)])
        self.assertFalse(connection.in_atomic_block)

    def test_5_flush(self):
        a = Author.objects.create(name='a')
        Book.objects.create(author=a)
        call_command('flush', interactive=False, verbosity=0)
        self.assertEqual(raw('SELECT count(*) FROM backend_app_author'), [(0,)])
        # The rules are back.
        a = Author.objects.create(name='a')
        Book.objects.create(author=a)
        with self.assertRaises(relext.ProtectedError):
            raw('DELETE FROM backend_app_author')
        # One rel_flush() call does it; sqlflush shows it.
        out = io.StringIO()
        call_command('sqlflush', stdout=out, no_color=True)
        self.assertIn('SELECT rel_flush(\'["backend_app_author", "backend_app_book", '
                      '"backend_app_book_readers", "backend_app_code"', out.getvalue())
        # allow_cascade follows relext's relationships too: a table that
        # only relext knows references the author table.
        raw('CREATE TABLE legacy3(id INTEGER PRIMARY KEY, author_id INTEGER)')
        raw("SELECT rel_define('legacy3.author', 'fk', 'backend_app_author', "
            "'on_delete=PROTECT, related_name=\"legacies3\"')")
        raw('INSERT INTO legacy3 VALUES (1, %d)' % a.pk)
        ops = connection.ops
        with self.assertRaises(IntegrityError) as cm:
            ops.execute_sql_flush(ops.sql_flush(no_style(), ['backend_app_author', 'backend_app_book']))
        self.assertIn('cannot empty backend_app_author: 1 row of legacy3 references it '
                      '(legacy3.author); flush legacy3 too', str(cm.exception))
        ops.execute_sql_flush(ops.sql_flush(
            no_style(), ['backend_app_author', 'backend_app_book'], allow_cascade=True))
        self.assertEqual(raw('SELECT count(*) FROM legacy3'), [(0,)])
        raw("SELECT rel_undefine('legacy3.author')")
        raw('DROP TABLE legacy3')

    def test_6_introspection(self):
        intro = connection.introspection
        with connection.cursor() as c:
            tables = [t.name for t in intro.get_table_list(c)]
            self.assertNotIn('relext_relations', tables)
            self.assertEqual(intro.get_relations(c, 'backend_app_book'), {
                'author_id': ('id', 'backend_app_author'),
                'code_id': ('code', 'backend_app_code'),
                'editor_id': ('id', 'backend_app_author'),
            })
            constraints = intro.get_constraints(c, 'backend_app_book')
            self.assertFalse([n for n in constraints if n.startswith('relext_')])
        # A relationship relext declares on a table without REFERENCES.
        raw('CREATE TABLE legacy(id INTEGER PRIMARY KEY, author_id INTEGER)')
        raw("SELECT rel_define('legacy.author', 'fk', 'backend_app_author', "
            "'on_delete=PROTECT, related_name=\"legacies\"')")
        with connection.cursor() as c:
            self.assertEqual(intro.get_relations(c, 'legacy'),
                             {'author_id': ('id', 'backend_app_author')})
            self.assertEqual(intro.get_key_columns(c, 'legacy'),
                             [('author_id', 'backend_app_author', 'id')])

    def test_7_inspectdb(self):
        out = io.StringIO()
        call_command('inspectdb', 'backend_app_book', stdout=out)
        lines = [l.strip() for l in out.getvalue().splitlines()]
        self.assertIn("author = models.ForeignKey('BackendAppAuthor', models.PROTECT, "
                      "related_name='books')", lines)
        self.assertIn("code = models.ForeignKey('BackendAppCode', models.CASCADE, "
                      "blank=True, null=True, related_name='book_set', "
                      "related_query_name='book')", lines)
        self.assertIn("editor = models.ForeignKey('BackendAppAuthor', models.SET_NULL, "
                      "blank=True, null=True, related_name='+')", lines)

    def test_8_command(self):
        out = io.StringIO()
        call_command('relext', 'check', stdout=out)
        self.assertEqual(out.getvalue().strip(), 'No violations.')
        out = io.StringIO()
        call_command('relext', 'graph', '--format', 'mermaid', stdout=out)
        self.assertTrue(out.getvalue().startswith('erDiagram'))
        a = Author.objects.create(name='a')
        b = Book.objects.create(author=Author.objects.create(name='b'), editor=a)
        b.readers.add(a)
        out = io.StringIO()
        call_command('relext', 'collect', 'backend_app.Author', str(a.pk), stdout=out)
        rows = [line.split() for line in out.getvalue().splitlines()]
        link = b.readers.through.objects.get().pk
        self.assertEqual(rows, [
            ['action', 'model', 'key', 'via', 'depth'],
            ['delete', 'backend_app_author', str(a.pk), '0'],
            ['set_null', 'backend_app_book', str(b.pk), 'backend_app_book.editor', '1'],
            ['delete', 'backend_app_book_readers', str(link), 'backend_app_book.readers', '1'],
        ])
        out = io.StringIO()
        call_command('relext', 'sql', '--no-load', stdout=out)
        self.assertIn("SELECT rel_define('backend_app_book.author', 'ForeignKey', "
                      "'backend_app_author',", out.getvalue())

    def test_9_rollback_reloads(self):
        """A schema editor left by an exception rolls back its declarations;
        relext's copy of them follows."""
        class Temp(models.Model):
            author = models.ForeignKey(Author, models.PROTECT)

            class Meta:
                app_label = 'backend_app'

        with self.assertRaises(ZeroDivisionError):
            with connection.schema_editor() as editor:
                editor.create_model(Temp)
                editor.relext_declare_pending()
                1 / 0
        self.assertFalse([r for r in catalog() if 'temp' in r[0]])
        a = Author.objects.create(name='x')
        raw('DELETE FROM backend_app_author WHERE id = %d' % a.pk)


if __name__ == '__main__':
    unittest.main()
