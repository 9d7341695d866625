/**
 * `npm run bench -- --scale`: how cost grows with the catalog and the ledger. For each backend (SQLite, and
 * PostgreSQL when its binaries are installed), it starts a catalog seeded with 4, 10,000 and 100,000 books (timing
 * the start, which seeds, and a restart), a frontend with CACHE=off in front of it, and measures a lookup, the
 * first page of a search and the home page; then order servers over ledgers of 10,000 and 1,000,000 orders, and
 * measures the first page of orders and a page deep in them. The sizes are measured in rotation, a few rounds, so
 * a busy machine slows each alike; each scenario is compared with itself at the smallest size, in the same run:
 * p50 ratio and answer size. Writes JSON and an SVG under bench/results/ (git-ignored).
 *
 *   npm run bench -- --scale                                  3 rounds of 3 s per measurement, 16 connections
 *   npm run bench -- --scale --backend sqlite --books 4,100000 --orders 10000 --rounds 1 --duration 2
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { booksJson, generateBooks } from '../catalog-server/seed/generate';
import { pageCursors } from '../common/paging';
import { processMeter, type CpuMeter } from './cpu';
import { measure, type Load, type Measurement } from './measure';
import { postgresBackend, sqliteBackend, type BackendName, type ScaleBackend } from './scale-data';
import { report, type Row, type Start } from './scale-report';
import { postgresInstalled } from '../support/postgres-server';
import { startService, type ServiceProcess } from '../support/service-process';

interface ScaleOptions {
  durationS: number;
  rounds: number;
  warmupS: number;
  connections: number;
  out: string;
  backends: BackendName[];
  books: number[];
  orders: number[];
}

const ROOT = resolve(__dirname, '..', '..');
const KB = 1024;

function parseScaleArgs(argv: string[]): ScaleOptions {
  const options: ScaleOptions = {
    durationS: 3,
    rounds: 3,
    warmupS: 1,
    connections: 16,
    out: join(ROOT, 'bench', 'results'),
    backends: postgresInstalled() ? ['sqlite', 'postgres'] : ['sqlite'],
    books: [4, 10_000, 100_000],
    orders: [10_000, 1_000_000],
  };
  const sizes = (raw: string) => raw.split(',').map((n) => Number(n.replace(/_/g, '')));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => argv[++i] ?? (() => { throw new Error(`${arg} needs a value`); })();
    if (arg === '--quick') (options.durationS = 1), (options.rounds = 1);
    else if (arg === '--duration') options.durationS = Number(next());
    else if (arg === '--rounds') options.rounds = Number(next());
    else if (arg === '--warmup') options.warmupS = Number(next());
    else if (arg === '--connections') options.connections = Number(next());
    else if (arg === '--out') options.out = resolve(next());
    else if (arg === '--backend') options.backends = next().split(',') as BackendName[];
    else if (arg === '--books') options.books = sizes(next());
    else if (arg === '--orders') options.orders = sizes(next());
    else throw new Error(`unknown argument ${arg} (see bench/scale.ts)`);
  }
  for (const backend of options.backends) if (backend !== 'sqlite' && backend !== 'postgres') throw new Error(`--backend takes sqlite, postgres or both, got ${backend}`);
  if (options.backends.includes('postgres') && !postgresInstalled()) throw new Error('--backend postgres needs the PostgreSQL server binaries (see support/postgres-server.ts)');
  if (!(options.durationS > 0) || !(options.rounds >= 1) || !(options.connections > 0)) throw new Error('--duration, --rounds and --connections must be positive');
  if ([...options.books, ...options.orders].some((n) => !Number.isSafeInteger(n) || n < 1)) throw new Error('--books and --orders take positive whole numbers');
  return options;
}

interface Scenario {
  name: string;
  /** For the chart, whose labels are short. */
  short: string;
  requests: Load['requests'];
  headers?: Record<string, string>;
  maxBytes: number;
}

const get = (path: string) => ({ method: 'GET' as const, path });

/** One service under load at one size, and what to measure on it (the same scenarios, in order, at every size). */
interface Target {
  backend: BackendName;
  unit: Row['unit'];
  size: number;
  url: string;
  /**
   * The server processes that do the work (frontend and catalog; order): their CPU time is counted. On a busy
   * machine a request's latency mostly measures the queue; the CPU it costs stays put, so it is the steadier figure
   * of how cost grows.
   */
  meters: CpuMeter[];
  scenarios: Scenario[];
}

const totalCpuUs = (meters: CpuMeter[]) => meters.reduce((total, meter) => total + meter.read(), 0);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/**
 * Measures every scenario at every size, in rotation (each size once per round, `rounds` rounds), so that a change
 * in the machine's speed during the run falls on every size alike; reports per size the median p50 and p99 of its
 * rounds and their mean rps.
 */
async function measureRotating(targets: Target[], options: ScaleOptions): Promise<Row[]> {
  const runs = targets.map((target) => target.scenarios.map(() => [] as (Measurement & { cpuUs: number })[]));
  const bytes = await Promise.all(
    targets.map((target) =>
      Promise.all(
        target.scenarios.map(async (scenario) => {
          let largest = 0;
          for (const request of scenario.requests) {
            const res = await fetch(target.url + request.path, { headers: { accept: 'application/json', ...scenario.headers } });
            const body = await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`${scenario.name}: ${request.path} answered ${res.status}`);
            largest = Math.max(largest, body.byteLength);
          }
          return largest;
        }),
      ),
    ),
  );
  for (let round = 0; round < options.rounds; round++) {
    for (let s = 0; s < targets[0].scenarios.length; s++) {
      for (const [t, target] of targets.entries()) {
        const scenario = target.scenarios[s];
        const load: Load = { url: target.url, requests: scenario.requests, connections: options.connections, durationS: options.durationS, headers: scenario.headers };
        if (round === 0 && options.warmupS > 0) await measure({ ...load, durationS: options.warmupS });
        const cpuBefore = totalCpuUs(target.meters);
        const m = await measure(load);
        const cpuUs = (totalCpuUs(target.meters) - cpuBefore) / Math.max(1, m.requests);
        runs[t][s].push({ ...m, cpuUs });
        process.stdout.write(
          `  round ${round + 1}: ${target.backend} ${scenario.name} @ ${target.size} ${target.unit}: ${Math.round(m.rps)} rps, ` +
            `p50 ${m.latency.p50.toFixed(2)} ms, p99 ${m.latency.p99.toFixed(2)} ms, ${Math.round(cpuUs)} µs CPU per request\n`,
        );
      }
    }
  }
  return targets.flatMap((target, t) =>
    target.scenarios.map((scenario, s) => {
      const ms = runs[t][s];
      const pick = (key: keyof Measurement['latency']) => median(ms.map((m) => m.latency[key]));
      return {
        backend: target.backend,
        scenario: scenario.name,
        short: scenario.short,
        size: target.size,
        unit: target.unit,
        rps: ms.reduce((sum, m) => sum + m.rps, 0) / ms.length,
        latency: { p50: pick('p50'), p90: pick('p90'), p99: pick('p99'), p999: pick('p999'), max: pick('max') },
        cpuUs: median(ms.map((m) => m.cpuUs)),
        errors: ms.reduce((sum, m) => sum + m.errors + m.non2xx + m.timeouts, 0),
        bytes: bytes[t][s],
        maxBytes: scenario.maxBytes,
      };
    }),
  );
}

export async function runScale(argv: string[]): Promise<void> {
  const options = parseScaleArgs(argv);
  const dir = mkdtempSync(join(tmpdir(), 'bazar-scale-'));
  const token = randomBytes(24).toString('hex');
  const common = { BAZAR_TOKEN: token, LOG_LEVEL: 'warn' };
  const rows: Row[] = [];
  const starts: Start[] = [];
  const loadBefore = loadavg();
  process.stdout.write(
    `bench --scale: ${options.connections} connections, ${options.rounds} rounds of ${options.durationS} s per measurement ` +
      `(+${options.warmupS} s warm-up), ${cpus().length} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  const procs: ServiceProcess[] = [];
  const keep = (proc: ServiceProcess) => (procs.push(proc), proc);
  const stopAll = () => Promise.all(procs.splice(0).map((proc) => proc.stop()));
  try {
    const seeds = new Map<number, string>();
    for (const count of options.books) {
      const path = join(dir, `books-${count}.json`);
      writeFileSync(path, booksJson(generateBooks(count)));
      seeds.set(count, path);
    }
    for (const name of options.backends) {
      const backend: ScaleBackend = name === 'sqlite' ? sqliteBackend(dir) : await postgresBackend();
      try {
        const bookTargets: Target[] = [];
        for (const count of options.books) {
          const env = { ...common, ...(await backend.catalogDatabase()), SEED_PATH: seeds.get(count)! };
          // Timed one at a time: the first start seeds the database, the restart finds it seeded.
          let began = performance.now();
          const first = await startService('catalog', { env, readyPath: '/readyz', timeoutMs: 300_000 });
          const firstStartMs = performance.now() - began;
          await first.stop();
          began = performance.now();
          const catalog = keep(await startService('catalog', { env, readyPath: '/readyz', timeoutMs: 300_000 }));
          starts.push({ backend: name, books: count, first_start_ms: firstStartMs, restart_ms: performance.now() - began });
          const frontend = keep(
            await startService('frontend', { env: { ...common, CATALOG_URL: catalog.url, ORDER_URL: 'http://127.0.0.1:9', CACHE: 'off' } }),
          );
          // Book 1, one in the middle and the last: an index lookup anywhere in the table.
          const ids = [...new Set([1, Math.ceil(count / 2), count])];
          bookTargets.push({
            backend: name,
            unit: 'books',
            size: count,
            url: frontend.url,
            meters: [processMeter(frontend.child.pid!), processMeter(catalog.child.pid!)],
            scenarios: [
              { name: 'lookup', short: 'lookup', requests: ids.map((id) => get(`/lookup/${id}`)), maxBytes: 64 * KB },
              { name: 'search, first page', short: 'search', requests: [get('/search/distributed-systems')], maxBytes: 64 * KB },
              { name: 'home page', short: 'home', requests: [get('/')], headers: { accept: 'text/html' }, maxBytes: 200 * KB },
            ],
          });
        }
        rows.push(...(await measureRotating(bookTargets, options)));
        await stopAll();

        const orderTargets: Target[] = [];
        for (const count of options.orders) {
          const env = { ...common, ...(await backend.ordersDatabase(count)), CATALOG_URL: 'http://127.0.0.1:9' };
          const order = keep(await startService('order', { env, timeoutMs: 120_000 }));
          const headers = { authorization: `Bearer ${token}` };
          const middle = pageCursors('orders', { next: Math.ceil(count / 2), prev: null }).next_cursor;
          orderTargets.push({
            backend: name,
            unit: 'orders',
            size: count,
            url: order.url,
            meters: [processMeter(order.child.pid!)],
            scenarios: [
              { name: 'orders, first page', short: 'orders', requests: [get('/orders')], headers, maxBytes: 64 * KB },
              { name: 'orders, a middle page', short: 'orders mid', requests: [get(`/orders?cursor=${middle}`)], headers, maxBytes: 64 * KB },
            ],
          });
        }
        rows.push(...(await measureRotating(orderTargets, options)));
      } finally {
        await stopAll();
        await backend.close();
      }
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  report(rows, starts, options, loadBefore);
}
