"""A DiscoverRunner that writes every test's outcome to a JSON file.

Django's runtests.py takes the runner from settings.TEST_RUNNER; the
settings modules of this directory name this class. The file named by the
environment variable RELEXT_SUITE_RESULTS gets one object,
{test id: outcome}, where outcome is one of pass, fail, error, skip,
xfail (expected failure), upass (unexpected success). A test whose subtests
fail is "fail" (or "error") once. The events of parallel workers reach the
main process's result object, so this works with --parallel too.
"""
import json
import os
import unittest

from django.test.runner import DiscoverRunner

RANK = {'pass': 0, 'skip': 0, 'xfail': 0, 'upass': 1, 'fail': 2, 'error': 3}


class RecordingResult(unittest.TextTestResult):
    outcomes = {}
    details = {}

    def _note(self, test, outcome, err=None):
        test_id = test.id()
        old = self.outcomes.get(test_id)
        if old is None or RANK[outcome] > RANK[old]:
            self.outcomes[test_id] = outcome
            if err is not None:
                self.details[test_id] = self._exc_info_to_string(err, test) \
                    if isinstance(err, tuple) else str(err)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._note(test, 'pass')

    def addError(self, test, err):
        super().addError(test, err)
        # Errors in setUpClass/tearDownClass come with a _ErrorHolder.
        self._note(test, 'error', err)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._note(test, 'fail', err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._note(test, 'skip')

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._note(test, 'xfail')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._note(test, 'upass')

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failure = issubclass(err[0], test.failureException)
            self._note(test, 'fail' if failure else 'error', err)


def declaration_report(connection):
    """
    What relext declared in the test database, against what the installed
    models ask for: counts, and the relations left out with the reason.
    """
    from django.apps import apps
    from relext.django.declare import Exclusion, declarations

    excluded = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {r[0] for r in cursor.fetchall()}
        cursor.execute('SELECT model, field FROM relext_relations')
        declared = {tuple(r) for r in cursor.fetchall()}
    models = [m for m in apps.get_models() if m._meta.db_table in tables]
    wanted = []
    for d in declarations(models, excluded):
        if all(t in tables for t in d.tables()):
            wanted.append(d)
        else:
            excluded.append(Exclusion(d.model, d.field, 'a table it needs does not exist',
                                      'unmanaged model'))
    missing = [d.label for d in wanted if d.key() not in declared]
    categories = {}
    for e in excluded:
        categories.setdefault(e.category, []).append(str(e))
    notes = [(d.label, n) for d in wanted for n in d.notes]
    return {
        'models_with_tables': len(models),
        'declared': sorted(d.label for d in wanted if d.key() in declared),
        'missing': missing,
        'excluded': categories,
        'approximated': notes,
        'declare_errors': [
            (p[0], msg) for p, msg in getattr(connection, 'relext_declare_errors', [])
        ],
    }


class RecordingRunner(DiscoverRunner):
    report = None

    def get_resultclass(self):
        return RecordingResult

    def setup_databases(self, **kwargs):
        old_config = super().setup_databases(**kwargs)
        from django.db import connections
        conn = connections['default']
        if conn.settings_dict['ENGINE'] == 'relext.django':
            RecordingRunner.report = declaration_report(conn)
        return old_config

    def run_suite(self, suite, **kwargs):
        result = super().run_suite(suite, **kwargs)
        path = os.environ.get('RELEXT_SUITE_RESULTS')
        if path:
            with open(path, 'w') as f:
                json.dump({'outcomes': RecordingResult.outcomes,
                           'details': RecordingResult.details,
                           'declarations': RecordingRunner.report},
                          f, indent=0, sort_keys=True)
        return result
