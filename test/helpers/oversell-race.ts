import { expect } from 'chai';
import { Pool } from 'undici';
import type { CatalogStore } from '../../catalog-server/store/types';
import type { OrderLedger } from '../../order-server/ledger/types';

/**
 * `buyers` clients buy book 2, which has `stock` copies, at once through the frontend at `frontendUrl`, each on a
 * connection of its own: exactly `stock` must get 201 and the rest 409 out_of_stock, the book must end at 0, and
 * the ledger must hold `stock` confirmed orders (none pending), each with its purchase in the catalog.
 */
export async function raceForLastCopies(frontendUrl: string, store: CatalogStore, ledger: OrderLedger, buyers: number, stock: number): Promise<void> {
  await store.updateBook(2, { stock });
  const client = new Pool(frontendUrl, { connections: buyers });
  try {
    const answers = await Promise.all(
      Array.from({ length: buyers }, async () => {
        const res = await client.request({ path: '/buy/2', method: 'POST', headers: { accept: 'application/json' } });
        const body = (await res.body.json()) as { error?: { code: string } };
        return { status: res.statusCode, code: body.error?.code };
      }),
    );
    const created = answers.filter((a) => a.status === 201).length;
    const refused = answers.filter((a) => a.status === 409 && a.code === 'out_of_stock').length;
    expect({ created, refused }).to.deep.equal({ created: stock, refused: buyers - stock });
  } finally {
    await client.close();
  }
  expect((await store.getBook(2))?.stock).to.equal(0);
  const confirmed = (await ledger.list({ limit: 1000, status: 'confirmed' })).orders;
  expect(confirmed).to.have.length(stock);
  expect((await ledger.list({ limit: 1000, status: 'pending' })).orders).to.have.length(0);
  for (const order of confirmed) {
    expect(await store.getPurchase(order.order_id)).to.include({ outcome: 'purchased', item_number: 2 });
  }
}
