from django.db.backends.sqlite3.features import (
    DatabaseFeatures as SQLiteDatabaseFeatures,
)


class DatabaseFeatures(SQLiteDatabaseFeatures):
    pass
