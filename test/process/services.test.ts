import { expect } from 'chai';
import { runToExit, startProcessStack, type ProcessStack } from '../helpers/processes';
import { tempDir } from '../helpers/stack';

describe('processes: configuration is checked at start-up', function () {
  this.timeout(20_000);
  const cases: Array<[string, string, Record<string, string>, RegExp]> = [
    ['catalog', 'a reachable HOST without BAZAR_TOKEN', { HOST: '0.0.0.0' }, /BAZAR_TOKEN must be set/],
    ['order', 'a PORT that is not a number', { PORT: 'eighty' }, /PORT must be a TCP port number/],
    ['frontend', 'a CATALOG_URL that is not a URL', { CATALOG_URL: 'catalog:3001' }, /CATALOG_URL must be an absolute http/],
    ['catalog', 'a token that is too short', { BAZAR_TOKEN: 'short' }, /BAZAR_TOKEN must be 16 to 256/],
    ['order', 'an unknown LOG_LEVEL', { LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
  ];
  for (const [service, what, env, message] of cases) {
    it(`when the ${service} server gets ${what}, then it refuses to start with a clear message`, async () => {
      const { code, stderr } = await runToExit(`dist/${service}-server/server.js`, { PORT: '0', ...env });
      expect(code).to.equal(78);
      expect(stderr).to.match(/^configuration error: /).and.match(message);
    });
  }
});

describe('processes: one buy, followed through three logs', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof tempDir>;
  let stack: ProcessStack;

  before(async () => {
    tmp = tempDir();
    stack = await startProcessStack(tmp.dir, 'process-test-token-0123456789');
  });
  after(async () => {
    await stack.stop();
    tmp.remove();
  });

  it('when a buy carries x-request-id, then each service logs that id and the token appears in no log', async () => {
    const res = await fetch(`${stack.frontend.url}/buy/1`, { method: 'POST', headers: { 'x-request-id': 'follow-me-123' } });
    expect(res.status).to.equal(201);
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the log lines flush through the pipes
    for (const service of [stack.frontend, stack.order, stack.catalog]) {
      const lines = service.lines.filter((line) => line.includes('"reqId":"follow-me-123"'));
      expect(lines.length, `${service.name} log`).to.be.greaterThan(0);
      expect(service.lines.join('\n')).not.to.include('process-test-token-0123456789');
    }
  });

  it('when a service gets SIGTERM, then it closes cleanly with exit code 0', async () => {
    expect(await stack.frontend.stop('SIGTERM')).to.equal(0);
    expect(stack.frontend.lines.some((line) => line.includes('shutting down'))).to.equal(true);
  });
});
