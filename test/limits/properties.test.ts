/**
 * Property-based: random methods, paths (route shapes with hostile ids and topics, and plain junk), headers and
 * bodies thrown at every route of every service. Whatever arrives: no 5xx, a JSON error body for every 4xx
 * (an HTML page only when the client asked for HTML), and a rejected request changes nothing in either database.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { App } from '../../common/base-app';
import { AUTH, startStack, type Stack } from '../helpers/stack';

/** Every route as "METHOD path", `{s}` standing for the random segment. */
const ROUTES: Record<'catalog' | 'order' | 'frontend', string[]> = {
  catalog: [
    'GET /query_by_topic/{s}',
    'GET /query_by_item_number/{s}',
    'GET /topics',
    'GET /books',
    'GET /books?limit={s}',
    'GET /books?cursor={s}',
    'GET /query_by_topic/graduate-school?cursor={s}',
    'PUT /update/{s}',
    'POST /restock',
    'POST /purchase/{s}',
    'GET /purchases/{s}',
    'GET /healthz',
    'GET /readyz',
  ],
  order: ['POST /buy/{s}', 'GET /orders', 'GET /orders/{s}', 'GET /orders?limit={s}', 'GET /orders?status={s}', 'GET /orders?cursor={s}', 'GET /healthz', 'GET /readyz'],
  frontend: ['GET /', 'GET /books?cursor={s}', 'GET /search/{s}', 'GET /search/distributed-systems?cursor={s}', 'GET /search?topic={s}', 'GET /lookup/{s}', 'POST /buy/{s}', 'GET /buy/{s}', 'GET /status', 'GET /healthz', 'GET /readyz'],
};

const segment = fc.oneof(
  fc.constantFrom('1', '2', '4', '5', '0', '-1', '1.5', '1e3', '007', '999999999999999', '9999999999999999999', 'abc'),
  fc.constantFrom('distributed systems', 'graduate-school', 'GRADUATE_SCHOOL', '%zz', '%00', '%E0%A4%A', '..', '%2F'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
  fc.string({ minLength: 190, maxLength: 400 }).map(encodeURIComponent),
  // Cursors: well-formed base64url around JSON a cursor might almost be (wrong listing, direction or key type).
  fc
    .tuple(fc.constantFrom('t', 'b', 'o', 'x'), fc.constantFrom('a', 'b', 'z'), fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(2 ** 60)))
    .map((cursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url')),
  fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v) ?? '').toString('base64url')),
);

const path = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 20 }), segment).map(([i, s]) => ({ i, s })) },
  { weight: 1, arbitrary: fc.array(segment, { maxLength: 4 }).map((parts) => ({ raw: `/${parts.join('/')}` })) },
);

const headers = fc.record(
  {
    authorization: fc.oneof(
      fc.constant(AUTH.authorization),
      fc.constant('Bearer wrong-token-0123456789'),
      fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    ),
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'x/y; q=='),
    accept: fc.constantFrom('application/json', 'text/html', '*/*', 'text/html;q=0.1, application/json', 'garbage;;'),
    'idempotency-key': fc.string({ maxLength: 70 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    'x-request-id': fc.string({ maxLength: 20 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ stock: fc.oneof(fc.integer(), fc.double(), fc.string()), price_cents: fc.integer() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ order_id: fc.string({ maxLength: 80 }) }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 100 }),
);

/** undefined: the route's own method (most of the time); otherwise any method. */
const method = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS') },
);

/** Outcomes that are a well-formed request's recorded result, not a rejection of bad input. */
const RECORDED_OUTCOMES = new Set(['out_of_stock']);

describe('properties: hostile input on every route', function () {
  this.timeout(120_000);
  let stack: Stack;
  /** Everything a request could change, read through the stores (books, stock accounting, orders by status). */
  const snapshot = async () =>
    JSON.stringify([
      await stack.store.listBooks(),
      await stack.store.audit(),
      (await stack.ledger.list({ limit: 1000 })).orders.map((o) => `${o.order_id} ${o.status}`),
    ]);
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.close();
  });

  for (const service of ['catalog', 'order', 'frontend'] as const) {
    it(`when random requests hit the ${service} service, then no 5xx, JSON 4xx errors and no change on rejection`, async () => {
      const app: App = stack[service];
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(method, path, headers, body, async (anyMethod, p, h, b) => {
          const routes = ROUTES[service];
          const [routeMethod, template] = routes['raw' in p ? 0 : p.i % routes.length].split(' ');
          const url = 'raw' in p ? p.raw : template.replace('{s}', p.s);
          const m = anyMethod ?? routeMethod;
          const before = await snapshot();
          const res = await app.inject({ method: m as 'GET', url, headers: h, payload: m === 'GET' || m === 'HEAD' ? undefined : b });
          const tally = `${res.statusCode}`;
          seen.set(tally, (seen.get(tally) ?? 0) + 1);
          const context = `${m} ${url} ${JSON.stringify(h)} ${b ?? ''} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
          expect(res.statusCode, context).to.be.below(500);
          if (res.statusCode >= 400) {
            const type = String(res.headers['content-type'] ?? '');
            if (m !== 'HEAD' && !type.startsWith('text/html')) {
              expect(type, context).to.match(/^application\/json/);
              const error = res.json().error;
              expect(error?.code, context).to.be.a('string');
              expect(error?.message, context).to.be.a('string');
            }
            if (type.startsWith('text/html')) expect(String(h.accept), context).to.include('text/html');
            const code = type.startsWith('application/json') && m !== 'HEAD' ? res.json().error.code : '';
            if (!RECORDED_OUTCOMES.has(code)) expect(await snapshot(), `state changed: ${context}`).to.equal(before);
          }
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 300) },
      );
      // Enough of the answers must be successes and rejections alike, or the generators are not reaching the routes.
      const count = (prefix: string) => [...seen].filter(([s]) => s.startsWith(prefix)).reduce((n, [, c]) => n + c, 0);
      if (process.env.FC_VERBOSE) console.log(service, Object.fromEntries(seen));
      expect(count('2'), JSON.stringify([...seen])).to.be.above(5);
      expect(count('4'), JSON.stringify([...seen])).to.be.above(50);
    });
  }
});
