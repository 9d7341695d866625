// Builds dist/ with tsc when any TypeScript source is newer than the last build; a no-op otherwise.
// Used by `npm start` and the per-service `npm run start:*` scripts, so a fresh clone runs without a manual build.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const SOURCES = ['common', 'catalog-server', 'order-server', 'frontend-server', 'cli', 'support'];
const MARKER = path.join(root, 'dist', '.built');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function buildIfNeeded({ force = false } = {}) {
  const built = fs.existsSync(MARKER) ? fs.statSync(MARKER).mtimeMs : 0;
  const changed = Math.max(...SOURCES.map((dir) => newestMtime(path.join(root, dir))));
  if (!force && built >= changed) return;
  if (!force) process.stderr.write('bazar: building (tsc)...\n');
  // From empty: tsc never deletes outputs, so a source moved from common/x.ts to common/x/index.ts would leave a
  // stale dist/common/x.js that require() still prefers over the folder.
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  fs.writeFileSync(MARKER, new Date().toISOString());
}

module.exports = { buildIfNeeded };
// `npm run build` passes --force: always compile, and record the build so the next start skips it.
if (require.main === module) buildIfNeeded({ force: process.argv.includes('--force') });
