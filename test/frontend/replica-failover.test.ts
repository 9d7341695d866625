/**
 * The replicated topology in one process (two catalog replicas over one database, two order replicas over one
 * ledger): with one replica of a tier stopped, the store goes on, and every buy takes exactly one copy.
 */
import { expect } from 'chai';
import type { Book, Order } from '../../common/schemas';
import { startReplicatedStack, type ReplicatedStack } from '../helpers/replicas';

describe('replicated stack: one replica of a tier stopped', function () {
  this.timeout(30_000);
  let stack: ReplicatedStack;

  beforeEach(async () => {
    stack = await startReplicatedStack({ catalogs: 2, orders: 2 });
  });
  afterEach(async () => {
    await stack.close();
  });

  async function buyEach(times: number, book: number) {
    const codes: number[] = [];
    for (let i = 0; i < times; i++) {
      const res = await stack.frontend.inject({ method: 'POST', url: `/buy/${book}`, headers: { 'idempotency-key': `k-${book}-${i}` } });
      codes.push(res.statusCode);
      if (res.statusCode === 201) expect(res.json<Order>().status).to.equal('confirmed');
    }
    return codes;
  }

  it('when a catalog replica is stopped, then lookups and buys through the frontend go on, and each buy takes one copy', async () => {
    const before = (await stack.store.getBook(1))!.stock;
    await stack.stopCatalog(0); // no waiting for a probe: the first calls find out for themselves
    expect(await buyEach(4, 1)).to.deep.equal([201, 201, 201, 201]);
    for (let i = 0; i < 4; i++) {
      const res = await stack.frontend.inject('/lookup/1');
      expect(res.statusCode).to.equal(200);
      expect(res.json<Book>().stock).to.equal(before - 4);
    }
    expect((await stack.store.getBook(1))!.stock).to.equal(before - 4);
    expect((await stack.ledger.list({ limit: 10, status: 'confirmed' })).orders).to.have.length(4);
  });

  it('when an order replica is stopped, then buys go to the other, a retried key still buys once, and the stopped one is ejected', async () => {
    const before = (await stack.store.getBook(2))!.stock;
    await stack.stopOrder(0);
    expect(await buyEach(3, 2)).to.deep.equal([201, 201, 201]);
    const again = await stack.frontend.inject({ method: 'POST', url: '/buy/2', headers: { 'idempotency-key': 'k-2-0' } });
    expect(again.statusCode).to.equal(201);
    expect((await stack.store.getBook(2))!.stock).to.equal(before - 3);
    expect((await stack.ledger.list({ limit: 10 })).orders).to.have.length(3);
    const status = (await stack.frontend.inject({ url: '/status', headers: { accept: 'application/json' } })).json();
    expect(status.upstreams[1].replicas.map((r: { state: string }) => r.state)[0]).to.be.oneOf(['ejected', 'probing']);
  });
});
