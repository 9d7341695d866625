import { expect } from 'chai';
import type { App } from '../../common/base-app';
import { startStack, type Stack } from '../helpers/stack';

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
    expect(catalog.paths['/query_by_item_number/{n}'].get.security).to.equal(undefined);
    expect(order.paths['/orders'].get.security).to.deep.equal([{ bearer: [] }]);
    expect(catalog.components.securitySchemes.bearer.scheme).to.equal('bearer');
  });
});
