import { expect } from 'chai';
import pino from 'pino';
import { Metrics } from '../../common/metrics';
import { Upstream } from '../../common/upstream';
import { sample } from '../helpers/metrics';
import { fakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { waitFor } from '../helpers/wait';

const ctx = { log: pino({ level: 'silent' }), requestId: 'balance-test' };


describe('upstream: choosing a replica', function () {
  this.timeout(10_000);
  let fakes: FakeUpstream[];
  let upstream: Upstream;
  let metrics: Metrics;

  beforeEach(async () => {
    fakes = await Promise.all([fakeUpstream(), fakeUpstream(), fakeUpstream()]);
    metrics = new Metrics('frontend', { defaultMetrics: false });
    upstream = new Upstream({ name: 'catalog', origin: fakes.map((f) => f.url), timeoutMs: 2000, probeIntervalMs: 0, metrics });
  });
  afterEach(async () => {
    fakes.forEach((f) => f.release());
    await upstream.close();
    await Promise.all(fakes.map((f) => f.close()));
  });

  const answeredBy = async (n: number) => {
    const froms: string[] = [];
    for (let i = 0; i < n; i++) froms.push((await upstream.call<{ from: string }>('GET', '/books', ctx)).from);
    return froms;
  };

  it('when every replica is idle, then calls take turns (round-robin among equally busy replicas)', async () => {
    const [a, b, c] = fakes.map((f) => f.url);
    expect(await answeredBy(6)).to.deep.equal([a, b, c, a, b, c]);
    expect(fakes.map((f) => f.calls.length)).to.deep.equal([2, 2, 2]);
  });

  it('when one replica has a request outstanding, then new calls go to the least busy ones, taking turns between them', async () => {
    const [a, b, c] = fakes;
    a.mode = 'hang';
    const slow = upstream.call<{ from: string }>('GET', '/books', ctx);
    await waitFor('the first call to reach replica a', () => a.calls.length === 1);
    expect(upstream.status().replicas.map((r) => r.in_flight)).to.deep.equal([1, 0, 0]);
    expect(await answeredBy(4)).to.deep.equal([b.url, c.url, b.url, c.url]);
    expect(a.calls).to.have.length(1, 'the busy replica got nothing more');
    a.release();
    expect((await slow).from).to.equal(a.url);
    expect(upstream.status().replicas.map((r) => r.in_flight)).to.deep.equal([0, 0, 0]);
  });

  it('when two replicas are busy to different degrees, then a new call goes to the one with fewer outstanding', async () => {
    const [a, b, c] = fakes;
    a.mode = 'hang';
    b.mode = 'hang';
    c.mode = 'hang';
    // a gets 1, b gets 1, c gets 1, then a second one each on a and b: a=2, b=2, c=1.
    const held = [1, 2, 3, 4, 5].map(() => upstream.call('GET', '/books', ctx));
    await waitFor('five calls held', () => a.calls.length + b.calls.length + c.calls.length === 5);
    expect(upstream.status().replicas.map((r) => r.in_flight)).to.deep.equal([2, 2, 1]);
    c.mode = 'ok';
    expect((await upstream.call<{ from: string }>('GET', '/books', ctx)).from).to.equal(c.url);
    fakes.forEach((f) => f.release());
    await Promise.all(held);
  });

  it('when calls are answered, then each replica\'s attempts are counted, and the per-target latency series are as before', async () => {
    await answeredBy(3);
    const text = await metrics.registry.metrics();
    for (const fake of fakes) {
      expect(sample(text, `upstream_replica_attempts_total{service="frontend",target="catalog",replica="${fake.url}",outcome="answered"}`)).to.equal(1);
      expect(sample(text, `upstream_replica_in_rotation{service="frontend",target="catalog",replica="${fake.url}"}`)).to.equal(1);
    }
    expect(sample(text, 'upstream_request_duration_seconds_count{service="frontend",target="catalog",method="GET",outcome="200"}')).to.equal(3);
    expect(upstream.status()).to.deep.include({ name: 'catalog' });
    expect(upstream.status().replicas.map((r) => [r.state, r.answered, r.failed, r.last_error])).to.deep.equal([
      ['in rotation', 1, 0, null],
      ['in rotation', 1, 0, null],
      ['in rotation', 1, 0, null],
    ]);
  });
});
