/**
 * The cache's guarantee with several catalog replicas over one database: a replica publishes only its own writes
 * and waits only for its own subscribers, so a frontend caches only while subscribed to every replica.
 */
import { expect } from 'chai';
import type { App } from '../../common/base-app';
import type { Book } from '../../common/schemas';
import { buildFrontendApp } from '../../frontend-server/app';
import { metric } from '../helpers/metrics';
import { startReplicatedStack, type ReplicatedStack } from '../helpers/replicas';
import { AUTH, TEST_TOKEN } from '../helpers/stack';
import { waitFor } from '../helpers/wait';


const hits = (app: App) => metric(app, 'cache_hits_total{kind="lookup",service="frontend"}');
const misses = (app: App) => metric(app, 'cache_misses_total{kind="lookup",service="frontend"}');
/** Lookups replica `app` answered: which replica a balanced read went to. */
const servedLookups = (app: App) => metric(app, 'http_requests_total{method="GET",route="/query_by_item_number/:n",status="200",service="catalog"}');

async function lookup(frontend: App, id: number): Promise<Book> {
  const res = await frontend.inject({ method: 'GET', url: `/lookup/${id}` });
  expect(res.statusCode).to.equal(200);
  return res.json<Book>();
}

describe('frontend cache over two catalog replicas: never stale', function () {
  this.timeout(20_000);
  let stack: ReplicatedStack;
  const extra: App[] = [];

  beforeEach(async () => {
    stack = await startReplicatedStack();
    await waitFor('frontend subscribed to both replicas', () => stack.frontend.reads.live);
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((app) => app.close()));
    await stack.close();
  });

  const [A, B] = [0, 1];
  const replica = (i: number) => stack.catalogs[i]!;

  it('when the cache was filled through replica B and a write is acknowledged by replica A, then the next lookup is fresh and not a hit', async () => {
    expect(replica(A).changes.subscriberCount).to.equal(1);
    expect(replica(B).changes.subscriberCount).to.equal(1);
    await lookup(stack.frontend, 2); // balanced to A (first in turn)
    const before = await lookup(stack.frontend, 1); // balanced to B: this fills the entry for book 1
    expect([await servedLookups(replica(A)), await servedLookups(replica(B))]).to.deep.equal([1, 1]);
    expect(await lookup(stack.frontend, 1)).to.deep.equal(before);
    expect(await hits(stack.frontend)).to.equal(1, 'book 1 is cached');

    const update = await replica(A).inject({ method: 'PUT', url: '/update/1', headers: AUTH, payload: { price_cents: 1234 } });
    expect(update.statusCode).to.equal(200);
    const after = await lookup(stack.frontend, 1);
    expect(after.price_cents).to.equal(1234);
    expect(await hits(stack.frontend)).to.equal(1, 'the fresh answer was not a hit');
    expect(await misses(stack.frontend)).to.equal(3);

    const purchase = await replica(A).inject({ method: 'POST', url: '/purchase/1', headers: AUTH, payload: { order_id: 'via-a' } });
    expect(purchase.statusCode).to.equal(201);
    expect((await lookup(stack.frontend, 1)).stock).to.equal(before.stock - 1);
    expect(await hits(stack.frontend)).to.equal(1);
  });

  it('when a frontend lists only replica B, then a write through A leaves its cache stale: why every frontend must list every replica', async () => {
    const partial = buildFrontendApp({ catalogUrl: stack.catalogUrls[B], orderUrl: stack.orderUrls, token: TEST_TOKEN, logLevel: 'silent' });
    extra.push(partial);
    await partial.listen({ host: '127.0.0.1', port: 0 });
    await waitFor('partial frontend subscribed', () => partial.reads.live);
    const before = await lookup(partial, 3);
    await replica(A).inject({ method: 'PUT', url: '/update/3', headers: AUTH, payload: { price_cents: 4321 } });
    expect((await lookup(partial, 3)).price_cents).to.equal(before.price_cents, 'served from its cache: A never told it');
    expect((await lookup(stack.frontend, 3)).price_cents).to.equal(4321);
  });

  it('when one replica\'s change stream is lost, then the cache goes dark and every lookup goes to the catalog, until the stream is back', async () => {
    await lookup(stack.frontend, 4);
    await lookup(stack.frontend, 4);
    expect(await hits(stack.frontend)).to.equal(1);

    await stack.stopCatalog(A);
    await waitFor('cache dark', () => !stack.frontend.reads.live);
    expect(await metric(stack.frontend, 'cache_entries{service="frontend"}')).to.equal(0);
    for (let i = 0; i < 4; i++) expect((await lookup(stack.frontend, 4)).id).to.equal(4);
    expect(await hits(stack.frontend)).to.equal(1, 'no hits while dark');
    expect(await servedLookups(replica(B))).to.be.at.least(4, 'replica B answered them');
    // Writes through B are still acknowledged (B waits for its own subscribers only) and show at once.
    await replica(B).inject({ method: 'PUT', url: '/update/4', headers: AUTH, payload: { stock: 44 } });
    expect((await lookup(stack.frontend, 4)).stock).to.equal(44);

    await stack.restartCatalog(A);
    await waitFor('cache live again', () => stack.frontend.reads.live);
    await lookup(stack.frontend, 4);
    await lookup(stack.frontend, 4);
    expect(await hits(stack.frontend)).to.equal(2, 'caching resumes once subscribed to both again');
  });
});
