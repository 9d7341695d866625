/**
 * CI smoke of `npm run bench` (needs `npm run build`, as npm test does): a tiny run must start everything, load
 * every scenario and write its JSON and SVG. It asserts that the bench works, never how fast anything is.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../common/paths';
import { tempDir } from '../helpers/stack';

describe('bench smoke (npm run bench -- --quick, tiny)', function () {
  this.timeout(120_000);

  it('when the bench runs briefly, then every scenario is measured against the baseline and JSON and SVG are written', async () => {
    const tmp = tempDir('bazar-bench-smoke-');
    try {
      const root = projectRoot(__dirname);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(root, 'dist/bench/run.js'), '--quick', '--duration', '1', '--warmup', '0', '--connections', '4', '--out', tmp.dir],
        { cwd: root, timeout: 100_000 },
      );
      expect(stdout).to.contain('× baseline');
      const files = readdirSync(tmp.dir);
      const json = files.find((f) => /^bench-.*\.json$/.test(f));
      const svg = files.find((f) => /^bench-.*\.svg$/.test(f));
      expect(json, 'JSON written').to.be.a('string');
      expect(svg, 'SVG written').to.be.a('string');
      const report = JSON.parse(readFileSync(join(tmp.dir, json!), 'utf8'));
      expect(report.scenarios.map((s: { name: string }) => s.name)).to.deep.equal([
        'baseline',
        'lookup-cache-hit',
        'lookup-cache-off',
        'search-cache-hit',
        'search-cache-off',
        'buy',
        'mix-90-10',
      ]);
      for (const s of report.scenarios) {
        expect(s.requests, `${s.name} ran`).to.be.greaterThan(0);
        expect(s.errors, `${s.name} had no failed requests`).to.equal(0);
        expect(s.ratio).to.be.a('number');
      }
      const chart = readFileSync(join(tmp.dir, svg!), 'utf8');
      expect(chart).to.match(/^<svg /);
      expect(chart).to.contain('lookup, cache hit');
    } finally {
      tmp.remove();
    }
  });
});
