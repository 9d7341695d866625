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
import { missingPostgresMessage, postgresInstalled } from '../../support/postgres-server';
import { tempDir } from '../helpers/stack';

const SQLITE_SCENARIOS = ['baseline', 'lookup-cache-hit', 'lookup-cache-off', 'search-cache-hit', 'search-cache-off', 'buy', 'mix-90-10'];
const POSTGRES_SCENARIOS = ['pg-lookup-cache-off', 'pg-buy', 'pg2-lookup-cache-off', 'pg2-buy'];

describe('bench smoke (npm run bench -- --quick, tiny)', function () {
  this.timeout(240_000);
  const missing = postgresInstalled() ? undefined : missingPostgresMessage();
  if (missing && process.env.CI === 'true') throw new Error(`${missing}; CI must run the PostgreSQL bench scenarios`);
  if (missing) process.stderr.write(`\n  bench smoke without its PostgreSQL scenarios: ${missing}\n\n`);

  it('when the bench runs briefly, then every scenario is measured against the baseline and JSON and SVG are written', async () => {
    const tmp = tempDir('bazar-bench-smoke-');
    try {
      const root = projectRoot(__dirname);
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(root, 'dist/bench/run.js'), '--quick', '--duration', '1', '--warmup', '0', '--connections', '4', '--out', tmp.dir],
        { cwd: root, timeout: 220_000 },
      );
      expect(stdout).to.contain('× baseline');
      expect(stdout).to.contain('CPU µs per request');
      expect(stdout).to.contain('capacity model');
      const files = readdirSync(tmp.dir);
      const json = files.find((f) => /^bench-.*\.json$/.test(f));
      const svg = files.find((f) => /^bench-.*\.svg$/.test(f));
      expect(json, 'JSON written').to.be.a('string');
      expect(svg, 'SVG written').to.be.a('string');
      const report = JSON.parse(readFileSync(join(tmp.dir, json!), 'utf8'));
      expect(report.scenarios.map((s: { name: string }) => s.name)).to.deep.equal(
        missing ? SQLITE_SCENARIOS : [...SQLITE_SCENARIOS, ...POSTGRES_SCENARIOS],
      );
      for (const s of report.scenarios) {
        expect(s.requests, `${s.name} ran`).to.be.greaterThan(0);
        expect(s.errors, `${s.name} had no failed requests`).to.equal(0);
        expect(s.ratio).to.be.a('number');
        // Every server of the scenario's stack and the load generator, each with its CPU per request.
        const tiers = s.cpu.map((c: { tier: string }) => c.tier);
        expect(tiers, `${s.name} measured the load generator`).to.include('load generator');
        expect(tiers, `${s.name} measured a server`).to.satisfy((t: string[]) => t.some((tier) => tier !== 'load generator'));
        for (const c of s.cpu) expect(c.us_per_request, `${s.name}: ${c.name}`).to.be.a('number').and.at.least(0);
      }
      expect(report.scenarios.find((s: { name: string }) => s.name === 'lookup-cache-hit').cpu.map((c: { name: string }) => c.name))
        .to.include.members(['frontend', 'catalog', 'order']);
      if (!missing) {
        expect(report.scenarios.find((s: { name: string }) => s.name === 'pg2-buy').cpu.map((c: { name: string }) => c.name))
          .to.include.members(['catalog a', 'catalog b', 'order a', 'order b', 'postgres']);
      }
      expect(report.capacity.tiers.map((t: { tier: string }) => t.tier)).to.deep.equal(['frontend', 'catalog', 'order', 'postgres']);
      for (const t of report.capacity.tiers) expect(t.replicas, t.tier).to.be.a('number').and.at.least(1);
      const chart = readFileSync(join(tmp.dir, svg!), 'utf8');
      expect(chart).to.match(/^<svg /);
      expect(chart).to.contain('lookup, cache hit');
    } finally {
      tmp.remove();
    }
  });
});
