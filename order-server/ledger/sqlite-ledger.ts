import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { migrate, openDatabase } from '../../common/sqlite';
import type { Order } from '../../common/schemas';
import type { ListOptions, OrderLedger } from './types';

const SCHEMA = [
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
];

const COLUMNS = 'order_id, item_number, status, title, price_cents, reason, created_at';

/** `reason` explains a rejection; confirmed and pending orders leave it out rather than carry a null. */
function toOrder(row: Order): Order {
  if (row.reason !== null) return row;
  const { reason: _none, ...order } = row;
  return order;
}

export class SqliteOrderLedger implements OrderLedger {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(path: string) {
    this.db = openDatabase(path);
    migrate(this.db, SCHEMA);
    const db = this.db;
    this.stmt = {
      insert: db.prepare<[string, number, string, string], Order>(
        `INSERT INTO orders (order_id, item_number, status, created_at, updated_at)
         VALUES (?, ?, 'pending', ?, ?) RETURNING ${COLUMNS}`,
      ),
      // `AND status = 'pending'` makes settling idempotent: a late or repeated answer never flips a final order.
      confirm: db.prepare<[string, number, string, string]>(
        `UPDATE orders SET status = 'confirmed', title = ?, price_cents = ?, updated_at = ?
         WHERE order_id = ? AND status = 'pending'`,
      ),
      reject: db.prepare<[string, string, string]>(
        `UPDATE orders SET status = 'rejected', reason = ?, updated_at = ? WHERE order_id = ? AND status = 'pending'`,
      ),
      get: db.prepare<[string], Order>(`SELECT ${COLUMNS} FROM orders WHERE order_id = ?`),
      list: db.prepare<[number], Order>(`SELECT ${COLUMNS} FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?`),
      listByStatus: db.prepare<[string, number], Order>(
        `SELECT ${COLUMNS} FROM orders WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`,
      ),
      pending: db.prepare<[string], Order>(
        `SELECT ${COLUMNS} FROM orders WHERE status = 'pending' AND created_at < ? ORDER BY created_at LIMIT 100`,
      ),
      ping: db.prepare('SELECT 1'),
    };
  }

  async createPending(itemNumber: number): Promise<Order> {
    const now = new Date().toISOString();
    return toOrder(this.stmt.insert.get(randomUUID(), itemNumber, now, now)!);
  }

  async confirm(orderId: string, title: string, priceCents: number): Promise<Order> {
    this.stmt.confirm.run(title, priceCents, new Date().toISOString(), orderId);
    return this.mustGet(orderId);
  }

  async reject(orderId: string, reason: string): Promise<Order> {
    this.stmt.reject.run(reason, new Date().toISOString(), orderId);
    return this.mustGet(orderId);
  }

  async get(orderId: string): Promise<Order | null> {
    const row = this.stmt.get.get(orderId);
    return row ? toOrder(row) : null;
  }

  async list({ limit, status }: ListOptions): Promise<Order[]> {
    return (status ? this.stmt.listByStatus.all(status, limit) : this.stmt.list.all(limit)).map(toOrder);
  }

  async listPending(olderThan: string): Promise<Order[]> {
    return this.stmt.pending.all(olderThan).map(toOrder);
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
