import { expect } from 'chai';
import { sample } from '../helpers/metrics';
import { raceForLastCopies } from '../helpers/oversell-race';
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
      try {
        await raceForLastCopies(stack.frontendUrl, stack.store, stack.ledger, BUYERS, STOCK);
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
        await stack.close();
      }
    });
  }
});
