import { expect } from 'chai';
import type { Book } from '../../common/schemas';
import { metric } from '../helpers/metrics';
import { noOutage, type Outage } from '../helpers/outage';
import { AUTH, startStack, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

const lookupMisses = 'cache_misses_total{kind="lookup",service="frontend"}';

/**
 * The catalog while its database restarts or fails over: queries fail with a lost connection, and a purchase can
 * commit and lose its answer. Clients must hear "try again" (not "bug"), and caches must still hear of every copy
 * taken.
 */
describe('catalog: when its database goes away', function () {
  this.timeout(20_000);
  let stack: Stack;
  let outage: Outage;

  beforeEach(async () => {
    outage = noOutage();
    stack = await startStack({ outages: { store: outage } });
    await waitFor('frontend subscribed', () => stack.frontend.reads.live);
  });

  afterEach(() => stack.close());

  const lookup = async (id: number) => {
    const res = await stack.frontend.inject({ method: 'GET', url: `/lookup/${id}` });
    expect(res.statusCode).to.equal(200);
    return res.json<Book>();
  };
  const purchase = (id: number, orderId: string) =>
    stack.catalog.inject({ method: 'POST', url: `/purchase/${id}`, headers: AUTH, payload: { order_id: orderId } });

  it('when a lookup or a purchase finds the database away, then 503 upstream_unavailable says so and nothing changes', async () => {
    const before = await stack.store.listBooks();
    outage.down.add('getBook').add('purchase');
    for (const res of [await stack.catalog.inject({ method: 'GET', url: '/query_by_item_number/1' }), await purchase(1, 'order-away')]) {
      expect(res.statusCode).to.equal(503);
      expect(res.json().error.code).to.equal('upstream_unavailable');
      expect(res.json().error.message).to.match(/database is unavailable/);
    }
    expect(await stack.store.listBooks()).to.deep.equal(before);
    expect(await stack.store.getPurchase('order-away')).to.equal(null);
  });

  it('when a purchase commits but its answer is lost, then its replay is published: the frontend shows the copy taken', async () => {
    const before = await lookup(1);
    await lookup(1); // cached now
    outage.loseAnswer.add('purchase');
    expect((await purchase(1, 'order-lost')).statusCode).to.equal(503);
    expect((await stack.store.getBook(1))!.stock).to.equal(before.stock - 1);
    // The order server asks again with the same order id (its retry, or reconcile): one copy, and now it is heard.
    const replay = await purchase(1, 'order-lost');
    expect(replay.statusCode).to.equal(200);
    expect(replay.json()).to.include({ order_id: 'order-lost', outcome: 'purchased' });
    expect((await stack.store.getBook(1))!.stock).to.equal(before.stock - 1);
    expect((await lookup(1)).stock).to.equal(before.stock - 1);
  });

  it('when the book cannot be read right after its first purchase here committed, then the purchase is answered and every cached answer is dropped', async () => {
    const [one, two] = [await lookup(1), await lookup(2)];
    const misses = await metric(stack.frontend, lookupMisses);
    outage.loseAnswer.add('getBook');
    const res = await purchase(2, 'order-topic');
    expect(res.statusCode).to.equal(201);
    expect(res.json()).to.include({ order_id: 'order-topic', outcome: 'purchased', stock_after: two.stock - 1 });
    expect((await lookup(2)).stock).to.equal(two.stock - 1);
    expect((await lookup(1)).stock).to.equal(one.stock);
    expect(await metric(stack.frontend, lookupMisses)).to.equal(misses + 2);
  });

  it('when a book bought before cannot be read right after its next purchase committed, then only that book is dropped from the cache', async () => {
    expect((await purchase(2, 'order-first')).statusCode).to.equal(201);
    const [one, two] = [await lookup(1), await lookup(2)];
    const misses = await metric(stack.frontend, lookupMisses);
    outage.down.add('getBook');
    expect((await purchase(2, 'order-next')).statusCode).to.equal(201);
    // Book 1 is still answered from the cache (no miss), though the catalog cannot read any book now.
    expect((await lookup(1)).stock).to.equal(one.stock);
    expect(await metric(stack.frontend, lookupMisses)).to.equal(misses);
    outage.down.delete('getBook');
    expect((await lookup(2)).stock).to.equal(two.stock - 1);
    expect(await metric(stack.frontend, lookupMisses)).to.equal(misses + 1);
  });
});
