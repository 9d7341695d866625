import { join } from 'node:path';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { PgCatalogStore } from '../../catalog-server/store/pg-store';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import type { CatalogStore } from '../../catalog-server/store/types';
import { buildFrontendApp, type FrontendAppOptions } from '../../frontend-server/app';
import { buildOrderApp } from '../../order-server/app';
import { PgOrderLedger } from '../../order-server/ledger/pg-ledger';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import type { OrderLedger } from '../../order-server/ledger/types';
import type { PgCluster } from './postgres';
import { TEST_TOKEN, tempDir } from './stack';

/** The two services' databases, which every replica of a service opens anew, as a process of its own would. */
interface Databases {
  /** `seed`: the first opening creates the books from the repository's seed file. */
  openCatalog(seed?: boolean): Promise<CatalogStore>;
  openLedger(): Promise<OrderLedger>;
  remove(): void;
}

/** SQLite files in a fresh folder, or two fresh databases on `postgres`. */
async function databases(postgres?: PgCluster): Promise<Databases> {
  if (postgres) {
    const [catalog, orders] = [postgres.url(await postgres.createDatabase('catalog')), postgres.url(await postgres.createDatabase('orders'))];
    return {
      openCatalog: (seed) => PgCatalogStore.open(catalog, seed ? DEFAULT_SEED_PATH : undefined),
      openLedger: () => PgOrderLedger.open(orders),
      remove: () => undefined,
    };
  }
  const tmp = tempDir('bazar-replicas-');
  return {
    openCatalog: async (seed) => new SqliteCatalogStore(join(tmp.dir, 'catalog.db'), seed ? DEFAULT_SEED_PATH : undefined),
    openLedger: async () => new SqliteOrderLedger(join(tmp.dir, 'orders.db')),
    remove: tmp.remove,
  };
}

export interface ReplicatedStack {
  /** The catalog replicas, each its own app and store object over ONE database file, as replicas over one database. */
  catalogs: (App | undefined)[];
  catalogUrls: string[];
  /** A store on the shared catalog database, for the test's own reads. */
  store: CatalogStore;
  /** The order replicas, each its own app and ledger object over ONE ledger file. */
  orders: (App | undefined)[];
  orderUrls: string[];
  /** A ledger on the shared order database, for the test's own reads. */
  ledger: OrderLedger;
  frontend: App;
  frontendUrl: string;
  /** Closes catalog replica `i` (its streams end, its port refuses), as an operator stopping it would. */
  stopCatalog(i: number): Promise<void>;
  /** Starts catalog replica `i` again on its old port, over the same database. */
  restartCatalog(i: number): Promise<void>;
  stopOrder(i: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * `catalogs` catalog replicas sharing one database, `orders` order replicas sharing another (SQLite files, or fresh
 * databases on `postgres`), and a frontend listing them all (each order replica lists every catalog replica): the
 * replicated topology in one process, over real HTTP between the tiers. Probes run every `probeIntervalMs`
 * (default 100 ms). The catalogs' ack timeout is 600 ms, so the frontend's stall guard (half of it) does not fire
 * on a busy test machine.
 */
export async function startReplicatedStack(
  options: { catalogs?: number; orders?: number; probeIntervalMs?: number; frontend?: Partial<FrontendAppOptions>; postgres?: PgCluster } = {},
): Promise<ReplicatedStack> {
  const dbs = await databases(options.postgres);
  const store = await dbs.openCatalog(true);
  const probeIntervalMs = options.probeIntervalMs ?? 100;
  const startCatalog = async (port = 0) => {
    const app = buildCatalogApp({ store: await dbs.openCatalog(), token: TEST_TOKEN, logLevel: 'silent', eventsAckTimeoutMs: 600 });
    return { app, url: await app.listen({ host: '127.0.0.1', port }) };
  };
  const catalogs: (App | undefined)[] = [];
  const catalogUrls: string[] = [];
  for (let i = 0; i < (options.catalogs ?? 2); i++) {
    const { app, url } = await startCatalog();
    catalogs.push(app);
    catalogUrls.push(url);
  }
  const ledger = await dbs.openLedger();
  const orders: (App | undefined)[] = [];
  const orderUrls: string[] = [];
  for (let i = 0; i < (options.orders ?? 1); i++) {
    const order = buildOrderApp({
      ledger: await dbs.openLedger(),
      catalogUrl: catalogUrls,
      token: TEST_TOKEN,
      logLevel: 'silent',
      reconcileIntervalMs: 0,
      upstreamProbeIntervalMs: probeIntervalMs,
    });
    orderUrls.push(await order.listen({ host: '127.0.0.1', port: 0 }));
    orders.push(order);
  }
  const frontend = buildFrontendApp({
    catalogUrl: catalogUrls,
    orderUrl: orderUrls,
    token: TEST_TOKEN,
    logLevel: 'silent',
    upstreamProbeIntervalMs: probeIntervalMs,
    ...options.frontend,
  });
  const frontendUrl = await frontend.listen({ host: '127.0.0.1', port: 0 });
  return {
    catalogs,
    catalogUrls,
    store,
    orders,
    orderUrls,
    ledger,
    frontend,
    frontendUrl,
    async stopCatalog(i) {
      await catalogs[i]?.close();
      catalogs[i] = undefined;
    },
    async restartCatalog(i) {
      catalogs[i] = (await startCatalog(Number(new URL(catalogUrls[i]).port))).app;
    },
    async stopOrder(i) {
      await orders[i]?.close();
      orders[i] = undefined;
    },
    async close() {
      await frontend.close();
      await Promise.all(orders.map((app) => app?.close()));
      await Promise.all(catalogs.map((app) => app?.close()));
      await Promise.all([store.close(), ledger.close()]);
      dbs.remove();
    },
  };
}
