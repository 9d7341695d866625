/**
 * Schema step 4 of the SQLite ledger: orders get a sequence number (the key they are listed and paged by). A
 * database made by steps 1–3 keeps every order, numbered in the order it used to list them.
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { migrate, openDatabase } from '../../common/sqlite';
import { SCHEMA, SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import { tempDir } from '../helpers/stack';

describe('order ledger: schema step 4 numbers the orders of an older database', () => {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;

  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'orders.db');
    const db = openDatabase(path);
    migrate(db, SCHEMA.slice(0, 3));
    const insert = db.prepare(
      `INSERT INTO orders (order_id, item_number, status, title, price_cents, created_at, updated_at, idempotency_key)
       VALUES (?, 1, 'confirmed', 'T', 100, ?, ?, ?)`,
    );
    // Written out of time order, and two in one millisecond: the old listing ordered by (created_at, rowid).
    for (const [id, at] of [['b', '2025-01-02'], ['a', '2025-01-01'], ['c', '2025-01-03'], ['d', '2025-01-03']]) {
      insert.run(id, `${at}T00:00:00.000Z`, `${at}T00:00:00.000Z`, `key-${id}`);
    }
    db.close();
  });
  afterEach(() => tmp.remove());

  it('when a step-3 database is opened, then its orders keep their listing order and new orders come first', async () => {
    const ledger = new SqliteOrderLedger(path);
    expect((await ledger.list({ limit: 10 })).orders.map((o) => o.order_id)).to.deep.equal(['d', 'c', 'b', 'a']);
    const { order } = await ledger.createPending(2);
    expect((await ledger.list({ limit: 2 })).orders.map((o) => o.order_id)).to.deep.equal([order.order_id, 'd']);
    // The idempotency keys survived the rebuild: a retry finds its order.
    expect(await ledger.createPending(1, 'key-b')).to.deep.include({ created: false });
    await ledger.close();

    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).to.equal(SCHEMA.length);
      expect(db.prepare('SELECT order_id FROM orders ORDER BY seq').pluck().all()).to.deep.equal(['a', 'b', 'c', 'd', order.order_id]);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' ORDER BY name").pluck().all())
        .to.include.members(['orders_idempotency_key', 'orders_pending', 'orders_status_seq']);
    } finally {
      db.close();
    }
  });

  it('when the newest order is discarded, then its number is never given to another order', async () => {
    const ledger = new SqliteOrderLedger(path);
    const { order: gone } = await ledger.createPending(9);
    await ledger.discard(gone.order_id);
    const { order: next } = await ledger.createPending(1);
    await ledger.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT seq FROM orders WHERE order_id = ?').pluck().get(next.order_id)).to.equal(6);
    } finally {
      db.close();
    }
  });
});
