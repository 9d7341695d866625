// npm's "prepare" step (runs on `npm ci` / `npm install` in a clone): build dist/ so `npx bazar` and the services
// start at once. An install without dev dependencies has no TypeScript compiler; it must still succeed, so then
// this step only says why it built nothing.
try {
  require.resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('bazar: no TypeScript compiler installed (dev dependencies omitted); not building dist/\n');
  process.exit(0);
}
require('./build-if-needed.js').buildIfNeeded();
