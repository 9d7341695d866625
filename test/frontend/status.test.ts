import { expect } from 'chai';
import type { StatusReport } from '../../common/schemas';
import { statusPage } from '../../frontend-server/views/status-page';
import { startReplicatedStack, type ReplicatedStack } from '../helpers/replicas';
import { waitFor } from '../helpers/wait';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };


describe('frontend: GET /status', function () {
  this.timeout(20_000);
  let stack: ReplicatedStack;

  afterEach(async () => {
    await stack.close();
  });

  async function status(): Promise<StatusReport> {
    const res = await stack.frontend.inject({ url: '/status', headers: { accept: 'application/json' } });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    return res.json<StatusReport>();
  }

  it('when every replica is up, then the JSON lists each one in rotation with its counts, and the cache live over both streams', async () => {
    stack = await startReplicatedStack();
    await waitFor('cache live', () => stack.frontend.reads.live);
    for (let i = 0; i < 3; i++) await stack.frontend.inject('/lookup/1');
    await stack.frontend.inject({ method: 'POST', url: '/buy/2' });
    const report = await status();
    const [catalog, order] = report.upstreams;
    expect(catalog.name).to.equal('catalog');
    expect(catalog.replicas.map((r) => [r.origin, r.state, r.in_flight, r.failed])).to.deep.equal(
      stack.catalogUrls.map((url) => [url, 'in rotation', 0, 0]),
    );
    // One lookup miss, and the acknowledgement of the change the buy's purchase published (it may land just after).
    const answered = (r: StatusReport) => r.upstreams[0].replicas.reduce((sum, replica) => sum + replica.answered, 0);
    await waitFor('the ack answered', async () => answered(await status()) === 2);
    expect(order).to.deep.include({ name: 'order' });
    expect(order.replicas).to.have.length(1);
    expect(order.replicas[0]).to.deep.include({ origin: stack.orderUrls[0], state: 'in rotation', answered: 1, failed: 0, ejections: 0 });
    expect(report.cache).to.deep.include({ state: 'live', hits: 2, misses: 1 });
    expect(report.cache.hit_ratio).to.be.closeTo(2 / 3, 1e-9);
    expect(report.cache.subscriptions).to.deep.equal(stack.catalogUrls.map((origin) => ({ origin, state: 'subscribed' })));
  });

  it('when a catalog replica is stopped, then it shows ejected with a short reason, its stream connecting and the cache dark, while lookups answer', async () => {
    stack = await startReplicatedStack();
    await waitFor('cache live', () => stack.frontend.reads.live);
    await stack.stopCatalog(0);
    await waitFor('replica 0 out of rotation', async () => (await status()).upstreams[0].replicas[0].state !== 'in rotation');
    for (let i = 0; i < 3; i++) expect((await stack.frontend.inject('/lookup/3')).statusCode).to.equal(200);
    const report = await status();
    const [stopped, alive] = report.upstreams[0].replicas;
    expect(stopped.state).to.be.oneOf(['ejected', 'probing']);
    expect(stopped.last_error?.reason).to.match(/^(readyz: )?connection refused$/);
    expect(Date.parse(stopped.last_error!.at)).to.be.closeTo(Date.now(), 10_000);
    expect(alive.state).to.equal('in rotation');
    expect(alive.answered).to.be.at.least(3);
    expect(report.cache.state).to.equal('dark');
    expect(report.cache.subscriptions.map((s) => s.state)).to.deep.equal(['connecting', 'subscribed']);
    expect(report.cache.hits).to.equal(0);

    await stack.restartCatalog(0);
    await waitFor('replica 0 back', async () => (await status()).upstreams[0].replicas[0].state === 'in rotation');
    await waitFor('cache live again', () => stack.frontend.reads.live);
  });

  it('when a browser asks, then it gets the status page in the store layout, reloading itself, with every replica and the cache', async () => {
    stack = await startReplicatedStack();
    await waitFor('cache live', () => stack.frontend.reads.live);
    const res = await stack.frontend.inject({ url: '/status', headers: HTML });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    const page = res.body;
    expect(page).to.include('<link rel="stylesheet" href="/static/style.css">').and.include('<meta http-equiv="refresh" content="2">');
    expect(page).to.include('<h1>Status</h1>').and.include('Catalog replicas').and.include('Order replicas');
    for (const url of stack.catalogUrls) {
      expect(page).to.match(new RegExp(`<tr data-origin="${url}">\\s*<td><code>${url}</code></td>\\s*<td><span class="badge in-stock state">in rotation</span>`));
    }
    expect(page).to.include('<span class="badge in-stock cache-state">live</span>');
    expect(page).to.include('no reads yet');
  });

  it('when the cache is off, then /status says so and lists no change streams', async () => {
    stack = await startReplicatedStack({ frontend: { cache: false } });
    const report = await status();
    expect(report.cache).to.deep.equal({ state: 'off', entries: 0, hits: 0, misses: 0, hit_ratio: null, subscriptions: [] });
  });
});

describe('frontend: the status page escapes what it shows', () => {
  it('when an origin or an error reason holds markup, then the page shows it as text', () => {
    const hostile = '"><script>alert(1)</script>';
    const page = statusPage({
      upstreams: [
        {
          name: 'catalog',
          replicas: [
            { origin: `http://h${hostile}`, state: 'ejected', in_flight: 0, answered: 1, failed: 2, ejections: 1, last_error: { reason: hostile, at: hostile } },
          ],
        },
      ],
      cache: { state: 'dark', entries: 0, hits: 0, misses: 0, hit_ratio: null, subscriptions: [{ origin: hostile, state: 'connecting' }] },
    });
    expect(page).not.to.include('<script>');
    expect(page).to.include('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).to.include('<span class="badge sold-out state">ejected</span>');
    expect(page).to.include('<span class="badge sold-out cache-state">dark</span>');
  });
});
