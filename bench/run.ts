/**
 * `npm run bench`: starts a bare Fastify baseline and the three services (plus a second frontend with CACHE=off)
 * as processes on loopback, loads each scenario with autocannon at fixed connections for a fixed time, and prints
 * rps, latency percentiles, errors and each scenario's rps as a ratio of the baseline's in the same run. Writes
 * JSON and an SVG chart under bench/results/ (git-ignored).
 *
 *   npm run bench                       10 s per scenario, 64 connections
 *   npm run bench -- --quick            3 s per scenario
 *   npm run bench -- --duration 1 --connections 16 --only lookup-cache-hit,buy --profile --out dir
 *   npm run bench -- --scale            how cost grows with the catalog and the ledger (bench/scale.ts)
 *
 * The baseline runs before every scenario and at the end; each ratio uses the baseline runs on either side.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderChart } from './chart';
import { measure, type Load, type Measurement } from './measure';
import { runScale } from './scale';
import { startScript, startService, type ServiceProcess } from '../support/service-process';

interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  out: string;
  only?: string[];
  profile: boolean;
}

const ROOT = resolve(__dirname, '..', '..');

function parseArgs(argv: string[]): Options {
  const options: Options = { durationS: 10, warmupS: 2, connections: 64, out: join(ROOT, 'bench', 'results'), profile: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--quick') (options.durationS = 3), (options.warmupS = 1);
    else if (arg === '--duration') options.durationS = Number(next());
    else if (arg === '--warmup') options.warmupS = Number(next());
    else if (arg === '--connections') options.connections = Number(next());
    else if (arg === '--out') options.out = resolve(next());
    else if (arg === '--only') options.only = next().split(',');
    else if (arg === '--profile') options.profile = true;
    else throw new Error(`unknown argument ${arg} (see bench/run.ts)`);
  }
  if (!(options.durationS > 0) || !(options.connections > 0) || !(options.warmupS >= 0)) throw new Error('duration and connections must be positive');
  return options;
}

interface Scenario {
  name: string;
  label: string;
  target: 'baseline' | 'frontend' | 'frontendNoCache';
  requests: Load['requests'];
  /** Targets, checked and printed, never asserted: absolute speed depends on the hardware the bench runs on. */
  target_min_ratio?: number;
  target_max_p99_ms?: number;
}

const lookup = (id: number) => ({ method: 'GET' as const, path: `/lookup/${id}` });
const buy = (id: number) => ({ method: 'POST' as const, path: `/buy/${id}` });

const SCENARIOS: Scenario[] = [
  { name: 'baseline', label: 'baseline (bare Fastify)', target: 'baseline', requests: [{ method: 'GET', path: '/hello' }] },
  { name: 'lookup-cache-hit', label: 'lookup, cache hit', target: 'frontend', requests: [lookup(1)], target_min_ratio: 0.85, target_max_p99_ms: 5 },
  { name: 'lookup-cache-off', label: 'lookup, CACHE=off', target: 'frontendNoCache', requests: [lookup(1)], target_min_ratio: 0.35, target_max_p99_ms: 5 },
  { name: 'search-cache-hit', label: 'search, cache hit', target: 'frontend', requests: [{ method: 'GET', path: '/search/distributed-systems' }] },
  { name: 'search-cache-off', label: 'search, CACHE=off', target: 'frontendNoCache', requests: [{ method: 'GET', path: '/search/distributed-systems' }] },
  { name: 'buy', label: 'buy (durable)', target: 'frontend', requests: [buy(3)], target_min_ratio: 0.15, target_max_p99_ms: 25 },
  {
    name: 'mix-90-10',
    label: 'mix 90% lookup / 10% buy',
    target: 'frontend',
    requests: [lookup(1), lookup(2), lookup(3), lookup(4), lookup(1), lookup(2), lookup(3), lookup(4), lookup(1), buy(4)],
  },
];

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const data = mkdtempSync(join(tmpdir(), 'bazar-bench-'));
  const token = randomBytes(24).toString('hex');
  const profileDir = join(options.out, 'profiles');
  const nodeArgs = options.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  if (options.profile) mkdirSync(profileDir, { recursive: true });
  const procs: ServiceProcess[] = [];
  const keep = (proc: ServiceProcess) => (procs.push(proc), proc);
  try {
    // Services log only warnings: a log line per request would be measured too.
    const common = { BAZAR_TOKEN: token, LOG_LEVEL: 'warn' };
    const baseline = keep(await startScript('baseline', 'dist/bench/baseline-server.js', { readyPath: '/hello', nodeArgs }));
    const catalog = keep(await startService('catalog', { env: { ...common, DB_PATH: join(data, 'catalog.db') }, nodeArgs }));
    const order = keep(
      await startService('order', { env: { ...common, DB_PATH: join(data, 'orders.db'), CATALOG_URL: catalog.url }, nodeArgs }),
    );
    // One load generator is one client IP: lift the per-client buy limit, or the buy scenarios measure 429s.
    const upstreams = { ...common, CATALOG_URL: catalog.url, ORDER_URL: order.url, BUY_RATE_LIMIT_MAX: '999999999' };
    const frontend = keep(await startService('frontend', { env: upstreams, nodeArgs }));
    const frontendNoCache = keep(await startService('frontend', { env: { ...upstreams, CACHE: 'off' }, nodeArgs }));
    const urls = { baseline: baseline.url, frontend: frontend.url, frontendNoCache: frontendNoCache.url };

    // Stock large enough that no buy in the run is refused.
    for (const id of [3, 4]) {
      const res = await fetch(`${catalog.url}/update/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ stock: 1_000_000_000 }),
      });
      if (res.status !== 200) throw new Error(`could not set stock: ${res.status} ${await res.text()}`);
    }
    await waitForCache(frontend.url);

    const selected = SCENARIOS.filter((s) => s.name === 'baseline' || !options.only || options.only.includes(s.name));
    const results: { scenario: Scenario; m: Measurement }[] = [];
    const cpuCount = cpus().length;
    const loadBefore = loadavg();
    process.stdout.write(
      `bench: ${options.connections} connections, ${options.durationS} s per scenario (+${options.warmupS} s warm-up), ` +
        `${cpuCount} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n`,
    );
    const run = async (scenario: Scenario) => {
      const load: Load = { url: urls[scenario.target], requests: scenario.requests, connections: options.connections, durationS: options.durationS };
      if (options.warmupS > 0) await measure({ ...load, durationS: options.warmupS });
      const m = await measure(load);
      process.stdout.write(`  ${scenario.name.padEnd(18)} ${Math.round(m.rps)} rps, p99 ${m.latency.p99.toFixed(2)} ms\n`);
      return m;
    };
    // A VM's speed drifts from minute to minute, so the baseline runs before every scenario and once more at the
    // end; each scenario is compared with the mean of the baseline runs just before and just after it.
    const baselines: Measurement[] = [await run(SCENARIOS[0])];
    const ratios: number[] = [];
    for (const scenario of selected.slice(1)) {
      const m = await run(scenario);
      baselines.push(await run(SCENARIOS[0]));
      ratios.push(m.rps / ((baselines[baselines.length - 2].rps + baselines[baselines.length - 1].rps) / 2));
      results.push({ scenario, m });
    }
    const baseRps = baselines.reduce((sum, b) => sum + b.rps, 0) / baselines.length;
    const sum = (key: 'requests' | 'errors' | 'non2xx' | 'timeouts') => baselines.reduce((total, b) => total + b[key], 0);
    const worstBase = baselines.reduce((worst, b) => (b.latency.p99 > worst.latency.p99 ? b : worst));
    const baseM: Measurement = {
      ...worstBase,
      rps: baseRps,
      requests: sum('requests'),
      errors: sum('errors'),
      non2xx: sum('non2xx'),
      timeouts: sum('timeouts'),
    };
    results.unshift({ scenario: SCENARIOS[0], m: baseM });
    ratios.unshift(1);

    const rows = results.map(({ scenario, m }, i) => {
      const ratio = ratios[i];
      const errors = m.errors + m.non2xx + m.timeouts;
      const checks: string[] = [];
      if (scenario.target_min_ratio !== undefined) checks.push(`ratio ≥ ${scenario.target_min_ratio}: ${ratio >= scenario.target_min_ratio ? 'met' : 'MISSED'}`);
      if (scenario.target_max_p99_ms !== undefined) checks.push(`p99 < ${scenario.target_max_p99_ms} ms: ${m.latency.p99 < scenario.target_max_p99_ms ? 'met' : 'MISSED'}`);
      if (scenario.name !== 'baseline') checks.push(`0 errors: ${errors === 0 ? 'met' : 'MISSED'}`);
      return { name: scenario.name, label: scenario.label, rps: m.rps, ratio, latency: m.latency, requests: m.requests, errors, targets: checks };
    });
    const loadAfter = loadavg();
    printTable(rows, baselines.map((b) => b.rps));

    mkdirSync(options.out, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const report = {
      when: new Date().toISOString(),
      machine: { cores: cpuCount, cpu: cpus()[0]?.model, node: process.version, loadavg_before: loadBefore, loadavg_after: loadAfter },
      settings: { connections: options.connections, duration_s: options.durationS, warmup_s: options.warmupS },
      baseline_rps: { runs: baselines.map((b) => b.rps), mean: baseRps },
      scenarios: rows,
    };
    const json = join(options.out, `bench-${stamp}.json`);
    const svg = join(options.out, `bench-${stamp}.svg`);
    writeFileSync(json, JSON.stringify(report, null, 2));
    writeFileSync(svg, renderChart(rows, `Bazar: ${options.connections} connections, ${options.durationS} s each, ${cpuCount} cores, ${report.when}`));
    writeFileSync(join(options.out, 'latest.json'), JSON.stringify(report, null, 2));
    writeFileSync(join(options.out, 'latest.svg'), renderChart(rows, `Bazar: ${options.connections} connections, ${options.durationS} s each, ${cpuCount} cores, ${report.when}`));
    process.stdout.write(`wrote ${json}\n      ${svg}\n`);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(data, { recursive: true, force: true });
  }
  if (options.profile) process.stdout.write(`CPU profiles in ${profileDir} (open in Chrome DevTools > Performance)\n`);
}

/** The caching frontend caches only once subscribed to the catalog's changes. */
async function waitForCache(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (/^cache_live\{[^}]*\} 1$/m.test(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the frontend did not subscribe to the catalog change stream within 10 s');
}

function printTable(
  rows: { label: string; rps: number; ratio: number; latency: Measurement['latency']; errors: number; targets: string[] }[],
  baselineRuns: number[],
): void {
  const head = ['scenario', 'rps', '× baseline', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'errors', 'targets'];
  const body = rows.map((r) => [
    r.label,
    String(Math.round(r.rps)),
    r.ratio.toFixed(2),
    r.latency.p50.toFixed(2),
    r.latency.p90.toFixed(2),
    r.latency.p99.toFixed(2),
    r.latency.p999.toFixed(2),
    String(r.errors),
    r.targets.join('; '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${body.map(line).join('\n')}\n`);
  process.stdout.write(
    `baseline rps, run before each scenario and at the end: ${baselineRuns.map(Math.round).join(', ')}\n` +
      'each ratio uses the mean of the baseline runs just before and after that scenario; the baseline row shows their mean and the worst p99\n\n',
  );
}

// `--scale` is the other benchmark: how cost grows with the catalog and the ledger (bench/scale.ts).
const argv = process.argv.slice(2);
(argv.includes('--scale') ? runScale(argv.filter((arg) => arg !== '--scale')) : main()).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
