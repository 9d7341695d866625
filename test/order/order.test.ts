import { expect } from 'chai';
import { join } from 'node:path';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import type { CatalogStore } from '../../catalog-server/store/types';
import { buildOrderApp } from '../../order-server/app';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import type { OrderLedger } from '../../order-server/ledger/types';
import { AUTH, TEST_TOKEN, newCatalogStore, tempDir } from '../helpers/stack';

describe('order server', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: CatalogStore;
  let catalog: App;
  let ledger: OrderLedger;
  let order: App;
  let catalogUrl: string;

  beforeEach(async () => {
    tmp = tempDir();
    store = newCatalogStore(tmp.dir);
    catalog = buildCatalogApp({ store, token: TEST_TOKEN, logLevel: 'silent' });
    catalogUrl = await catalog.listen({ host: '127.0.0.1', port: 0 });
    ledger = new SqliteOrderLedger(join(tmp.dir, 'orders.db'));
    order = buildOrderApp({ ledger, catalogUrl, token: TEST_TOKEN, logLevel: 'silent', reconcileIntervalMs: 0 });
  });
  afterEach(async () => {
    await order.close();
    await catalog.close();
    tmp.remove();
  });

  const buy = (n: string | number, headers: Record<string, string> = AUTH) =>
    order.inject({ method: 'POST', url: `/buy/${n}`, headers });

  it('when a book in stock is bought, then 201 with a confirmed order at the catalog price, in the ledger and the catalog', async () => {
    const res = await buy(2);
    expect(res.statusCode).to.equal(201);
    const body = res.json();
    expect(body).to.include({ item_number: 2, title: 'RPCs for Dummies', price_cents: 5000, status: 'confirmed' });
    expect(Date.parse(body.created_at)).to.be.closeTo(Date.now(), 60_000);
    expect(await ledger.get(body.order_id)).to.include({ status: 'confirmed', price_cents: 5000 });
    expect(await store.getPurchase(body.order_id)).to.include({ outcome: 'purchased', item_number: 2 });
    expect((await store.getBook(2))?.stock).to.equal(4);
  });

  it('when the book is sold out, then 409 out_of_stock and the order is kept as rejected', async () => {
    await store.updateBook(1, { stock: 0 });
    const res = await buy(1);
    expect(res.statusCode).to.equal(409);
    expect(res.json().error.code).to.equal('out_of_stock');
    const [rejected] = (await ledger.list({ limit: 10 })).orders;
    expect(rejected).to.include({ item_number: 1, status: 'rejected', reason: 'out_of_stock' });
    expect((await store.getBook(1))?.stock).to.equal(0);
  });

  it('when the book does not exist, then 404 book_not_found and nothing is confirmed', async () => {
    const res = await buy(12);
    expect(res.statusCode).to.equal(404);
    expect(res.json().error.code).to.equal('book_not_found');
    expect((await ledger.list({ limit: 10, status: 'confirmed' })).orders).to.deep.equal([]);
  });

  for (const bad of ['abc', '-1', '0', '1.5', '99999999999999999999']) {
    it(`when the item number is '${bad}', then 400 invalid_item_number and no order is written`, async () => {
      const res = await buy(bad);
      expect(res.statusCode).to.equal(400);
      expect(res.json().error.code).to.equal('invalid_item_number');
      expect((await ledger.list({ limit: 10 })).orders).to.deep.equal([]);
    });
  }

  it('when a buy or an order read comes without the token, then 401 and no order is written', async () => {
    expect((await buy(1, {})).statusCode).to.equal(401);
    expect((await order.inject({ url: '/orders' })).statusCode).to.equal(401);
    expect((await order.inject({ url: '/orders/x', headers: { authorization: 'Bearer wrong-wrong-wrong' } })).statusCode).to.equal(401);
    expect((await ledger.list({ limit: 10 })).orders).to.deep.equal([]);
    expect((await store.getBook(1))?.stock).to.equal(5);
  });

  it('when orders are listed, then newest first, filterable by status, and each can be read by id', async () => {
    const first = (await buy(3)).json();
    const second = (await buy(4)).json();
    const list = await order.inject({ url: '/orders', headers: AUTH });
    expect(list.json().orders.map((o: { order_id: string }) => o.order_id)).to.deep.equal([second.order_id, first.order_id]);
    expect(list.json().next_cursor).to.equal(null);
    const confirmed = await order.inject({ url: '/orders?status=confirmed&limit=1', headers: AUTH });
    expect(confirmed.json().orders.map((o: { order_id: string }) => o.order_id)).to.deep.equal([second.order_id]);
    const rest = await order.inject({ url: `/orders?status=confirmed&limit=1&cursor=${confirmed.json().next_cursor}`, headers: AUTH });
    expect(rest.json()).to.deep.include({ next_cursor: null });
    expect(rest.json().orders.map((o: { order_id: string }) => o.order_id)).to.deep.equal([first.order_id]);
    const one = await order.inject({ url: `/orders/${first.order_id}`, headers: AUTH });
    expect(one.json()).to.deep.include({ order_id: first.order_id, status: 'confirmed', item_number: 3 });
  });

  it('when an order id, a list filter or a cursor is unknown or malformed, then 404 or 400, and nothing changes', async () => {
    await buy(3);
    expect((await order.inject({ url: '/orders/no-such-order', headers: AUTH })).json().error.code).to.equal('order_not_found');
    const otherListing = Buffer.from(JSON.stringify(['b', 'a', 4])).toString('base64url');
    const backwards = Buffer.from(JSON.stringify(['o', 'b', 4])).toString('base64url');
    for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'status=lost', 'page=2', 'cursor=', 'cursor=%2F%2F', 'cursor=bm90IGpzb24', `cursor=${otherListing}`, `cursor=${backwards}`]) {
      const res = await order.inject({ url: `/orders?${query}`, headers: AUTH });
      expect(res.statusCode, query).to.equal(400);
      expect(res.json().error.code).to.equal('validation_failed');
    }
    expect((await ledger.list({ limit: 10 })).orders.map((o) => o.status)).to.deep.equal(['confirmed']);
  });

  it('when the catalog is down, then 503 upstream_unavailable within 2 s and the order waits as pending', async () => {
    await catalog.close();
    const started = Date.now();
    const res = await buy(2);
    expect(Date.now() - started).to.be.below(2000);
    expect(res.statusCode).to.equal(503);
    expect(res.json().error.code).to.equal('upstream_unavailable');
    expect((await ledger.list({ limit: 10, status: 'pending' })).orders).to.have.length(1);
  });

  it('when the catalog comes back, then reconciliation confirms the pending order exactly once', async () => {
    const port = Number(new URL(catalogUrl).port);
    await catalog.close();
    const res = await buy(2);
    expect(res.statusCode).to.equal(503);
    const [pending] = (await ledger.list({ limit: 1, status: 'pending' })).orders;

    const reopened = newCatalogStore(tmp.dir);
    catalog = buildCatalogApp({ store: reopened, token: TEST_TOKEN, logLevel: 'silent' });
    await catalog.listen({ host: '127.0.0.1', port });
    expect(await order.buys.reconcile(order.log, 0)).to.equal(1);
    expect(await order.buys.reconcile(order.log, 0)).to.equal(0);
    expect(await ledger.get(pending.order_id)).to.include({ status: 'confirmed', price_cents: 5000 });
    expect((await reopened.getBook(2))?.stock).to.equal(4);
  });

  it('when the catalog answered but the answer was lost, then reconciliation confirms without a second decrement', async () => {
    const { order: pending } = await ledger.createPending(2);
    await store.purchase(2, pending.order_id);
    expect(await order.buys.reconcile(order.log, 0)).to.equal(1);
    expect(await ledger.get(pending.order_id)).to.include({ status: 'confirmed' });
    expect((await store.getBook(2))?.stock).to.equal(4);
  });

  it('when readiness is asked, then it reports the ledger and the catalog', async () => {
    expect((await order.inject('/readyz')).json()).to.deep.equal({ status: 'ready', checks: { database: 'ok', catalog: 'ok' } });
    await catalog.close();
    const down = await order.inject('/readyz');
    expect(down.statusCode).to.equal(503);
    expect(down.json().checks).to.deep.equal({ database: 'ok', catalog: 'unreachable' });
  });
});
