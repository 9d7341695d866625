import { randomUUID } from 'node:crypto';
import { migrate, openPostgres, type Sql } from '../../common/postgres';
import type { Order } from '../../common/schemas';
import type { CreateResult, Lease, ListOptions, OrderLedger } from './types';

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
];

const COLUMNS = 'order_id, item_number, status, title, price_cents, reason, created_at';

interface OrderRow extends Omit<Order, 'created_at'> {
  created_at: Date;
  reason?: string;
}

/** `reason` explains a rejection; confirmed and pending orders leave it out rather than carry a null. */
function toOrder({ created_at, reason, ...row }: OrderRow): Order {
  const order = { ...row, created_at: created_at.toISOString() };
  return reason === null || reason === undefined ? order : { ...order, reason };
}

/**
 * The order ledger on PostgreSQL, shared by order replicas. Every write is one statement (its own transaction).
 * Order times come from the replica's clock, like SQLite's; lease times from the database's clock, so replicas
 * whose clocks differ still agree on when a lease ran out.
 */
export class PgOrderLedger implements OrderLedger {
  readonly backend = 'postgres';

  /** The column list as a query fragment, spliced into each statement's text (not sent as a parameter). */
  private readonly columns;

  private constructor(private readonly sql: Sql) {
    this.columns = sql.unsafe(COLUMNS);
  }

  static async open(url: string, options: { max?: number } = {}): Promise<PgOrderLedger> {
    const sql = openPostgres(url, options);
    try {
      await migrate(sql, 'bazar-order-schema', SCHEMA);
    } catch (err) {
      await sql.end({ timeout: 1 });
      throw err;
    }
    return new PgOrderLedger(sql);
  }

  async createPending(itemNumber: number, idempotencyKey?: string, lease?: Lease): Promise<CreateResult> {
    const now = new Date();
    const [created] = await this.sql<OrderRow[]>`
      INSERT INTO orders (order_id, item_number, idempotency_key, status, created_at, updated_at, lease_owner, lease_until)
      VALUES (${randomUUID()}, ${itemNumber}, ${idempotencyKey ?? null}, 'pending', ${now}, ${now}, ${lease?.owner ?? null},
              now() + ${lease?.ms ?? null}::integer * interval '1 millisecond')
      ON CONFLICT DO NOTHING RETURNING ${this.columns}`;
    if (created) return { order: toOrder(created), created: true };
    // Only the key can conflict (order ids are fresh UUIDs). Under READ COMMITTED the INSERT waited for a racing
    // request with the same key to commit, so this read finds its order.
    return { order: (await this.getByKey(idempotencyKey!))!, created: false };
  }

  async claim(orderId: string, lease: Lease): Promise<Order | null> {
    // One conditional UPDATE: of two racing claims, the second waits for the first's row lock, re-checks the
    // condition against the committed row, and changes nothing.
    const [row] = await this.sql<OrderRow[]>`
      UPDATE orders SET lease_owner = ${lease.owner}, lease_until = now() + ${lease.ms}::integer * interval '1 millisecond'
      WHERE order_id = ${orderId} AND status = 'pending' AND (lease_until IS NULL OR lease_until < now())
      RETURNING ${this.columns}`;
    return row ? toOrder(row) : null;
  }

  async release(orderId: string, owner: string): Promise<void> {
    await this.sql`UPDATE orders SET lease_owner = NULL, lease_until = NULL WHERE order_id = ${orderId} AND lease_owner = ${owner}`;
  }

  async getByKey(idempotencyKey: string): Promise<Order | null> {
    const [row] = await this.sql<OrderRow[]>`SELECT ${this.columns} FROM orders WHERE idempotency_key = ${idempotencyKey}`;
    return row ? toOrder(row) : null;
  }

  async confirm(orderId: string, title: string, priceCents: number): Promise<Order> {
    // `AND status = 'pending'` makes settling idempotent: a late or repeated answer never flips a final order.
    const [row] = await this.sql<OrderRow[]>`
      UPDATE orders SET status = 'confirmed', title = ${title}, price_cents = ${priceCents}, updated_at = ${new Date()},
                        lease_owner = NULL, lease_until = NULL
      WHERE order_id = ${orderId} AND status = 'pending' RETURNING ${this.columns}`;
    return row ? toOrder(row) : this.mustGet(orderId);
  }

  async reject(orderId: string, reason: string): Promise<Order> {
    const [row] = await this.sql<OrderRow[]>`
      UPDATE orders SET status = 'rejected', reason = ${reason}, updated_at = ${new Date()}, lease_owner = NULL, lease_until = NULL
      WHERE order_id = ${orderId} AND status = 'pending' RETURNING ${this.columns}`;
    return row ? toOrder(row) : this.mustGet(orderId);
  }

  async discard(orderId: string): Promise<void> {
    await this.sql`DELETE FROM orders WHERE order_id = ${orderId} AND status = 'pending'`;
  }

  async get(orderId: string): Promise<Order | null> {
    const [row] = await this.sql<OrderRow[]>`SELECT ${this.columns} FROM orders WHERE order_id = ${orderId}`;
    return row ? toOrder(row) : null;
  }

  async list({ limit, status }: ListOptions): Promise<Order[]> {
    const rows = status
      ? await this.sql<OrderRow[]>`
          SELECT ${this.columns} FROM orders WHERE status = ${status} ORDER BY created_at DESC, seq DESC LIMIT ${limit}`
      : await this.sql<OrderRow[]>`SELECT ${this.columns} FROM orders ORDER BY created_at DESC, seq DESC LIMIT ${limit}`;
    return rows.map(toOrder);
  }

  async listPending(olderThan: string): Promise<Order[]> {
    const rows = await this.sql<OrderRow[]>`
      SELECT ${this.columns} FROM orders
      WHERE status = 'pending' AND created_at <= ${olderThan}::timestamptz AND (lease_until IS NULL OR lease_until < now())
      ORDER BY created_at, seq LIMIT 100`;
    return rows.map(toOrder);
  }

  async ping(): Promise<void> {
    await this.sql`SELECT 1`;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  private async mustGet(orderId: string): Promise<Order> {
    const order = await this.get(orderId);
    if (!order) throw new Error(`order ${orderId} vanished from the ledger`);
    return order;
  }
}
