import { expect } from 'chai';
import { Pool } from 'undici';
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
      const client = new Pool(stack.urls.frontend, { connections: BUYERS });
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
        const confirmed = (await stack.ledger.list({ limit: 1000, status: 'confirmed' })).orders;
        expect(confirmed).to.have.length(STOCK);
        expect((await stack.ledger.list({ limit: 1000, status: 'pending' })).orders).to.have.length(0);
        for (const order of confirmed) {
          expect(await stack.store.getPurchase(order.order_id)).to.include({ outcome: 'purchased', item_number: 2 });
        }
      } finally {
        await client.close();
        await stack.close();
      }
    });
  }
});
