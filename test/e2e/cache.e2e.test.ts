/**
 * End-to-end, real processes: two caching frontends on one catalog. Once a buy or an update is acknowledged, the
 * next lookup through either frontend shows it; with the catalog gone, frontends answer 503 rather than from cache.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startService, type ServiceProcess } from '../../support/service-process';
import { startProcessStack, type ProcessStack } from '../helpers/processes';
import { sample } from '../helpers/metrics';
import { tempDir } from '../helpers/stack';

async function json(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function metric(url: string, selector: string): Promise<number> {
  return sample(await (await fetch(`${url}/metrics`)).text(), selector) ?? 0;
}

async function waitLive(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await metric(url, 'cache_live{service="frontend"}')) !== 1) {
    if (Date.now() > deadline) throw new Error(`${url} never subscribed to the catalog's changes`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('e2e: the frontend cache is never stale after an acknowledged write', function () {
  this.timeout(60_000);
  const token = randomBytes(24).toString('hex');
  const admin = { authorization: `Bearer ${token}` };
  let tmp: ReturnType<typeof tempDir>;
  let stack: ProcessStack;
  let second: ServiceProcess;
  let restarted: ServiceProcess | undefined;

  before(async () => {
    tmp = tempDir('bazar-cache-e2e-');
    stack = await startProcessStack(tmp.dir, token);
    second = await startService('frontend', { env: { BAZAR_TOKEN: token, CATALOG_URL: stack.catalog.url, ORDER_URL: stack.order.url } });
    await Promise.all([waitLive(stack.frontend.url), waitLive(second.url)]);
  });

  after(async () => {
    await second?.stop();
    await restarted?.stop();
    await stack?.stop();
    tmp?.remove();
  });

  it('when buys and updates are acknowledged, then the very next lookup through either frontend shows them, every time', async () => {
    const frontends = [stack.frontend.url, second.url];
    expect((await json('PUT', `${stack.catalog.url}/update/2`, { stock: 50 }, admin)).status).to.equal(200);
    for (const url of frontends) expect((await json('GET', `${url}/lookup/2`)).body.stock).to.equal(50);
    for (let i = 1; i <= 10; i++) {
      const via = frontends[i % 2];
      // Warm both caches, then write, then read at once through both.
      await Promise.all(frontends.map((url) => json('GET', `${url}/lookup/2`)));
      if (i % 3 === 0) {
        expect((await json('PUT', `${stack.catalog.url}/update/2`, { price_cents: 1000 + i }, admin)).status).to.equal(200);
        for (const url of frontends) expect((await json('GET', `${url}/lookup/2`)).body.price_cents).to.equal(1000 + i);
      } else {
        const before = (await json('GET', `${via}/lookup/2`)).body.stock as number;
        expect((await json('POST', `${via}/buy/2`)).status).to.equal(201);
        for (const url of frontends) expect((await json('GET', `${url}/lookup/2`)).body.stock).to.equal(before - 1);
      }
    }
    expect(await metric(stack.frontend.url, 'cache_hits_total{kind="lookup",service="frontend"}')).to.be.greaterThan(0);
    expect(await metric(second.url, 'cache_invalidations_total{reason="change",service="frontend"}')).to.be.greaterThan(0);
  });

  it('when the catalog stops, then frontends answer 503 instead of serving cached answers, and cache again once it is back', async () => {
    await json('GET', `${second.url}/lookup/1`);
    await json('GET', `${second.url}/lookup/1`); // cached
    await stack.catalog.stop();
    const deadline = Date.now() + 10_000;
    while ((await metric(second.url, 'cache_live{service="frontend"}')) !== 0) {
      if (Date.now() > deadline) throw new Error('frontend did not notice the catalog going away');
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await json('GET', `${second.url}/lookup/1`);
    expect(res.status).to.equal(503);
    expect(res.body.error.code).to.equal('upstream_unavailable');

    // Same port, same database: the frontends reconnect on their own.
    restarted = await startService('catalog', { env: { BAZAR_TOKEN: token, DB_PATH: join(tmp.dir, 'catalog.db') }, port: stack.catalog.port });
    await Promise.all([waitLive(stack.frontend.url), waitLive(second.url)]);
    expect((await json('GET', `${second.url}/lookup/1`)).status).to.equal(200);
  });
});
