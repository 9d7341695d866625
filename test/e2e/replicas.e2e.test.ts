/**
 * End-to-end, real processes: two catalog replicas over one database file, an order server and a frontend that
 * list both. One catalog replica is killed with SIGKILL; lookups and buys go on through the other, each buy takes
 * one copy, and /status shows the dead replica out of rotation and the cache dark.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sample } from '../helpers/metrics';
import { startService, type ServiceProcess } from '../../support/service-process';
import { tempDir } from '../helpers/stack';

async function json(method: string, url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, headers: { accept: 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as any };
}

describe('e2e: a catalog replica killed under a replicated frontend and order server', function () {
  this.timeout(60_000);
  const token = randomBytes(24).toString('hex');
  let tmp: ReturnType<typeof tempDir>;
  const started: ServiceProcess[] = [];

  before(async () => {
    tmp = tempDir('bazar-replicas-e2e-');
    const base = { BAZAR_TOKEN: token, UPSTREAM_PROBE_INTERVAL_MS: '200' };
    const db = join(tmp.dir, 'catalog.db');
    // One after the other: the first creates and seeds the database, the second finds it ready.
    for (let i = 0; i < 2; i++) started.push(await startService('catalog', { env: { ...base, DB_PATH: db } }));
    const catalogs = started.map((s) => s.url).join(',');
    started.push(await startService('order', { env: { ...base, DB_PATH: join(tmp.dir, 'orders.db'), CATALOG_URL: catalogs } }));
    started.push(await startService('frontend', { env: { ...base, CATALOG_URL: catalogs, ORDER_URL: started[2].url } }));
  });

  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
    tmp?.remove();
  });

  it('when one catalog replica is SIGKILLed, then lookups and buys answer, stock drops once per buy, and /status shows it ejected', async () => {
    const [killed, alive, , frontend] = started;
    const deadline = Date.now() + 10_000;
    while (sample(await (await fetch(`${frontend.url}/metrics`)).text(), 'cache_live{service="frontend"}') !== 1) {
      if (Date.now() > deadline) throw new Error('the frontend never subscribed to both catalog replicas');
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = (await json('GET', `${frontend.url}/lookup/3`)).body.stock as number;

    await killed.stop('SIGKILL');
    for (let i = 0; i < 5; i++) {
      const buy = await json('POST', `${frontend.url}/buy/3`, { 'idempotency-key': `e2e-${i}` });
      expect(buy.status, JSON.stringify(buy.body)).to.equal(201);
      const lookup = await json('GET', `${frontend.url}/lookup/3`);
      expect(lookup.status).to.equal(200);
      expect(lookup.body.stock).to.equal(before - 1 - i);
    }
    expect((await json('GET', `${alive.url}/query_by_item_number/3`)).body.stock).to.equal(before - 5);

    const status = (await json('GET', `${frontend.url}/status`)).body;
    const catalog = status.upstreams.find((u: { name: string }) => u.name === 'catalog');
    expect(catalog.replicas.map((r: { origin: string; state: string }) => [r.origin, r.state === 'in rotation'])).to.deep.equal([
      [killed.url, false],
      [alive.url, true],
    ]);
    expect(status.cache.state).to.equal('dark');
  });
});
