import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { GroupCommit } from '../../common/group-commit';
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

export class SqliteOrderLedger implements OrderLedger {
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
    return this.commits.run(() => this.stmt.insert.get(randomUUID(), itemNumber, now, now)!);
  }

  async confirm(orderId: string, title: string, priceCents: number): Promise<Order> {
    await this.commits.run(() => this.stmt.confirm.run(title, priceCents, new Date().toISOString(), orderId));
    return this.mustGet(orderId);
  }

  async reject(orderId: string, reason: string): Promise<Order> {
    await this.commits.run(() => this.stmt.reject.run(reason, new Date().toISOString(), orderId));
    return this.mustGet(orderId);
  }

  async get(orderId: string): Promise<Order | null> {
    return this.stmt.get.get(orderId) ?? null;
  }

  async list({ limit, status }: ListOptions): Promise<Order[]> {
    return status ? this.stmt.listByStatus.all(status, limit) : this.stmt.list.all(limit);
  }

  async listPending(olderThan: string): Promise<Order[]> {
    return this.stmt.pending.all(olderThan);
  }

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private mustGet(orderId: string): Order {
    const order = this.stmt.get.get(orderId);
    if (!order) throw new Error(`order ${orderId} vanished from the ledger`);
    return order;
  }
}
