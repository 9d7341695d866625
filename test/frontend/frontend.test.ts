import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { MockAgent } from 'undici';
import type { App } from '../../common/base-app';
import { buildFrontendApp } from '../../frontend-server/app';
import { startStack, type Stack } from '../helpers/stack';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('frontend: against the real catalog and order servers', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack();
  });
  afterEach(() => stack.close());

  it('when searching and looking up, then the catalog answers are relayed unchanged', async () => {
    const search = await stack.frontend.inject('/search/graduate_school');
    expect(search.statusCode).to.equal(200);
    expect(search.json()).to.deep.equal((await stack.catalog.inject('/query_by_topic/graduate%20school')).json());
    expect(search.json()).to.deep.include({ topic: 'graduate school', next_cursor: null, prev_cursor: null });
    const lookup = await stack.frontend.inject('/lookup/4');
    expect(lookup.json()).to.deep.equal(await stack.store.getBook(4));
  });

  it('when a search asks for a page, then the frontend passes limit and cursor on, and a bad cursor is the catalog\'s 400', async () => {
    const first = (await stack.frontend.inject('/search/graduate-school?limit=1')).json();
    expect(first.items.map((b: { id: number }) => b.id)).to.deep.equal([3]);
    const second = (await stack.frontend.inject(`/search/graduate-school?limit=1&cursor=${first.next_cursor}`)).json();
    expect(second).to.deep.include({ topic: 'graduate school', next_cursor: null });
    expect(second.items.map((b: { id: number }) => b.id)).to.deep.equal([4]);
    const booksCursor = (await stack.catalog.inject('/books?limit=1')).json().next_cursor;
    for (const url of [`/search/graduate-school?cursor=${booksCursor}`, '/search/graduate-school?limit=0', '/search/graduate-school?page=2']) {
      const bad = await stack.frontend.inject(url);
      expect(bad.statusCode, url).to.equal(400);
      expect(bad.json().error.code, url).to.equal('validation_failed');
    }
  });

  it('when the topic or book is unknown, then the catalog error is relayed with its status', async () => {
    const topic = await stack.frontend.inject('/search/astrology');
    expect(topic.statusCode).to.equal(404);
    expect(topic.json().error.code).to.equal('topic_not_found');
    const book = await stack.frontend.inject('/lookup/31');
    expect(book.statusCode).to.equal(404);
    expect(book.json().error.code).to.equal('book_not_found');
  });

  it('when an API client POSTs /buy, then 201 with the confirmed order and the stock drops', async () => {
    const res = await stack.frontend.inject({ method: 'POST', url: '/buy/1' });
    expect(res.statusCode).to.equal(201);
    expect(res.json()).to.include({ item_number: 1, status: 'confirmed', price_cents: (await stack.store.getBook(1))!.price_cents });
    expect((await stack.store.getBook(1))?.stock).to.equal(4);
    expect(await stack.ledger.get(res.json().order_id)).to.include({ status: 'confirmed' });
  });

  it('when a client sends a price in the buy body, then it is ignored: the catalog price is charged', async () => {
    const res = await stack.frontend.inject({ method: 'POST', url: '/buy/2', payload: { price_cents: 1 } });
    expect(res.statusCode).to.equal(201);
    expect(res.json().price_cents).to.equal(5000);
  });

  it('when an API client GETs /buy, then 405 with Allow: POST and nothing is bought', async () => {
    const res = await stack.frontend.inject('/buy/1');
    expect(res.statusCode).to.equal(405);
    expect(res.headers.allow).to.equal('POST');
    expect(res.json().error.code).to.equal('method_not_allowed');
    expect((await stack.store.getBook(1))?.stock).to.equal(5);
  });

  it('when a browser GETs /buy, then a confirmation page with a POST form, and nothing is bought', async () => {
    const res = await stack.frontend.inject({ url: '/buy/1', headers: HTML });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expect(res.body).to.include('<form action="/buy/1" method="post">');
    expect((await stack.store.getBook(1))?.stock).to.equal(5);
    expect((await stack.ledger.list({ limit: 5 })).orders).to.deep.equal([]);
  });

  it('when a browser submits the Buy form, then a thank-you page shows the order and the new stock', async () => {
    const res = await stack.frontend.inject({
      method: 'POST',
      url: '/buy/2',
      headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(res.statusCode).to.equal(201);
    const [placed] = (await stack.ledger.list({ limit: 1 })).orders;
    expect(res.body).to.include(placed.order_id).and.include('RPCs for Dummies').and.include('$50.00').and.include('4 in stock');
  });

  it('when the same Buy form is submitted twice (a double-click), then one copy is bought and both pages show that order', async () => {
    const page = await stack.frontend.inject({ url: '/lookup/2', headers: HTML });
    const key = /name="idempotency_key" value="([^"]+)"/.exec(page.body)?.[1];
    expect(key).to.match(/^[0-9a-f-]{36}$/);
    const submit = () =>
      stack.frontend.inject({
        method: 'POST',
        url: '/buy/2',
        headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `idempotency_key=${key}`,
      });
    const [first, second] = [await submit(), await submit()];
    expect([first.statusCode, second.statusCode]).to.deep.equal([201, 201]);
    const orders = (await stack.ledger.list({ limit: 10 })).orders;
    expect(orders).to.have.length(1);
    expect(first.body).to.include(orders[0].order_id);
    expect(second.body).to.include(orders[0].order_id);
    expect((await stack.store.getBook(2))?.stock).to.equal(4);
  });

  it('when a form sends a malformed idempotency key, then 400 invalid_idempotency_key and nothing is bought', async () => {
    const res = await stack.frontend.inject({
      method: 'POST',
      url: '/buy/2',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `idempotency_key=${'k'.repeat(65)}`,
    });
    expect(res.statusCode).to.equal(400);
    expect(res.json().error.code).to.equal('invalid_idempotency_key');
    expect((await stack.store.getBook(2))?.stock).to.equal(5);
    expect((await stack.ledger.list({ limit: 10 })).orders).to.deep.equal([]);
  });

  it('when a browser asks for an unknown book, then an HTML error page with the status', async () => {
    const res = await stack.frontend.inject({ url: '/lookup/404', headers: HTML });
    expect(res.statusCode).to.equal(404);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expect(res.body).to.include('No such book').and.include('book_not_found');
  });

  it('when a browser opens the home page, then topics link to the report search URLs', async () => {
    const res = await stack.frontend.inject({ url: '/', headers: HTML });
    expect(res.statusCode).to.equal(200);
    expect(res.body).to.include('href="/search/distributed-systems"').and.include('href="/search/graduate-school"');
    const search = await stack.frontend.inject('/search?topic=graduate%20school');
    expect(search.statusCode).to.equal(303);
    expect(search.headers.location).to.equal('/search/graduate%20school');
  });

  it('when a title holds markup, then pages show it as text', async () => {
    const res = await stack.frontend.inject({ url: '/search/%3Cscript%3Ealert(1)%3C%2Fscript%3E', headers: HTML });
    expect(res.statusCode).to.equal(404);
    expect(res.body).not.to.include('<script>alert(1)</script>');
    expect(res.body).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('when both upstreams answer, then /readyz is ready; with the order server down, 503 naming it', async () => {
    expect((await stack.frontend.inject('/readyz')).statusCode).to.equal(200);
    await stack.order.close();
    const res = await stack.frontend.inject('/readyz');
    expect(res.statusCode).to.equal(503);
    expect(res.json().checks).to.deep.equal({ catalog: 'ok', order: 'unreachable' });
  });
});

describe('frontend: upstream failures', () => {
  let blackhole: Server;
  let blackholeUrl: string;
  const sockets = new Set<Socket>();

  before(async () => {
    // Accepts connections and never answers: the worst kind of "down".
    blackhole = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const address = blackhole.address() as { port: number };
    blackholeUrl = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => blackhole.close(resolve));
  });

  async function expect503Within2s(app: App, method: 'GET' | 'POST', url: string) {
    const started = Date.now();
    const res = await app.inject({ method, url });
    const elapsed = Date.now() - started;
    expect(res.statusCode).to.equal(503);
    expect(res.json().error.code).to.equal('upstream_unavailable');
    expect(elapsed).to.be.below(2000);
    return res;
  }

  it('when the catalog and order servers hang, then search, lookup and buy answer 503 within 2 s', async () => {
    const app = buildFrontendApp({ catalogUrl: blackholeUrl, orderUrl: blackholeUrl, logLevel: 'silent' });
    try {
      await expect503Within2s(app, 'GET', '/search/distributed-systems');
      await expect503Within2s(app, 'GET', '/lookup/1');
      const buy = await expect503Within2s(app, 'POST', '/buy/1');
      expect(buy.json().error.message).to.match(/may still complete; retry with the same Idempotency-Key/);
    } finally {
      await app.close();
    }
  });

  it('when nothing listens at the upstream address, then 503 upstream_unavailable at once', async () => {
    const app = buildFrontendApp({ catalogUrl: 'http://127.0.0.1:9', orderUrl: 'http://127.0.0.1:9', logLevel: 'silent' });
    try {
      await expect503Within2s(app, 'GET', '/lookup/1');
      await expect503Within2s(app, 'POST', '/buy/1');
    } finally {
      await app.close();
    }
  });
});

describe('frontend: what it sends upstream (MockAgent)', () => {
  let agent: MockAgent;
  let app: App;
  const catalogUrl = 'http://catalog.test';
  const orderUrl = 'http://order.test';

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    app = buildFrontendApp({
      catalogUrl,
      orderUrl,
      token: 'frontend-token-0123456789',
      logLevel: 'silent',
      catalogDispatcher: agent,
      orderDispatcher: agent,
    });
  });
  afterEach(async () => {
    await app.close();
    await agent.close();
  });

  it('when a request has an id, then the same x-request-id and the bearer token go to the next tier', async () => {
    agent
      .get(orderUrl)
      .intercept({
        path: '/buy/2',
        method: 'POST',
        headers: { 'x-request-id': 'trace-me-1', authorization: 'Bearer frontend-token-0123456789' },
      })
      .reply(201, { order_id: 'o-1', item_number: 2, title: 'RPCs for Dummies', price_cents: 5000, status: 'confirmed', created_at: '2026-01-01T00:00:00.000Z' });
    const res = await app.inject({ method: 'POST', url: '/buy/2', headers: { 'x-request-id': 'trace-me-1' } });
    expect(res.statusCode).to.equal(201);
    expect(res.headers['x-request-id']).to.equal('trace-me-1');
    agent.assertNoPendingInterceptors();
  });

  it('when the item number is bad, then 400 without any upstream call', async () => {
    for (const bad of ['abc', '-1', '0', '1.5', '99999999999999999999']) {
      for (const [method, url] of [['GET', `/lookup/${bad}`], ['POST', `/buy/${bad}`], ['GET', `/buy/${bad}`]] as const) {
        const res = await app.inject({ method, url });
        expect(res.statusCode, `${method} ${url}`).to.equal(400);
        expect(res.json().error.code).to.equal('invalid_item_number');
      }
    }
  });

  it('when the upstream answers 500 with details, then the client gets 503 without them', async () => {
    agent.get(catalogUrl).intercept({ path: '/query_by_item_number/1' }).reply(500, { secret: 'stack trace here' });
    const res = await app.inject('/lookup/1');
    expect(res.statusCode).to.equal(503);
    expect(res.body).not.to.include('stack trace');
  });

  it('when the upstream rejects our token, then 503 (our misconfiguration), not a 401 to the public', async () => {
    agent.get(orderUrl).intercept({ path: '/buy/1', method: 'POST' }).reply(401, { error: { code: 'unauthorized', message: 'x' } });
    const res = await app.inject({ method: 'POST', url: '/buy/1' });
    expect(res.statusCode).to.equal(503);
    expect(res.json().error.code).to.equal('upstream_unavailable');
  });
});
