/**
 * What every OrderLedger must do, whatever keeps the data: one suite, run against SQLite and PostgreSQL.
 * "Two ledgers on one database" stand for two order replicas.
 */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OrderLedger } from '../../order-server/ledger/types';
import { usePostgres } from '../helpers/postgres';
import { pgLedger, sqliteLedger, type Backend } from './backends';

const lease = (owner: string, ms = 60_000) => ({ owner, ms });

function orderLedgerContract(backend: Backend<OrderLedger>): void {
  let ledger: OrderLedger;
  beforeEach(async () => {
    ledger = await (await backend.fresh()).open();
  });
  afterEach(() => backend.cleanup());

  describe('orders', () => {
    it('when a pending order is written, then it can be read back by id, without a reason', async () => {
      const { order, created } = await ledger.createPending(3);
      expect(created).to.equal(true);
      expect(order).to.have.all.keys('order_id', 'item_number', 'status', 'title', 'price_cents', 'created_at');
      expect(order).to.include({ item_number: 3, status: 'pending', title: null, price_cents: null });
      expect(Date.parse(order.created_at)).to.be.closeTo(Date.now(), 60_000);
      expect(await ledger.get(order.order_id)).to.deep.equal(order);
      expect(await ledger.get('no-such-order')).to.equal(null);
      await ledger.ping();
    });

    it('when an idempotency key comes again, then its first order comes back untouched', async () => {
      const first = await ledger.createPending(2, 'key-1');
      const again = await ledger.createPending(4, 'key-1');
      expect(again).to.deep.equal({ order: first.order, created: false });
      expect((await ledger.list({ limit: 10 })).orders).to.deep.equal([first.order]);
    });

    it('when an order is looked up by its idempotency key, then that order comes back as it is now; an unknown key finds none', async () => {
      const { order } = await ledger.createPending(2, 'key-2');
      await ledger.createPending(3);
      expect(await ledger.getByKey('key-2')).to.deep.equal(order);
      const confirmed = await ledger.confirm(order.order_id, 'A book', 1500);
      expect(await ledger.getByKey('key-2')).to.deep.equal(confirmed);
      expect(await ledger.getByKey('no-such-key')).to.equal(null);
    });

    it('when ten requests with one key arrive at once, then one order is made and all ten see it', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => ledger.createPending(1, 'same-key')));
      expect(results.filter((r) => r.created)).to.have.length(1);
      expect(new Set(results.map((r) => r.order.order_id)).size).to.equal(1);
    });

    it('when an order is confirmed, then a later confirm or reject leaves it as it is', async () => {
      const { order } = await ledger.createPending(2);
      const confirmed = await ledger.confirm(order.order_id, 'RPCs for Dummies', 5000);
      expect(confirmed).to.deep.equal({ ...order, status: 'confirmed', title: 'RPCs for Dummies', price_cents: 5000 });
      expect(await ledger.confirm(order.order_id, 'Other', 1)).to.deep.equal(confirmed);
      expect(await ledger.reject(order.order_id, 'out_of_stock')).to.deep.equal(confirmed);
    });

    it('when an order is rejected, then it carries its reason and stays rejected', async () => {
      const { order } = await ledger.createPending(1);
      const rejected = await ledger.reject(order.order_id, 'out_of_stock');
      expect(rejected).to.deep.equal({ ...order, status: 'rejected', reason: 'out_of_stock' });
      expect(await ledger.confirm(order.order_id, 'X', 1)).to.deep.equal(rejected);
    });

    it('when a pending order is discarded, then it is gone; a final one is kept', async () => {
      const pending = (await ledger.createPending(9)).order;
      const final = (await ledger.createPending(1)).order;
      await ledger.confirm(final.order_id, 'T', 100);
      await ledger.discard(pending.order_id);
      await ledger.discard(final.order_id);
      expect(await ledger.get(pending.order_id)).to.equal(null);
      expect(await ledger.get(final.order_id)).to.include({ status: 'confirmed' });
    });

    it('when orders are listed, then newest first, limited, and filtered by status', async () => {
      const ids: string[] = [];
      for (const item of [1, 2, 3, 4]) ids.push((await ledger.createPending(item)).order.order_id);
      await ledger.confirm(ids[1], 'T', 1);
      await ledger.reject(ids[2], 'out_of_stock');
      expect((await ledger.list({ limit: 10 })).orders.map((o) => o.order_id)).to.deep.equal([...ids].reverse());
      expect((await ledger.list({ limit: 2 })).orders.map((o) => o.order_id)).to.deep.equal([ids[3], ids[2]]);
      expect((await ledger.list({ limit: 10, status: 'pending' })).orders.map((o) => o.order_id)).to.deep.equal([ids[3], ids[0]]);
      expect((await ledger.list({ limit: 10, status: 'confirmed' })).orders.map((o) => o.order_id)).to.deep.equal([ids[1]]);
    });

    it('when pending orders are asked for, then only pending ones old enough come, oldest first', async () => {
      const first = (await ledger.createPending(1)).order;
      const second = (await ledger.createPending(2)).order;
      const settled = (await ledger.createPending(3)).order;
      await ledger.confirm(settled.order_id, 'T', 1);
      const cutoff = new Date().toISOString();
      await sleep(5);
      await ledger.createPending(4);
      expect((await ledger.listPending(cutoff)).map((o) => o.order_id)).to.deep.equal([first.order_id, second.order_id]);
      expect(await ledger.listPending(new Date(Date.parse(first.created_at) - 1000).toISOString())).to.deep.equal([]);
    });

    it('when the ledger is opened again, then every order is still there', async () => {
      const db = await backend.fresh();
      const first = await db.open();
      const { order } = await first.createPending(2, 'durable');
      await first.confirm(order.order_id, 'T', 5000);
      await first.close();
      const second = await db.open();
      expect(await second.get(order.order_id)).to.include({ order_id: order.order_id, status: 'confirmed' });
      // The key survives too: a retry after the restart finds the first order.
      expect((await second.createPending(2, 'durable')).order).to.include({ order_id: order.order_id, status: 'confirmed' });
    });
  });

  describe('leases', () => {
    it('when an order is written under a lease, then nobody else can claim it until the holder releases it', async () => {
      const { order } = await ledger.createPending(2, 'leased', lease('a:1'));
      expect(await ledger.claim(order.order_id, lease('b:1'))).to.equal(null);
      expect(await ledger.listPending(new Date(Date.now() + 1000).toISOString()), 'held: not up for reconcile').to.deep.equal([]);
      await ledger.release(order.order_id, 'b:1');
      expect(await ledger.claim(order.order_id, lease('b:2')), 'only the holder releases').to.equal(null);
      await ledger.release(order.order_id, 'a:1');
      expect(await ledger.claim(order.order_id, lease('b:3'))).to.deep.equal(order);
    });

    it('when a holder dies, then its lease runs out and another can claim the order', async () => {
      const { order } = await ledger.createPending(2, undefined, lease('dead:1', 150));
      expect(await ledger.claim(order.order_id, lease('live:1'))).to.equal(null);
      await sleep(300);
      expect(await ledger.claim(order.order_id, lease('live:2'))).to.deep.equal(order);
    });

    it('when an order is settled, then its lease is gone and it can no longer be claimed', async () => {
      const { order } = await ledger.createPending(1, undefined, lease('a:1'));
      await ledger.confirm(order.order_id, 'T', 1);
      expect(await ledger.claim(order.order_id, lease('b:1'))).to.equal(null);
      const rejected = (await ledger.createPending(1)).order;
      await ledger.reject(rejected.order_id, 'out_of_stock');
      expect(await ledger.claim(rejected.order_id, lease('b:2'))).to.equal(null);
    });

    it('when two ledgers (two replicas) claim the same orders at once, then each order goes to exactly one', async () => {
      const db = await backend.fresh();
      const [a, b] = await Promise.all([db.open(), db.open()]);
      const ids = await Promise.all([1, 2, 3, 4, 1, 2].map(async (item) => (await a.createPending(item)).order.order_id));
      const claims = await Promise.all(
        ids.flatMap((id, i) => [a.claim(id, lease(`a:${i}`)), b.claim(id, lease(`b:${i}`)), b.claim(id, lease(`c:${i}`))]),
      );
      const won = claims.filter((c) => c !== null).map((c) => c!.order_id);
      expect(won.sort()).to.deep.equal([...ids].sort());
    });
  });
}

describe('OrderLedger contract', function () {
  this.timeout(30_000);

  describe('on SQLite', () => orderLedgerContract(sqliteLedger()));

  describe('on PostgreSQL', () => {
    const cluster = usePostgres();
    orderLedgerContract(pgLedger(cluster));
  });
});
