import { join } from 'node:path';
import { expect } from 'chai';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { buildOrderApp } from '../../order-server/app';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import { SERVICES, operationsOf, readDocument, type OpenApiDocument, type Service } from '../helpers/openapi';
import { newCatalogStore, startStack, tempDir, type Stack } from '../helpers/stack';

/**
 * Every route a service really has, read from Fastify's own route tree (printRoutes), as "METHOD /path/{param}".
 * Reading the tree rather than a hand-written list means a route added later without a schema still shows up here.
 */
function registeredRoutes(app: App): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)[└├]── (\S+) \(([^)]+)\)/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    const path = (stack[depth - 1] ?? '') + match[2];
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of match[3].split(', ')) {
      if (method === 'HEAD') continue;
      routes.push(`${method} ${path.replace(/:([A-Za-z_]+)/g, '{$1}')}`);
    }
  }
  return routes;
}

function documentedRoutes(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
}

describe('OpenAPI documents', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.close();
  });

  for (const service of ['catalog', 'order', 'frontend'] as const) {
    it(`when the ${service} serves /openapi.json, then it is OpenAPI 3 and lists every route the service has`, async () => {
      const app = stack[service];
      const res = await app.inject({ url: '/openapi.json' });
      expect(res.statusCode).to.equal(200);
      const doc = res.json();
      expect(doc.openapi).to.match(/^3\./);
      expect(doc.info.title).to.include(service);
      const routes = registeredRoutes(app).filter((r) => r !== 'GET /openapi.json');
      expect(routes.length).to.be.greaterThan(2);
      expect(documentedRoutes(doc)).to.have.members(routes);
    });
  }

  it('when reading the documents, then the report API is there with its schemas and the token-guarded routes say so', async () => {
    const catalog = (await stack.catalog.inject({ url: '/openapi.json' })).json();
    const order = (await stack.order.inject({ url: '/openapi.json' })).json();
    const frontend = (await stack.frontend.inject({ url: '/openapi.json' })).json();
    expect(documentedRoutes(catalog)).to.include.members([
      'GET /query_by_topic/{topic}',
      'GET /query_by_item_number/{n}',
      'PUT /update/{n}',
      'POST /restock',
      'GET /books',
      'GET /topics',
    ]);
    expect(documentedRoutes(order)).to.include.members(['POST /buy/{n}', 'GET /orders']);
    expect(documentedRoutes(frontend)).to.include.members(['GET /search/{topic}', 'GET /lookup/{n}', 'POST /buy/{n}']);

    const lookup = frontend.paths['/lookup/{n}'].get;
    expect(lookup.responses['200'].content['application/json'].schema.properties).to.have.keys(
      'id', 'title', 'topic', 'stock', 'price_cents',
    );
    expect(catalog.paths['/update/{n}'].put.security).to.deep.equal([{ bearer: [] }]);
    expect(catalog.paths['/query_by_item_number/{n}'].get.security).to.deep.equal([]);
    expect(order.paths['/orders'].get.security).to.deep.equal([{ bearer: [] }]);
    expect(catalog.components.securitySchemes.bearer.scheme).to.equal('bearer');
  });
});

describe('OpenAPI documents: what a client generator and a linter need', () => {
  let stack: Stack;
  const docs = {} as Record<Service, OpenApiDocument>;
  before(async () => {
    stack = await startStack();
    for (const service of SERVICES) docs[service] = await readDocument(stack[service]);
  });
  after(async () => {
    await stack.close();
  });

  it('when reading every operation, then each has an operationId and a summary, and no operationId repeats in its document', () => {
    for (const service of SERVICES) {
      const ops = operationsOf(docs[service]);
      for (const { name, op } of ops) {
        expect(op.operationId, `${service} ${name} operationId`).to.be.a('string').that.matches(/^[a-z][A-Za-z]+$/);
        expect(op.summary, `${service} ${name} summary`).to.be.a('string').and.not.equal('');
      }
      const ids = ops.map(({ op }) => op.operationId);
      expect(new Set(ids).size, `${service} operationIds: ${ids.join(', ')}`).to.equal(ids.length);
    }
    expect(docs.frontend.paths['/lookup/{n}'].get.operationId).to.equal('lookupBook');
    expect(docs.order.paths['/buy/{n}'].post.operationId).to.equal('placeOrder');
  });

  it('when reading every operation, then it states its security: [] when public, the bearer token when guarded', () => {
    const guarded = (doc: OpenApiDocument) =>
      operationsOf(doc).filter(({ op }) => op.security?.length).map(({ name }) => name);
    for (const service of SERVICES) {
      for (const { name, op } of operationsOf(docs[service])) {
        expect(op.security, `${service} ${name}`).to.deep.oneOf([[], [{ bearer: [] }]]);
      }
    }
    expect(guarded(docs.frontend)).to.deep.equal([]);
    expect(guarded(docs.order)).to.have.members(['POST /buy/{n}', 'GET /orders', 'GET /orders/{id}']);
    expect(guarded(docs.catalog)).to.include.members(['PUT /update/{n}', 'POST /purchase/{n}', 'GET /events']);
    // A scheme no operation uses would only confuse a reader (and a linter): the frontend declares none.
    expect(docs.frontend.components?.securitySchemes).to.equal(undefined);
    expect(docs.catalog.components?.securitySchemes?.bearer).to.deep.include({ type: 'http', scheme: 'bearer' });
  });

  it('when an operation takes input, needs the token or takes a body, then it documents the 400, 401, 413 and 415 it can answer, each with the error body', () => {
    for (const service of SERVICES) {
      for (const { name, op } of operationsOf(docs[service])) {
        const statuses = Object.keys(op.responses);
        const where = `${service} ${name} (${statuses.join(', ')})`;
        if (op.parameters?.length || op.requestBody) expect(statuses, where).to.include('400');
        if (op.security?.length) expect(statuses, where).to.include('401');
        if (/^(POST|PUT) /.test(name)) expect(statuses, where).to.include.members(['413', '415']);
        for (const status of statuses.filter((s) => Number(s) >= 400 && op.operationId !== 'readiness')) {
          const schema = op.responses[status].content?.['application/json']?.schema;
          expect(schema?.properties, `${where}: ${status}`).to.have.keys('error');
          expect(op.responses[status].description, `${where}: ${status}`).to.not.equal('Default Response');
        }
      }
    }
    expect(Object.keys(docs.frontend.paths['/buy/{n}'].post.responses)).to.include.members(['409', '422', '429', '503']);
  });

  it('when a service listens, then its document names the address it listens on; PUBLIC_URL replaces it; before listening, its default local address', async () => {
    for (const service of SERVICES) expect(docs[service].servers?.map((s) => s.url)).to.deep.equal([stack.urls[service]]);
    const tmp = tempDir();
    const named = buildCatalogApp({
      store: newCatalogStore(tmp.dir),
      logLevel: 'silent',
      publicUrl: 'http://catalog.bazar.test:8080',
    });
    const unnamed = buildOrderApp({
      ledger: new SqliteOrderLedger(join(tmp.dir, 'orders.db')),
      catalogUrl: stack.urls.catalog,
      logLevel: 'silent',
      reconcileIntervalMs: 0,
    });
    try {
      expect((await readDocument(named)).servers?.map((s) => s.url)).to.deep.equal(['http://catalog.bazar.test:8080']);
      expect((await readDocument(unnamed)).servers?.map((s) => s.url)).to.deep.equal(['http://127.0.0.1:3002']);
    } finally {
      await Promise.all([named.close(), unnamed.close()]);
      tmp.remove();
    }
  });
});
