import { expect } from 'chai';
import type { LightMyRequestResponse } from 'fastify';
import type { Order } from '../../common/schemas';
import { noOutage, type Outage } from '../helpers/outage';
import { startStack, type Stack } from '../helpers/stack';

/**
 * A buy while the ledger's database restarts or fails over. Before the catalog is asked, the buyer hears 503
 * ("try again"); once the catalog took the copy the buy is decided and answered 201, its confirm written behind the
 * answer and left to reconcile when it fails. Either way a retry with the same Idempotency-Key once the database is
 * back ends with exactly one copy bought.
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

  /** Retries as a client does: a buy left pending holds its lease until the lease runs out or its drive releases it. */
  async function retryUntilSettled(key: string): Promise<LightMyRequestResponse> {
    let retry = await buy(key);
    for (let i = 0; i < 50 && retry.statusCode === 409; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      retry = await buy(key);
    }
    return retry;
  }

  /** One order, confirmed, with one copy taken for it. */
  async function expectOneCopyBought(order: Order, stockBefore: number): Promise<void> {
    expect(order.status).to.equal('confirmed');
    expect((await stack.store.getBook(3))!.stock).to.equal(stockBefore - 1);
    const { orders } = await stack.ledger.list({ limit: 10 });
    expect(orders.map((o) => [o.order_id, o.status])).to.deep.equal([[order.order_id, 'confirmed']]);
    expect((await stack.store.getPurchase(order.order_id))?.outcome).to.equal('purchased');
  }

  it('when the pending order cannot be written, then 503, and a retry with the key once the database is back buys one copy', async () => {
    const stock = (await stack.store.getBook(3))!.stock;
    outage.down.add('createPending');
    const first = await buy('key-pending');
    expect(first.statusCode).to.equal(503);
    expect(first.json().error).to.include({ code: 'upstream_unavailable' });
    // The order server's own answer, relayed: its database is away (not "a bug", not "the order server is away").
    expect(first.json().error.message).to.match(/database is unavailable/);
    outage.down.delete('createPending');
    const retry = await retryUntilSettled('key-pending');
    expect(retry.statusCode).to.equal(201);
    await expectOneCopyBought(retry.json<Order>(), stock);
  });

  it('when the catalog took the copy but the confirm cannot be written, then 201 all the same, and once the database is back a retry with the key answers that order, one copy bought', async () => {
    const stock = (await stack.store.getBook(3))!.stock;
    outage.down.add('confirm');
    const first = await buy('key-confirm');
    // Decided by the durable pending order and the catalog's purchase; the confirm is written behind the answer.
    expect(first.statusCode).to.equal(201);
    const answered = first.json<Order>();
    expect(answered).to.include({ status: 'confirmed', item_number: 3 });
    // The confirm written behind failed at once (the database is away): the order waits, pending, for reconcile.
    expect((await stack.ledger.get(answered.order_id))?.status).to.equal('pending');
    outage.down.delete('confirm');
    const retry = await retryUntilSettled('key-confirm');
    expect(retry.statusCode).to.equal(201);
    expect(retry.json<Order>()).to.deep.equal(answered);
    await expectOneCopyBought(answered, stock);
  });
});
