"""
manage.py relext -- relext's view of a Django project's database.

    manage.py relext check                 every violation (rel_check); exit 1 if any
    manage.py relext graph [--format F]    the ER diagram: mermaid, dot, or svg
                                           (svg needs Graphviz's `dot`)
    manage.py relext collect app.Model PK  what deleting that row would do
                                           (rel_collect), changing nothing
    manage.py relext sql [--no-load]       the rel_define() script of the
                                           installed models (sqlite3 shell)
    manage.py relext sync                  declare what the installed models
                                           ask for and the database lacks;
                                           replace what differs

--database chooses the connection (default: 'default'). check, graph and
collect work on any database where relext is loaded; sql needs none.
"""
import subprocess
import sys

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from relext.django import catalog
from relext.django.declare import declarations, sql_str


class Command(BaseCommand):
    help = "relext: check, graph, collect and sql for the project's relationships."

    def add_arguments(self, parser):
        parser.add_argument(
            '--database', default=DEFAULT_DB_ALIAS,
            help='Nominates a database (default: "default").')
        sub = parser.add_subparsers(dest='action', metavar='ACTION')
        sub.required = True
        sub.add_parser('check', help='list every violation of the declared rules')
        graph = sub.add_parser('graph', help='the declared relationships as an ER diagram')
        graph.add_argument('--format', default='mermaid', choices=('mermaid', 'dot', 'svg'))
        collect = sub.add_parser('collect', help='what deleting one row would do')
        collect.add_argument('model', help='app_label.ModelName')
        collect.add_argument('pk', help='primary key of the row')
        sql = sub.add_parser('sql', help="the rel_define() script of the installed models")
        sql.add_argument('--no-load', action='store_true',
                         help='do not start the script with .load relext')
        sub.add_parser('sync', help='declare the installed models\' relationships')

    def handle(self, *args, **options):
        action = options['action']
        self.using = options['database']
        return getattr(self, 'do_' + action)(**options)

    def _cursor(self):
        return connections[self.using].cursor()

    def _query(self, sql, params=()):
        with self._cursor() as cursor:
            try:
                cursor.execute(sql, params)
            except Exception as e:
                raise CommandError(str(e))
            return cursor.fetchall()

    def do_check(self, **options):
        rows = self._query('SELECT relationship, model, key, problem FROM rel_check')
        for relationship, model, key, problem in rows:
            self.stdout.write('%s: %s %s: %s' % (relationship, model, key, problem))
        if rows:
            raise CommandError('%d violation%s' % (len(rows), '' if len(rows) == 1 else 's'))
        self.stdout.write('No violations.')

    def do_graph(self, **options):
        fmt = options['format']
        text = self._query('SELECT rel_graph(%s)', ('mermaid' if fmt == 'mermaid' else 'dot',))[0][0]
        if fmt == 'svg':
            try:
                text = subprocess.run(
                    ['dot', '-Tsvg'], input=text.encode(), stdout=subprocess.PIPE,
                    check=True).stdout.decode()
            except (OSError, subprocess.CalledProcessError) as e:
                raise CommandError('cannot run Graphviz dot: %s' % e)
        self.stdout.write(text.rstrip('\n'))

    def do_collect(self, **options):
        try:
            model = apps.get_model(options['model'])
        except (LookupError, ValueError) as e:
            raise CommandError(str(e))
        pk = model._meta.pk.to_python(options['pk'])
        if hasattr(pk, 'hex') and not isinstance(pk, str):
            pk = pk.hex
        rows = self._query(
            'SELECT action, model, key, via, depth FROM rel_collect(%s, %s)',
            (model._meta.db_table, pk))
        widths = [max([len(str(r[i])) for r in rows] + [len(h)])
                  for i, h in enumerate(('action', 'model', 'key', 'via', 'depth'))]
        fmt = '  '.join('%%-%ds' % w for w in widths)
        self.stdout.write((fmt % ('action', 'model', 'key', 'via', 'depth')).rstrip())
        for r in rows:
            self.stdout.write((fmt % tuple('' if v is None else v for v in r)).rstrip())

    def _wanted(self):
        excluded = []
        decls = declarations(apps.get_models(), excluded)
        return decls, excluded

    def do_sql(self, **options):
        decls, excluded = self._wanted()
        out = self.stdout
        out.write('-- relext definitions of the installed models')
        if not options['no_load']:
            out.write('.load relext\n.bail on')
        out.write('BEGIN;')
        for d in decls:
            out.write('SELECT rel_define(%s,\n  %s);' % (
                ', '.join(sql_str(p) for p in d.params()[:3]), sql_str(d.params()[3])))
        for e in excluded:
            out.write('-- left out: %s' % e)
        out.write('COMMIT;')

    def do_sync(self, **options):
        decls, excluded = self._wanted()
        connection = connections[self.using]
        with self._cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {r[0] for r in cursor.fetchall()}
        declared = defined = 0
        with transaction.atomic(using=self.using), connection.schema_editor() as editor:
            for d in decls:
                if not all(t in tables for t in d.tables()):
                    continue
                editor.relext_pending[d.key()] = d
            before = self._count()
            editor.relext_declare_pending(final=True)
        after = self._count()
        declared = after
        defined = after - before
        for e in excluded:
            self.stdout.write('left out: %s' % e)
        self.stdout.write('%d relationships declared (%+d).' % (declared, defined))

    def _count(self):
        with self._cursor() as cursor:
            return len(catalog.rows(cursor))
