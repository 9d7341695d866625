import { expect } from 'chai';
import { Pool } from 'undici';
import { sample } from '../helpers/metrics';
import { usePostgres } from '../helpers/postgres';
import { startReplicatedStack } from '../helpers/replicas';

const BUYERS = 64;
const STOCK = 5;
const ROUNDS = 20;

/** Attempts `service`'s clients sent to each replica of `target`, from its /metrics. */
async function attemptsPerReplica(url: string, service: string, target: string, replicas: string[]): Promise<number[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return replicas.map((replica) =>
    ['answered', 'failed']
      .map((outcome) => sample(text, `upstream_replica_attempts_total{service="${service}",target="${target}",replica="${replica}",outcome="${outcome}"}`) ?? 0)
      .reduce((a, b) => a + b, 0),
  );
}

/**
 * The race of test/concurrency/no-oversell.test.ts across replicas: 64 buyers through a frontend that balances over
 * two order replicas, each balancing its purchases over two catalog replicas, all over one PostgreSQL database per
 * service, over real HTTP between the tiers. Two catalog processes now decide on the same rows at once, so only the
 * database's `UPDATE … WHERE stock > 0` stands between them and an oversell. 20 rounds, fresh databases each.
 */
describe('concurrency: no overselling across replicas on PostgreSQL', function () {
  this.timeout(180_000);
  const cluster = usePostgres();

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: when ${BUYERS} buy a book with stock ${STOCK} at once through 2 order replicas onto 2 catalog replicas, then exactly ${STOCK} get 201, the rest 409, and both ledgers agree`, async () => {
      const stack = await startReplicatedStack({ catalogs: 2, orders: 2, postgres: cluster() });
      const client = new Pool(stack.frontendUrl, { connections: BUYERS });
      try {
        await stack.store.updateBook(2, { stock: STOCK });
        const answers = await Promise.all(
          Array.from({ length: BUYERS }, async () => {
            const res = await client.request({ path: '/buy/2', method: 'POST', headers: { accept: 'application/json' } });
            const body = (await res.body.json()) as { error?: { code: string } };
            return { status: res.statusCode, code: body.error?.code };
          }),
        );
        const created = answers.filter((a) => a.status === 201).length;
        const refused = answers.filter((a) => a.status === 409 && a.code === 'out_of_stock').length;
        expect({ created, refused }).to.deep.equal({ created: STOCK, refused: BUYERS - STOCK });
        expect((await stack.store.getBook(2))?.stock).to.equal(0);
        const confirmed = await stack.ledger.list({ limit: 1000, status: 'confirmed' });
        expect(confirmed).to.have.length(STOCK);
        expect(await stack.ledger.list({ limit: 1000, status: 'pending' })).to.have.length(0);
        for (const order of confirmed) {
          expect(await stack.store.getPurchase(order.order_id)).to.include({ outcome: 'purchased', item_number: 2 });
        }
        expect((await stack.store.audit()).find((b) => b.id === 2)).to.include({ stock: 0, purchased: STOCK });

        // The race ran across every replica: both order replicas took buys, and both catalog replicas purchases.
        const perOrder = await attemptsPerReplica(stack.frontendUrl, 'frontend', 'order', stack.orderUrls);
        expect(perOrder.every((n) => n > 0), `buys per order replica: ${perOrder}`).to.equal(true);
        const perCatalog = (await Promise.all(stack.orderUrls.map((url) => attemptsPerReplica(url, 'order', 'catalog', stack.catalogUrls)))).reduce(
          (sum, counts) => sum.map((n, i) => n + counts[i]),
        );
        expect(perCatalog.every((n) => n > 0), `purchases per catalog replica: ${perCatalog}`).to.equal(true);
        expect(perCatalog.reduce((a, b) => a + b, 0)).to.be.at.least(BUYERS);
      } finally {
        await client.close();
        await stack.close();
      }
    });
  }
});
