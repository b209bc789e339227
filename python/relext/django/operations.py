from django.db.backends.sqlite3.operations import (
    DatabaseOperations as SQLiteDatabaseOperations,
)


class DatabaseOperations(SQLiteDatabaseOperations):
    pass
