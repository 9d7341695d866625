/**
 * A CACHE=off lookup or search passes the catalog's JSON on as it is when it holds exactly what the frontend's
 * schema allows, and serializes the value itself otherwise: never more than its own schema allows.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../../common/base-app';
import { pageCursors } from '../../common/paging';
import { buildFrontendApp } from '../../frontend-server/app';

describe('frontend: what a lookup relays from the catalog', () => {
  let catalog: Server;
  let frontend: App;
  /** What the fake catalog answers to GET /query_by_item_number/1. */
  let body: string;
  /** What it answers to GET /query_by_topic/t?limit=1 (any other URL: a health answer). */
  let page: string;

  before(async () => {
    catalog = createServer((req, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(req.url === '/query_by_item_number/1' ? body : req.url === '/query_by_topic/t?limit=1' ? page : '{"status":"ok"}');
    });
    await new Promise<void>((resolve) => catalog.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(catalog.address() as AddressInfo).port}`;
    frontend = buildFrontendApp({ catalogUrl: url, orderUrl: url, logLevel: 'silent', cache: false, upstreamProbeIntervalMs: 0 });
  });
  after(async () => {
    await frontend.close();
    catalog.closeAllConnections();
    await new Promise((resolve) => catalog.close(resolve));
  });

  it('when the catalog answers exactly a book, then its bytes are passed on unchanged', async () => {
    body = '{"id":1,"title":"T","topic":"t","stock":3,"price_cents":500}';
    const res = await frontend.inject({ method: 'GET', url: '/lookup/1' });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(res.body).to.equal(body);
  });

  it('when the catalog answers with a field the frontend does not know, then the frontend serializes the book itself, without it', async () => {
    body = '{"id":1,"title":"T","topic":"t","stock":3,"price_cents":500,"cost_cents":120}';
    const res = await frontend.inject({ method: 'GET', url: '/lookup/1' });
    expect(res.statusCode).to.equal(200);
    expect(res.json()).to.deep.equal({ id: 1, title: 'T', topic: 't', stock: 3, price_cents: 500 });
    expect(res.body).not.to.contain('cost_cents');
  });

  it('when a field has another type than the schema says, then the answer is the frontend\'s own serialization', async () => {
    body = '{"id":1,"title":"T","topic":"t","stock":"3","price_cents":500}';
    const res = await frontend.inject({ method: 'GET', url: '/lookup/1' });
    expect(res.statusCode).to.equal(200);
    expect(res.json()).to.deep.equal({ id: 1, title: 'T', topic: 't', stock: 3, price_cents: 500 });
  });

  it('when the catalog answers exactly a page of a topic, then its bytes, cursors included, are passed on unchanged', async () => {
    const cursors = pageCursors('topic', { next: 1, prev: null });
    page = JSON.stringify({ topic: 't', items: [{ id: 1, title: 'T' }], ...cursors });
    const res = await frontend.inject({ method: 'GET', url: '/search/t?limit=1' });
    expect(res.statusCode).to.equal(200);
    expect(res.body).to.equal(page);
  });

  it('when a page of a topic carries a field the frontend does not know, then the frontend serializes the page itself, without it', async () => {
    page = JSON.stringify({ topic: 't', items: [{ id: 1, title: 'T', stock: 3 }], next_cursor: null, prev_cursor: null });
    const res = await frontend.inject({ method: 'GET', url: '/search/t?limit=1' });
    expect(res.statusCode).to.equal(200);
    expect(res.json()).to.deep.equal({ topic: 't', items: [{ id: 1, title: 'T' }], next_cursor: null, prev_cursor: null });
  });
});
