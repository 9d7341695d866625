import { raceForLastCopies } from '../helpers/oversell-race';
import { startStack } from '../helpers/stack';

const BUYERS = 64;
const STOCK = 5;
const ROUNDS = 20;

/**
 * The report's buy read the stock, then wrote stock - 1: under concurrency it oversold. Here 64 buyers race for
 * 5 copies through the real HTTP path (frontend → order → catalog), 20 times, each round on fresh databases.
 */
describe('concurrency: no overselling', function () {
  this.timeout(120_000);

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: when ${BUYERS} buy a book with stock ${STOCK} at once, then exactly ${STOCK} get 201, the rest 409, and the ledger agrees`, async () => {
      const stack = await startStack();
      try {
        await raceForLastCopies(stack.urls.frontend, stack.store, stack.ledger, BUYERS, STOCK);
      } finally {
        await stack.close();
      }
    });
  }
});
