import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../common/config';
import { readCatalogConfig } from '../../catalog-server/config';
import { readFrontendConfig } from '../../frontend-server/config';
import { readOrderConfig } from '../../order-server/config';
import { tempDir } from '../helpers/stack';

describe('config: environment only, checked at start-up', () => {
  it('when nothing is set, then each service gets loopback, its own port and local data paths', () => {
    expect(readCatalogConfig({})).to.include({ host: '127.0.0.1', port: 3001, dbPath: 'data/catalog.db', logLevel: 'info', token: undefined });
    expect(readOrderConfig({})).to.deep.include({ port: 3002, dbPath: 'data/orders.db', catalogUrl: ['http://127.0.0.1:3001'] });
    expect(readFrontendConfig({})).to.deep.include({ port: 3000, catalogUrl: ['http://127.0.0.1:3001'], orderUrl: ['http://127.0.0.1:3002'] });
  });

  it('when values are given, then they are used as given (URLs reduced to their origin)', () => {
    const config = readFrontendConfig({
      HOST: '0.0.0.0',
      PORT: '8080',
      LOG_LEVEL: 'WARN',
      BAZAR_TOKEN: 'a-long-enough-token-123',
      CATALOG_URL: 'http://192.168.121.134:3001/',
      ORDER_URL: 'http://192.168.121.135:3002',
    });
    expect(config).to.deep.include({ host: '0.0.0.0', port: 8080, logLevel: 'warn', catalogUrl: ['http://192.168.121.134:3001'] });
  });

  it('when CATALOG_URL and ORDER_URL list several origins, then each is kept, in order, as an origin', () => {
    const frontend = readFrontendConfig({
      CATALOG_URL: ' http://10.0.0.5:3001/ , http://10.0.0.6:3001',
      ORDER_URL: 'http://10.0.0.7:3002,http://10.0.0.8:3002/',
      UPSTREAM_PROBE_INTERVAL_MS: '250',
    });
    expect(frontend.catalogUrl).to.deep.equal(['http://10.0.0.5:3001', 'http://10.0.0.6:3001']);
    expect(frontend.orderUrl).to.deep.equal(['http://10.0.0.7:3002', 'http://10.0.0.8:3002']);
    expect(frontend.upstreamProbeIntervalMs).to.equal(250);
    expect(readOrderConfig({ CATALOG_URL: 'http://10.0.0.5:3001,http://10.0.0.6:3001' }).catalogUrl).to.have.length(2);
  });

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['a reachable HOST without a token', { HOST: '192.168.121.134' }, /BAZAR_TOKEN must be set/],
    ['a host name instead of an address', { HOST: 'catalog.local' }, /HOST must be an IP address/],
    ['a port out of range', { PORT: '70000' }, /PORT must be a TCP port number/],
    ['a token with spaces', { BAZAR_TOKEN: 'has spaces in it, long enough' }, /BAZAR_TOKEN must be 16 to 256 visible/],
    ['an URL with a path', { CATALOG_URL: 'http://127.0.0.1:3001/api' }, /CATALOG_URL must be an origin without a path/],
    ['a non-http URL', { CATALOG_URL: 'ftp://127.0.0.1' }, /CATALOG_URL must be an absolute http/],
    ['a zero timeout', { UPSTREAM_TIMEOUT_MS: '0' }, /UPSTREAM_TIMEOUT_MS must be a positive integer/],
    ['one bad origin in a list', { CATALOG_URL: 'http://127.0.0.1:3001,127.0.0.2:3001' }, /CATALOG_URL must be an absolute http/],
    ['a path in the second origin', { CATALOG_URL: 'http://127.0.0.1:3001,http://127.0.0.2:3001/x' }, /CATALOG_URL must be an origin without a path/],
    ['an empty entry in a list', { CATALOG_URL: 'http://127.0.0.1:3001,,http://127.0.0.2:3001' }, /CATALOG_URL must be a comma-separated list/],
    ['the same origin twice', { CATALOG_URL: 'http://127.0.0.1:3001,http://127.0.0.1:3001/' }, /CATALOG_URL lists http:\/\/127\.0\.0\.1:3001 more than once/],
    ['more origins than a call can track', { CATALOG_URL: Array.from({ length: 32 }, (_, i) => `http://127.0.0.1:${3100 + i}`).join(',') }, /CATALOG_URL lists 32 origins; at most 31/],
    ['a zero probe interval', { UPSTREAM_PROBE_INTERVAL_MS: '0' }, /UPSTREAM_PROBE_INTERVAL_MS must be a positive integer/],
  ];
  for (const [what, env, message] of refused) {
    it(`when given ${what}, then a ConfigError names the variable`, () => {
      expect(() => readOrderConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('when PUBLIC_URL is set, then it is the origin the OpenAPI document names; unset, the service names its bound address', () => {
    expect(readCatalogConfig({ PUBLIC_URL: 'http://books.bazar.test:8080/' }).publicUrl).to.equal('http://books.bazar.test:8080');
    expect(readFrontendConfig({}).publicUrl).to.equal(undefined);
    expect(() => readOrderConfig({ PUBLIC_URL: 'http://127.0.0.1:3002/api' })).to.throw(ConfigError, /PUBLIC_URL must be an origin/);
  });

  it('when HOST is loopback, then no token is needed; when reachable, a token makes it valid', () => {
    expect(readCatalogConfig({ HOST: '127.0.0.5' }).token).to.equal(undefined);
    expect(readCatalogConfig({ HOST: '0.0.0.0', BAZAR_TOKEN: 'x'.repeat(32) }).token).to.equal('x'.repeat(32));
  });

  it('when BAZAR_TOKEN_FILE names a file, then its trimmed contents are the token; a missing, empty or doubled one is a ConfigError', () => {
    const tmp = tempDir('bazar-token-');
    try {
      const file = join(tmp.dir, 'token');
      writeFileSync(file, `${'t'.repeat(40)}\n`, { mode: 0o600 });
      expect(readCatalogConfig({ HOST: '192.168.121.134', BAZAR_TOKEN_FILE: file }).token).to.equal('t'.repeat(40));

      const missing = join(tmp.dir, 'absent');
      expect(() => readCatalogConfig({ HOST: '0.0.0.0', BAZAR_TOKEN_FILE: missing })).to.throw(ConfigError, `BAZAR_TOKEN_FILE ${missing} cannot be read (ENOENT)`);
      const empty = join(tmp.dir, 'empty');
      writeFileSync(empty, '\n');
      expect(() => readCatalogConfig({ HOST: '0.0.0.0', BAZAR_TOKEN_FILE: empty })).to.throw(ConfigError, 'is empty');
      expect(() => readCatalogConfig({ HOST: '0.0.0.0', BAZAR_TOKEN: 'x'.repeat(32), BAZAR_TOKEN_FILE: file })).to.throw(ConfigError, 'not both');
    } finally {
      tmp.remove();
    }
  });
});
