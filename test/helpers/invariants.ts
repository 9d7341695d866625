import { join } from 'node:path';
import { PgCatalogStore } from '../../catalog-server/store/pg-store';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import type { BookAudit, CatalogStore, PurchaseRecord } from '../../catalog-server/store/types';
import { PgOrderLedger } from '../../order-server/ledger/pg-ledger';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import type { OrderLedger } from '../../order-server/ledger/types';
import type { Order } from '../../common/schemas';
import { walkOrders } from './ledger-pages';
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

/** Where the services keep their data: catalog.db and orders.db in one folder, or one PostgreSQL database each. */
export type StoreDatabases = { sqliteDir: string } | { catalogUrl: string; ordersUrl: string };

/**
 * Opens the services' databases (services stopped, or settled) through their own store and ledger, on whichever
 * backend they used, checks the invariants below, and closes them.
 */
export interface Audit {
  violations: Violation[];
  figures: Figures;
  /** Every book as the catalog ends (the seeded ones and any other). */
  books: BookAudit[];
}

/**
 * Orders made by clients whose histories are not given (the replicated guest test's e2e suite, before its shoppers):
 * no shopper's key leads to them, and that is no second order. Every other rule still holds for them.
 */
export interface AuditOptions {
  others?: ReadonlySet<string>;
}

export async function auditStore(
  where: StoreDatabases,
  seed: Seeded[],
  histories: BuyHistory[],
  options: AuditOptions = {},
): Promise<Audit> {
  const [store, ledger] =
    'sqliteDir' in where
      ? [new SqliteCatalogStore(join(where.sqliteDir, 'catalog.db')), new SqliteOrderLedger(join(where.sqliteDir, 'orders.db'))]
      : [await PgCatalogStore.open(where.catalogUrl), await PgOrderLedger.open(where.ordersUrl)];
  try {
    return await checkInvariants(store, ledger, seed, histories, options);
  } finally {
    await Promise.all([store.close(), ledger.close()]);
  }
}

/**
 * Reads both databases through the services' own store and ledger (SQLite or PostgreSQL alike; the services are
 * stopped) and checks what the store promises, against each other and against what the clients were told.
 *
 * Every purchase is reached from an order id (the ledger's, or one a client was answered with). Purchases no order
 * leads to cannot be listed, but they cannot hide either: per book, the catalog's count of purchases must equal
 * the ledger's confirmed orders, each of which must have its own purchase of that book.
 */
async function checkInvariants(
  store: CatalogStore,
  ledger: OrderLedger,
  seed: Seeded[],
  histories: BuyHistory[],
  { others }: AuditOptions = {},
): Promise<Audit> {
  const violations: Violation[] = [];
  const books = await store.audit();
  const orders = (await walkOrders(ledger, { limit: 1000 })).flat();
  const orderById = new Map(orders.map((o) => [o.order_id, o]));
  const keyOf = new Map<string, string>();
  const orderByKey = new Map<string, Order>();
  for (const h of histories) {
    const order = await ledger.getByKey(h.key);
    if (!order) continue;
    orderByKey.set(h.key, order);
    keyOf.set(order.order_id, h.key);
  }
  const answered = histories.flatMap((h) => h.attempts.map((a) => a.orderId).filter((id): id is string => Boolean(id)));
  const purchaseById = new Map<string, PurchaseRecord>();
  for (const id of new Set([...orderById.keys(), ...answered])) {
    const purchase = await store.getPurchase(id);
    if (purchase) purchaseById.set(id, purchase);
  }
  const keys = (orderId: string) => (keyOf.has(orderId) ? [keyOf.get(orderId)!] : undefined);

  for (const book of books) {
    if (book.stock < 0) violations.push({ rule: 'stock never negative', detail: `book ${book.id} ends at ${book.stock}` });
  }
  for (const p of purchaseById.values()) {
    if (p.stock_after < 0) violations.push({ rule: 'stock never negative', detail: `purchase ${p.order_id} left ${p.stock_after}` });
  }

  const perBook = seed.map(({ id, stock: initial }) => {
    const audit = books.find((b) => b.id === id);
    const [restocked, final, purchased] = audit ? [audit.delta, audit.stock, audit.purchased] : [0, NaN, NaN];
    const confirmed = orders.filter((o) => o.item_number === id && o.status === 'confirmed').length;
    if (initial + restocked - final !== confirmed) {
      violations.push({
        rule: 'initial + restocked - final == confirmed orders',
        detail: `book ${id}: ${initial} + ${restocked} - ${final} = ${initial + restocked - final}, but ${confirmed} confirmed`,
      });
    }
    if (purchased !== confirmed) {
      violations.push({ rule: 'no purchase without a confirmed order', detail: `book ${id}: ${purchased} purchases, ${confirmed} confirmed orders` });
    }
    return { item: id, initial, restocked, final, confirmed, purchased };
  });

  for (const o of orders) {
    const p = purchaseById.get(o.order_id);
    if (o.status === 'confirmed' && (p?.outcome !== 'purchased' || p.item_number !== o.item_number)) {
      violations.push({ rule: 'no confirmed order without a purchase', detail: `order ${o.order_id}`, keys: keys(o.order_id) });
    }
    if (o.status !== 'confirmed' && p?.outcome === 'purchased') {
      violations.push({ rule: 'no purchase without a confirmed order', detail: `purchase ${o.order_id} is '${o.status}' in the ledger`, keys: keys(o.order_id) });
    }
    if (o.status === 'pending') violations.push({ rule: 'pending orders settle', detail: `order ${o.order_id} still pending`, keys: keys(o.order_id) });
    // Every buy came with its shopper's key, so an order no key leads to is a second order for some key.
    if (!keyOf.has(o.order_id) && !others?.has(o.order_id)) violations.push({ rule: 'at most one order per key', detail: `order ${o.order_id} belongs to no shopper's key` });
  }

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
    if (h.attempts.some((a) => a.code === 'out_of_stock') && order?.status === 'confirmed') {
      violations.push({ rule: 'an out_of_stock answer is never a sale', detail: `order ${order.order_id}`, keys: [h.key] });
    }
  }

  const count = (status: Order['status']) => orders.filter((o) => o.status === status).length;
  return {
    violations,
    books,
    figures: { perBook, orders: { confirmed: count('confirmed'), rejected: count('rejected'), pending: count('pending') } },
  };
}
