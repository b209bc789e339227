#!/usr/bin/python3
"""
run.py -- Django's own test suite on the plain sqlite3 backend and on
relext's, app by app, and the comparison.

    run.py --tests DIR [--backends plain,relext] [--jobs N] [--out DIR] [APP ...]

DIR is Django-3.2.25/tests from Debian's python-django source package
(`make django-suite-src` puts it in build/django). Each app runs in its own
runtests.py process (`--parallel 1`), so that the test database holds only
that app's models (and the contrib apps runtests.py always installs), the
way a project's database holds its own; N processes run at a time. Results
go to OUT/<backend>/<app>.json (recorder.py), and are merged into
OUT/<backend>.json; then compare.py prints both side by side. Exit status:
compare.py's (0 when relext equals plain test for test).
"""
import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

APPS = (
    'delete delete_regress many_to_one many_to_one_null one_to_one '
    'many_to_many m2m_through m2m_through_regress m2m_recursive m2m_regress '
    'm2m_and_m2o m2m_multiple m2m_intermediary null_fk null_fk_ordering '
    'nested_foreign_keys foreign_object select_related select_related_onetoone '
    'select_related_regress model_inheritance model_inheritance_regress '
    'fixtures fixtures_regress save_delete_hooks generic_relations '
    'generic_relations_regress transactions introspection inspectdb '
    'migrations schema admin_views auth_tests queries serializers '
    'prefetch_related'
).split()

SETTINGS = {'plain': 'settings_plain', 'relext': 'settings_relext'}


def run_app(tests, out, backend, app, python):
    result = os.path.join(out, backend, app + '.json')
    log = os.path.join(out, backend, app + '.log')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [HERE, os.path.join(ROOT, 'python')] +
        ([env['PYTHONPATH']] if env.get('PYTHONPATH') else []))
    env['RELEXT_SUITE_RESULTS'] = result
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env.setdefault('RELEXT_LIBRARY_PATH', os.path.join(ROOT, 'relext'))
    if os.path.exists(result):
        os.unlink(result)
    started = time.time()
    with open(log, 'w') as f:
        rc = subprocess.call(
            [python, 'runtests.py', '--settings', SETTINGS[backend],
             '--parallel', '1', '--noinput', app],
            cwd=tests, env=env, stdout=f, stderr=subprocess.STDOUT)
    elapsed = time.time() - started
    if not os.path.exists(result):
        # The run died before its end: count it as one error.
        data = {'outcomes': {app + '.RUN': 'error'},
                'details': {app + '.RUN': 'runtests.py exit status %d, see %s' % (rc, log)},
                'declarations': None}
        with open(result, 'w') as f:
            json.dump(data, f)
    return backend, app, elapsed


def merge(out, backend, apps, times):
    merged = {'outcomes': {}, 'details': {}, 'times': {}, 'declarations': None}
    decl = {'declared': [], 'missing': [], 'excluded': {},
            'approximated': [], 'declare_errors': []}
    have_decl = False
    for app in apps:
        with open(os.path.join(out, backend, app + '.json')) as f:
            data = json.load(f)
        merged['outcomes'].update(data['outcomes'])
        merged['details'].update(data.get('details', {}))
        merged['times'][app] = times.get((backend, app))
        rep = data.get('declarations')
        if rep:
            have_decl = True
            # contrib's relations are in every app's database: count them once.
            for key in ('declared', 'missing', 'approximated', 'declare_errors'):
                decl[key] += [x for x in rep[key] if x not in decl[key]]
            for cat, items in rep['excluded'].items():
                have = decl['excluded'].setdefault(cat, [])
                have += [x for x in items if x not in have]
    if have_decl:
        merged['declarations'] = decl
    path = os.path.join(out, backend + '.json')
    with open(path, 'w') as f:
        json.dump(merged, f, indent=0, sort_keys=True)
    return path


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument('--tests', required=True)
    ap.add_argument('--backends', default='plain,relext')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--out', default=os.path.join(ROOT, 'build', 'djangosuite'))
    ap.add_argument('--python', default='/usr/bin/python3')
    ap.add_argument('--details', action='store_true')
    ap.add_argument('apps', nargs='*')
    args = ap.parse_args(argv)
    apps = args.apps or APPS
    backends = args.backends.split(',')
    for b in backends:
        os.makedirs(os.path.join(args.out, b), exist_ok=True)
    jobs = [(b, a) for a in apps for b in backends]
    times = {}
    started = time.time()
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_app, os.path.abspath(args.tests), args.out, b, a,
                               args.python) for b, a in jobs]
        for fut in futures:
            b, a, elapsed = fut.result()
            times[(b, a)] = elapsed
            print('%-8s %-28s %6.1fs' % (b, a, elapsed), flush=True)
    total = time.time() - started
    paths = {b: merge(args.out, b, apps, times) for b in backends}
    for b in backends:
        print('%s: %.0fs of process time' % (
            b, sum(t for (bb, _), t in times.items() if bb == b)))
    print('wall clock: %.0fs with %d jobs' % (total, args.jobs))
    if set(backends) >= {'plain', 'relext'}:
        sys.stdout.flush()
        cmd = [sys.executable, os.path.join(HERE, 'compare.py'),
               paths['plain'], paths['relext']]
        if args.details:
            cmd.append('--details')
        return subprocess.call(cmd)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
