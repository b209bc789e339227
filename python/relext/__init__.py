"""
relext for Python: Django's relationships enforced inside SQLite.

    import sqlite3
    import relext

    conn = sqlite3.connect('blog.db')
    relext.load(conn)
    try:
        conn.execute('DELETE FROM category WHERE id = 1')
    except relext.ProtectedError as e:
        print(e.table, e.key, e.relationship)   # category 1 article.category

The package carries the compiled extension (relext.so); loadable_path()
gives its path for hosts that load extensions themselves. Every error that
relext raises starts with "relext: "; errors() turns such an
sqlite3.IntegrityError into one of the classes below, whose attributes are
parsed from the message.

Inside a transaction, a refusal that relext can only decide at the end of
the statement (a RESTRICT another row of the same DELETE could still lift)
fails the statement through SQLite's foreign-key counter: the message is
SQLite's own "FOREIGN KEY constraint failed", and `SELECT rel_last_error()`
gives relext's. errors() reads it when it is given the connection
(errors(conn), errors(exc, conn)). The Django database backend lives in
relext.django.
"""
import os
import re
import sqlite3

__all__ = [
    'DanglingKeyError', 'NullKeyError', 'ProtectedError', 'RelextError',
    'RestrictedError', 'errors', 'last_error', 'load', 'loadable_path',
    'sql_quote',
]

_HERE = os.path.dirname(os.path.abspath(__file__))


def loadable_path():
    """
    Return the path of the compiled extension, without its suffix (SQLite
    adds ".so"), as load_extension() and the sqlite3 shell's .load take it.

    The installed package carries relext.so beside this file. Run from a
    source checkout, the extension that `make` builds at the repository
    root is used instead.
    """
    candidates = [
        os.path.join(_HERE, 'relext'),
        os.path.join(os.path.dirname(os.path.dirname(_HERE)), 'relext'),
    ]
    for base in candidates:
        if os.path.exists(base + '.so'):
            return base
    raise FileNotFoundError(
        'relext.so not found (looked for %s): install the package, or run '
        '`make` at the repository root' % ', '.join(c + '.so' for c in candidates)
    )


def load(conn, path=None):
    """
    Load relext into the sqlite3 connection `conn`. Every relationship that
    the database declares comes into force for that connection. Loading
    twice is harmless. Extension loading is switched off again afterwards.
    """
    conn.enable_load_extension(True)
    try:
        conn.load_extension(path or loadable_path())
    finally:
        conn.enable_load_extension(False)


class RelextError(sqlite3.IntegrityError):
    """
    An integrity error raised by relext, with the parts of its message:

    rule          'PROTECT', 'RESTRICT', 'FOREIGN KEY' or 'NOT NULL'
    table         the table of the row concerned
    key           that row's key (its primary key, or rowid), a Python value
    relationship  the relationship, 'model.field'
    count         PROTECT, RESTRICT: how many rows refer to it
    column, value, target
                  FOREIGN KEY: the key column, its value, the table it
                  should point into; NOT NULL: the column
    """
    rule = None
    pattern = None

    def __init__(self, message, **parts):
        super().__init__(message)
        self.table = parts.get('table')
        self.key = parts.get('key')
        self.relationship = parts.get('relationship')
        self.count = parts.get('count')
        self.column = parts.get('column')
        self.value = parts.get('value')
        self.target = parts.get('target')

    @classmethod
    def parse(cls, message):
        """Return an instance for `message`, or None if it is not this kind."""
        match = cls.pattern.match(message) if cls.pattern else None
        if match is None:
            return None
        parts = match.groupdict()
        if parts.get('count') is not None:
            parts['count'] = int(parts['count'])
        for name in ('key', 'value'):
            if parts.get(name) is not None:
                parts[name] = _literal(parts[name])
        return cls(message, **parts)


# A key as relext writes it: an SQL literal.
_LITERAL = r"'(?:[^']|'')*'|[xX]'[0-9A-Fa-f]*'|NULL|[-+0-9.eE]+"

_REFUSED = (
    r'cannot delete (?P<table>.+) (?P<key>%s): referenced by '
    r'(?P<count>\d+) rows? of (?P<relationship>[^ ]+)$' % _LITERAL
)


def _literal(text):
    """The Python value of an SQL literal as relext writes keys."""
    if text is None or text == 'NULL':
        return None
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text[:2] in ("x'", "X'"):
        return bytes.fromhex(text[2:-1])
    try:
        return int(text)
    except ValueError:
        return float(text)


class ProtectedError(RelextError):
    """A DELETE refused by on_delete=PROTECT (Django's ProtectedError)."""
    rule = 'PROTECT'
    pattern = re.compile(r'relext: PROTECT: ' + _REFUSED, re.S)


class RestrictedError(RelextError):
    """A DELETE refused by on_delete=RESTRICT (Django's RestrictedError)."""
    rule = 'RESTRICT'
    pattern = re.compile(r'relext: RESTRICT: ' + _REFUSED, re.S)


class DanglingKeyError(RelextError):
    """
    A key that points at no row (at COMMIT, or at the statement in
    autocommit mode). `table` and `key` name the referencing row, `column`
    and `value` its key column and value, `target` the table it should
    point into.
    """
    rule = 'FOREIGN KEY'
    pattern = re.compile(
        r'relext: FOREIGN KEY: (?P<table>.+) (?P<key>%s): (?P<column>.+)='
        r'(?P<value>%s) points at no row of (?P<target>.+) '
        r'\((?P<relationship>[^ ]+)\)$' % (_LITERAL, _LITERAL), re.S)


class NullKeyError(RelextError):
    """A NULL key in a relationship declared with null=False."""
    rule = 'NOT NULL'
    pattern = re.compile(
        r'relext: NOT NULL: (?P<table>.+) (?P<key>%s): (?P<column>.+) cannot '
        r'be NULL \((?P<relationship>[^ ]+) has null=False\)$' % _LITERAL, re.S)


_CLASSES = (ProtectedError, RestrictedError, DanglingKeyError, NullKeyError)

# SQLite's message when relext fails a statement through its foreign-key
# counter (and when SQLite's own foreign keys fail).
SQLITE_FOREIGN_KEY = 'FOREIGN KEY constraint failed'


def last_error(conn):
    """
    relext's last refusal on the sqlite3 connection `conn` (SELECT
    rel_last_error()), or None: the full message of a statement that SQLite
    failed in its own words ("FOREIGN KEY constraint failed").
    """
    try:
        row = conn.execute('SELECT rel_last_error()').fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _convert(exc, conn=None):
    if isinstance(exc, RelextError) or not isinstance(exc, sqlite3.Error):
        return exc
    message = str(exc)
    if message == SQLITE_FOREIGN_KEY and conn is not None:
        # A refusal decided at the end of the statement: only PROTECT and
        # RESTRICT are decided there.
        message = last_error(conn) or ''
        if not message.startswith(('relext: PROTECT: ', 'relext: RESTRICT: ')):
            return exc
    if not message.startswith('relext: '):
        return exc
    for cls in _CLASSES:
        new = cls.parse(message)
        if new is not None:
            for attr in ('sqlite_errorcode', 'sqlite_errorname'):
                if hasattr(exc, attr):
                    setattr(new, attr, getattr(exc, attr))
            return new
    return exc


class _Errors:
    """The context manager that errors() returns."""

    def __init__(self, conn=None):
        self.conn = conn

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_value is None:
            return False
        new = _convert(exc_value, self.conn)
        if new is exc_value:
            return False
        raise new.with_traceback(traceback) from exc_value


def errors(conn_or_exception=None, conn=None):
    """
    Map relext's errors to this module's classes.

    errors(exc) returns the ProtectedError, RestrictedError,
    DanglingKeyError or NullKeyError that the sqlite3 exception `exc`
    stands for, or `exc` itself when relext did not raise it.
    errors(exc, conn) also maps SQLite's "FOREIGN KEY constraint failed"
    of a statement that relext refused at its end, through relext's
    message on `conn` (last_error): call it right after the statement.

    errors(conn) (or errors()) is a context manager that does the same for
    any exception raised inside its block:

        with relext.errors(conn):
            conn.execute('DELETE FROM category WHERE id = 1')

    SQLite's own foreign keys (Django's REFERENCES ... DEFERRABLE
    INITIALLY DEFERRED) fail a COMMIT with the same message: a failed
    COMMIT is not relext's refusal, so commit outside the block (or do not
    pass the connection).
    """
    if isinstance(conn_or_exception, BaseException):
        return _convert(conn_or_exception, conn)
    return _Errors(conn_or_exception)


def sql_quote(text):
    """`text` as an SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"
