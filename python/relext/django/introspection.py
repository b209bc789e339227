"""
Introspection of a relext database: Django's SQLite introspection, plus the
relationships relext declares, minus relext's own objects.

- get_table_list() leaves out relext's tables (relext_relations, and any
  other relext_* table).
- get_relations() and get_key_columns() report every ForeignKey and
  OneToOneField that relext declares (catalog), besides the REFERENCES
  clauses that Django's own introspection parses from the CREATE TABLE text.
- get_constraints() leaves out relext's guard indexes (relext_guard_*):
  they are always empty, and only watch the key columns for relext.
- relext_relations(table) gives the catalog rows of a table's
  relationships, which inspectdb (relext.django's) writes as on_delete,
  related_name, related_query_name and to_field.
"""
from django.db.backends.sqlite3.introspection import (
    DatabaseIntrospection as SQLiteDatabaseIntrospection,
)

from . import catalog


def is_relext_name(name):
    return name.startswith('relext_')


class DatabaseIntrospection(SQLiteDatabaseIntrospection):

    def get_table_list(self, cursor):
        return [t for t in super().get_table_list(cursor) if not is_relext_name(t.name)]

    def relext_relations(self, cursor, table_name=None):
        """The catalog rows of table_name's relationships (or all)."""
        if table_name is None:
            return catalog.rows(cursor)
        return catalog.rows(cursor, 'WHERE model = %s', (table_name,))

    def _relext_keys(self, cursor, table_name):
        """(column, target table, target column) of relext's FK and O2O."""
        return [
            (row['column'], row['target'], row['to_field'])
            for row in self.relext_relations(cursor, table_name)
            if row['kind'] != 'ManyToManyField' and row['column']
        ]

    def get_relations(self, cursor, table_name):
        relations = super().get_relations(cursor, table_name)
        for column, target, to_field in self._relext_keys(cursor, table_name):
            if to_field == 'rowid':
                to_field = self.get_primary_key_column(cursor, target) or to_field
            relations[column] = (to_field, target)
        return relations

    def get_key_columns(self, cursor, table_name):
        key_columns = super().get_key_columns(cursor, table_name)
        known = {k[0] for k in key_columns}
        for column, target, to_field in self._relext_keys(cursor, table_name):
            if column not in known:
                key_columns.append((column, target, to_field))
        return key_columns

    def get_constraints(self, cursor, table_name):
        constraints = super().get_constraints(cursor, table_name)
        return {
            name: c for name, c in constraints.items()
            if not is_relext_name(name)
        }
