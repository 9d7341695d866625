import { join } from 'node:path';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import { buildFrontendApp, type FrontendAppOptions } from '../../frontend-server/app';
import { buildOrderApp } from '../../order-server/app';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import { TEST_TOKEN, tempDir } from './stack';

export interface ReplicatedStack {
  /** The catalog replicas, each its own app and store object over ONE database file, as replicas over one database. */
  catalogs: (App | undefined)[];
  catalogUrls: string[];
  /** A store on the shared catalog database, for the test's own reads. */
  store: SqliteCatalogStore;
  /** The order replicas, each its own app and ledger object over ONE ledger file. */
  orders: (App | undefined)[];
  orderUrls: string[];
  /** A ledger on the shared order database, for the test's own reads. */
  ledger: SqliteOrderLedger;
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
 * `catalogs` catalog replicas sharing one SQLite file, `orders` order replicas sharing another, and a frontend
 * listing them all (each order replica lists every catalog replica): the replicated topology in one process. Probes run every `probeIntervalMs` (default 100 ms). The
 * catalogs' ack timeout is 600 ms, so the frontend's stall guard (half of it) does not fire on a busy test machine.
 */
export async function startReplicatedStack(
  options: { catalogs?: number; orders?: number; probeIntervalMs?: number; frontend?: Partial<FrontendAppOptions> } = {},
): Promise<ReplicatedStack> {
  const tmp = tempDir('bazar-replicas-');
  const dbPath = join(tmp.dir, 'catalog.db');
  const store = new SqliteCatalogStore(dbPath, DEFAULT_SEED_PATH);
  const probeIntervalMs = options.probeIntervalMs ?? 100;
  const startCatalog = async (port = 0) => {
    const app = buildCatalogApp({ store: new SqliteCatalogStore(dbPath), token: TEST_TOKEN, logLevel: 'silent', eventsAckTimeoutMs: 600 });
    return { app, url: await app.listen({ host: '127.0.0.1', port }) };
  };
  const catalogs: (App | undefined)[] = [];
  const catalogUrls: string[] = [];
  for (let i = 0; i < (options.catalogs ?? 2); i++) {
    const { app, url } = await startCatalog();
    catalogs.push(app);
    catalogUrls.push(url);
  }
  const ledgerPath = join(tmp.dir, 'orders.db');
  const ledger = new SqliteOrderLedger(ledgerPath);
  const orders: (App | undefined)[] = [];
  const orderUrls: string[] = [];
  for (let i = 0; i < (options.orders ?? 1); i++) {
    const order = buildOrderApp({
      ledger: new SqliteOrderLedger(ledgerPath),
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
      tmp.remove();
    },
  };
}
