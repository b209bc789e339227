"""
inspectdb that reads relext's catalog: a ForeignKey or OneToOneField that
relext declares gets its on_delete rule (Django's own inspectdb writes
DO_NOTHING for every one), related_name, related_query_name, to_field,
default and db_constraint; the key columns of a ManyToManyField's junction
get CASCADE (relext deletes link rows with either end).

The rest is Django's inspectdb, unchanged. It is used when 'relext.django'
is in INSTALLED_APPS (an app's command replaces Django's of the same name).
"""
import re

from django.core.management.commands import inspectdb
from django.db import connections

from relext.django import catalog

_FIELD = re.compile(r"^    (\w+) = models\.(ForeignKey|OneToOneField)\(")


class Command(inspectdb.Command):

    def handle_inspection(self, options):
        connection = connections[options['database']]
        with connection.cursor() as cursor:
            rows = catalog.rows(cursor)
        self._relext_by_column = {}
        junction_keys = set()
        for row in rows:
            if row['kind'] == 'ManyToManyField':
                junction = row['through'] or row['db_table']
                if not row['through']:
                    for column in catalog._split(row['through_fields']):
                        junction_keys.add((junction, column))
            elif row['column']:
                self._relext_by_column[(row['model'], row['column'])] = row
        self._relext_junction_keys = junction_keys
        self._relext_table = None
        self._relext_column = None
        introspection = connection.introspection
        get_relations = introspection.get_relations

        def relations(cursor, table_name):
            # Called once per table, before its columns.
            self._relext_table = table_name
            return get_relations(cursor, table_name)

        introspection.get_relations = relations
        try:
            for line in super().handle_inspection(options):
                yield self._relext_line(line)
        finally:
            del introspection.get_relations

    def normalize_col_name(self, col_name, used_column_names, is_relation):
        # Called for each column, just before its line is written.
        self._relext_column = col_name
        return super().normalize_col_name(col_name, used_column_names, is_relation)

    def _relext_line(self, line):
        if not _FIELD.match(line):
            return line
        key = (self._relext_table, self._relext_column)
        row = self._relext_by_column.get(key)
        if row is None:
            if key in self._relext_junction_keys:
                return line.replace(', models.DO_NOTHING', ', models.CASCADE', 1)
            return line
        rule = row['on_delete'] or 'DO_NOTHING'
        line = line.replace(', models.DO_NOTHING', ', models.%s' % rule, 1)
        extra = []
        if row['related_name']:
            extra.append('related_name=%r' % row['related_name'])
        if row['related_query_name'] not in (None, row['related_name']):
            extra.append('related_query_name=%r' % row['related_query_name'])
        target_pk = self._relext_pk(row['target'])
        if row['to_field'] and row['to_field'] not in ('rowid', target_pk):
            extra.append('to_field=%r' % row['to_field'])
        if row['has_default']:
            extra.append('default=%r' % (row['default'],))
        if not row['db_constraint']:
            extra.append('db_constraint=False')
        if extra:
            code, sep, comment = line.partition('  # ')
            assert code.endswith(')')
            line = code[:-1] + ', ' + ', '.join(extra) + ')' + sep + comment
        return line

    def _relext_pk(self, table):
        connection = connections[self._relext_database]
        with connection.cursor() as cursor:
            return connection.introspection.get_primary_key_column(cursor, table)

    def handle(self, **options):
        self._relext_database = options['database']
        return super().handle(**options)
