import { expect } from 'chai';
import pino from 'pino';
import { MockAgent } from 'undici';
import { Upstream, backoffMs } from '../../common/upstream';

const ORIGIN = 'http://catalog.test';
const ctx = { log: pino({ level: 'silent' }), requestId: 'retry-test' };

describe('upstream: retries only where safe', () => {
  let agent: MockAgent;
  let upstream: Upstream;
  let calls: number;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    upstream = new Upstream({ name: 'catalog', origin: ORIGIN, timeoutMs: 2000, dispatcher: agent });
    calls = 0;
  });
  afterEach(async () => {
    await agent.close();
  });

  /** The upstream answers 503 `failures` times, then 200. */
  function flaky(method: string, path: string, failures: number) {
    agent
      .get(ORIGIN)
      .intercept({ method, path })
      .reply(() => {
        calls++;
        return calls <= failures ? { statusCode: 503, data: 'busy' } : { statusCode: 200, data: { ok: true } };
      })
      .persist();
  }

  it('when a read meets two 503s, then the third attempt answers', async () => {
    flaky('GET', '/books', 2);
    expect(await upstream.call('GET', '/books', ctx)).to.deep.equal({ ok: true });
    expect(calls).to.equal(3);
  });

  it('when a read keeps failing, then it gives up after three attempts with 503 upstream_unavailable', async () => {
    flaky('GET', '/books', 100);
    const err = await upstream.call('GET', '/books', ctx).catch((e: { code?: string }) => e);
    expect((err as { code?: string }).code).to.equal('upstream_unavailable');
    expect(calls).to.equal(3);
  });

  it('when a plain write fails, then it is not repeated', async () => {
    flaky('POST', '/restock', 1);
    await upstream.call('POST', '/restock', ctx, {}).catch(() => undefined);
    expect(calls).to.equal(1);
  });

  it('when a write is marked idempotent (same order id), then it is retried', async () => {
    flaky('POST', '/purchase/1', 1);
    expect(await upstream.call('POST', '/purchase/1', ctx, { order_id: 'o1' }, { idempotent: true })).to.deep.equal({ ok: true });
    expect(calls).to.equal(2);
  });

  it('when a 4xx comes back, then it is relayed at once, never retried', async () => {
    agent
      .get(ORIGIN)
      .intercept({ method: 'GET', path: '/lookup/9' })
      .reply(() => {
        calls++;
        return { statusCode: 404, data: { error: { code: 'book_not_found', message: 'no' } } };
      })
      .persist();
    const err = await upstream.call('GET', '/lookup/9', ctx).catch((e: { code?: string }) => e);
    expect((err as { code?: string }).code).to.equal('book_not_found');
    expect(calls).to.equal(1);
  });

  it('when backoff is drawn, then it is jittered within 0..50·2^(n-1) ms and capped at 400 ms', () => {
    expect(backoffMs(1, () => 0)).to.equal(0);
    expect(backoffMs(1, () => 0.999)).to.equal(50);
    expect(backoffMs(3, () => 0.5)).to.equal(100);
    expect(backoffMs(10, () => 0.999)).to.equal(400);
    const draws = new Set(Array.from({ length: 50 }, () => backoffMs(2)));
    expect(draws.size).to.be.above(5);
  });
});
