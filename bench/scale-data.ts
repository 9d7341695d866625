/**
 * The data the scale benchmark runs on, per backend: a catalog database for a seed file (the catalog seeds it on
 * its first start, which is what is timed), and an order ledger already holding `count` orders, written straight
 * into the ledger's database in one statement (a million orders through HTTP would take longer than the benchmark).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { PgDatabase } from '../common/postgres';
import { PgOrderLedger } from '../order-server/ledger/pg-ledger';
import { SqliteOrderLedger } from '../order-server/ledger/sqlite-ledger';
import { startThrowawayCluster } from '../support/postgres-server';

export type BackendName = 'sqlite' | 'postgres';

export interface ScaleBackend {
  name: BackendName;
  /** A service's environment for a new, empty catalog database. */
  catalogDatabase(): Promise<Record<string, string>>;
  /** A service's environment for a ledger holding `count` settled orders (90 % confirmed, 10 % rejected). */
  ordersDatabase(count: number): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** Orders one millisecond apart from 2026-01-01, every tenth rejected as out of stock. */
const SQLITE_ORDERS = `
  WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
  INSERT INTO orders (order_id, item_number, status, title, price_cents, reason, created_at, updated_at)
  SELECT printf('bench-%09d', i), 1 + i % 4,
         CASE WHEN i % 10 = 0 THEN 'rejected' ELSE 'confirmed' END,
         CASE WHEN i % 10 = 0 THEN NULL ELSE 'A bench book' END,
         CASE WHEN i % 10 = 0 THEN NULL ELSE 1000 END,
         CASE WHEN i % 10 = 0 THEN 'out_of_stock' END,
         strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i / 1000.0, 'unixepoch'),
         strftime('%Y-%m-%dT%H:%M:%fZ', 1767225600 + i / 1000.0, 'unixepoch')
  FROM n`;

const PG_ORDERS = `
  INSERT INTO orders (order_id, item_number, status, title, price_cents, reason, created_at, updated_at)
  SELECT 'bench-' || lpad(i::text, 9, '0'), 1 + i % 4,
         CASE WHEN i % 10 = 0 THEN 'rejected' ELSE 'confirmed' END,
         CASE WHEN i % 10 = 0 THEN NULL ELSE 'A bench book' END,
         CASE WHEN i % 10 = 0 THEN NULL ELSE 1000 END,
         CASE WHEN i % 10 = 0 THEN 'out_of_stock' END,
         to_timestamp(1767225600 + i / 1000.0), to_timestamp(1767225600 + i / 1000.0)
  FROM generate_series(1, $1::integer) AS i`;

export function sqliteBackend(dir: string): ScaleBackend {
  let n = 0;
  return {
    name: 'sqlite',
    async catalogDatabase() {
      return { DB_PATH: join(dir, `catalog-${++n}.db`) };
    },
    async ordersDatabase(count) {
      const path = join(dir, `orders-${++n}.db`);
      await new SqliteOrderLedger(path).close(); // the ledger's own schema steps
      const db = new Database(path);
      try {
        // No ANALYZE: the order server's own databases never get one, so neither does this.
        db.transaction(() => db.prepare(SQLITE_ORDERS).run(count))();
      } finally {
        db.close();
      }
      return { DB_PATH: path };
    },
    async close() {},
  };
}

/** A throwaway cluster (support/postgres-server.ts), one database per catalog and per ledger. */
export async function postgresBackend(): Promise<ScaleBackend> {
  const cluster = await startThrowawayCluster({ maxConnections: 200 });
  return {
    name: 'postgres',
    async catalogDatabase() {
      return { DATABASE_URL: cluster.url(await cluster.createDatabase('scale_catalog')) };
    },
    async ordersDatabase(count) {
      const url = cluster.url(await cluster.createDatabase('scale_orders'));
      await (await PgOrderLedger.open(url)).close();
      const db = new PgDatabase(url);
      try {
        await db.query(PG_ORDERS, [count]);
        // What autovacuum does soon after a bulk load, done now so the first measurement is not of a planner without statistics.
        await db.query('ANALYZE orders');
      } finally {
        await db.close();
      }
      return { DATABASE_URL: url };
    },
    async close() {
      cluster.stop();
    },
  };
}
