#!/usr/bin/env node
// The `bazar` command (package.json "bin"; `npx bazar ...` in a clone runs this file). The CLI is TypeScript
// compiled to dist/: `npm ci` builds it through the "prepare" script, and this shim rebuilds it first whenever a
// source is newer than the last build (scripts/build-if-needed.js), so a fresh or edited checkout never runs
// stale code. Without the TypeScript compiler (a production install) it runs whatever dist/ holds.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const compiled = path.join(root, 'dist', 'cli', 'main.js');

let buildIfNeeded;
try {
  require.resolve('typescript/bin/tsc');
  ({ buildIfNeeded } = require('../scripts/build-if-needed.js'));
} catch {
  buildIfNeeded = () => undefined;
}
buildIfNeeded();
if (!fs.existsSync(compiled)) {
  process.stderr.write(`bazar: the CLI is not built; run 'npm ci' (or 'npm run build') in ${root}\n`);
  process.exit(3);
}
require(compiled).run();
