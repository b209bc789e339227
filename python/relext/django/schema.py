"""
The schema editor: Django's SQLite schema editor, keeping relext's
declarations in step with the models.

- create_model, add_field: the new relations are declared (rel_define) when
  the schema editor exits, after Django's deferred SQL has created its
  indexes (relext adopts them), or earlier when another operation needs the
  catalog to be current. A declaration whose table or target does not exist
  yet waits for the exit.
- remove_field, delete_model: the relations go (rel_undefine) before the
  column or table does; delete_model also undeclares the relations that
  point at the table, whose target disappears.
- alter_field: a relation whose declaration changes is undeclared before
  and declared again after.
- alter_db_table (AlterModelTable, RenameModel): every relation that names
  the table is undeclared, and declared again under the new name from its
  catalog row.
- _remake_table (Django's create-copy-drop-rename rebuild) runs between
  SELECT rel_rebuild_begin(table) and SELECT rel_rebuild_end(table), in a
  transaction (the migration's, or one opened for the rebuild): relext
  lets the rename through, writes the table's guards again for the new
  table, and checks every key of its relationships at COMMIT. (Without
  them, SQLite's ALTER TABLE ... RENAME refuses the rebuild: relext's
  stored triggers name the dropped table.)
- Renames outside a rebuild (alter_db_table) undeclare and declare again
  under the new name; relext would follow them by itself, but the catalog
  rows are rewritten here at once, so the schema editor's own catalog reads
  see the new names.

Several declarations pending at once (a migration that creates many models)
are made by one rel_define_many call, which reloads relext's catalog once
instead of once per relation; when it fails, nothing of it is left, and
they are made one by one, so that each error is the one rel_define gives.

With collect_sql (sqlmigrate), the rel_define/rel_undefine statements are
collected with Django's own.

A declaration relext refuses raises (django.db.utils.IntegrityError or
OperationalError, with relext's message), unless the RELEXT_DECLARE_ERRORS
setting is 'warn': then it is logged on the 'relext.django' logger and kept
in connection.relext_declare_errors.
"""
import json
import logging
import re
import os
import time

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.backends.sqlite3.schema import (
    DatabaseSchemaEditor as SQLiteSchemaEditor,
)

from . import catalog
from .declare import Exclusion, field_declaration, relation_fields

logger = logging.getLogger('relext.django')

# A table name in DDL: double-quoted, or bare.
_NAME = r'"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*'


def _unquote(name):
    if name.startswith('"'):
        return name[1:-1].replace('""', '"')
    return name


# A file to which each rel_define's duration is appended (for measuring).
_TRACE = os.environ.get('RELEXT_DJANGO_TRACE')


class DatabaseSchemaEditor(SQLiteSchemaEditor):

    relext_remaking = 0

    def __enter__(self):
        # (table, field name) -> Declaration, in the order they came.
        self.relext_pending = {}
        # (table, field name) of declarations to drop before those.
        self.relext_pending_undefine = []
        return super().__enter__()

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            try:
                # Django's deferred SQL first: its indexes on key columns
                # exist before relext looks for one.
                for sql in self.deferred_sql:
                    self.execute(sql)
                self.deferred_sql = []
                self.relext_declare_pending(final=True)
            except Exception as e:
                # As an error inside the block would: the atomic block
                # (the migration's transaction) is left, and rolled back.
                super().__exit__(type(e), e, e.__traceback__)
                raise
        super().__exit__(exc_type, exc_value, traceback)

    # -- the catalog ------------------------------------------------------

    def _relext_cursor(self):
        return self.connection.cursor()

    def relext_is_declared(self, table, field_name):
        if self.collect_sql:
            return False
        with self._relext_cursor() as cursor:
            return bool(catalog.rows(
                cursor, 'WHERE model = %s AND field = %s', (table, field_name)))

    def _table_exists(self, table):
        with self._relext_cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s",
                (table,))
            return cursor.fetchone() is not None

    def _relext_touched(self):
        # The connection reloads relext's definitions if this transaction
        # is rolled back (base.DatabaseWrapper).
        self.connection.relext_catalog_touched = True

    def relext_define(self, params):
        self._relext_touched()
        try:
            started = time.perf_counter()
            self.execute('SELECT rel_define(%s, %s, %s, %s)', params)
            if _TRACE:
                with open(_TRACE, 'a') as f:
                    f.write('%.4f %s\n' % (time.perf_counter() - started, params[0]))
        except Exception as e:
            if getattr(settings, 'RELEXT_DECLARE_ERRORS', 'raise') != 'warn':
                raise
            errors = getattr(self.connection, 'relext_declare_errors', None)
            if errors is None:
                errors = self.connection.relext_declare_errors = []
            errors.append((params, str(e)))
            logger.warning('relext: cannot declare %s: %s', params[0], e)

    def relext_undefine(self, table, field_name):
        self.relext_pending.pop((table, field_name), None)
        if self.relext_is_declared(table, field_name):
            self._relext_touched()
            self.execute('SELECT rel_undefine(%s)', ('%s.%s' % (table, field_name),))

    def relext_queue(self, model, field):
        try:
            decl = field_declaration(model, field)
        except Exclusion as e:
            logger.debug('relext: not declared: %s', e)
            return
        self.relext_pending[decl.key()] = decl

    def relext_declare_pending(self, final=False):
        """
        Declare what is pending. ForeignKeys and OneToOneFields go first
        (a through model's keys before the ManyToManyField). What cannot be
        declared yet (a table missing) stays pending, until the exit.
        """
        undefine, self.relext_pending_undefine = self.relext_pending_undefine, []
        for table, name in undefine:
            if self.relext_is_declared(table, name):
                self._relext_touched()
                self.execute('SELECT rel_undefine(%s)', ('%s.%s' % (table, name),))
        if not self.relext_pending:
            return
        pending = list(self.relext_pending.values())
        pending.sort(key=lambda d: d.kind == 'ManyToManyField')
        self.relext_pending = {}
        todo = []
        for decl in pending:
            if not self.collect_sql and not all(self._table_exists(t) for t in decl.tables()):
                if not final:
                    self.relext_pending[decl.key()] = decl
                else:
                    logger.debug('relext: not declared (no table): %s', decl.label)
                continue
            if self.relext_is_declared(decl.table, decl.name) and not self.collect_sql:
                # The same definition again is a no-op; a different one
                # replaces the declared one.
                try:
                    self.execute('SELECT rel_define(%s, %s, %s, %s)', decl.params())
                    continue
                except DatabaseError as e:
                    if 'is already defined differently' not in str(e):
                        raise
                self._relext_touched()
                self.execute('SELECT rel_undefine(%s)', (decl.label,))
            todo.append(decl)
        if len(todo) > 1 and not self.collect_sql and self.relext_define_many(todo):
            return
        for decl in todo:
            self.relext_define(decl.params())

    def relext_define_many(self, decls):
        """
        Declare decls in one rel_define_many call. False if it failed
        (nothing of it is left: the caller declares them one by one).
        """
        self._relext_touched()
        started = time.perf_counter()
        try:
            # A savepoint of our own: a failure inside Django's atomic()
            # must not mark the whole transaction as needing a rollback.
            with transaction.atomic(using=self.connection.alias):
                self.execute('SELECT rel_define_many(%s)',
                             (json.dumps([list(d.params()) for d in decls]),))
        except DatabaseError as e:
            logger.debug('relext: rel_define_many failed, one by one: %s', e)
            return False
        if _TRACE:
            with open(_TRACE, 'a') as f:
                f.write('%.4f rel_define_many of %d\n' % (time.perf_counter() - started, len(decls)))
        return True

    # -- the guards around a table rebuild ----------------------------------

    def relext_rebuild_begin(self, table):
        """
        SELECT rel_rebuild_begin(table): 1 when relext governs the table
        (rel_rebuild_end must follow, before COMMIT), 0 when not.
        """
        if self.collect_sql:
            return False
        with self._relext_cursor() as cursor:
            if not catalog.has_catalog(cursor):
                return False
            cursor.execute('SELECT rel_rebuild_begin(%s)', (table,))
            return bool(cursor.fetchone()[0])

    def relext_rebuild_end(self, table):
        with self._relext_cursor() as cursor:
            cursor.execute('SELECT rel_rebuild_end(%s)', (table,))

    # -- DDL that drops or renames a table ----------------------------------

    _drop_re = re.compile(r'^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(%s)\s*;?\s*$' % _NAME, re.I)
    _rename_re = re.compile(
        r'^\s*ALTER\s+TABLE\s+(%s)\s+RENAME\s+TO\s+(%s)\s*;?\s*$' % (_NAME, _NAME), re.I)

    def execute(self, sql, params=()):
        """
        Every table the schema editor drops or renames goes through here
        (delete_model, alter_db_table, and DROP TABLE statements that tests
        and RunSQL run through execute()). The relations that name the table
        are undeclared first; after a rename they are declared again under
        the new name. _remake_table's own drop and rename are left alone.
        """
        text = str(sql)
        if self.relext_remaking or self.collect_sql or params:
            return super().execute(sql, params)
        drop = self._drop_re.match(text)
        rename = None if drop else self._rename_re.match(text)
        if not (drop or rename):
            return super().execute(sql, params)
        old = _unquote((drop or rename).group(1))
        self.relext_declare_pending()
        with self._relext_cursor() as cursor:
            rows = catalog.rows_touching(cursor, old)
        # A through model's ForeignKeys after its ManyToManyField goes, and
        # back before it is declared again.
        rows.sort(key=lambda r: r['kind'] != 'ManyToManyField')
        for row in rows:
            self.relext_undefine(row['model'], row['field'])
        for key in [k for k, d in self.relext_pending.items() if old in d.tables()]:
            if drop:
                del self.relext_pending[key]
        result = super().execute(sql, params)
        if rename:
            new = _unquote(rename.group(2))
            rows.reverse()
            for row in rows:
                self.relext_define(catalog.row_params(row, {old: new}))
        return result

    # -- Django's operations --------------------------------------------------

    def create_model(self, model):
        super().create_model(model)
        for field in relation_fields(model):  # none for auto-created junctions
            self.relext_queue(model, field)

    def add_field(self, model, field):
        self.relext_declare_pending()
        super().add_field(model, field)
        if field.is_relation and not model._meta.auto_created:
            self.relext_queue(model, field)

    def remove_field(self, model, field):
        self.relext_declare_pending()
        if field.is_relation and not model._meta.auto_created:
            self.relext_undefine(model._meta.db_table, field.name)
        super().remove_field(model, field)

    def _relext_declaration(self, model, field):
        if not field.is_relation or model._meta.auto_created:
            return None
        try:
            return field_declaration(model, field)
        except Exclusion:
            return None

    def alter_field(self, model, old_field, new_field, strict=False):
        """
        The field's own declaration is replaced when it changes. When the
        column is renamed, the declarations of other fields that name it
        (a to_field, a junction's through_fields) are declared again with
        the new name.
        """
        self.relext_declare_pending()
        table = model._meta.db_table
        old_decl = self._relext_declaration(model, old_field)
        new_decl = self._relext_declaration(model, new_field)
        changed = (old_decl is None) != (new_decl is None) or (
            old_decl is not None and old_decl.params() != new_decl.params())
        old_column = getattr(old_field, 'column', None)
        new_column = getattr(new_field, 'column', None)
        others = []
        if old_column and new_column and old_column != new_column and not self.collect_sql:
            with self._relext_cursor() as cursor:
                for row in catalog.rows_touching(cursor, table):
                    if row['model'] == table and row['field'] == old_field.name:
                        continue
                    if catalog.row_names_column(row, table, old_column):
                        others.append(row)
        others.sort(key=lambda r: r['kind'] != 'ManyToManyField')
        for row in others:
            self.relext_undefine(row['model'], row['field'])
        if changed and old_decl is not None:
            if self._field_should_be_altered(old_field, new_field) or others:
                self.relext_undefine(table, old_field.name)
            elif new_decl is None or new_decl.key() != old_decl.key():
                # Django changes nothing in the database (on_delete,
                # related_name, a field name alone: "attributes that don't
                # affect the schema", for Django): the declaration is
                # replaced when the schema editor exits, with the others
                # (a pending declaration replaces one of the same name).
                self.relext_pending_undefine.append((table, old_field.name))
        super().alter_field(model, old_field, new_field, strict=strict)
        for row in reversed(others):
            self.relext_define(catalog.row_params(row, columns={(table, old_column): new_column}))
        if changed and new_decl is not None:
            self.relext_pending[new_decl.key()] = new_decl

    def _remake_table(self, model, create_field=None, delete_field=None, alter_field=None):
        if delete_field is not None and delete_field.many_to_many:
            # Not a rebuild: Django drops the auto-created junction.
            return super()._remake_table(model, delete_field=delete_field)
        self.relext_declare_pending()
        table = model._meta.db_table
        # rel_rebuild_begin needs a transaction: the migration's, or one of
        # its own (a migration with atomic = False).
        with transaction.atomic(using=self.connection.alias):
            rebuilding = self.relext_rebuild_begin(table)
            self.relext_remaking += 1
            try:
                super()._remake_table(
                    model, create_field=create_field, delete_field=delete_field,
                    alter_field=alter_field)
            finally:
                self.relext_remaking -= 1
            if rebuilding:
                self.relext_rebuild_end(table)
