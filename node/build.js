// build.js -- npm's install step: compile relext.so from the C sources of
// the relext checkout this package sits in (../ext), with the system's C
// compiler, into this directory. Nothing to do when relext.so is here, or
// when there are no sources (then index.js looks for ../relext.so, which
// `make` builds at the repository root). No download, no node-gyp: the
// file is a SQLite extension that better-sqlite3 loads, not a Node addon.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const here = __dirname;
const out = path.join(here, 'relext.so');
const ext = path.join(here, '..', 'ext');

if (fs.existsSync(out) || !fs.existsSync(ext)) process.exit(0);
const sources = fs.readdirSync(ext).filter((f) => f.endsWith('.c')).map((f) => path.join(ext, f));
const cc = process.env.CC || 'cc';
execFileSync(cc, ['-std=c11', '-O2', '-fPIC', '-shared', '-o', out, ...sources], { stdio: 'inherit' });
