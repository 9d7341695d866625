import { expect } from 'chai';
import { join } from 'node:path';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { buildOrderApp } from '../../order-server/app';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import type { OrderLedger } from '../../order-server/ledger/types';
import { FaultProxy } from '../helpers/fault-proxy';
import { TEST_TOKEN, newCatalogStore, tempDir } from '../helpers/stack';

/** A ledger that writes down, in order, which of its methods ran and when it was closed. */
function recording(ledger: OrderLedger, calls: string[]): OrderLedger {
  return new Proxy(ledger, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        calls.push(`${String(prop)} start`);
        try {
          return await value.apply(target, args);
        } finally {
          calls.push(`${String(prop)} end`);
        }
      };
    },
  });
}

describe('order: closing while a reconcile round runs', function () {
  this.timeout(20_000);

  it('when the app closes during a reconcile round blocked on a slow catalog, then the round ends before the ledger closes', async () => {
    const tmp = tempDir();
    const catalog = buildCatalogApp({ store: newCatalogStore(tmp.dir), token: TEST_TOKEN, logLevel: 'silent' });
    const proxy = new FaultProxy(Number(new URL(await catalog.listen({ host: '127.0.0.1', port: 0 })).port));
    const proxyPort = await proxy.listen();
    const path = join(tmp.dir, 'orders.db');
    try {
      const calls: string[] = [];
      const ledger = new SqliteOrderLedger(path);
      // Two orders: the round is still on the first when the app closes, and has the second still to do.
      const orders = [(await ledger.createPending(2)).order, (await ledger.createPending(3)).order];
      // Reconcile leaves orders younger than two catalog deadlines (2 x 1000 ms) to their own request.
      await new Promise((resolve) => setTimeout(resolve, 2100));
      proxy.delayMs = 300; // the round waits ~600 ms on the catalog
      const app: App = buildOrderApp({
        ledger: recording(ledger, calls),
        catalogUrl: `http://127.0.0.1:${proxyPort}`,
        token: TEST_TOKEN,
        logLevel: 'silent',
        reconcileIntervalMs: 60_000, // only the round started when ready
        upstreamTimeoutMs: 1000,
      });
      await app.ready(); // starts the first reconcile round
      while (!calls.includes('claim end')) await new Promise((resolve) => setTimeout(resolve, 5));
      await app.close();

      expect(calls.filter((call) => call === 'confirm end'), 'the round confirmed both orders').to.have.length(2);
      expect(calls.slice(-2), 'the ledger closed last, after the round').to.deep.equal(['close start', 'close end']);
      const reopened = new SqliteOrderLedger(path);
      for (const order of orders) expect((await reopened.get(order.order_id))?.status).to.equal('confirmed');
      await reopened.close();
    } finally {
      await proxy.close();
      await catalog.close();
      tmp.remove();
    }
  });
});
