#!/usr/bin/env node
// The `bazar` command (package.json "bin"). It runs the compiled CLI in dist/, which `npm ci` / `npm install`
// build through the "prepare" script. In a checkout that was not built (installed with --ignore-scripts, or dist/
// removed) it falls back to the TypeScript sources through ts-node when that dev dependency is there.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const compiled = path.join(root, 'dist', 'cli', 'main.js');

if (fs.existsSync(compiled)) {
  require(compiled).run();
} else {
  let tsNode;
  try {
    tsNode = require('ts-node');
  } catch {
    process.stderr.write(`bazar: not built yet; run 'npm run build' in ${root}\n`);
    process.exit(3);
  }
  tsNode.register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });
  require(path.join(root, 'cli', 'main.ts')).run();
}
