import { expect } from 'chai';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { TEST_TOKEN, newCatalogStore, tempDir } from '../helpers/stack';

describe('request ids on every answer', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: App;
  before(async () => {
    tmp = tempDir();
    app = buildCatalogApp({ store: newCatalogStore(tmp.dir), token: TEST_TOKEN, logLevel: 'silent' });
    await app.ready();
  });
  after(async () => {
    await app.close();
    tmp.remove();
  });

  const cases: [string, { method?: 'GET' | 'POST'; url: string }, number][] = [
    ['an answer', { url: '/query_by_item_number/1' }, 200],
    ['a validation error', { url: '/query_by_item_number/abc' }, 400],
    ['a refused token', { method: 'POST', url: '/restock' }, 401],
    ['an unknown route', { url: '/no/such/page' }, 404],
    ['a malformed URL', { url: '/query_by_topic/%zz' }, 400],
  ];
  for (const [what, request, status] of cases) {
    it(`when ${what} is answered (${status}), then it carries the caller's x-request-id, or one made up`, async () => {
      const given = await app.inject({ ...request, headers: { 'x-request-id': 'trace-7' } });
      expect(given.statusCode).to.equal(status);
      expect(given.headers['x-request-id']).to.equal('trace-7');
      const made = await app.inject(request);
      expect(made.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    });
  }
});
