import { expect } from 'chai';
import { newCatalogStore, tempDir } from '../helpers/stack';

describe('catalog purchases under group commit', () => {
  it('when 20 purchases of a book with stock 5 arrive at once, then exactly 5 succeed, stock ends at 0, and a replay is not applied twice', async () => {
    const tmp = tempDir();
    const store = newCatalogStore(tmp.dir);
    try {
      await store.updateBook(1, { stock: 5 });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.purchase(1, `grp-${i}`)));
      const outcomes = results.map((r) => (r.kind === 'applied' ? r.purchase.outcome : r.kind));
      expect(outcomes.filter((o) => o === 'purchased')).to.have.length(5);
      expect(outcomes.filter((o) => o === 'out_of_stock')).to.have.length(15);
      expect((await store.getBook(1))!.stock).to.equal(0);
      const replays = await Promise.all([store.purchase(1, 'grp-0'), store.purchase(2, 'grp-1'), store.purchase(999, 'grp-new')]);
      expect(replays.map((r) => r.kind)).to.deep.equal(['replayed', 'order_id_reused', 'book_not_found']);
    } finally {
      await store.close();
      tmp.remove();
    }
  });
});
