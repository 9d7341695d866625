/**
 * The store over the HA cluster, as it is deployed: two catalog replicas, two order replicas and a frontend, each a
 * compiled service in its own process, each catalog and order replica given the cluster's multi-host DATABASE_URL
 * with target_session_attrs=read-write. Nothing here helps them through a failover: they follow the primary by
 * themselves.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import type { Book } from '../../common/schemas';
import { startService, type ServiceName, type ServiceProcess } from '../../support/service-process';
import type { HaCluster } from '../helpers/ha-cluster';
import type { Seeded } from '../helpers/invariants';
import { sample } from '../helpers/metrics';

/** Copies per book at the start: enough that no buy of the run is turned away as out of stock. */
const INITIAL_STOCK = 1_000_000;

/**
 * The seed's books, which the shoppers buy, and as many again that nobody buys during the run (a store's back
 * catalogue): their cache entries are never invalidated, so lookups of them show what the cache does while the
 * database is away.
 */
function books(): Book[] {
  const seed = (JSON.parse(readFileSync(DEFAULT_SEED_PATH, 'utf8')) as Book[]).map((b) => ({ ...b, stock: INITIAL_STOCK }));
  const last = Math.max(...seed.map((b) => b.id));
  return [...seed, ...seed.map((b) => ({ ...b, id: b.id + last, title: `${b.title} (second edition)` }))];
}

export interface HaStore {
  frontendUrl: string;
  /** The books and their stock at the start. */
  seed: Seeded[];
  /** The books the shoppers buy; the others are only looked up. */
  forSale: number[];
  /** The services' own databases, on whichever node is primary (for the checks after the run). */
  catalogDbUrl: string;
  ordersDbUrl: string;
  /** What the frontend's /status says of its cache now: live, dark or off, its entries, hits and misses so far. */
  cacheStatus(): Promise<{ state: string; entries: number; hits: number; misses: number }>;
  /**
   * Whether the frontend's change streams held: when it lost one (its log), subscribers the catalogs cut off for a
   * late acknowledgement (their metric), and cache entries it dropped after finding itself stalled (its metric).
   */
  streamCounters(): Promise<{ streamLosses: number[]; cutOffs: number; stallFlushedEntries: number }>;
  /** The last log lines (warnings and errors) of every service, for a failure report. */
  tail(lines?: number): string[];
  stop(): Promise<void>;
}

export async function startStore(cluster: HaCluster, dir: string, replicas = 2): Promise<HaStore> {
  const token = randomBytes(24).toString('hex');
  const seedPath = join(dir, 'books.json');
  const seed = books();
  writeFileSync(seedPath, JSON.stringify(seed));
  const catalogDbUrl = cluster.url('catalog');
  const ordersDbUrl = cluster.url('orders');
  const started: ServiceProcess[] = [];
  const start = async (name: ServiceName, env: Record<string, string>) => {
    const service = await startService(name, { env: { BAZAR_TOKEN: token, LOG_LEVEL: 'warn', ...env }, readyPath: '/readyz', timeoutMs: 60_000 });
    started.push(service);
    return service;
  };
  const replicated = (name: ServiceName, env: Record<string, string>) =>
    Promise.all(Array.from({ length: replicas }, () => start(name, env)));
  try {
    const catalogs = await replicated('catalog', { DATABASE_URL: catalogDbUrl, SEED_PATH: seedPath });
    const catalogUrl = catalogs.map((c) => c.url).join(',');
    // Reconcile every second, so the orders left pending by a failover settle soon after it.
    const orders = await replicated('order', { DATABASE_URL: ordersDbUrl, CATALOG_URL: catalogUrl, RECONCILE_INTERVAL_MS: '1000' });
    const frontend = await start('frontend', {
      CATALOG_URL: catalogUrl,
      ORDER_URL: orders.map((o) => o.url).join(','),
      // Every shopper of the test comes from 127.0.0.1.
      BUY_RATE_LIMIT_MAX: '1000000',
    });
    const text = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(2000) })).text();
    return {
      frontendUrl: frontend.url,
      seed,
      forSale: seed.slice(0, seed.length / 2).map((b) => b.id),
      catalogDbUrl,
      ordersDbUrl,
      async cacheStatus() {
        const res = await fetch(`${frontend.url}/status`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(1000) });
        return ((await res.json()) as { cache: { state: string; entries: number; hits: number; misses: number } }).cache;
      },
      async streamCounters() {
        let cutOffs = 0;
        for (const catalog of catalogs) {
          cutOffs += sample(await text(`${catalog.url}/metrics`), 'change_subscribers_cut_off_total{service="catalog"}') ?? 0;
        }
        const stalls = sample(await text(`${frontend.url}/metrics`), 'cache_invalidations_total{reason="stall",service="frontend"}');
        return {
          streamLosses: frontend.lines
            .filter((line) => line.includes('"msg":"change stream lost'))
            .map((line) => (JSON.parse(line) as { time: number }).time),
          cutOffs,
          stallFlushedEntries: stalls ?? 0,
        };
      },
      tail: (lines = 15) => started.flatMap((s) => s.lines.slice(-lines).map((line) => `[${s.name}:${s.port}] ${line}`)),
      async stop() {
        for (const service of [...started].reverse()) await service.stop();
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop('SIGKILL')));
    throw err;
  }
}
