import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../../common/base-app';
import type { Book } from '../../common/schemas';
import { buildCatalogApp } from '../../catalog-server/app';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import type { CatalogStore } from '../../catalog-server/store/types';
import { buildFrontendApp } from '../../frontend-server/app';
import { buildOrderApp } from '../../order-server/app';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import type { OrderLedger } from '../../order-server/ledger/types';
import { withOutage, type Outage } from './outage';

export const TEST_TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };

/** A fresh folder for one test's databases; remove it with the returned function. */
export function tempDir(prefix = 'bazar-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function newCatalogStore(dir: string, seedPath = DEFAULT_SEED_PATH): CatalogStore {
  return new SqliteCatalogStore(join(dir, 'catalog.db'), seedPath);
}

export interface Stack {
  catalog: App;
  order: App;
  frontend: App;
  store: CatalogStore;
  ledger: OrderLedger;
  urls: { catalog: string; order: string; frontend: string };
  close(): Promise<void>;
}

/**
 * The three real apps in this process, each listening on its own free loopback port with fresh databases, wired
 * together over real HTTP. Component tests drive `frontend.inject()` (or any tier) and inspect store/ledger.
 */
export async function startStack(
  /**
   * `books`: seed the catalog with these instead of the repository's seed file (written into the stack's folder).
   * `outages`: the catalog's store and the order ledger fail as a database that went away makes them (the Stack's
   * own `store` and `ledger` stay reliable, for the test's reads).
   */
  options: { token?: string; upstreamTimeoutMs?: number; books?: Book[]; outages?: { store?: Outage; ledger?: Outage } } = {},
): Promise<Stack> {
  const token = 'token' in options ? options.token : TEST_TOKEN;
  const tmp = tempDir();
  let seedPath = DEFAULT_SEED_PATH;
  if (options.books) {
    seedPath = join(tmp.dir, 'books.json');
    writeFileSync(seedPath, JSON.stringify(options.books));
  }
  const store = newCatalogStore(tmp.dir, seedPath);
  const ledger = new SqliteOrderLedger(join(tmp.dir, 'orders.db'));
  const { outages = {} } = options;
  const catalog = buildCatalogApp({ store: outages.store ? withOutage(store, outages.store) : store, token, logLevel: 'silent' });
  const catalogUrl = await catalog.listen({ host: '127.0.0.1', port: 0 });
  const order = buildOrderApp({
    ledger: outages.ledger ? withOutage(ledger, outages.ledger) : ledger,
    catalogUrl,
    token,
    logLevel: 'silent',
    reconcileIntervalMs: 0,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
  });
  const orderUrl = await order.listen({ host: '127.0.0.1', port: 0 });
  const frontend = buildFrontendApp({ catalogUrl, orderUrl, token, logLevel: 'silent' });
  const frontendUrl = await frontend.listen({ host: '127.0.0.1', port: 0 });
  return {
    catalog,
    order,
    frontend,
    store,
    ledger,
    urls: { catalog: catalogUrl, order: orderUrl, frontend: frontendUrl },
    async close() {
      await frontend.close();
      await order.close();
      await catalog.close();
      tmp.remove();
    },
  };
}
