#!/usr/bin/python3
"""scenario.py -- relext from Python's sqlite3 module (Debian's /usr/bin/python3).

    /usr/bin/python3 test/hosts/scenario.py [EXT [SCENARIO]]

EXT is the extension path without or with its suffix (default ./relext);
SCENARIO is test/hosts/scenario.sql, whose header gives the rules.
"""
import os
import sqlite3
import sys

here = os.path.dirname(os.path.abspath(__file__))
ext = sys.argv[1] if len(sys.argv) > 1 else "./relext"
script = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "scenario.sql")

# isolation_level=None: the module issues no BEGIN of its own, so the
# script's BEGIN and COMMIT are the transaction (and COMMIT reports relext's
# commit-time check).
conn = sqlite3.connect(":memory:", isolation_level=None)
conn.enable_load_extension(True)
conn.load_extension(ext)
conn.enable_load_extension(False)


def show(v):
    return "NULL" if v is None else str(v)


for line in open(script, encoding="utf-8"):
    line = line.strip()
    if line.startswith(".print "):
        print(line[7:].strip().strip('"'))
        continue
    if not line or line.startswith(".") or line.startswith("--"):
        continue
    try:
        for row in conn.execute(line):
            print("|".join(show(v) for v in row))
    except sqlite3.Error as e:
        code = getattr(e, "sqlite_errorcode", 1) & 0xFF
        print(f"error {code}: {e}")
conn.close()
