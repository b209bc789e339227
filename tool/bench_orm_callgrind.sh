#!/bin/sh
# bench_orm_callgrind.sh [SCALE] -- instructions (callgrind's Ir) of each
# operation of tool/bench_orm.py on Django's sqlite3 backend and on
# relext.django: each workload and backend runs twice under callgrind, with
# the operation and without it (--skip-op); the difference is the
# operation's own count. Deterministic, unlike times on a shared machine.
set -eu
scale=${1:-0.2}
dir=$(dirname "$0")
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ir() {
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$py" "$dir/bench_orm.py" \
    --reps 1 --scale "$scale" "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  sed -n 's/^==[0-9]*== Collected : //p' "$tmp/err"
}
echo "# instructions of the operation, scale $scale; target ratio <= 1.10"
for w in O1 O2 O9; do
  for b in plain relext; do
    with=$(ir --only $w --backends $b)
    without=$(ir --only $w --backends $b --skip-op)
    eval "n_$b=$((with - without))"
  done
  awk -v w=$w -v p="$n_plain" -v r="$n_relext" \
    'BEGIN { printf "%s plain %d relext %d ratio %.3f\n", w, p, r, r / p }'
done
