/**
 * A CACHE=off lookup passes the catalog's JSON on as it is when it holds exactly what the frontend's schema allows,
 * and serializes the value itself otherwise: never more than its own schema allows.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../../common/base-app';
import { buildFrontendApp } from '../../frontend-server/app';

describe('frontend: what a lookup relays from the catalog', () => {
  let catalog: Server;
  let frontend: App;
  /** What the fake catalog answers to GET /query_by_item_number/1. */
  let body: string;

  before(async () => {
    catalog = createServer((req, res) => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(req.url === '/query_by_item_number/1' ? body : '{"status":"ok"}');
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
});
