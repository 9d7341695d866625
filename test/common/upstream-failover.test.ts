import { expect } from 'chai';
import pino from 'pino';
import { AppError } from '../../common/errors';
import { Upstream, type UpstreamOptions } from '../../common/upstream';
import { OrderClient } from '../../frontend-server/clients/order-client';
import { CatalogClient } from '../../order-server/clients/catalog-client';
import { fakeUpstream, refusingOrigin, type FakeUpstream } from '../helpers/fake-upstream';

const ctx = { log: pino({ level: 'silent' }), requestId: 'failover-test' };

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('should have failed'),
    (err: unknown) => err as AppError,
  );

describe('upstream: ejecting, retrying elsewhere, reinstating', function () {
  this.timeout(10_000);
  let a: FakeUpstream;
  let b: FakeUpstream;
  const closing: { close(): Promise<void> }[] = [];

  beforeEach(async () => {
    [a, b] = await Promise.all([fakeUpstream(), fakeUpstream()]);
  });
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((c) => c.close()));
    await Promise.all([a.close(), b.close()]);
  });

  function balanced(origins: string[], options: Partial<UpstreamOptions> = {}): Upstream {
    const upstream = new Upstream({ name: 'catalog', origin: origins, timeoutMs: 1000, probeIntervalMs: 0, ...options });
    closing.push(upstream);
    return upstream;
  }

  const stateOf = (upstream: Upstream, i: number) => upstream.status().replicas[i];

  it('when a replica refuses connections, then a GET is answered by the other, the refusing one is ejected and gets no more calls', async () => {
    const refused = await refusingOrigin();
    const up = balanced([refused, b.url]);
    expect((await up.call<{ from: string }>('GET', '/books', ctx)).from).to.equal(b.url);
    expect(stateOf(up, 0)).to.deep.include({ state: 'ejected', failed: 1, ejections: 1 });
    expect(stateOf(up, 0).last_error?.reason).to.equal('connection refused');
    for (let i = 0; i < 5; i++) await up.call('GET', '/books', ctx);
    expect(stateOf(up, 0).failed).to.equal(1, 'no call went to the ejected replica');
    expect(b.calls).to.have.length(6);
  });

  it('when a replica resets the connection, then it is ejected and the GET is answered by the other', async () => {
    a.mode = 'reset';
    const up = balanced([a.url, b.url]);
    expect((await up.call<{ from: string }>('GET', '/books', ctx)).from).to.equal(b.url);
    expect(stateOf(up, 0)).to.deep.include({ state: 'ejected' });
    expect(stateOf(up, 0).last_error?.reason).to.equal('connection reset');
    expect(stateOf(up, 1)).to.deep.include({ state: 'in rotation', answered: 1 });
  });

  it('when a replica answers 500, then it is ejected and the GET is answered by the other (a 500 is not retried on the same one)', async () => {
    a.mode = 'fail-500';
    const up = balanced([a.url, b.url]);
    expect((await up.call<{ from: string }>('GET', '/books', ctx)).from).to.equal(b.url);
    expect(stateOf(up, 0)).to.deep.include({ state: 'ejected', answered: 1 });
    expect(stateOf(up, 0).last_error?.reason).to.equal('answered 500');
    expect(a.calls).to.have.length(1);
  });

  it('when a replica answers 503 in our coded shape (a tier behind it is down), then the GET goes to the other but that replica stays in rotation', async () => {
    a.mode = 'coded-503';
    const up = balanced([a.url, b.url]);
    expect((await up.call<{ from: string }>('GET', '/books', ctx)).from).to.equal(b.url);
    expect(stateOf(up, 0)).to.deep.include({ state: 'in rotation' });
    expect(stateOf(up, 0).last_error?.reason).to.equal('answered 503');
  });

  it('when a replica hangs, then it is ejected at half the deadline and the GET is answered by the other within the deadline', async () => {
    a.mode = 'hang';
    const up = balanced([a.url, b.url], { timeoutMs: 800 });
    const started = performance.now();
    expect((await up.call<{ from: string }>('GET', '/books', ctx)).from).to.equal(b.url);
    const took = performance.now() - started;
    expect(took).to.be.at.least(350).and.below(800);
    expect(stateOf(up, 0)).to.deep.include({ state: 'ejected' });
    expect(stateOf(up, 0).last_error?.reason).to.match(/^no answer within (39\d|400) ms$/);
  });

  it('when an idempotent write is slow on a replica, then it gets the whole deadline there (it may be waiting on its own upstream), not half', async () => {
    a.mode = 'hang';
    const order = new OrderClient({ origin: [a.url, b.url], timeoutMs: 1000, probeIntervalMs: 0 });
    closing.push(order);
    setTimeout(() => a.release(), 700);
    expect(await order.buy(1, 'slow-key', ctx)).to.deep.equal({ from: a.url });
    expect(b.calls).to.have.length(0);
    expect(order.status().replicas[0].state).to.equal('in rotation');
  });

  it('when a plain write fails on a replica, then it is never sent again, to that replica or another', async () => {
    const refused = await refusingOrigin();
    for (const [first, mode] of [[refused, 'ok'], [a.url, 'fail-500'], [a.url, 'reset']] as const) {
      a.mode = mode;
      const up = balanced([first, b.url]);
      const err = await failure(up.call('POST', '/restock', ctx, { stock: 5 }));
      expect(err).to.include({ statusCode: 503, code: 'upstream_unavailable' });
      expect(b.calls, `after ${mode} at ${first === refused ? 'a refusing replica' : 'replica a'}`).to.have.length(0);
    }
    expect(a.calls).to.have.length(2, 'one attempt each for the 500 and the reset');
  });

  it('when a buy with an idempotency key meets a reset, then it is retried on the other order replica with the same key', async () => {
    a.mode = 'reset';
    const order = new OrderClient({ origin: [a.url, b.url], timeoutMs: 1000, probeIntervalMs: 0 });
    closing.push(order);
    expect(await order.buy(3, 'key-123', ctx)).to.deep.equal({ from: b.url });
    expect(a.calls).to.have.length(1);
    expect(b.calls.map((c) => [c.method, c.url, c.headers['idempotency-key']])).to.deep.equal([['POST', '/buy/3', 'key-123']]);
  });

  it('when a purchase with its order id meets a 500, then it is retried on the other catalog replica with the same order id', async () => {
    a.mode = 'fail-500';
    const catalog = new CatalogClient({ origin: [a.url, b.url], timeoutMs: 1000, probeIntervalMs: 0 });
    closing.push(catalog);
    expect(await catalog.purchase(2, 'order-7', ctx)).to.deep.equal({ from: b.url });
    expect([...a.calls, ...b.calls].map((c) => [c.url, JSON.parse(c.body)])).to.deep.equal([
      ['/purchase/2', { order_id: 'order-7' }],
      ['/purchase/2', { order_id: 'order-7' }],
    ]);
  });

  it('when an ejected replica\'s /readyz passes again, then it is back in rotation and gets calls again', async () => {
    a.mode = 'fail-500';
    const up = balanced([a.url, b.url]);
    await up.call('GET', '/books', ctx);
    expect(stateOf(up, 0).state).to.equal('ejected');
    a.ready = false;
    await up.probeNow();
    expect(stateOf(up, 0)).to.deep.include({ state: 'ejected' });
    expect(stateOf(up, 0).last_error?.reason).to.equal('readyz answered 503');
    a.mode = 'ok';
    a.ready = true;
    await up.probeNow();
    expect(stateOf(up, 0).state).to.equal('in rotation');
    const froms = [];
    for (let i = 0; i < 4; i++) froms.push((await up.call<{ from: string }>('GET', '/books', ctx)).from);
    expect(froms.filter((f) => f === a.url)).to.have.length(2);
  });

  it('when a replica in rotation fails its /readyz probe, then it is ejected before any call meets it', async () => {
    const up = balanced([a.url, b.url]);
    a.ready = false;
    await up.probeNow();
    expect(stateOf(up, 0).state).to.equal('ejected');
    for (let i = 0; i < 3; i++) await up.call('GET', '/books', ctx);
    expect(a.calls).to.have.length(0);
  });

  it('when probing runs on its interval, then a replica that is back is reinstated within about one interval', async () => {
    a.mode = 'reset';
    const up = balanced([a.url, b.url], { probeIntervalMs: 100 });
    await up.call('GET', '/books', ctx);
    expect(stateOf(up, 0).state).to.equal('ejected');
    a.mode = 'ok';
    const started = performance.now();
    while (stateOf(up, 0).state !== 'in rotation') {
      if (performance.now() - started > 2000) expect.fail('not reinstated within 2 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(a.probes).to.be.greaterThan(0);
  });

  it('when every replica is ejected, then calls still try them, and the one that answers is back in rotation at once', async () => {
    a.mode = 'reset';
    b.mode = 'reset';
    const up = balanced([a.url, b.url]);
    expect(await failure(up.call('GET', '/books', ctx))).to.include({ statusCode: 503, code: 'upstream_unavailable' });
    expect(statesOf(up)).to.deep.equal(['ejected', 'ejected']);
    b.mode = 'ok';
    expect((await up.call<{ from: string }>('GET', '/books', ctx)).from).to.equal(b.url);
    expect(statesOf(up)).to.deep.equal(['ejected', 'in rotation']);
  });

  it('when every replica refuses or hangs, then the caller hears 503 in under 2 s', async () => {
    a.mode = 'hang';
    const up = balanced([a.url, await refusingOrigin()], { timeoutMs: 1500 });
    const started = performance.now();
    expect(await failure(up.call('GET', '/books', ctx))).to.include({ statusCode: 503, code: 'upstream_unavailable' });
    expect(performance.now() - started).to.be.below(2000);
  });
});

function statesOf(up: Upstream): string[] {
  return up.status().replicas.map((r) => r.state);
}
