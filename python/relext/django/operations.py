"""
Operations: Django's SQLite operations, and a flush that works whatever
on_delete rules the flushed tables have.

Django's flush (and so every TransactionTestCase teardown) empties the
tables with one DELETE FROM per table, in no particular order, inside one
transaction: Django's own constraints are deferred, so order never matters
to them. relext's rules run at each DELETE: PROTECT refuses the first
parent whose children are still there. So execute_sql_flush() takes the
rules of the flushed tables out for the duration of the flush:

- the delete triggers that carry a flushed table's rules (the stored
  relext_guard_d_<table>, and the connection's TEMP relext_del_<table>)
  are dropped, the DELETEs run (each with WHERE true: without triggers
  SQLite would truncate the table without looking at its indexes), and the
  triggers are created again from their own SQL text, all inside the
  flush's transaction;
- everything else stays in force: the guard indexes still note every key
  that goes, and relext's COMMIT check still refuses the flush if a table
  outside the flushed set keeps a key into it (as Django's deferred
  constraints do).

Django widens the set to the tables that reference it (allow_cascade, as
TransactionTestCase.available_apps asks) from the REFERENCES clauses;
sql_flush() adds the tables that reference it through relext's
relationships.
"""
import re

from django.db import transaction
from django.db.backends.sqlite3.operations import (
    DatabaseOperations as SQLiteDatabaseOperations,
)

from . import catalog

_ANSI = re.compile(r'\x1b\[[0-9;]*m')
_DELETE = re.compile(r'^DELETE FROM "((?:[^"]|"")+)";?$')


def flushed_tables(sql_list):
    tables = []
    for sql in sql_list:
        m = _DELETE.match(_ANSI.sub('', sql).strip())
        if m:
            tables.append(m.group(1).replace('""', '"'))
    return tables


class DatabaseOperations(SQLiteDatabaseOperations):

    def execute_sql_flush(self, sql_list):
        tables = flushed_tables(sql_list)
        with transaction.atomic(
            using=self.connection.alias,
            savepoint=self.connection.features.can_rollback_ddl,
        ):
            with self.connection.cursor() as cursor:
                saved = self.relext_suspend_delete_rules(cursor, tables)
                for sql in sql_list:
                    if saved and _DELETE.match(_ANSI.sub('', sql).strip()):
                        # Without triggers, a DELETE without WHERE truncates
                        # the table past relext's guard indexes.
                        sql = _ANSI.sub('', sql).strip().rstrip(';') + ' WHERE true'
                    cursor.execute(sql)
                for sql in saved:
                    cursor.execute(sql)

    def relext_suspend_delete_rules(self, cursor, tables):
        """
        Drop the triggers that run the on_delete rules of `tables`; return
        the statements that create them again.
        """
        if not tables:
            return []
        marks = ', '.join(['%s'] * len(tables))
        saved = []
        for schema, temp in (('sqlite_master', False), ('sqlite_temp_master', True)):
            cursor.execute(
                "SELECT name, sql FROM %s WHERE type = 'trigger' AND "
                "(name GLOB 'relext_guard_d_*' OR name GLOB 'relext_del_*') "
                "AND tbl_name IN (%s)" % (schema, marks), tables)
            for name, sql in cursor.fetchall():
                if temp:
                    # sqlite_temp_master keeps the text without TEMP.
                    sql = re.sub(r'^CREATE\s+TRIGGER', 'CREATE TEMP TRIGGER', sql, flags=re.I)
                cursor.execute('DROP TRIGGER %s%s' % (
                    'temp.' if temp else 'main.', self.quote_name(name)))
                saved.append(sql)
        return saved

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if tables and allow_cascade:
            tables = self.relext_referencing(tables)
        return super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)

    def relext_referencing(self, tables):
        """`tables` and every table that references one of them through a
        relationship relext declares, recursively (junctions included)."""
        with self.connection.cursor() as cursor:
            rows = catalog.rows(cursor)
        edges = {}
        for row in rows:
            edges.setdefault(row['target'], set()).add(row['model'])
            if row['kind'] == 'ManyToManyField':
                junction = row['through'] or row['db_table']
                edges.setdefault(row['model'], set()).add(junction)
                edges.setdefault(row['target'], set()).add(junction)
        out = set(tables)
        todo = list(out)
        while todo:
            for child in edges.get(todo.pop(), ()):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return sorted(out)
