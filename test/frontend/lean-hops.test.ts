import { expect } from 'chai';
import { buildFrontendApp } from '../../frontend-server/app';
import { TEST_TOKEN, startStack } from '../helpers/stack';

describe('lean hops: keep-alive to the catalog', function () {
  this.timeout(20_000);

  it('when 60 lookups (found and not found) go one after another through a frontend, then they reuse the first pooled connections to the catalog', async () => {
    const stack = await startStack();
    // The caching frontend's change stream is its own connection; let it settle before counting.
    while (!stack.frontend.reads.live) await new Promise((resolve) => setTimeout(resolve, 10));
    const connections: unknown[] = [];
    let at = -1;
    stack.catalog.server.on("connection", () => connections.push(at));
    const plain = buildFrontendApp({ catalogUrl: stack.urls.catalog, orderUrl: stack.urls.order, token: TEST_TOKEN, logLevel: 'silent', cache: false });
    try {
      for (let i = 0; i < 60; i++) {
        at = i;
        // Error answers too: their bodies must be read to the end, or the connection could not be reused.
        const res = await plain.inject({ method: 'GET', url: i % 3 === 0 ? '/lookup/999' : `/lookup/${(i % 4) + 1}` });
        expect(res.statusCode).to.equal(i % 3 === 0 ? 404 : 200);
      }
      // undici may open a second connection while the first is still being released; after that, none.
      expect(connections.length).to.be.within(1, 2);
      expect(Math.max(...(connections as number[]))).to.be.below(3);
    } finally {
      await plain.close();
      await stack.close();
    }
  });
});
