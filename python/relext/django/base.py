"""
The relext database backend: django.db.backends.sqlite3 with relext loaded
into every connection (the way django.contrib.gis's SpatiaLite backend
loads its library).

The library is the one given by the RELEXT_LIBRARY_PATH setting, else the
one the relext package carries (relext.loadable_path()).

After `migrate` (post_migrate), the relationships of each migrated app that
the database lacks are declared: a database made before it used this
backend gets them at its next migrate.
"""
import relext
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.sqlite3.base import (
    DatabaseWrapper as SQLiteDatabaseWrapper,
)
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate
from django.db.utils import DatabaseErrorWrapper

from .creation import DatabaseCreation
from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .operations import DatabaseOperations
from .schema import DatabaseSchemaEditor


class RelextErrorWrapper(DatabaseErrorWrapper):
    """
    Django's error wrapper, which turns relext's refusals into exceptions
    that are both Django's IntegrityError and relext's own class
    (relext.ProtectedError, ...), with the parsed attributes.

    A refusal that relext decides at the end of a statement inside a
    transaction comes as SQLite's "FOREIGN KEY constraint failed"; relext's
    message is then SELECT rel_last_error(). Django's own constraints are
    DEFERRABLE INITIALLY DEFERRED, so on this backend a statement fails with
    that message only through relext; a COMMIT that fails with it is
    SQLite's deferred check, and stays Django's IntegrityError.
    """

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_value is not None and not isinstance(exc_value, relext.RelextError):
            wrapper = self.wrapper
            conn = None if wrapper.relext_committing else wrapper.connection
            new = relext.errors(exc_value, conn)
            if new is not exc_value:
                from . import errors
                django_error = errors.django_class(type(new))(*new.args)
                django_error.__dict__.update(new.__dict__)
                raise django_error.with_traceback(traceback) from exc_value
        return super().__exit__(exc_type, exc_value, traceback)


def declare_missing(sender, using=DEFAULT_DB_ALIAS, apps=global_apps, **kwargs):
    """
    post_migrate: declare the relationships of the app's models that the
    database lacks -- models whose tables were made before the database
    used this backend, or by other means than the schema editor. What is
    declared already is left alone (the schema editor keeps it in step).
    """
    connection = connections[using]
    if not isinstance(connection, DatabaseWrapper):
        return
    from . import catalog
    from .declare import declarations
    models = list(sender.get_models())
    if not models:
        return
    with connection.cursor() as cursor:
        declared = {(r['model'], r['field']) for r in catalog.rows(cursor)}
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {r[0] for r in cursor.fetchall()}
    missing = [
        d for d in declarations(models)
        if d.key() not in declared and all(t in tables for t in d.tables())
    ]
    if missing:
        with connection.schema_editor() as editor:
            for d in missing:
                editor.relext_pending[d.key()] = d


class DatabaseWrapper(SQLiteDatabaseWrapper):
    display_name = 'SQLite with relext'
    SchemaEditorClass = DatabaseSchemaEditor
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs):
        self.relext_library_path = getattr(settings, 'RELEXT_LIBRARY_PATH', None)
        super().__init__(*args, **kwargs)

    def get_new_connection(self, conn_params):
        conn = super().get_new_connection(conn_params)
        try:
            path = self.relext_library_path or relext.loadable_path()
            relext.load(conn, path)
        except AttributeError:
            conn.close()
            raise ImproperlyConfigured(
                'relext requires an sqlite3 module that allows extension '
                'loading (enable_load_extension).'
            )
        except Exception as e:
            conn.close()
            raise ImproperlyConfigured(
                'Unable to load the relext extension%s: %s' % (
                    ' given by RELEXT_LIBRARY_PATH' if self.relext_library_path else '',
                    e,
                )
            )
        return conn

    @property
    def wrap_database_errors(self):
        return RelextErrorWrapper(self)

    # relext keeps the definitions of the catalog in memory, per connection.
    # A rollback that undoes rel_define/rel_undefine (a failed migration, a
    # schema editor left by an exception) brings the catalog back but not
    # that copy: reload it then.
    relext_catalog_touched = False

    def relext_reload(self):
        self.relext_catalog_touched = False
        if self.connection is None:
            return
        cursor = self.connection.cursor()
        try:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                "AND name = 'relext_relations'")
            if cursor.fetchone():
                cursor.execute('SELECT rel_reload()')
        finally:
            cursor.close()

    def _rollback(self):
        super()._rollback()
        if self.relext_catalog_touched:
            self.relext_reload()

    def _savepoint_rollback(self, sid):
        super()._savepoint_rollback(sid)
        if self.relext_catalog_touched:
            touched = self.relext_catalog_touched
            self.relext_reload()
            # An outer transaction may still be rolled back.
            self.relext_catalog_touched = touched

    # A COMMIT's "FOREIGN KEY constraint failed" is SQLite's deferred check,
    # not a refusal of relext's (RelextErrorWrapper).
    relext_committing = False

    def _commit(self):
        self.relext_committing = True
        try:
            super()._commit()
        finally:
            self.relext_committing = False
        self.relext_catalog_touched = False


post_migrate.connect(declare_missing, dispatch_uid='relext.django.declare_missing')
