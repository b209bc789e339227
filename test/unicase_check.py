#!/usr/bin/env python3
"""unicase_check.py EXT -- relext lower-cases model names as str.lower() does.

Run by test/keys.test. Django names the table of 'app.Model' app_model,
model being the class name through Python's str.lower(); relext's
rel_define says which table it looked for when there is none, so its
lower-casing can be read from the message and compared with str.lower():
  1. one name made of every code point (but surrogates, NUL and '.');
  2. thousands of short names mixing capital sigmas with cased,
     case-ignorable and other code points (Final_Sigma's context);
  3. tool/gen_unicase.py still writes the committed ext/unicase.h (when this
     Python has the Unicode version the file was made from).
Prints "ok" and the counts, or the first difference; exits non-zero on one.
"""
import os
import random
import re
import sqlite3
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def looked_for(db, model):
    """The table rel_define looked for, for target 'a.<model>'."""
    try:
        db.execute("SELECT rel_define('m.f', 'fk', ?, 'on_delete=CASCADE')",
                   ("a." + model,))
    except sqlite3.Error as e:
        msg = str(e)
    else:
        raise SystemExit("unicase_check: rel_define found a table for %r" % model)
    m = re.search(r"\(looked for a_(.*)\)$", msg, re.S)
    if not m:
        raise SystemExit("unicase_check: unexpected message %r" % msg[:200])
    return m.group(1)


def main():
    ext = sys.argv[1]
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(ext)
    db.execute("CREATE TABLE m(id INTEGER PRIMARY KEY)")

    # 1. Every code point at once.
    every = "".join(chr(c) for c in range(1, 0x110000)
                    if not 0xD800 <= c <= 0xDFFF and c != ord("."))
    got = looked_for(db, every)
    want = every.lower()
    if got != want:
        i = next(k for k in range(min(len(got), len(want))) if got[k] != want[k])
        raise SystemExit("unicase_check: every code point: first difference "
                         "at %d: relext %r, Python %r"
                         % (i, got[i:i + 3], want[i:i + 3]))

    # 2. Final_Sigma contexts.
    pool = ["\u03a3", "\u03a3", "A", "b", "\u0301", "'", "\u00ad", "\u02b0",
            "1", " ", "_", "\u0130", "\u1f88", "\u2160", "\u24b6", "\u0345",
            "\U0001e900", "\u3000", "\u0308", "\u03c3", "\u00df", "\u01c5"]
    rnd = random.Random(13)
    n = 0
    for _ in range(3000):
        s = "".join(rnd.choice(pool) for _ in range(rnd.randint(1, 7)))
        s = s.replace(".", "")
        got = looked_for(db, s)
        if got != s.lower():
            raise SystemExit("unicase_check: %r: relext %r, Python %r"
                             % (s, got, s.lower()))
        n += 1

    # 3. The committed tables are what the generator writes.
    gen = "not compared (Unicode %s here)" % unicodedata.unidata_version
    with open(os.path.join(ROOT, "ext", "unicase.h"), encoding="utf-8") as f:
        committed = f.read()
    if "(Unicode %s)" % unicodedata.unidata_version in committed:
        out = subprocess.run([sys.executable,
                              os.path.join(ROOT, "tool", "gen_unicase.py")],
                             check=True, capture_output=True, text=True).stdout
        if out != committed:
            raise SystemExit("unicase_check: tool/gen_unicase.py writes "
                             "another ext/unicase.h: regenerate it")
        gen = "regenerated identically"
    print("ok: %d code points, %d sigma contexts, unicase.h %s"
          % (len(every), n, gen))


if __name__ == "__main__":
    main()
