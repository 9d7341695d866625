/**
 * End-to-end: the three services as separate processes, driven the way the report's users drive them.
 * By default it starts its own processes on loopback with a temporary data folder. Point it at a running
 * deployment instead with BAZAR_URL (frontend), BAZAR_CATALOG_URL and BAZAR_TOKEN, e.g. the Vagrant guests:
 *   BAZAR_URL=http://192.168.121.132:3000 BAZAR_CATALOG_URL=http://192.168.121.134:3001 BAZAR_TOKEN=... npm run test:e2e
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startProcessStack, type ProcessStack } from '../helpers/processes';
import { tempDir } from '../helpers/stack';

interface Target {
  frontend: string;
  catalog: string;
  token: string;
}

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('application/json');
  return { status: res.status, headers: res.headers, json: isJson ? JSON.parse(text) : undefined, text };
}

describe('e2e: the store through the frontend', function () {
  this.timeout(60_000);
  let target: Target;
  let stack: ProcessStack | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  const admin = () => ({ authorization: `Bearer ${target.token}` });

  before(async () => {
    if (process.env.BAZAR_URL) {
      target = {
        frontend: process.env.BAZAR_URL.replace(/\/$/, ''),
        catalog: (process.env.BAZAR_CATALOG_URL ?? '').replace(/\/$/, ''),
        token: process.env.BAZAR_TOKEN ?? '',
      };
      if (!target.catalog || !target.token) throw new Error('with BAZAR_URL set, BAZAR_CATALOG_URL and BAZAR_TOKEN are needed too');
    } else {
      tmp = tempDir('bazar-e2e-');
      const token = randomBytes(24).toString('hex');
      stack = await startProcessStack(tmp.dir, token);
      target = { frontend: stack.frontend.url, catalog: stack.catalog.url, token };
    }
    const restock = await call('POST', `${target.catalog}/restock`, { stock: 5 }, admin());
    expect(restock.status).to.equal(200);
  });

  after(async () => {
    await stack?.stop();
    tmp?.remove();
  });

  it('when searching a topic the report way, then its books are listed', async () => {
    const res = await call('GET', `${target.frontend}/search/distributed-systems`);
    expect(res.status).to.equal(200);
    expect(res.json.topic).to.equal('distributed systems');
    expect(res.json.items.map((b: { id: number }) => b.id)).to.deep.equal([1, 2]);
  });

  it('when looking up a book, then title, topic, stock and price come back', async () => {
    const res = await call('GET', `${target.frontend}/lookup/2`);
    expect(res.status).to.equal(200);
    expect(res.json).to.deep.equal({ id: 2, title: 'RPCs for Dummies', topic: 'distributed systems', stock: 5, price_cents: 5000 });
  });

  it('when buying a book, then a confirmed order is returned with the catalog price and stock drops by one', async () => {
    const res = await call('POST', `${target.frontend}/buy/2`);
    expect(res.status).to.equal(201);
    expect(res.json).to.include({ item_number: 2, title: 'RPCs for Dummies', price_cents: 5000, status: 'confirmed' });
    expect(res.json.order_id).to.match(/^[0-9a-f-]{36}$/);
    expect(Object.keys(res.json).sort()).to.deep.equal(['created_at', 'item_number', 'order_id', 'price_cents', 'status', 'title']);
    expect(res.headers.get('x-request-id')).to.be.a('string');
    const after = await call('GET', `${target.frontend}/lookup/2`);
    expect(after.json.stock).to.equal(4);
  });

  it('when a book is bought past its stock, then 409 out_of_stock and the stock stays at zero', async () => {
    for (let i = 0; i < 5; i++) await call('POST', `${target.frontend}/buy/3`);
    const res = await call('POST', `${target.frontend}/buy/3`);
    expect(res.status).to.equal(409);
    expect(res.json.error.code).to.equal('out_of_stock');
    expect((await call('GET', `${target.frontend}/lookup/3`)).json.stock).to.equal(0);
  });

  it('when new stock arrives (restock), then every book is back to 5 and can be bought again', async () => {
    const res = await call('POST', `${target.catalog}/restock`, undefined, admin());
    expect(res.status).to.equal(200);
    expect(res.json.books.every((b: { stock: number }) => b.stock === 5)).to.equal(true);
    expect((await call('GET', `${target.frontend}/lookup/3`)).json.stock).to.equal(5);
    expect((await call('POST', `${target.frontend}/buy/3`)).status).to.equal(201);
  });

  it('when a price is updated at the catalog, then lookups and new orders use the new price', async () => {
    const res = await call('PUT', `${target.catalog}/update/4`, { price_cents: 1999 }, admin());
    expect(res.status).to.equal(200);
    expect((await call('GET', `${target.frontend}/lookup/4`)).json.price_cents).to.equal(1999);
    const order = await call('POST', `${target.frontend}/buy/4`);
    expect(order.json.price_cents).to.equal(1999);
    await call('PUT', `${target.catalog}/update/4`, { price_cents: 1500 }, admin());
  });

  it('when the catalog is written without the token, then 401 and nothing changes', async () => {
    const res = await call('PUT', `${target.catalog}/update/1`, { stock: 0 });
    expect(res.status).to.equal(401);
    expect(res.json.error.code).to.equal('unauthorized');
    expect((await call('GET', `${target.frontend}/lookup/1`)).json.stock).to.equal(5);
  });

  it('when a browser opens the report URLs, then it gets HTML pages and GET /buy does not buy', async () => {
    const page = await call('GET', `${target.frontend}/buy/1`, undefined, { accept: 'text/html' });
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/text\/html/);
    expect(page.text).to.include('<form action="/buy/1" method="post">');
    expect((await call('GET', `${target.frontend}/lookup/1`)).json.stock).to.equal(5);
  });
});
