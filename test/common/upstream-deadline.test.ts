import { expect } from 'chai';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { AppError } from '../../common/errors';
import { Metrics } from '../../common/metrics';
import { Upstream } from '../../common/upstream';

const ctx = { log: pino({ level: 'silent' }), requestId: 'deadline-test' };

describe('upstream: the whole-call deadline', function () {
  this.timeout(10_000);
  let server: Server;
  let held: ServerResponse[];
  let upstream: Upstream | undefined;

  /** A real server that answers `/slow-head` never and `/slow-body` with headers and then nothing. */
  beforeEach(async () => {
    held = [];
    server = createServer((req, res) => {
      held.push(res);
      if (req.url === '/slow-body') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id":');
      }
      if (req.url === '/fast') res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    await upstream?.close().catch(() => undefined);
    held.forEach((res) => res.destroy());
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function upstreamFor(metrics?: Metrics) {
    const { port } = server.address() as AddressInfo;
    upstream = new Upstream({ name: 'catalog', origin: `http://127.0.0.1:${port}`, timeoutMs: 300, retries: 0, metrics });
    return upstream;
  }

  for (const path of ['/slow-head', '/slow-body']) {
    it(`when the upstream stalls (${path}), then the call fails with 503 upstream_unavailable once the deadline passes, and is timed as "failed"`, async () => {
      const metrics = new Metrics('frontend', { defaultMetrics: false });
      const started = performance.now();
      const err = await upstreamFor(metrics).call('GET', path, ctx).then(
        () => expect.fail('should have failed'),
        (e: unknown) => e,
      );
      const took = performance.now() - started;
      expect(err).to.be.instanceOf(AppError);
      expect(err).to.include({ statusCode: 503, code: 'upstream_unavailable' });
      expect(took).to.be.at.least(250);
      expect(took).to.be.below(5000);
      const text = await metrics.registry.metrics();
      expect(text).to.match(/upstream_request_duration_seconds_count\{service="frontend",target="catalog",method="GET",outcome="failed"\} 1/);
    });
  }

  it('when the upstream answers in time, then the call returns its body and no deadline fires afterwards', async () => {
    const metrics = new Metrics('frontend', { defaultMetrics: false });
    const up = upstreamFor(metrics);
    expect(await up.call('GET', '/fast', ctx)).to.deep.equal({ ok: true });
    expect(await up.call('GET', '/fast', ctx)).to.deep.equal({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const text = await metrics.registry.metrics();
    expect(text).to.match(/upstream_request_duration_seconds_count\{service="frontend",target="catalog",method="GET",outcome="200"\} 2/);
    expect(text).not.to.match(/outcome="failed"/);
  });
});
