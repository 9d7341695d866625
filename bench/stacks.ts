/**
 * The processes the bench measures, grouped into stacks that are started when a scenario first needs them: the
 * bare baseline; the three services on SQLite (plus a frontend with CACHE=off); and the same over PostgreSQL with
 * one and with two replicas of the catalog and the order service. Every server runs on the servers' CPUs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { missingPostgresMessage, postgresInstalled, startThrowawayCluster, type PgCluster } from '../support/postgres-server';
import { startScript, startService, type ServiceName, type ServiceProcess } from '../support/service-process';
import { processMeter, treeMeter, type CpuMeter } from './cpu';

export type StackName = 'baseline' | 'sqlite' | 'pg1' | 'pg2';
/** What a process is, for adding up replicas in the capacity model. */
export type Tier = 'baseline' | 'frontend' | 'catalog' | 'order' | 'postgres';

export interface BenchProcess {
  name: string;
  tier: Tier;
  meter: CpuMeter;
}

export interface Stack {
  name: StackName;
  /** Where scenarios send their load ("frontend" caching, "frontendNoCache", or "baseline"), and that process's name. */
  entries: Record<string, { url: string; name: string }>;
  processes: BenchProcess[];
  stop(): Promise<void>;
}

export interface StackSettings {
  /** Data folder for SQLite files. */
  dataDir: string;
  token: string;
  /** The servers' CPUs (taskset list), or undefined. */
  cpus?: string;
  nodeArgs: string[];
}

const BIG_STOCK = 1_000_000_000;

/**
 * Starts processes for one stack and tracks them, so a failure half-way stops what did start. PostgreSQL is one
 * cluster for both PostgreSQL stacks, started on first use; each stack gets fresh databases.
 */
export class Stacks {
  private cluster?: PgCluster;
  private databases = 0;

  constructor(private readonly settings: StackSettings) {}

  /** Why the PostgreSQL stacks cannot run here, or undefined. */
  postgresMissing(): string | undefined {
    return postgresInstalled() ? undefined : missingPostgresMessage();
  }

  async start(name: StackName): Promise<Stack> {
    const started: { proc: ServiceProcess; tier: Tier; label: string }[] = [];
    const stop = async () => {
      await Promise.all(started.map(({ proc }) => proc.stop()));
    };
    const service = async (tier: ServiceName, label: string, env: Record<string, string>) => {
      const proc = await startService(tier, {
        env: { BAZAR_TOKEN: this.settings.token, LOG_LEVEL: 'warn', ...env },
        cpus: this.settings.cpus,
        nodeArgs: this.settings.nodeArgs,
      });
      started.push({ proc, tier, label });
      return proc;
    };
    const processes = () => [
      ...started.map(({ proc, tier, label }) => ({ name: label, tier, meter: processMeter(proc.child.pid!) })),
      ...(name.startsWith('pg') ? [this.postgresProcess()] : []),
    ];
    try {
      switch (name) {
        case 'baseline': {
          const proc = await startScript('baseline', 'dist/bench/baseline-server.js', {
            readyPath: '/hello',
            cpus: this.settings.cpus,
            nodeArgs: this.settings.nodeArgs,
          });
          return {
            name,
            entries: { baseline: { url: proc.url, name: 'baseline' } },
            processes: [{ name: 'baseline', tier: 'baseline', meter: processMeter(proc.child.pid!) }],
            stop: async () => void (await proc.stop()),
          };
        }
        case 'sqlite': {
          const catalog = await service('catalog', 'catalog', { DB_PATH: join(this.settings.dataDir, 'catalog.db') });
          const order = await service('order', 'order', { DB_PATH: join(this.settings.dataDir, 'orders.db'), CATALOG_URL: catalog.url });
          const entries = await this.frontends(service, [catalog.url], [order.url]);
          await this.bigStock(catalog.url);
          return { name, entries, processes: processes(), stop };
        }
        case 'pg1':
        case 'pg2': {
          const replicas = name === 'pg1' ? 1 : 2;
          const { catalogDb, orderDb } = await this.freshDatabases();
          const catalogs: string[] = [];
          for (let r = 0; r < replicas; r++) {
            catalogs.push((await service('catalog', replicas > 1 ? `catalog ${'ab'[r]}` : 'catalog', { DATABASE_URL: catalogDb })).url);
          }
          const orders: string[] = [];
          for (let r = 0; r < replicas; r++) {
            const env = { DATABASE_URL: orderDb, CATALOG_URL: catalogs.join(',') };
            orders.push((await service('order', replicas > 1 ? `order ${'ab'[r]}` : 'order', env)).url);
          }
          const entries = await this.frontends(service, catalogs, orders);
          await this.bigStock(catalogs[0]);
          return { name, entries, processes: processes(), stop };
        }
      }
    } catch (err) {
      await stop();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.cluster?.stop();
    this.cluster = undefined;
  }

  /** A caching frontend (waited on until it caches) and one with CACHE=off, over the given replicas. */
  private async frontends(
    service: (tier: ServiceName, label: string, env: Record<string, string>) => Promise<ServiceProcess>,
    catalogs: string[],
    orders: string[],
  ): Promise<Stack['entries']> {
    // One load generator is one client IP: lift the per-client buy limit, or the buy scenarios measure 429s.
    const env = { CATALOG_URL: catalogs.join(','), ORDER_URL: orders.join(','), BUY_RATE_LIMIT_MAX: '999999999' };
    const frontend = await service('frontend', 'frontend', env);
    const frontendNoCache = await service('frontend', 'frontend CACHE=off', { ...env, CACHE: 'off' });
    await waitForCache(frontend.url);
    return {
      frontend: { url: frontend.url, name: 'frontend' },
      frontendNoCache: { url: frontendNoCache.url, name: 'frontend CACHE=off' },
    };
  }

  /** Stock large enough that no buy in the run is refused. */
  private async bigStock(catalogUrl: string): Promise<void> {
    for (const id of [3, 4]) {
      const res = await fetch(`${catalogUrl}/update/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${this.settings.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ stock: BIG_STOCK }),
      });
      if (res.status !== 200) throw new Error(`could not set stock: ${res.status} ${await res.text()}`);
    }
  }

  private async freshDatabases(): Promise<{ catalogDb: string; orderDb: string }> {
    this.cluster ??= await startThrowawayCluster({ cpus: this.settings.cpus, maxConnections: 200 });
    const n = ++this.databases;
    const catalog = `bench_catalog_${n}`;
    const order = `bench_orders_${n}`;
    this.cluster.psql('postgres', `CREATE DATABASE ${catalog}`);
    this.cluster.psql('postgres', `CREATE DATABASE ${order}`);
    return { catalogDb: this.cluster.url(catalog), orderDb: this.cluster.url(order) };
  }

  /** The whole PostgreSQL server: the postmaster and every process it forked. */
  private postgresProcess(): BenchProcess {
    const dataDir = this.cluster!.primary.dataDir;
    const postmaster = () => {
      try {
        return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return undefined;
      }
    };
    return { name: 'postgres', tier: 'postgres', meter: treeMeter(postmaster) };
  }
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
