import { randomUUID } from 'node:crypto';
import { toPage } from '../../common/paging';
import { PgDatabase, migrate } from '../../common/postgres';
import type { Order } from '../../common/schemas';
import type { CreateResult, Lease, ListOptions, OrderLedger, OrderPage } from './types';

/** Numbered steps, applied once each at start (see migrate()). */
const SCHEMA = [
  `CREATE TABLE orders (
     seq             bigint      GENERATED ALWAYS AS IDENTITY,
     order_id        text        PRIMARY KEY,
     item_number     integer     NOT NULL,
     status          text        NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
     title           text,
     price_cents     integer     CHECK (price_cents >= 0),
     reason          text,
     idempotency_key text        UNIQUE,
     created_at      timestamptz NOT NULL,
     updated_at      timestamptz NOT NULL,
     lease_owner     text,
     lease_until     timestamptz
   );
   CREATE INDEX orders_created ON orders (created_at, seq);
   CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'pending';`,
  // Step 2: orders are listed and paged newest first by seq alone (see OrderPage): one index range per page, with
  // or without a status, instead of the (created_at, seq) order that clocks of different replicas could disagree on.
  `CREATE UNIQUE INDEX orders_seq ON orders (seq);
   CREATE INDEX orders_status_seq ON orders (status, seq);
   DROP INDEX orders_created;`,
];

const ORDER = 'order_id, item_number, status, title, price_cents, reason, created_at';
/**
 * Every statement, named: PostgreSQL plans each once per connection. Leases run on the database's clock
 * (now()), so replicas whose clocks differ still agree on when one ran out.
 */
export const SQL = {
  insert: {
    name: 'orders_insert',
    text: `INSERT INTO orders (order_id, item_number, idempotency_key, status, created_at, updated_at, lease_owner, lease_until)
           VALUES ($1, $2, $3, 'pending', $4, $4, $5, now() + $6::integer * interval '1 millisecond')
           ON CONFLICT DO NOTHING RETURNING ${ORDER}`,
  },
  // One conditional UPDATE: of two racing claims, the second waits for the first's row lock, re-checks the
  // condition against the committed row, and changes nothing.
  claim: {
    name: 'orders_claim',
    text: `UPDATE orders SET lease_owner = $2, lease_until = now() + $3::integer * interval '1 millisecond'
           WHERE order_id = $1 AND status = 'pending' AND (lease_until IS NULL OR lease_until < now())
           RETURNING ${ORDER}`,
  },
  release: {
    name: 'orders_release',
    text: 'UPDATE orders SET lease_owner = NULL, lease_until = NULL WHERE order_id = $1 AND lease_owner = $2',
  },
  byKey: { name: 'orders_by_key', text: `SELECT ${ORDER} FROM orders WHERE idempotency_key = $1` },
  byId: { name: 'orders_by_id', text: `SELECT ${ORDER} FROM orders WHERE order_id = $1` },
  // `AND status = 'pending'` makes settling idempotent: a late or repeated answer never flips a final order.
  confirm: {
    name: 'orders_confirm',
    text: `UPDATE orders SET status = 'confirmed', title = $2, price_cents = $3, updated_at = $4, lease_owner = NULL, lease_until = NULL
           WHERE order_id = $1 AND status = 'pending' RETURNING ${ORDER}`,
  },
  reject: {
    name: 'orders_reject',
    text: `UPDATE orders SET status = 'rejected', reason = $2, updated_at = $3, lease_owner = NULL, lease_until = NULL
           WHERE order_id = $1 AND status = 'pending' RETURNING ${ORDER}`,
  },
  discard: { name: 'orders_discard', text: "DELETE FROM orders WHERE order_id = $1 AND status = 'pending'" },
  // Newest first, each one range of an index (test/plans/postgres-plans.test.ts shows the plans).
  list: { name: 'orders_list', text: `SELECT seq, ${ORDER} FROM orders WHERE seq < $2 ORDER BY seq DESC LIMIT $1` },
  listByStatus: {
    name: 'orders_list_by_status',
    text: `SELECT seq, ${ORDER} FROM orders WHERE status = $3 AND seq < $2 ORDER BY seq DESC LIMIT $1`,
  },
  pending: {
    name: 'orders_pending',
    text: `SELECT ${ORDER} FROM orders
           WHERE status = 'pending' AND created_at <= $1 AND (lease_until IS NULL OR lease_until < now())
           ORDER BY created_at, seq LIMIT 100`,
  },
};

interface OrderRow extends Omit<Order, 'created_at' | 'reason'> {
  created_at: Date;
  reason: string | null;
}

interface ListedRow extends OrderRow {
  seq: string;
}

/** `reason` explains a rejection; confirmed and pending orders leave it out rather than carry a null. */
function toOrder({ created_at, reason, ...row }: OrderRow): Order {
  const order = { ...row, created_at: created_at.toISOString() };
  return reason === null ? order : { ...order, reason };
}

/**
 * The order ledger on PostgreSQL, shared by order replicas. Every write is one statement (its own transaction).
 * Order times come from the replica's clock, like SQLite's; lease times from the database's.
 */
export class PgOrderLedger implements OrderLedger {
  readonly backend = 'postgres';

  private constructor(private readonly db: PgDatabase) {}

  static async open(url: string, options: { max?: number } = {}): Promise<PgOrderLedger> {
    const db = new PgDatabase(url, options);
    try {
      await migrate(db, 'bazar-order-schema', SCHEMA);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new PgOrderLedger(db);
  }

  async createPending(itemNumber: number, idempotencyKey?: string, lease?: Lease): Promise<CreateResult> {
    const values = [randomUUID(), itemNumber, idempotencyKey ?? null, new Date(), lease?.owner ?? null, lease?.ms ?? null];
    const [created] = await this.db.query<OrderRow>(SQL.insert, values);
    if (created) return { order: toOrder(created), created: true };
    // Only the key can conflict (order ids are fresh UUIDs). Under READ COMMITTED the INSERT waited for a racing
    // request with the same key to commit, so this read finds its order.
    return { order: (await this.getByKey(idempotencyKey!))!, created: false };
  }

  async claim(orderId: string, lease: Lease): Promise<Order | null> {
    const [row] = await this.db.query<OrderRow>(SQL.claim, [orderId, lease.owner, lease.ms]);
    return row ? toOrder(row) : null;
  }

  async release(orderId: string, owner: string): Promise<void> {
    await this.db.query(SQL.release, [orderId, owner]);
  }

  async getByKey(idempotencyKey: string): Promise<Order | null> {
    const [row] = await this.db.query<OrderRow>(SQL.byKey, [idempotencyKey]);
    return row ? toOrder(row) : null;
  }

  async confirm(orderId: string, title: string, priceCents: number): Promise<Order> {
    const [row] = await this.db.query<OrderRow>(SQL.confirm, [orderId, title, priceCents, new Date()]);
    return row ? toOrder(row) : this.mustGet(orderId);
  }

  async reject(orderId: string, reason: string): Promise<Order> {
    const [row] = await this.db.query<OrderRow>(SQL.reject, [orderId, reason, new Date()]);
    return row ? toOrder(row) : this.mustGet(orderId);
  }

  async discard(orderId: string): Promise<void> {
    await this.db.query(SQL.discard, [orderId]);
  }

  async get(orderId: string): Promise<Order | null> {
    const [row] = await this.db.query<OrderRow>(SQL.byId, [orderId]);
    return row ? toOrder(row) : null;
  }

  async list(options: ListOptions): Promise<OrderPage> {
    const { limit, status, after } = options;
    // bigint comes back as a string; sequence numbers stay far below 2^53.
    const values = [limit + 1, after ?? Number.MAX_SAFE_INTEGER];
    const rows = status
      ? await this.db.query<ListedRow>(SQL.listByStatus, [...values, status])
      : await this.db.query<ListedRow>(SQL.list, values);
    const page = toPage(rows, options, (row) => Number(row.seq));
    return { orders: page.items.map(({ seq: _key, ...row }) => toOrder(row)), next: page.next };
  }

  async listPending(olderThan: string): Promise<Order[]> {
    return (await this.db.query<OrderRow>(SQL.pending, [olderThan])).map(toOrder);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private async mustGet(orderId: string): Promise<Order> {
    const order = await this.get(orderId);
    if (!order) throw new Error(`order ${orderId} vanished from the ledger`);
    return order;
  }
}
