import { expect } from 'chai';
import { join } from 'node:path';
import { request } from 'undici';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import type { Book } from '../../common/schemas';
import { buildFrontendApp } from '../../frontend-server/app';
import { metric } from '../helpers/metrics';
import { AUTH, TEST_TOKEN, startStack, tempDir, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { Gate, startGatedStack } from '../helpers/gated-stack';


const lookupHits = 'cache_hits_total{kind="lookup",service="frontend"}';
const lookupMisses = 'cache_misses_total{kind="lookup",service="frontend"}';

async function lookup(frontend: App, id: number): Promise<Book> {
  const res = await frontend.inject({ method: 'GET', url: `/lookup/${id}` });
  expect(res.statusCode).to.equal(200);
  return res.json<Book>();
}

describe('frontend cache with push invalidation (in-process stack)', function () {
  this.timeout(20_000);
  let stack: Stack;
  const extra: App[] = [];

  beforeEach(async () => {
    stack = await startStack();
    await waitFor('frontend subscribed', () => stack.frontend.reads.live);
  });

  afterEach(async () => {
    await Promise.all(extra.splice(0).map((app) => app.close()));
    await stack.close();
  });

  async function secondFrontend(options: { cache?: boolean } = {}): Promise<App> {
    const app = buildFrontendApp({ catalogUrl: stack.urls.catalog, orderUrl: stack.urls.order, token: TEST_TOKEN, logLevel: 'silent', ...options });
    extra.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    if (options.cache !== false) await waitFor('second frontend subscribed', () => app.reads.live);
    return app;
  }

  it('when a book is looked up twice, then the second answer comes from the cache and is the same', async () => {
    const first = await lookup(stack.frontend, 2);
    const second = await lookup(stack.frontend, 2);
    expect(second).to.deep.equal(first);
    expect(await metric(stack.frontend, lookupMisses)).to.equal(1);
    expect(await metric(stack.frontend, lookupHits)).to.equal(1);
  });

  it('when a cached lookup or search is served from its stored bytes, then the answer is byte for byte the uncached one, and a change replaces the bytes', async () => {
    const plain = await secondFrontend({ cache: false });
    for (const url of ['/lookup/2', '/search/distributed-systems']) {
      const fresh = await plain.inject({ method: 'GET', url });
      const miss = await stack.frontend.inject({ method: 'GET', url });
      const hit = await stack.frontend.inject({ method: 'GET', url });
      expect(fresh.statusCode).to.equal(200);
      for (const res of [miss, hit]) {
        expect(res.statusCode).to.equal(200);
        expect(res.headers['content-type']).to.equal(fresh.headers['content-type']);
        expect(res.headers['content-length']).to.equal(fresh.headers['content-length']);
        expect(res.body).to.equal(fresh.body);
      }
    }
    expect(await metric(stack.frontend, lookupHits)).to.equal(1);
    await stack.catalog.inject({ method: 'PUT', url: '/update/2', headers: AUTH, payload: { price_cents: 1234, stock: 5 } });
    const after = await stack.frontend.inject({ method: 'GET', url: '/lookup/2' });
    expect(after.json()).to.include({ price_cents: 1234, stock: 5 });
    expect(after.body).to.equal((await plain.inject({ method: 'GET', url: '/lookup/2' })).body);
    const page = await stack.frontend.inject({ method: 'GET', url: '/lookup/2', headers: { accept: 'text/html' } });
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.body).to.contain('<html');
  });

  it('when a cached book is bought, then the next lookup through the buying frontend and through another shows the new stock', async () => {
    const other = await secondFrontend();
    const before = await lookup(stack.frontend, 1);
    expect((await lookup(other, 1)).stock).to.equal(before.stock);
    await lookup(stack.frontend, 1); // cached now in both
    const buy = await stack.frontend.inject({ method: 'POST', url: '/buy/1' });
    expect(buy.statusCode).to.equal(201);
    expect((await lookup(stack.frontend, 1)).stock).to.equal(before.stock - 1);
    expect((await lookup(other, 1)).stock).to.equal(before.stock - 1);
    expect(await metric(stack.frontend, 'cache_invalidations_total{reason="change",service="frontend"}')).to.be.greaterThan(0);
  });

  it('when a price is updated or stock restocked at the catalog, then every connected frontend shows it right after the acknowledgement', async () => {
    const other = await secondFrontend();
    await lookup(stack.frontend, 3);
    await lookup(other, 3);
    const update = await stack.catalog.inject({ method: 'PUT', url: '/update/3', headers: AUTH, payload: { price_cents: 4321 } });
    expect(update.statusCode).to.equal(200);
    expect((await lookup(stack.frontend, 3)).price_cents).to.equal(4321);
    expect((await lookup(other, 3)).price_cents).to.equal(4321);
    const restock = await stack.catalog.inject({ method: 'POST', url: '/restock', headers: AUTH, payload: { stock: 77 } });
    expect(restock.statusCode).to.equal(200);
    expect((await lookup(stack.frontend, 3)).stock).to.equal(77);
    expect((await lookup(other, 3)).stock).to.equal(77);
  });

  it('when a search is repeated, then it is served from the cache, and a write to a book of that topic refreshes it', async () => {
    const first = await stack.frontend.inject({ method: 'GET', url: '/search/distributed-systems' });
    expect(first.statusCode).to.equal(200);
    const again = await stack.frontend.inject({ method: 'GET', url: '/search/Distributed_Systems' });
    expect(again.json()).to.deep.equal(first.json());
    expect(await metric(stack.frontend, 'cache_hits_total{kind="search",service="frontend"}')).to.equal(1);
    const id = first.json<{ items: { id: number }[] }>().items[0].id;
    await stack.catalog.inject({ method: 'PUT', url: `/update/${id}`, headers: AUTH, payload: { stock: 9 } });
    await stack.frontend.inject({ method: 'GET', url: '/search/distributed-systems' });
    expect(await metric(stack.frontend, 'cache_misses_total{kind="search",service="frontend"}')).to.equal(2);
  });

  it('when the catalog answers an error, then it is not cached', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await stack.frontend.inject({ method: 'GET', url: '/lookup/999' });
      expect(res.statusCode).to.equal(404);
    }
    expect(await metric(stack.frontend, lookupMisses)).to.equal(2);
    expect(await metric(stack.frontend, lookupHits)).to.equal(0);
    expect(await metric(stack.frontend, 'cache_entries{service="frontend"}')).to.equal(0);
  });

  it('when the cache is off, then every lookup goes to the catalog and writes still show', async () => {
    const plain = await secondFrontend({ cache: false });
    expect(plain.reads.live).to.equal(false);
    await lookup(plain, 4);
    await stack.catalog.inject({ method: 'PUT', url: '/update/4', headers: AUTH, payload: { stock: 42 } });
    expect((await lookup(plain, 4)).stock).to.equal(42);
    expect(await metric(plain, lookupHits)).to.equal(0);
    expect(await metric(plain, lookupMisses)).to.equal(0);
    expect(stack.catalog.changes.subscriberCount).to.equal(1, 'a frontend without a cache does not subscribe');
  });

  it('when the frontend process stalls longer than half the catalog ack timeout, then its next read is not served from cache', async () => {
    await lookup(stack.frontend, 2);
    await lookup(stack.frontend, 2);
    expect(await metric(stack.frontend, lookupHits)).to.equal(1);
    // A synchronous stall, as a long GC pause or SIGSTOP would be: the catalog may have cut us off meanwhile.
    const until = performance.now() + 200;
    while (performance.now() < until) {
      /* stall */
    }
    await lookup(stack.frontend, 2);
    expect(await metric(stack.frontend, lookupHits)).to.equal(1);
    expect(await metric(stack.frontend, 'cache_invalidations_total{reason="stall",service="frontend"}')).to.equal(1);
    await lookup(stack.frontend, 2);
    expect(await metric(stack.frontend, lookupHits)).to.equal(2, 'caching resumes right after');
  });

  it('when the change stream is lost, then the frontend flushes, caches nothing while away, and caches again once back', async () => {
    await lookup(stack.frontend, 4);
    stack.catalog.changes.disconnectAll(); // ends the stream as a catalog restart would
    await waitFor('frontend to notice', () => !stack.frontend.reads.live);
    expect(await metric(stack.frontend, 'cache_entries{service="frontend"}')).to.equal(0);
    await waitFor('frontend resubscribed', () => stack.frontend.reads.live);
    await lookup(stack.frontend, 4);
    await lookup(stack.frontend, 4);
    expect(await metric(stack.frontend, lookupHits)).to.equal(1);
  });
});

describe('frontend cache: the fill-vs-invalidate race through real services', function () {
  this.timeout(20_000);

  it('when a purchase commits while a lookup fill is in flight with the old stock, then that fill is not cached and the next lookup shows the new stock', async () => {
    // A store whose getBook, once the gate is armed, reads the row and then waits for the test to let its answer go.
    const gate = new Gate();
    class GatedStore extends SqliteCatalogStore {
      override async getBook(id: number) {
        const book = await super.getBook(id);
        await gate.pass();
        return book;
      }
    }
    let store!: GatedStore;
    const { catalog, frontend, close } = await startGatedStack((dir) => (store = new GatedStore(join(dir, 'catalog.db'), DEFAULT_SEED_PATH)));
    try {
      const stockBefore = (await store.getBook(1))!.stock;

      const { reached, release } = gate.arm();
      const slowLookup = frontend.inject({ method: 'GET', url: '/lookup/1' });
      await reached; // the catalog has read the old stock for this fill
      const purchase = await catalog.inject({ method: 'POST', url: '/purchase/1', headers: AUTH, payload: { order_id: 'race-1' } });
      expect(purchase.statusCode).to.equal(201); // acknowledged: the frontend has applied the change
      release();
      expect((await slowLookup).json<Book>().stock).to.equal(stockBefore, 'the in-flight read began before the write');

      const next = await frontend.inject({ method: 'GET', url: '/lookup/1' });
      expect(next.json<Book>().stock).to.equal(stockBefore - 1);
      expect(await metric(frontend, lookupHits)).to.equal(0, 'the stale fill must not have been stored');
      expect((await frontend.inject({ method: 'GET', url: '/lookup/1' })).json<Book>().stock).to.equal(stockBefore - 1);
      expect(await metric(frontend, lookupHits)).to.equal(1);
    } finally {
      await close();
    }
  });
});

describe('catalog change feed: a subscriber that does not acknowledge', function () {
  this.timeout(20_000);

  it('when a subscriber never acknowledges, then the write is answered after the ack timeout and that subscriber is cut off', async () => {
    const tmp = tempDir();
    const store = new SqliteCatalogStore(join(tmp.dir, 'catalog.db'), DEFAULT_SEED_PATH);
    const catalog = buildCatalogApp({ store, token: TEST_TOKEN, logLevel: 'silent', eventsAckTimeoutMs: 200 });
    const url = await catalog.listen({ host: '127.0.0.1', port: 0 });
    try {
      const unauthorized = await request(`${url}/events`);
      expect(unauthorized.statusCode).to.equal(401);
      await unauthorized.body.dump();

      const stream = await request(`${url}/events`, { headers: AUTH });
      expect(stream.statusCode).to.equal(200);
      expect(stream.headers['content-type']).to.match(/^text\/event-stream/);
      const frames: string[] = [];
      const ended = new Promise<void>((resolve) => {
        stream.body.on('data', (chunk: Buffer) => frames.push(chunk.toString()));
        stream.body.on('error', () => resolve());
        stream.body.on('end', () => resolve());
      });
      await waitFor('subscribed', () => catalog.changes.subscriberCount === 1);

      const started = Date.now();
      const update = await catalog.inject({ method: 'PUT', url: '/update/2', headers: AUTH, payload: { stock: 11 } });
      const waited = Date.now() - started;
      expect(update.statusCode).to.equal(200);
      expect(waited).to.be.at.least(150);
      await ended;
      expect(catalog.changes.subscriberCount).to.equal(0);
      const text = frames.join('');
      expect(text).to.contain('event: hello');
      expect(text).to.contain('event: change');
      expect(text).to.contain('"ids":[2]');
      expect(await metric(catalog, 'change_subscribers_cut_off_total{service="catalog"}')).to.equal(1);

      const late = await catalog.inject({ method: 'POST', url: '/events/ack', headers: AUTH, payload: { subscriber: 'gone', seq: 1 } });
      expect(late.statusCode).to.equal(404);
      expect(late.json().error.code).to.equal('subscriber_not_found');
    } finally {
      await catalog.close();
      tmp.remove();
    }
  });
});
