/**
 * CI smoke of `npm run bench -- --scale` (needs `npm run build`, as npm test does): a tiny run on SQLite must seed,
 * start, load every scenario at every size and write its JSON and SVG. It asserts that the bench works, never how
 * fast anything is.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../common/paths';
import { tempDir } from '../helpers/stack';

describe('bench smoke (npm run bench -- --scale, tiny)', function () {
  this.timeout(180_000);

  it('when the scale bench runs briefly, then every scenario is measured at every size, compared with the smallest, and JSON and SVG are written', async () => {
    const tmp = tempDir('bazar-scale-smoke-');
    try {
      const root = projectRoot(__dirname);
      const args = ['--scale', '--backend', 'sqlite', '--books', '4,500', '--orders', '100,300', '--duration', '1', '--rounds', '1', '--warmup', '0', '--connections', '2', '--out', tmp.dir];
      const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'dist/bench/run.js'), ...args], { cwd: root, timeout: 170_000 });
      expect(stdout).to.contain('p50 × smallest').and.contain('catalog start (seeds)');
      const files = readdirSync(tmp.dir);
      expect(files.filter((f) => /^scale-.*\.(json|svg)$/.test(f))).to.have.length(2);
      const report = JSON.parse(readFileSync(join(tmp.dir, 'latest-scale.json'), 'utf8'));
      const cells = report.results.map((r: { scenario: string; size: number }) => `${r.scenario} @ ${r.size}`);
      expect(cells).to.deep.equal([
        'lookup @ 4', 'search, first page @ 4', 'home page @ 4',
        'lookup @ 500', 'search, first page @ 500', 'home page @ 500',
        'orders, first page @ 100', 'orders, a middle page @ 100',
        'orders, first page @ 300', 'orders, a middle page @ 300',
      ]);
      for (const row of report.results) {
        expect(row.errors, `${row.scenario} @ ${row.size}`).to.equal(0);
        expect(row.bytes).to.be.within(1, row.maxBytes);
      }
      expect(report.starts.map((s: { books: number }) => s.books)).to.deep.equal([4, 500]);
      expect(readFileSync(join(tmp.dir, 'latest-scale.svg'), 'utf8')).to.match(/^<svg[\s\S]*sqlite search 500[\s\S]*<\/svg>$/);
    } finally {
      tmp.remove();
    }
  });
});
