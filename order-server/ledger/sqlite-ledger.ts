import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { GroupCommit } from '../../common/group-commit';
import { toPage } from '../../common/paging';
import { migrate, openDatabase } from '../../common/sqlite';
import type { Order } from '../../common/schemas';
import type { CreateResult, Lease, ListOptions, OrderLedger, OrderPage } from './types';

export const SCHEMA = [
  `CREATE TABLE orders (
     order_id    TEXT    PRIMARY KEY,
     item_number INTEGER NOT NULL,
     status      TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
     title       TEXT,
     price_cents INTEGER CHECK (price_cents >= 0),
     reason      TEXT,
     created_at  TEXT    NOT NULL,
     updated_at  TEXT    NOT NULL
   ) STRICT;
   CREATE INDEX orders_created ON orders (created_at);
   CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'pending';`,
  // Step 2: the client's Idempotency-Key. Unique, so two racing requests with one key can never make two orders;
  // kept as long as the order itself (far beyond the 24 h a client may retry for).
  `ALTER TABLE orders ADD COLUMN idempotency_key TEXT;
   CREATE UNIQUE INDEX orders_idempotency_key ON orders (idempotency_key) WHERE idempotency_key IS NOT NULL;`,
  // Step 3: the lease on a pending order (see Lease), so a buy in flight is visible to every process.
  `ALTER TABLE orders ADD COLUMN lease_owner TEXT;
   ALTER TABLE orders ADD COLUMN lease_until TEXT;`,
  // Step 4: a sequence number, the key orders are listed and paged by (see OrderPage). It is the rowid, named:
  // an unnamed rowid may be renumbered by VACUUM, and AUTOINCREMENT never hands out a number twice, even after
  // the newest order was discarded. SQLite cannot add such a column, so the table is rebuilt, numbering the
  // orders in the order they were listed until now.
  `CREATE TABLE orders_new (
     seq             INTEGER PRIMARY KEY AUTOINCREMENT,
     order_id        TEXT    NOT NULL UNIQUE,
     item_number     INTEGER NOT NULL,
     status          TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
     title           TEXT,
     price_cents     INTEGER CHECK (price_cents >= 0),
     reason          TEXT,
     created_at      TEXT    NOT NULL,
     updated_at      TEXT    NOT NULL,
     idempotency_key TEXT,
     lease_owner     TEXT,
     lease_until     TEXT
   ) STRICT;
   INSERT INTO orders_new (order_id, item_number, status, title, price_cents, reason, created_at, updated_at,
                           idempotency_key, lease_owner, lease_until)
     SELECT order_id, item_number, status, title, price_cents, reason, created_at, updated_at,
            idempotency_key, lease_owner, lease_until
     FROM orders ORDER BY created_at, rowid;
   DROP TABLE orders;
   ALTER TABLE orders_new RENAME TO orders;
   CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'pending';
   CREATE UNIQUE INDEX orders_idempotency_key ON orders (idempotency_key) WHERE idempotency_key IS NOT NULL;
   CREATE INDEX orders_status_seq ON orders (status, seq);`,
];

const COLUMNS = 'order_id, item_number, status, title, price_cents, reason, created_at';

/** The listing's reads, newest first, each one range of an index (test/plans/sqlite-plans.test.ts shows the plans). */
export const LISTING_SQL = {
  all: `SELECT seq, ${COLUMNS} FROM orders WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
  byStatus: `SELECT seq, ${COLUMNS} FROM orders WHERE status = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
};

/** `reason` explains a rejection; confirmed and pending orders leave it out rather than carry a null. */
function toOrder(row: Order): Order {
  if (row.reason !== null) return row;
  const { reason: _none, ...order } = row;
  return order;
}

interface ListedRow extends Order {
  seq: number;
}

/** Lease times are ISO strings from this process's clock (one host shares one SQLite file). */
const leaseUntil = (lease: Lease) => new Date(Date.now() + lease.ms).toISOString();

export class SqliteOrderLedger implements OrderLedger {
  readonly backend = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt;
  /** Concurrent buys' ledger writes share one durable commit (one fsync) instead of one each. */
  private readonly commits: GroupCommit;

  constructor(path: string) {
    this.db = openDatabase(path);
    migrate(this.db, SCHEMA);
    const db = this.db;
    this.commits = new GroupCommit(db);
    this.stmt = {
      insert: db.prepare<[string, number, string | null, string, string, string | null, string | null], Order>(
        `INSERT INTO orders (order_id, item_number, idempotency_key, status, created_at, updated_at, lease_owner, lease_until)
         VALUES (?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      ),
      // One conditional UPDATE: of two racing claims, exactly one changes the row.
      claim: db.prepare<[string, string, string, string], Order>(
        `UPDATE orders SET lease_owner = ?, lease_until = ?
         WHERE order_id = ? AND status = 'pending' AND (lease_until IS NULL OR lease_until < ?) RETURNING ${COLUMNS}`,
      ),
      release: db.prepare<[string, string]>(
        'UPDATE orders SET lease_owner = NULL, lease_until = NULL WHERE order_id = ? AND lease_owner = ?',
      ),
      byKey: db.prepare<[string], Order>(`SELECT ${COLUMNS} FROM orders WHERE idempotency_key = ?`),
      // `AND status = 'pending'` makes settling idempotent: a late or repeated answer never flips a final order.
      confirm: db.prepare<[string, number, string, string]>(
        `UPDATE orders SET status = 'confirmed', title = ?, price_cents = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL
         WHERE order_id = ? AND status = 'pending'`,
      ),
      reject: db.prepare<[string, string, string]>(
        `UPDATE orders SET status = 'rejected', reason = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL
         WHERE order_id = ? AND status = 'pending'`,
      ),
      discard: db.prepare<[string]>(`DELETE FROM orders WHERE order_id = ? AND status = 'pending'`),
      get: db.prepare<[string], Order>(`SELECT ${COLUMNS} FROM orders WHERE order_id = ?`),
      list: db.prepare<[number, number], ListedRow>(LISTING_SQL.all),
      listByStatus: db.prepare<[string, number, number], ListedRow>(LISTING_SQL.byStatus),
      pending: db.prepare<[string, string], Order>(
        `SELECT ${COLUMNS} FROM orders
         WHERE status = 'pending' AND created_at <= ? AND (lease_until IS NULL OR lease_until < ?)
         ORDER BY created_at, rowid LIMIT 100`,
      ),
      ping: db.prepare('SELECT 1'),
    };
  }

  async createPending(itemNumber: number, idempotencyKey?: string, lease?: Lease): Promise<CreateResult> {
    const now = new Date().toISOString();
    const owner = lease?.owner ?? null;
    const until = lease ? leaseUntil(lease) : null;
    return this.commits.run(() => {
      const created = this.stmt.insert.get(randomUUID(), itemNumber, idempotencyKey ?? null, now, now, owner, until);
      if (created) return { order: toOrder(created), created: true };
      // Only the key can conflict (order ids are fresh UUIDs): hand back the order that key already made.
      return { order: toOrder(this.stmt.byKey.get(idempotencyKey!)!), created: false };
    });
  }

  async claim(orderId: string, lease: Lease): Promise<Order | null> {
    const row = await this.commits.run(() =>
      this.stmt.claim.get(lease.owner, leaseUntil(lease), orderId, new Date().toISOString()),
    );
    return row ? toOrder(row) : null;
  }

  async release(orderId: string, owner: string): Promise<void> {
    await this.commits.run(() => this.stmt.release.run(orderId, owner));
  }
  async confirm(orderId: string, title: string, priceCents: number): Promise<Order> {
    await this.commits.run(() => this.stmt.confirm.run(title, priceCents, new Date().toISOString(), orderId));
    return this.mustGet(orderId);
  }

  async reject(orderId: string, reason: string): Promise<Order> {
    await this.commits.run(() => this.stmt.reject.run(reason, new Date().toISOString(), orderId));
    return this.mustGet(orderId);
  }

  async discard(orderId: string): Promise<void> {
    this.stmt.discard.run(orderId);
  }

  async get(orderId: string): Promise<Order | null> {
    const row = this.stmt.get.get(orderId);
    return row ? toOrder(row) : null;
  }

  async getByKey(idempotencyKey: string): Promise<Order | null> {
    const row = this.stmt.byKey.get(idempotencyKey);
    return row ? toOrder(row) : null;
  }

  async list(options: ListOptions): Promise<OrderPage> {
    const { limit, status, after = Number.MAX_SAFE_INTEGER } = options;
    const rows = status ? this.stmt.listByStatus.all(status, after, limit + 1) : this.stmt.list.all(after, limit + 1);
    const page = toPage(rows, options, (row) => row.seq);
    return { orders: page.items.map(({ seq: _key, ...order }) => toOrder(order)), next: page.next };
  }

  async listPending(olderThan: string): Promise<Order[]> {
    return this.stmt.pending.all(olderThan, new Date().toISOString()).map(toOrder);
  }

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private mustGet(orderId: string): Order {
    const row = this.stmt.get.get(orderId);
    if (!row) throw new Error(`order ${orderId} vanished from the ledger`);
    return toOrder(row);
  }
}
