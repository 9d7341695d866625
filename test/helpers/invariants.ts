import Database from 'better-sqlite3';
import { PgDatabase } from '../../common/postgres';
import type { BuyHistory } from './shopper';

export interface Seeded {
  id: number;
  stock: number;
}

export interface Figures {
  perBook: Array<{ item: number; initial: number; restocked: number; final: number; confirmed: number; purchased: number }>;
  orders: { confirmed: number; rejected: number; pending: number };
}

export interface Violation {
  rule: string;
  detail: string;
  keys?: string[];
}

interface OrderRow {
  order_id: string;
  item_number: number;
  status: string;
  idempotency_key: string | null;
}
interface PurchaseRow {
  order_id: string;
  book_id: number;
  outcome: string;
  stock_after: number;
}

/** What the two databases hold once the services have settled: the rows the store's promises are about. */
export interface StoreSnapshot {
  books: Array<{ id: number; stock: number }>;
  /** Per book, the sum of its stock_events (restocks and updates; purchases are not in it). */
  deltas: Map<number, number>;
  purchases: PurchaseRow[];
  orders: OrderRow[];
}

const SQL = {
  books: 'SELECT id, stock FROM books ORDER BY id',
  deltas: 'SELECT book_id, sum(delta) AS d FROM stock_events GROUP BY book_id',
  purchases: 'SELECT order_id, book_id, outcome, stock_after FROM purchases',
  orders: 'SELECT order_id, item_number, status, idempotency_key FROM orders',
};

/** The snapshot of the SQLite files `catalogDb` and `ordersDb` (services stopped). */
export function readSqliteSnapshot(catalogDb: string, ordersDb: string): StoreSnapshot {
  const catalog = new Database(catalogDb, { readonly: true });
  const ledger = new Database(ordersDb, { readonly: true });
  try {
    const deltas = catalog.prepare(SQL.deltas).all() as Array<{ book_id: number; d: number }>;
    return {
      books: catalog.prepare(SQL.books).all() as StoreSnapshot['books'],
      deltas: new Map(deltas.map((r) => [r.book_id, r.d])),
      purchases: catalog.prepare(SQL.purchases).all() as PurchaseRow[],
      orders: ledger.prepare(SQL.orders).all() as OrderRow[],
    };
  } finally {
    catalog.close();
    ledger.close();
  }
}

/** One query against the catalog's or the order server's database, whatever reaches it: rows as objects. */
export type SnapshotQuery = (database: 'catalog' | 'orders', sql: string) => Promise<unknown[]>;

/** The snapshot of two PostgreSQL databases, read through `query` (a connection, or psql in a guest). */
export async function readSnapshot(query: SnapshotQuery): Promise<StoreSnapshot> {
  // sum() of integers is a bigint, which node-postgres returns as a string.
  const deltas = (await query('catalog', SQL.deltas)) as Array<{ book_id: number; d: string | number }>;
  return {
    books: (await query('catalog', SQL.books)) as StoreSnapshot['books'],
    deltas: new Map(deltas.map((r) => [r.book_id, Number(r.d)])),
    purchases: (await query('catalog', SQL.purchases)) as PurchaseRow[],
    orders: (await query('orders', SQL.orders)) as OrderRow[],
  };
}

/** The snapshot of the PostgreSQL databases at `catalogUrl` and `ordersUrl` (each service's own). */
export async function readPgSnapshot(catalogUrl: string, ordersUrl: string): Promise<StoreSnapshot> {
  const catalog = new PgDatabase(catalogUrl, { max: 1 });
  const ledger = new PgDatabase(ordersUrl, { max: 1 });
  try {
    return await readSnapshot((database, sql) => (database === 'catalog' ? catalog : ledger).query(sql));
  } finally {
    await Promise.all([catalog.close(), ledger.close()]);
  }
}

/** Checks what the store promises: the databases against each other and against what the clients were told. */
export function checkInvariants(
  { books, deltas, purchases, orders }: StoreSnapshot,
  seed: Seeded[],
  histories: BuyHistory[],
): { violations: Violation[]; figures: Figures } {
  const violations: Violation[] = [];
  const purchaseById = new Map(purchases.map((p) => [p.order_id, p]));
  const orderById = new Map(orders.map((o) => [o.order_id, o]));

  for (const book of books) {
    if (book.stock < 0) violations.push({ rule: 'stock never negative', detail: `book ${book.id} ends at ${book.stock}` });
  }
  for (const p of purchases) {
    if (p.stock_after < 0) violations.push({ rule: 'stock never negative', detail: `purchase ${p.order_id} left ${p.stock_after}` });
  }

  const perBook = seed.map(({ id, stock: initial }) => {
    const restocked = deltas.get(id) ?? 0;
    const final = books.find((b) => b.id === id)?.stock ?? NaN;
    const confirmed = orders.filter((o) => o.item_number === id && o.status === 'confirmed').length;
    const purchased = purchases.filter((p) => p.book_id === id && p.outcome === 'purchased').length;
    if (initial + restocked - final !== confirmed) {
      violations.push({
        rule: 'initial + restocked - final == confirmed orders',
        detail: `book ${id}: ${initial} + ${restocked} - ${final} = ${initial + restocked - final}, but ${confirmed} confirmed`,
      });
    }
    return { item: id, initial, restocked, final, confirmed, purchased };
  });

  for (const o of orders) {
    const p = purchaseById.get(o.order_id);
    if (o.status === 'confirmed' && p?.outcome !== 'purchased') {
      violations.push({ rule: 'no confirmed order without a purchase', detail: `order ${o.order_id}`, keys: keyOf(o) });
    }
    if (o.status === 'pending') violations.push({ rule: 'pending orders settle', detail: `order ${o.order_id} still pending`, keys: keyOf(o) });
  }
  for (const p of purchases) {
    const o = orderById.get(p.order_id);
    if (p.outcome === 'purchased' && o?.status !== 'confirmed') {
      violations.push({
        rule: 'no purchase without a confirmed order',
        detail: `purchase ${p.order_id} is '${o?.status ?? 'missing'}' in the ledger`,
        keys: o ? keyOf(o) : undefined,
      });
    }
  }

  const perKey = new Map<string, number>();
  for (const o of orders) if (o.idempotency_key) perKey.set(o.idempotency_key, (perKey.get(o.idempotency_key) ?? 0) + 1);
  for (const [k, n] of perKey) if (n > 1) violations.push({ rule: 'at most one order per key', detail: `${n} orders`, keys: [k] });

  const orderByKey = new Map(orders.filter((o) => o.idempotency_key).map((o) => [o.idempotency_key!, o]));
  for (const h of histories) {
    const ids = new Set(h.attempts.map((a) => a.orderId).filter(Boolean));
    if (ids.size > 1) violations.push({ rule: 'one order per key', detail: `answers named ${[...ids].join(', ')}`, keys: [h.key] });
    const order = orderByKey.get(h.key);
    for (const a of h.attempts.filter((x) => x.status === 201)) {
      const p = purchaseById.get(a.orderId ?? '');
      if (order?.order_id !== a.orderId || order?.status !== 'confirmed' || p?.outcome !== 'purchased') {
        violations.push({
          rule: 'every 201 is a confirmed order and a recorded purchase',
          detail: `answer named ${a.orderId}; ledger: ${order?.order_id}/${order?.status}; catalog: ${p?.outcome ?? 'none'}`,
          keys: [h.key],
        });
      }
    }
    const outOfStock = h.attempts.some((a) => a.code === 'out_of_stock');
    if (outOfStock && order?.status === 'confirmed') {
      violations.push({ rule: 'an out_of_stock answer is never a sale', detail: `order ${order.order_id}`, keys: [h.key] });
    }
  }

  const count = (status: string) => orders.filter((o) => o.status === status).length;
  return {
    violations,
    figures: { perBook, orders: { confirmed: count('confirmed'), rejected: count('rejected'), pending: count('pending') } },
  };
}

function keyOf(o: OrderRow): string[] | undefined {
  return o.idempotency_key ? [o.idempotency_key] : undefined;
}
