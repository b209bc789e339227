"""
Reading relext's catalog (the table relext_relations) from Django, and
turning a catalog row back into the rel_define() call that made it.
"""
from .declare import literal, py_str

COLUMNS = (
    'model', 'field', 'kind', 'target', 'column', 'to_field', 'on_delete',
    'null', 'related_name', 'related_query_name', 'db_table', 'symmetrical',
    'db_constraint', 'db_index', 'default', 'has_default', 'set_value',
    'through', 'through_fields',
)


def has_catalog(cursor):
    cursor.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'relext_relations'"
    )
    return cursor.fetchone() is not None


def rows(cursor, where='', params=()):
    """Catalog rows as dicts (none when the catalog does not exist)."""
    if not has_catalog(cursor):
        return []
    cursor.execute(
        'SELECT %s FROM relext_relations %s ORDER BY model, field' % (
            ', '.join('"%s"' % c for c in COLUMNS), where),
        params,
    )
    return [dict(zip(COLUMNS, r)) for r in cursor.fetchall()]


def rows_touching(cursor, table):
    """The rows whose model, target, junction or through table is `table`."""
    return rows(
        cursor,
        'WHERE model = %s OR target = %s OR db_table = %s OR through = %s',
        (table, table, table, table),
    )


def _split(fields):
    return [f.strip() for f in (fields or '').split(',') if f.strip()]


def row_names_column(row, table, column):
    """Does the declaration of `row` name `column` of `table`?"""
    if row['kind'] == 'ManyToManyField':
        return table in (row['db_table'], row['through']) and column in _split(
            row['through_fields'])
    return ((row['model'] == table and row['column'] == column) or
            (row['target'] == table and row['to_field'] == column))


def row_params(row, rename=None, columns=None):
    """
    The rel_define(field, kind, target, options) arguments that declare the
    relationship of a catalog row again; `rename` maps old table names to
    new ones, `columns` maps (table, old column) to the new column name.
    """
    rename = rename or {}
    columns = columns or {}

    def t(name):
        return rename.get(name, name)

    def c(table, name):
        return columns.get((table, name), name)

    options = []
    if row['kind'] != 'ManyToManyField':
        options.append('on_delete=' + row['on_delete'])
    if row['related_name'] is not None:
        options.append('related_name=' + py_str(row['related_name']))
    # relext's default query name is the related_name when one is given
    # (a hidden one such as 'friends_rel_+' cannot be given on its own).
    if row['related_query_name'] not in (None, row['related_name']):
        options.append('related_query_name=' + py_str(row['related_query_name']))
    options.append('db_constraint=%s' % bool(row['db_constraint']))
    if row['kind'] == 'ManyToManyField':
        junction = row['through'] or row['db_table']
        if row['through']:
            options.append('through=' + py_str(t(row['through'])))
        elif row['db_table']:
            options.append('db_table=' + py_str(t(row['db_table'])))
        if row['through_fields']:
            options.append('through_fields=' + py_str(', '.join(
                c(junction, f) for f in _split(row['through_fields']))))
        options.append('symmetrical=%s' % bool(row['symmetrical']))
    else:
        options.append('null=%s' % bool(row['null']))
        if row['has_default']:
            options.append('default=' + literal(row['default']))
        options.append('db_column=' + py_str(c(row['model'], row['column'])))
        if row['to_field']:
            options.append('to_field=' + py_str(c(row['target'], row['to_field'])))
        if row['kind'] == 'ForeignKey':
            options.append('db_index=%s' % bool(row['db_index']))
    return (
        '%s.%s' % (t(row['model']), row['field']),
        row['kind'],
        t(row['target']),
        ', '.join(options),
    )
