/**
 * The two storage backends, as the contract suites see them: a fresh, empty database, which any number of stores
 * (standing for processes, or replicas) may open. Stores opened here are closed after each test.
 */
import { join } from 'node:path';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { PgCatalogStore } from '../../catalog-server/store/pg-store';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import type { CatalogStore } from '../../catalog-server/store/types';
import { PgOrderLedger } from '../../order-server/ledger/pg-ledger';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import type { OrderLedger } from '../../order-server/ledger/types';
import type { PgCluster } from '../helpers/postgres';
import { tempDir } from '../helpers/stack';

/** One empty database; `open()` is one more process opening it. */
export interface Database<T> {
  open(): Promise<T>;
}

export interface Backend<T> {
  name: string;
  /** A new, empty database; register the cleanup with mocha's afterEach before calling. */
  fresh(): Promise<Database<T>>;
  /** Closes every store opened since the last cleanup and removes their files. */
  cleanup(): Promise<void>;
}

function tracking<T extends { close(): Promise<void> }>(
  name: string,
  makeDatabase: () => Promise<{ open: () => Promise<T>; remove?: () => void }>,
): Backend<T> {
  let opened: T[] = [];
  let removals: Array<() => void> = [];
  return {
    name,
    async fresh() {
      const db = await makeDatabase();
      if (db.remove) removals.push(db.remove);
      return {
        async open() {
          const store = await db.open();
          opened.push(store);
          return store;
        },
      };
    },
    async cleanup() {
      // A test may have closed a store itself; closing twice is harmless for both backends' close().
      await Promise.all(opened.map((store) => store.close().catch(() => undefined)));
      removals.forEach((remove) => remove());
      opened = [];
      removals = [];
    },
  };
}

export function sqliteCatalog(seedPath = DEFAULT_SEED_PATH): Backend<CatalogStore> {
  return tracking('SQLite', async () => {
    const tmp = tempDir();
    return { open: async () => new SqliteCatalogStore(join(tmp.dir, 'catalog.db'), seedPath), remove: tmp.remove };
  });
}

export function pgCatalog(cluster: () => PgCluster, seedPath = DEFAULT_SEED_PATH): Backend<CatalogStore> {
  return tracking('PostgreSQL', async () => {
    const url = cluster().url(await cluster().createDatabase('catalog'));
    return { open: () => PgCatalogStore.open(url, seedPath) };
  });
}

export function sqliteLedger(): Backend<OrderLedger> {
  return tracking('SQLite', async () => {
    const tmp = tempDir();
    return { open: async () => new SqliteOrderLedger(join(tmp.dir, 'orders.db')), remove: tmp.remove };
  });
}

export function pgLedger(cluster: () => PgCluster): Backend<OrderLedger> {
  return tracking('PostgreSQL', async () => {
    const url = cluster().url(await cluster().createDatabase('orders'));
    return { open: () => PgOrderLedger.open(url) };
  });
}
