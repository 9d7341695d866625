/**
 * A multi-host URL as libpq writes it, standby listed first: the store finds the primary, and when the primary
 * dies and the standby is promoted, the same store (no restart) follows it. Purchases that fail during the switch
 * are sent again with their order id, which is safe only because a purchase is idempotent per order id.
 */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { PgCatalogStore } from '../../catalog-server/store/pg-store';
import { isConnectionLost } from '../../common/connection-lost';
import { usePostgres } from '../helpers/postgres';

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

describe('PostgreSQL: a multi-host URL follows a promoted standby', function () {
  this.timeout(120_000);
  const cluster = usePostgres({ standby: true });

  it('when the primary dies mid-purchases and the standby is promoted, then the same store sells again within seconds, each order once', async () => {
    const pg = cluster();
    const { primary, standby } = pg;
    // Synchronous replication, so a purchase the store was told is committed is on the standby too; with
    // asynchronous replication a failover may lose the last commits (see docs/replication.md).
    pg.psql('postgres', "ALTER SYSTEM SET synchronous_standby_names = '*'");
    pg.psql('postgres', 'SELECT pg_reload_conf()');
    const database = await pg.createDatabase('failover');
    // The standby must have replayed the new database too, or connecting to it (listed first) fails outright.
    const exists = `SELECT count(*) FROM pg_database WHERE datname = '${database}'`;
    await waitFor('the database on the standby', () => pg.psql('postgres', exists, standby) === '1', 10_000);
    const url = `postgres://postgres@127.0.0.1:${standby!.port},127.0.0.1:${primary.port}/${database}?target_session_attrs=read-write`;
    const store = await PgCatalogStore.open(url, DEFAULT_SEED_PATH);
    try {
      await store.restockAll(1000);

      const sold = new Set<string>();
      const failures: unknown[] = [];
      /** When the old primary was gone for sure (pg_ctl returned); no sale can complete between this and the promotion. */
      let stoppedAt = 0;
      let firstSaleAfter = 0;
      let running = true;
      // Four buyers, each re-sending a failed purchase with the same order id until it gets an answer.
      const buyers = [0, 1, 2, 3].map(async (buyer) => {
        for (let n = 0; running; ) {
          const orderId = `buyer-${buyer}-${n}`;
          try {
            const result = await store.purchase(1 + buyer, orderId);
            expect(result.kind).to.be.oneOf(['applied', 'replayed']);
            sold.add(orderId);
            if (stoppedAt && !firstSaleAfter) firstSaleAfter = Date.now();
            n++;
          } catch (err) {
            failures.push(err);
            await sleep(50);
          }
        }
      });

      await waitFor('sales before the failover', () => sold.size >= 40, 20_000);
      const soldBefore = sold.size;
      await primary.stop('immediate');
      stoppedAt = Date.now();
      await standby!.promote();
      await waitFor('sales after the promotion', () => sold.size >= soldBefore + 40, 20_000);
      running = false;
      await Promise.all(buyers);

      // The old primary is gone, so every sale after it went to the promoted standby.
      expect(failures.every(isConnectionLost), String(failures.find((err) => !isConnectionLost(err)))).to.equal(true);
      expect(firstSaleAfter - stoppedAt, 'ms from the primary dying to selling again').to.be.below(10_000);
      expect(pg.psql(database, 'SELECT pg_is_in_recovery()', standby)).to.equal('f');

      // Every order id the buyers were told about is recorded once, and the stock accounts for exactly those.
      const audit = await store.audit();
      expect(audit.reduce((sum, book) => sum + book.purchased, 0)).to.equal(sold.size);
      for (const book of audit) expect(book.stock, `book ${book.id}`).to.equal(1000 - book.purchased);
      for (const orderId of sold) expect((await store.getPurchase(orderId))?.outcome).to.equal('purchased');
    } finally {
      await store.close();
    }
  });
});
