import Database from 'better-sqlite3';
import type { BuyHistory } from './load';

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

/**
 * Reads both databases (services stopped) and checks what the store promises, against each other and against what
 * the clients were told.
 */
export function checkInvariants(
  catalogDb: string,
  ordersDb: string,
  seed: Seeded[],
  histories: BuyHistory[],
): { violations: Violation[]; figures: Figures } {
  const violations: Violation[] = [];
  const catalog = new Database(catalogDb, { readonly: true });
  const ledger = new Database(ordersDb, { readonly: true });
  try {
    const books = catalog.prepare('SELECT id, stock FROM books ORDER BY id').all() as Array<{ id: number; stock: number }>;
    const deltas = new Map(
      (catalog.prepare('SELECT book_id, sum(delta) AS d FROM stock_events GROUP BY book_id').all() as Array<{
        book_id: number;
        d: number;
      }>).map((r) => [r.book_id, r.d]),
    );
    const purchases = catalog.prepare('SELECT order_id, book_id, outcome, stock_after FROM purchases').all() as PurchaseRow[];
    const orders = ledger.prepare('SELECT order_id, item_number, status, idempotency_key FROM orders').all() as OrderRow[];
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

    const perKey = ledger
      .prepare('SELECT idempotency_key AS k, count(*) AS n FROM orders WHERE idempotency_key IS NOT NULL GROUP BY 1 HAVING n > 1')
      .all() as Array<{ k: string; n: number }>;
    for (const { k, n } of perKey) violations.push({ rule: 'at most one order per key', detail: `${n} orders`, keys: [k] });

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
  } finally {
    catalog.close();
    ledger.close();
  }
}

function keyOf(o: OrderRow): string[] | undefined {
  return o.idempotency_key ? [o.idempotency_key] : undefined;
}
