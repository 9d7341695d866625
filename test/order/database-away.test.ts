import { expect } from 'chai';
import type { Order } from '../../common/schemas';
import { noOutage, type Outage } from '../helpers/outage';
import { startStack, type Stack } from '../helpers/stack';

/**
 * A buy while the databases restart or fail over: the buyer hears 503 ("try again"), and a retry with the same
 * Idempotency-Key once they are back buys exactly one copy, whichever write was lost.
 */
describe('order server: when its ledger database goes away', function () {
  this.timeout(20_000);
  let stack: Stack;
  let outage: Outage;

  beforeEach(async () => {
    outage = noOutage();
    stack = await startStack({ outages: { ledger: outage } });
  });

  afterEach(() => stack.close());

  const buy = (key: string) => stack.frontend.inject({ method: 'POST', url: '/buy/3', headers: { 'idempotency-key': key } });

  for (const [lost, what] of [
    ['createPending', 'the pending order cannot be written'],
    ['confirm', 'the catalog took the copy but the order cannot be confirmed'],
  ] as const) {
    it(`when ${what}, then 503, and a retry with the key once the database is back buys one copy`, async () => {
      const stock = (await stack.store.getBook(3))!.stock;
      outage.down.add(lost);
      const first = await buy(`key-${lost}`);
      expect(first.statusCode).to.equal(503);
      expect(first.json().error).to.include({ code: 'upstream_unavailable' });
      // The order server's own answer, relayed: its database is away (not "a bug", not "the order server is away").
      expect(first.json().error.message).to.match(/database is unavailable/);
      outage.down.delete(lost);
      // A buy left pending holds its lease until the lease runs out or its drive releases it; retry as a client does.
      let retry = await buy(`key-${lost}`);
      for (let i = 0; i < 50 && retry.statusCode === 409; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        retry = await buy(`key-${lost}`);
      }
      expect(retry.statusCode).to.equal(201);
      const order = retry.json<Order>();
      expect(order.status).to.equal('confirmed');
      expect((await stack.store.getBook(3))!.stock).to.equal(stock - 1);
      const { orders } = await stack.ledger.list({ limit: 10 });
      expect(orders.map((o) => o.order_id)).to.deep.equal([order.order_id]);
      expect((await stack.store.getPurchase(order.order_id))?.outcome).to.equal('purchased');
    });
  }
});
