/** Process-level checks (compiled services: `npm run build` first): the token never leaks, and SIGTERM is graceful. */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import Fastify from 'fastify';
import { loggerOptions } from '../../common/logger';
import { startService } from '../../support/service-process';
import { startProcessStack, type ProcessStack } from '../helpers/processes';
import { tempDir } from '../helpers/stack';

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, headers: { accept: 'application/json', ...init.headers } });
  return { status: res.status, text: await res.text() };
}

describe('secrets: the token never appears in logs or answers', function () {
  this.timeout(60_000);
  const token = `tok-${randomBytes(16).toString('hex')}`;
  const wrong = `wrong-${randomBytes(16).toString('hex')}`;
  let stack: ProcessStack;
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    tmp = tempDir('bazar-secrets-');
    stack = await startProcessStack(tmp.dir, token, { LOG_LEVEL: 'trace' });
  });
  after(async () => {
    await stack.stop();
    tmp.remove();
  });

  it('when requests carry the right and wrong tokens and fail in every way, then no log line or body holds either', async () => {
    const good = { authorization: `Bearer ${token}` };
    const bad = { authorization: `Bearer ${wrong}` };
    const answers = await Promise.all([
      call(`${stack.catalog.url}/update/1`, { method: 'PUT', headers: bad, body: '{}' }),
      call(`${stack.catalog.url}/update/1`, { method: 'PUT', headers: { ...good, 'content-type': 'application/json' }, body: '{"nope":1}' }),
      call(`${stack.catalog.url}/update/1`, { method: 'PUT', headers: { ...good, 'content-type': 'application/json' }, body: '{' }),
      call(`${stack.order.url}/orders/${token}`, { headers: good }),
      call(`${stack.order.url}/buy/1`, { method: 'POST', headers: { ...bad, 'idempotency-key': token } }),
      call(`${stack.frontend.url}/buy/1`, { method: 'POST', headers: { 'idempotency-key': 'k1' } }),
      call(`${stack.frontend.url}/lookup/${token}`),
      call(`${stack.frontend.url}/buy/1`, { method: 'POST', headers: good }),
    ]);
    expect(answers.map((a) => a.status)).to.deep.equal([401, 400, 400, 404, 401, 201, 400, 201]);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the last log lines arrive
    const lines = [...stack.catalog.lines, ...stack.order.lines, ...stack.frontend.lines];
    expect(lines.length).to.be.above(20);
    expect(lines.some((l) => l.includes('"level":20'))).to.equal(true); // debug and below really on
    for (const text of answers.map((a) => a.text)) {
      expect(text).to.not.include(wrong);
    }
    // The token may only come back where the client itself put it in the URL (a 404 naming the missing order).
    expect(answers.filter((a) => a.text.includes(token)).length).to.be.at.most(2);
    for (const line of lines) {
      expect(line, line).to.not.include(`Bearer ${token}`);
      expect(line, line).to.not.include(wrong);
    }
  });

  it('when a log record carries request headers, then authorization is redacted', async () => {
    const written: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        written.push(String(chunk));
        done();
      },
    });
    const options = loggerOptions('redact-test', 'info') as object;
    const app = Fastify({ logger: { ...options, stream } });
    app.log.info({ req: { headers: { authorization: `Bearer ${token}` } }, token }, 'hello');
    app.log.info({ headers: { authorization: `Bearer ${token}` } }, 'hello again');
    await app.close();
    expect(written.join('')).to.include('[redacted]');
    expect(written.join('')).to.not.include(token);
  });
});

describe('shutdown: SIGTERM lets in-flight requests finish', function () {
  this.timeout(30_000);
  let slowCatalog: Server;
  let tmp: ReturnType<typeof tempDir>;
  before(async () => {
    tmp = tempDir('bazar-shutdown-');
    // A catalog that takes 1.5 s to apply a purchase, so a buy is surely in flight when SIGTERM arrives.
    slowCatalog = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { order_id } = JSON.parse(body || '{}') as { order_id?: string };
        setTimeout(() => {
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ order_id, item_number: 1, title: 'Slow Book', price_cents: 100, outcome: 'purchased', stock_after: 1, created_at: new Date().toISOString() }));
        }, 1500);
      });
    });
    await new Promise<void>((resolve) => slowCatalog.listen(0, '127.0.0.1', () => resolve()));
  });
  after(async () => {
    await new Promise((resolve) => slowCatalog.close(resolve));
    tmp.remove();
  });

  it('when SIGTERM arrives during a buy, then the buy is answered 201, new connections are refused and the exit is clean', async () => {
    const port = (slowCatalog.address() as { port: number }).port;
    const order = await startService('order', {
      env: {
        DB_PATH: join(tmp.dir, 'orders.db'),
        CATALOG_URL: `http://127.0.0.1:${port}`,
        UPSTREAM_TIMEOUT_MS: '5000',
        SHUTDOWN_GRACE_MS: '5000',
      },
    });
    const inFlight = call(`${order.url}/buy/1`, { method: 'POST' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    order.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await fetch(`${order.url}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    const answer = await inFlight;
    const code = await order.stop();
    expect(answer.status).to.equal(201);
    expect(JSON.parse(answer.text).status).to.equal('confirmed');
    expect(refused).to.be.oneOf(['refused', 503]);
    expect(code, order.lines.join("\n")).to.equal(0);
  });
});
