/**
 * How every OrderLedger pages its orders, on SQLite and PostgreSQL: newest first, by key, and a walk that sees
 * each order that existed when it began exactly once while new orders keep arriving (on one ledger or two).
 */
import { expect } from 'chai';
import type { Order } from '../../common/schemas';
import type { OrderLedger } from '../../order-server/ledger/types';
import { walkOrders } from '../helpers/ledger-pages';
import { usePostgres } from '../helpers/postgres';
import { pgLedger, sqliteLedger, type Backend } from './backends';

const ids = (orders: Order[]) => orders.map((o) => o.order_id);

function orderPagingContract(backend: Backend<OrderLedger>): void {
  let ledger: OrderLedger;
  beforeEach(async () => {
    ledger = await (await backend.fresh()).open();
  });
  afterEach(() => backend.cleanup());

  /** `n` orders one after another; returns their ids oldest first. */
  async function place(n: number, on = ledger): Promise<string[]> {
    const made: string[] = [];
    for (let i = 0; i < n; i++) made.push((await on.createPending((i % 4) + 1)).order.order_id);
    return made;
  }

  it('when orders are walked with next, then each comes once, newest first, and the last page says so', async () => {
    const made = await place(23);
    const pages = await walkOrders(ledger, { limit: 5 });
    expect(pages.map((p) => p.length)).to.deep.equal([5, 5, 5, 5, 3]);
    expect(ids(pages.flat())).to.deep.equal([...made].reverse());
    expect(await ledger.list({ limit: 23 })).to.deep.include({ next: null });
  });

  it('when many orders are written at once (sharing timestamps), then a walk still sees each exactly once', async () => {
    const made = await Promise.all(Array.from({ length: 60 }, (_, i) => ledger.createPending((i % 4) + 1)));
    const created = new Set(made.map((m) => m.order.created_at));
    expect(created.size, 'some orders share a millisecond').to.be.below(60);
    const walked = ids((await walkOrders(ledger, { limit: 7 })).flat());
    expect(walked).to.have.length(60);
    expect(new Set(walked)).to.deep.equal(new Set(made.map((m) => m.order.order_id)));
    expect(walked).to.deep.equal(ids((await ledger.list({ limit: 100 })).orders));
  });

  it('when a walk filters by status, then it sees exactly the orders with that status, newest first', async () => {
    const made = await place(20);
    const confirmed = made.filter((_, i) => i % 3 === 0);
    for (const id of confirmed) await ledger.confirm(id, 'T', 100);
    const pages = await walkOrders(ledger, { limit: 3, status: 'confirmed' });
    expect(ids(pages.flat())).to.deep.equal([...confirmed].reverse());
    expect(ids((await walkOrders(ledger, { limit: 4, status: 'pending' })).flat())).to.deep.equal(made.filter((id) => !confirmed.includes(id)).reverse());
  });

  it('when orders arrive and settle during a walk, then it sees each order that existed when it began exactly once, and none of the new ones', async () => {
    const existing = await place(30);
    const arrived: string[] = [];
    const pages = await walkOrders(ledger, { limit: 4 }, async () => {
      arrived.push(...(await place(3)));
      await ledger.confirm(existing[arrived.length % 30], 'T', 100);
    });
    expect(arrived.length).to.be.greaterThan(20);
    expect(ids(pages.flat())).to.deep.equal([...existing].reverse());
  });

  it('when two ledgers (two replicas) write orders during a walk, then the walk still sees each earlier order exactly once', async () => {
    const db = await backend.fresh();
    const [a, b] = await Promise.all([db.open(), db.open()]);
    const existing = [...(await place(10, a)), ...(await place(10, b))];
    const pages = await walkOrders(a, { limit: 3 }, () => Promise.all([place(2, a), place(2, b)]));
    expect(ids(pages.flat())).to.deep.equal([...existing].reverse());
  });
}

describe('OrderLedger contract: pages', function () {
  this.timeout(30_000);

  describe('on SQLite', () => orderPagingContract(sqliteLedger()));

  describe('on PostgreSQL', () => {
    const cluster = usePostgres();
    orderPagingContract(pgLedger(cluster));
  });
});
