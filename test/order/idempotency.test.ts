import { expect } from 'chai';
import { join } from 'node:path';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { buildFrontendApp } from '../../frontend-server/app';
import { buildOrderApp } from '../../order-server/app';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import type { OrderLedger } from '../../order-server/ledger/types';
import type { CatalogStore } from '../../catalog-server/store/types';
import { FaultProxy } from '../helpers/fault-proxy';
import { AUTH, TEST_TOKEN, newCatalogStore, tempDir } from '../helpers/stack';

interface Rig {
  frontend: App;
  order: App;
  catalog: App;
  store: CatalogStore;
  ledger: OrderLedger;
  proxy: FaultProxy;
  close(): Promise<void>;
}

/** The three apps, with a fault proxy between order and catalog so a test can take the catalog "away". */
async function rig(): Promise<Rig> {
  const tmp = tempDir();
  const store = newCatalogStore(tmp.dir);
  const ledger = new SqliteOrderLedger(join(tmp.dir, 'orders.db'));
  const catalog = buildCatalogApp({ store, token: TEST_TOKEN, logLevel: 'silent' });
  const catalogUrl = await catalog.listen({ host: '127.0.0.1', port: 0 });
  const proxy = new FaultProxy(Number(new URL(catalogUrl).port));
  const proxyPort = await proxy.listen();
  const order = buildOrderApp({
    ledger,
    catalogUrl: `http://127.0.0.1:${proxyPort}`,
    token: TEST_TOKEN,
    logLevel: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent',
    reconcileIntervalMs: 0,
    upstreamTimeoutMs: 1000,
  });
  const orderUrl = await order.listen({ host: '127.0.0.1', port: 0 });
  const frontend = buildFrontendApp({ catalogUrl, orderUrl, token: TEST_TOKEN, logLevel: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent', upstreamTimeoutMs: 3000 });
  await frontend.ready();
  return {
    frontend,
    order,
    catalog,
    store,
    ledger,
    proxy,
    async close() {
      await frontend.close();
      await order.close();
      await proxy.close();
      await catalog.close();
      tmp.remove();
    },
  };
}

function buy(app: App, n: number, key?: string) {
  return app.inject({
    method: 'POST',
    url: `/buy/${n}`,
    headers: { accept: 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
  });
}

const stockOf = async (r: Rig, n: number) => (await r.store.getBook(n))!.stock;
const orderCount = async (r: Rig) => (await r.ledger.list({ limit: 1000 })).orders.length;
/** Each test starts with an empty ledger, so its first order is the one its first buy wrote. */
const onlyOrder = async (r: Rig) => {
  const orders = (await r.ledger.list({ limit: 1000 })).orders;
  expect(orders.length).to.be.at.most(1);
  return orders[0];
};

describe('order: Idempotency-Key on buys', function () {
  this.timeout(20_000);
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(async () => {
    await r.close();
  });

  it('when a buy is repeated with the same key and book, then the first answer comes back and stock drops once', async () => {
    const first = await buy(r.frontend, 1, 'key-a');
    const again = await buy(r.frontend, 1, 'key-a');
    expect(first.statusCode).to.equal(201);
    expect(again.statusCode).to.equal(201);
    expect(again.json().order_id).to.equal(first.json().order_id);
    expect(again.json().status).to.equal('confirmed');
    expect(await stockOf(r, 1)).to.equal(4);
    expect(await orderCount(r)).to.equal(1);
  });

  it('when the same key is used for another book, then 422 idempotency_key_reused and nothing changes', async () => {
    expect((await buy(r.frontend, 1, 'key-b')).statusCode).to.equal(201);
    const other = await buy(r.frontend, 2, 'key-b');
    expect(other.statusCode).to.equal(422);
    expect(other.json().error.code).to.equal('idempotency_key_reused');
    expect(await stockOf(r, 2)).to.equal(5);
    expect(await orderCount(r)).to.equal(1);
  });

  for (const bad of ['', 'x'.repeat(65), 'has space', 'tab\there', 'caf\u00e9']) {
    it(`when the key is ${JSON.stringify(bad.slice(0, 12))}, then 400 invalid_idempotency_key and no order`, async () => {
      const res = await r.frontend.inject({
        method: 'POST',
        url: '/buy/1',
        headers: { accept: 'application/json', 'idempotency-key': bad },
      });
      expect(res.statusCode).to.equal(400);
      expect(res.json().error.code).to.equal('invalid_idempotency_key');
      expect(await stockOf(r, 1)).to.equal(5);
      expect(await orderCount(r)).to.equal(0);
    });
  }

  it('when the key is 64 visible characters, then it is accepted', async () => {
    expect((await buy(r.frontend, 1, '~'.repeat(64))).statusCode).to.equal(201);
  });

  it('when no key is sent, then every request is a new buy', async () => {
    const a = await buy(r.frontend, 3);
    const b = await buy(r.frontend, 3);
    expect(a.json().order_id).to.not.equal(b.json().order_id);
    expect(await stockOf(r, 3)).to.equal(3);
  });

  it('when an out-of-stock buy is retried with its key, then the same 409 comes back and nothing else happens', async () => {
    await r.store.updateBook(4, { stock: 0 });
    const first = await buy(r.frontend, 4, 'key-oos');
    await r.store.updateBook(4, { stock: 2 });
    const again = await buy(r.frontend, 4, 'key-oos');
    expect(first.statusCode).to.equal(409);
    expect(again.statusCode).to.equal(409);
    expect(again.json().error.code).to.equal('out_of_stock');
    expect(await stockOf(r, 4)).to.equal(2);
  });

  it('when a retry arrives while the first buy is still running, then 409 request_in_progress, then the first answer', async () => {
    r.proxy.delayMs = 300; // each way: the first buy waits ~600 ms on the catalog, inside its 1000 ms deadline
    const first = buy(r.frontend, 2, 'key-slow');
    while (!(await onlyOrder(r))) await new Promise((resolve) => setTimeout(resolve, 5));
    const during = await buy(r.frontend, 2, 'key-slow');
    expect(during.statusCode).to.equal(409);
    expect(during.json().error.code).to.equal('request_in_progress');
    expect(during.headers['retry-after']).to.equal('1');
    const done = await first;
    expect(done.statusCode).to.equal(201);
    r.proxy.heal();
    const after = await buy(r.frontend, 2, 'key-slow');
    expect(after.json().order_id).to.equal(done.json().order_id);
    expect(await stockOf(r, 2)).to.equal(4);
  });

  it('when the catalog is unreachable, then 503 leaves the order pending and a retry with the key completes that same order', async () => {
    r.proxy.mode = 'refuse';
    const down = await buy(r.frontend, 1, 'key-down');
    expect(down.statusCode).to.equal(503);
    const pending = await onlyOrder(r);
    expect(pending?.status).to.equal('pending');
    expect(await stockOf(r, 1)).to.equal(5);
    r.proxy.heal();
    const up = await buy(r.frontend, 1, 'key-down');
    expect(up.statusCode).to.equal(201);
    expect(up.json().order_id).to.equal(pending!.order_id);
    expect(await stockOf(r, 1)).to.equal(4);
    expect(await orderCount(r)).to.equal(1);
  });

  it('when the key reaches the order server directly, then the ledger holds one order per key', async () => {
    const headers = { ...AUTH, 'idempotency-key': 'direct-1' };
    const a = await r.order.inject({ method: 'POST', url: '/buy/2', headers });
    const b = await r.order.inject({ method: 'POST', url: '/buy/2', headers });
    expect(a.statusCode).to.equal(201);
    expect(b.headers['idempotent-replayed']).to.equal('true');
    expect(b.json().order_id).to.equal(a.json().order_id);
    expect((await onlyOrder(r))?.order_id).to.equal(a.json().order_id);
  });
});
