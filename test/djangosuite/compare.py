#!/usr/bin/python3
"""
compare.py -- Django's test suite on two backends, side by side.

    compare.py PLAIN.json RELEXT.json [--details]

Each file is what recorder.RecordingRunner wrote. Prints, per app, the
tests run and the counts of pass / fail / error / skip (expected failures
count as passes, unexpected successes as failures) for both backends, then
every test whose outcome differs, then what relext declared. Exit status 0
when relext's outcomes equal plain's test for test, 1 otherwise.
"""
import json
import sys
from collections import Counter, defaultdict

KIND = {'pass': 'pass', 'xfail': 'pass', 'skip': 'skip', 'fail': 'fail',
        'upass': 'fail', 'error': 'error'}


def load(path):
    with open(path) as f:
        return json.load(f)


def per_app(outcomes):
    apps = defaultdict(Counter)
    for test_id, outcome in outcomes.items():
        apps[test_id.split('.')[0]][KIND[outcome]] += 1
    return apps


def main(argv):
    details = '--details' in argv
    argv = [a for a in argv if not a.startswith('--')]
    plain, rel = load(argv[0]), load(argv[1])
    po, ro = plain['outcomes'], rel['outcomes']
    pa, ra = per_app(po), per_app(ro)
    cols = ('pass', 'fail', 'error', 'skip')
    head = '%-28s %6s  %s  |  %s' % (
        'app', 'tests', ' '.join('%5s' % c for c in cols),
        ' '.join('%5s' % c for c in cols))
    print('%-35s  %-23s  |  %s' % ('', 'sqlite3 (plain)', 'relext.django'))
    print(head)
    total_p, total_r = Counter(), Counter()
    for app in sorted(set(pa) | set(ra)):
        p, r = pa[app], ra[app]
        total_p.update(p)
        total_r.update(r)
        mark = '' if p == r else '  <-'
        print('%-28s %6d  %s  |  %s%s' % (
            app, sum(p.values()), ' '.join('%5d' % p[c] for c in cols),
            ' '.join('%5d' % r[c] for c in cols), mark))
    print('%-28s %6d  %s  |  %s' % (
        'TOTAL', sum(total_p.values()), ' '.join('%5d' % total_p[c] for c in cols),
        ' '.join('%5d' % total_r[c] for c in cols)))
    diff = sorted(t for t in set(po) | set(ro)
                  if KIND.get(po.get(t)) != KIND.get(ro.get(t)))
    print()
    print('%d test(s) differ' % len(diff))
    for t in diff:
        print('  %-90s plain=%s relext=%s' % (t, po.get(t, '-'), ro.get(t, '-')))
        if details and t in rel.get('details', {}):
            lines = rel['details'][t].strip().splitlines()
            for line in lines[-6:]:
                print('      ' + line)
    rep = rel.get('declarations')
    if rep:
        print()
        declared = rep['declared']
        if isinstance(declared, int):
            declared = [None] * declared
        excluded = sum(len(v) for v in rep['excluded'].values())
        print('relationships of the models with tables: %d distinct; declared %d; '
              'not declared %d; excluded %d' % (
                  len(declared) + len(rep['missing']) + excluded, len(declared),
                  len(rep['missing']), excluded))
        for cat, items in sorted(rep['excluded'].items()):
            print('  excluded, %s: %d' % (cat, len(items)))
        if rep['approximated']:
            print('  declared approximately: %d' % len(rep['approximated']))
            for label, note in rep['approximated']:
                print('    %s: %s' % (label, note))
        for label in rep['missing']:
            print('  not declared: %s' % label)
        for label, msg in rep['declare_errors']:
            print('  refused: %s: %s' % (label, msg))
    return 0 if not diff and not (rep and rep['missing']) else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
