/**
 * What every CatalogStore must do, whatever keeps the data: one suite, run against SQLite and PostgreSQL.
 * Behaviour only (through the interface), so a third backend would run it unchanged.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import type { Book } from '../../common/schemas';
import type { CatalogStore } from '../../catalog-server/store/types';
import { usePostgres } from '../helpers/postgres';
import { pgCatalog, sqliteCatalog, type Backend } from './backends';

const seed = JSON.parse(readFileSync(DEFAULT_SEED_PATH, 'utf8')) as Book[];
const seedStock = new Map(seed.map((b) => [b.id, b.stock]));

/** For every book: seed stock + other changes - copies sold = stock now. */
async function expectAudited(store: CatalogStore): Promise<void> {
  for (const book of await store.audit()) {
    expect(seedStock.get(book.id)! + book.delta - book.purchased, `book ${book.id}`).to.equal(book.stock);
  }
}

function catalogStoreContract(backend: Backend<CatalogStore>): void {
  let store: CatalogStore;
  beforeEach(async () => {
    store = await (await backend.fresh()).open();
  });
  afterEach(() => backend.cleanup());

  describe('seeding and start-up', () => {
    it('when the database is new, then it holds exactly the books of the seed file', async () => {
      expect(await store.listBooks()).to.deep.equal(seed);
      expect(store.backend).to.be.oneOf(['sqlite', 'postgres']);
      await store.ping();
    });

    it('when the database is opened again, then it is not seeded again and keeps its changes', async () => {
      const db = await backend.fresh();
      const first = await db.open();
      await first.updateBook(1, { stock: 2 });
      await first.close();
      const second = await db.open();
      expect((await second.getBook(1))?.stock).to.equal(2);
      expect(await second.listBooks()).to.have.length(seed.length);
    });

    it('when two stores open one new database at the same moment, then it is made and seeded once', async () => {
      const db = await backend.fresh();
      const [a, b] = await Promise.all([db.open(), db.open()]);
      expect(await a.listBooks()).to.deep.equal(seed);
      expect(await b.listBooks()).to.deep.equal(seed);
      expect(await b.listTopics()).to.deep.equal(['distributed systems', 'graduate school']);
    });
  });

  describe('reads', () => {
    for (const spelling of ['distributed systems', 'Distributed-Systems', 'DISTRIBUTED_SYSTEMS', '  distributed   systems ']) {
      it(`when searching the topic as '${spelling}', then both distributed-systems books are found, in one page`, async () => {
        const expected = seed.filter((b) => b.topic === 'distributed systems').map(({ id, title }) => ({ id, title }));
        expect(await store.findByTopic(spelling, { limit: 100 })).to.deep.equal({
          topic: 'distributed systems',
          items: expected,
          next: null,
          prev: null,
        });
      });
    }

    it('when the topic is unknown, then null', async () => {
      expect(await store.findByTopic('cooking', { limit: 100 })).to.equal(null);
    });

    it('when listing topics, then each appears once, in order', async () => {
      expect(await store.listTopics()).to.deep.equal([...new Set(seed.map((b) => b.topic))].sort());
    });

    it('when a book does not exist, then getBook gives null', async () => {
      expect(await store.getBook(99)).to.equal(null);
      expect(await store.getBook(2)).to.deep.equal(seed[1]);
    });
  });

  describe('updates and restocks', () => {
    it('when a patch names only some fields, then only those change, and a stock change is accounted for', async () => {
      expect(await store.updateBook(3, { price_cents: 999 })).to.deep.equal({ ...seed[2], price_cents: 999 });
      expect(await store.updateBook(3, { stock: 9 })).to.deep.equal({ ...seed[2], price_cents: 999, stock: 9 });
      expect(await store.getBook(3)).to.include({ stock: 9, price_cents: 999 });
      expect((await store.audit()).find((b) => b.id === 3)).to.deep.equal({ id: 3, stock: 9, delta: 4, purchased: 0 });
    });

    it('when the book does not exist, then updateBook gives null and changes nothing', async () => {
      expect(await store.updateBook(77, { stock: 1 })).to.equal(null);
      expect(await store.listBooks()).to.deep.equal(seed);
    });

    it('when anything tries to store a negative stock, then the schema refuses it and nothing changes', async () => {
      let error: unknown;
      await store.updateBook(1, { stock: -1 }).catch((err: unknown) => (error = err));
      expect(String(error)).to.match(/check constraint/i);
      expect((await store.getBook(1))?.stock).to.equal(5);
      await expectAudited(store);
    });

    it('when everything is restocked, then every book has that stock, and the books come back in id order', async () => {
      await store.updateBook(4, { stock: 2 });
      const books = await store.restockAll(12);
      expect(books.map((b) => [b.id, b.stock])).to.deep.equal(seed.map((b) => [b.id, 12]));
      expect((await store.listBooks()).map((b) => b.stock)).to.deep.equal([12, 12, 12, 12]);
      await expectAudited(store);
    });
  });

  describe('purchases', () => {
    it('when stock is left, then one copy is taken and the purchase recorded at the catalog price', async () => {
      const result = await store.purchase(2, 'order-a');
      expect(result.kind).to.equal('applied');
      const { purchase } = result as { purchase: { created_at: string } };
      expect(purchase).to.include({ order_id: 'order-a', item_number: 2, title: 'RPCs for Dummies', price_cents: 5000, outcome: 'purchased', stock_after: 4 });
      expect(Date.parse(purchase.created_at)).to.be.closeTo(Date.now(), 60_000);
      expect(await store.getPurchase('order-a')).to.deep.equal(purchase);
      expect((await store.getBook(2))?.stock).to.equal(4);
      await expectAudited(store);
    });

    it('when the same order id comes again, then the first result is replayed and nothing more is taken', async () => {
      const first = await store.purchase(2, 'order-b');
      const again = await store.purchase(2, 'order-b');
      expect(again).to.deep.equal({ kind: 'replayed', purchase: (first as { purchase: unknown }).purchase });
      expect((await store.getBook(2))?.stock).to.equal(4);
    });

    it('when the order id was used for another book, or the book does not exist, then nothing is taken or recorded', async () => {
      await store.purchase(2, 'order-c');
      expect(await store.purchase(3, 'order-c')).to.deep.equal({ kind: 'order_id_reused' });
      expect(await store.purchase(40, 'order-e')).to.deep.equal({ kind: 'book_not_found' });
      expect(await store.getPurchase('order-e')).to.equal(null);
      expect((await store.getBook(3))?.stock).to.equal(5);
      await expectAudited(store);
    });

    it('when the book is sold out, then out_of_stock is recorded, and a retry after a restock gives the same answer', async () => {
      await store.updateBook(1, { stock: 0 });
      const first = await store.purchase(1, 'order-d');
      expect(first.kind).to.equal('applied');
      expect((first as { purchase: object }).purchase).to.include({ outcome: 'out_of_stock', stock_after: 0 });
      await store.updateBook(1, { stock: 3 });
      const retry = await store.purchase(1, 'order-d');
      expect(retry.kind).to.equal('replayed');
      expect((retry as { purchase: object }).purchase).to.include({ outcome: 'out_of_stock' });
      expect((await store.getBook(1))?.stock).to.equal(3);
      await expectAudited(store);
    });

    it('when 20 purchases of a book with stock 5 arrive at once, then exactly 5 succeed and stock ends at 0', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.purchase(1, `race-${i}`)));
      const outcomes = results.map((r) => (r.kind === 'applied' ? r.purchase.outcome : r.kind));
      expect(outcomes.filter((o) => o === 'purchased')).to.have.length(5);
      expect(outcomes.filter((o) => o === 'out_of_stock')).to.have.length(15);
      expect((await store.getBook(1))!.stock).to.equal(0);
      // Sent together, so with SQLite's group commit they share one batch: each still gets its own answer.
      const replays = await Promise.all([store.purchase(1, 'race-0'), store.purchase(2, 'race-1'), store.purchase(999, 'race-new')]);
      expect(replays.map((r) => r.kind)).to.deep.equal(['replayed', 'order_id_reused', 'book_not_found']);
      await expectAudited(store);
    });

    it('when one order id arrives ten times at once, then it is applied once and replayed nine times', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => store.purchase(4, 'twin')));
      expect(results.filter((r) => r.kind === 'applied')).to.have.length(1);
      expect(results.filter((r) => r.kind === 'replayed')).to.have.length(9);
      expect((await store.getBook(4))!.stock).to.equal(4);
    });

    it('when two stores (two replicas) sell the last copies of one book at once, then exactly the stock is sold', async () => {
      const db = await backend.fresh();
      const [a, b] = await Promise.all([db.open(), db.open()]);
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).purchase(2, `replica-race-${i}`)),
      );
      const sold = results.filter((r) => r.kind === 'applied' && r.purchase.outcome === 'purchased');
      expect(sold).to.have.length(5);
      expect(sold.map((r) => (r as { purchase: { stock_after: number } }).purchase.stock_after).sort()).to.deep.equal([0, 1, 2, 3, 4]);
      expect((await a.getBook(2))!.stock).to.equal(0);
      await expectAudited(b);
    });
  });
}

describe('CatalogStore contract', function () {
  this.timeout(30_000);

  describe('on SQLite', () => catalogStoreContract(sqliteCatalog()));

  describe('on PostgreSQL', () => {
    const cluster = usePostgres();
    catalogStoreContract(pgCatalog(cluster));
  });
});
