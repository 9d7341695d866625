import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { createBaseApp, SERVER_LIMITS, type App } from '../../common/base-app';
import { buildFrontendApp } from '../../frontend-server/app';
import { AUTH, startStack, TEST_TOKEN, type Stack } from '../helpers/stack';

/** Sends raw bytes and resolves with the whole answer (or '' when the server just closed). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('limits: bodies, headers and rates', function () {
  this.timeout(20_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack.close();
  });

  it('when a body is over 16 KiB, then 413 payload_too_large as JSON and the book is unchanged', async () => {
    const res = await stack.catalog.inject({
      method: 'PUT',
      url: '/update/1',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: JSON.stringify({ stock: 99, pad: 'x'.repeat(16 * 1024) }),
    });
    expect(res.statusCode).to.equal(413);
    expect(res.json().error.code).to.equal('payload_too_large');
    expect((await stack.store.getBook(1))!.stock).to.equal(5);
  });

  it('when a buy carries a 17 KiB body, then 413 and no order is written', async () => {
    const res = await stack.frontend.inject({
      method: 'POST',
      url: '/buy/1',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(17 * 1024) }),
    });
    expect(res.statusCode).to.equal(413);
    expect((await stack.ledger.list({ limit: 10 })).orders).to.have.length(0);
  });

  it('when the headers are over 16 KiB, then 431 and the server goes on serving', async () => {
    const port = Number(new URL(stack.urls.frontend).port);
    const answer = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expect(answer).to.match(/^HTTP\/1\.1 431/);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]).error.code).to.equal('headers_too_large');
    const ok = await fetch(`${stack.urls.frontend}/healthz`);
    expect(ok.status).to.equal(200);
  });

  it('when a client sends bytes that are not HTTP, then 400 bad_request as JSON', async () => {
    const port = Number(new URL(stack.urls.catalog).port);
    const answer = await rawRequest(port, 'HELLO\r\n\r\n');
    expect(answer).to.match(/^HTTP\/1\.1 400/);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]).error.code).to.equal('bad_request');
  });

  it('when the services are built, then every server carries the header, request and keep-alive timeouts', () => {
    for (const app of [stack.frontend, stack.order, stack.catalog]) {
      expect(app.server.headersTimeout).to.equal(SERVER_LIMITS.headersTimeout);
      expect(app.server.requestTimeout).to.equal(SERVER_LIMITS.requestTimeout);
      expect(app.server.keepAliveTimeout).to.equal(SERVER_LIMITS.keepAliveTimeout);
      expect(app.server.timeout).to.equal(SERVER_LIMITS.connectionTimeout);
    }
  });

  it('when one client buys past its limit, then 429 rate_limited with Retry-After and no extra order', async () => {
    const frontend = buildFrontendApp({
      catalogUrl: stack.urls.catalog,
      orderUrl: stack.urls.order,
      token: TEST_TOKEN,
      logLevel: 'silent',
      buyRateLimit: { max: 2, windowMs: 60_000 },
    });
    try {
      const buy = () => frontend.inject({ method: 'POST', url: '/buy/3', headers: { accept: 'application/json' } });
      expect((await buy()).statusCode).to.equal(201);
      expect((await buy()).statusCode).to.equal(201);
      const limited = await buy();
      expect(limited.statusCode).to.equal(429);
      expect(limited.json().error.code).to.equal('rate_limited');
      expect(Number(limited.headers['retry-after'])).to.be.within(1, 60);
      expect((await stack.store.getBook(3))!.stock).to.equal(3);
      // Reads are not limited.
      expect((await frontend.inject({ method: 'GET', url: '/lookup/3' })).statusCode).to.equal(200);
    } finally {
      await frontend.close();
    }
  });
});

describe('limits: slow clients (slowloris)', function () {
  this.timeout(30_000);
  let app: App;
  let port: number;
  const slow: Socket[] = [];
  before(async () => {
    // The same server as every service, with the header timeout shortened so the test is quick.
    app = createBaseApp({
      service: 'slowloris-test',
      logLevel: 'silent',
      limits: { headersTimeout: 1500, requestTimeout: 3000, connectionsCheckingInterval: 200 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  after(async () => {
    slow.forEach((s) => s.destroy());
    await app.close();
  });

  it('when 200 connections dribble their headers, then normal clients are served and the slow ones are closed', async () => {
    const closed: Promise<string>[] = [];
    const timers: NodeJS.Timeout[] = [];
    for (let i = 0; i < 200; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      slow.push(socket);
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      closed.push(new Promise((resolve) => socket.on('close', () => resolve(answer))));
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      // One header byte every 300 ms: never finishing, always just alive.
      timers.push(setInterval(() => socket.writable && socket.write('X'), 300));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const served = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status)),
    );
    expect(served.every((s) => s === 200)).to.equal(true);
    const started = Date.now();
    const answers = await Promise.all(closed);
    timers.forEach(clearInterval);
    expect(answers.filter((a) => a.startsWith('HTTP/1.1 408') && a.includes('"request_timeout"')).length).to.equal(200);
    expect(slow.every((s) => s.destroyed)).to.equal(true);
    expect(Date.now() - started).to.be.below(15_000);
  });
});
