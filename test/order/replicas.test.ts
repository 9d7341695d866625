/**
 * Two order servers ("replicas") over one PostgreSQL ledger, buying from one catalog behind a fault proxy. What
 * used to be one process's in-memory state (which buys are in flight) now lives in the ledger as a lease, so it
 * holds across replicas.
 */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import type { CatalogStore } from '../../catalog-server/store/types';
import { buildOrderApp } from '../../order-server/app';
import { PgOrderLedger } from '../../order-server/ledger/pg-ledger';
import { FaultProxy } from '../helpers/fault-proxy';
import { sample } from '../helpers/metrics';
import { usePostgres } from '../helpers/postgres';
import { AUTH, TEST_TOKEN, newCatalogStore, tempDir } from '../helpers/stack';

describe('order replicas over one PostgreSQL ledger', function () {
  this.timeout(30_000);
  const cluster = usePostgres();
  let tmp: ReturnType<typeof tempDir>;
  let store: CatalogStore;
  let catalog: App;
  let proxy: FaultProxy;
  let ledgers: PgOrderLedger[];
  let replicas: App[];

  beforeEach(async () => {
    tmp = tempDir();
    store = newCatalogStore(tmp.dir);
    catalog = buildCatalogApp({ store, token: TEST_TOKEN, logLevel: 'silent' });
    proxy = new FaultProxy(Number(new URL(await catalog.listen({ host: '127.0.0.1', port: 0 })).port));
    const catalogUrl = `http://127.0.0.1:${await proxy.listen()}`;
    const url = cluster().url(await cluster().createDatabase('orders'));
    ledgers = await Promise.all([PgOrderLedger.open(url), PgOrderLedger.open(url)]);
    replicas = ledgers.map((ledger) =>
      buildOrderApp({ ledger, catalogUrl, token: TEST_TOKEN, logLevel: 'silent', reconcileIntervalMs: 0, upstreamTimeoutMs: 1000 }),
    );
  });
  afterEach(async () => {
    await Promise.all(replicas.map((app) => app.close()));
    await proxy.close();
    await catalog.close();
    tmp.remove();
  });

  const buy = (app: App, n: number, key: string) =>
    app.inject({ method: 'POST', url: `/buy/${n}`, headers: { ...AUTH, 'idempotency-key': key } });
  const purchasesAnswered = async (status: number) =>
    sample((await catalog.inject('/metrics')).body, `http_requests_total{method="POST",route="/purchase/:n",status="${status}",service="catalog"}`) ?? 0;

  it('when a retry reaches replica B while replica A still drives the buy, then 409 request_in_progress, then the first answer', async () => {
    const [a, b] = replicas;
    proxy.delayMs = 300; // each way: A's buy waits ~600 ms on the catalog, inside its 1000 ms deadline
    const first = buy(a, 2, 'key-slow');
    while ((await ledgers[1].list({ limit: 1 })).orders.length === 0) await sleep(5);
    const during = await buy(b, 2, 'key-slow');
    expect(during.statusCode).to.equal(409);
    expect(during.json().error.code).to.equal('request_in_progress');
    expect(during.headers['retry-after']).to.equal('1');
    const done = await first;
    expect(done.statusCode).to.equal(201);
    proxy.heal();
    const after = await buy(b, 2, 'key-slow');
    expect(after.statusCode).to.equal(201);
    expect(after.headers['idempotent-replayed']).to.equal('true');
    expect(after.json().order_id).to.equal(done.json().order_id);
    expect((await store.getBook(2))!.stock).to.equal(4);
  });

  it('when both replicas reconcile at once, then each pending order is settled exactly once', async () => {
    const pending = await Promise.all([1, 2, 3, 4, 1, 2].map(async (item) => (await ledgers[0].createPending(item)).order));
    proxy.delayMs = 20; // long enough for the two rounds to overlap
    const settled = await Promise.all(replicas.map((app) => app.buys.reconcile(app.log, 0)));
    expect(settled[0] + settled[1]).to.equal(pending.length);
    for (const order of pending) expect((await ledgers[1].get(order.order_id))?.status).to.equal('confirmed');
    expect(await purchasesAnswered(201), 'purchases applied').to.equal(pending.length);
    expect(await purchasesAnswered(200), 'purchases asked twice').to.equal(0);
    expect((await store.listBooks()).map((book) => book.stock)).to.deep.equal([3, 3, 4, 4]);
    expect(await Promise.all(replicas.map((app) => app.buys.reconcile(app.log, 0)))).to.deep.equal([0, 0]);
  });

  it('when a replica dies holding a lease, then the other settles the order once the lease runs out', async () => {
    // What a replica that crashed mid-buy leaves behind: a pending order under a lease nobody will release.
    const { order } = await ledgers[0].createPending(1, 'orphan', { owner: 'dead-replica:1', ms: 500 });
    const [, b] = replicas;
    expect(await b.buys.reconcile(b.log, 0), 'held: not taken').to.equal(0);
    expect((await buy(b, 1, 'orphan')).json().error.code).to.equal('request_in_progress');
    await sleep(600);
    expect(await b.buys.reconcile(b.log, 0)).to.equal(1);
    expect(await ledgers[1].get(order.order_id)).to.include({ status: 'confirmed', price_cents: 3000 });
    expect((await store.getBook(1))!.stock).to.equal(4);
  });
});
