"""
Operations: Django's SQLite operations, with a flush that works whatever
on_delete rules the flushed tables have.

Django's flush (and so every TransactionTestCase teardown) empties the
tables with one DELETE FROM per table, in no particular order, inside one
transaction: Django's own constraints are deferred, so the order never
matters to them. relext's rules run at each DELETE, and PROTECT would
refuse the first parent whose children are still there. So sql_flush()
empties the tables with one call of relext's rel_flush() instead:

    SELECT rel_flush('["app_article", "app_category", ...]');

rel_flush deletes every row of the named tables; relationships between
two of them impose nothing, and a row of a table outside the set that
still references a flushed row refuses the flush (with a relext: message
that names the table to flush too), as Django's deferred constraints
refuse it at COMMIT. Every rule stays in force for every other table, and
for the flushed ones once the call returns. (`manage.py sqlflush` prints
that statement; the sqlite3 shell runs it once relext is loaded.)

Django widens the set to the tables that reference it (allow_cascade, as
TransactionTestCase.available_apps asks) from the REFERENCES clauses;
sql_flush() also follows relext's relationships.
"""
import json

from django.db.backends.sqlite3.operations import (
    DatabaseOperations as SQLiteDatabaseOperations,
)

from . import catalog


class DatabaseOperations(SQLiteDatabaseOperations):

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables:
            return []
        if allow_cascade:
            tables = self.relext_referencing(tables)
        tables = sorted(set(tables))
        names = json.dumps(tables, ensure_ascii=False).replace("'", "''")
        sql = ["%s %s('%s');" % (
            style.SQL_KEYWORD('SELECT'), style.SQL_KEYWORD('rel_flush'), names)]
        if reset_sequences:
            sequences = [{'table': table} for table in tables]
            sql.extend(self.sequence_reset_by_name_sql(style, sequences))
        return sql

    def relext_referencing(self, tables):
        """`tables` and every table that references one of them, through a
        relationship relext declares (junctions included) or a REFERENCES
        clause, recursively."""
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
            table = todo.pop()
            children = set(edges.get(table, ()))
            # Django's own graph of REFERENCES clauses (recursive already).
            children.update(self._references_graph(table))
            for child in children:
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return sorted(out)
