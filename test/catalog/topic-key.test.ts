/**
 * A topic's key is normalizeTopic(topic), computed by the application and stored in books.topic_key, so a search
 * and a stored topic are normalized by the same code whatever the backend. Databases made before that (schema step
 * 2, whose topic_key was an SQL expression that kept repeated spaces) are rebuilt by step 3 with their rows kept.
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Book } from '../../common/schemas';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import { startStack, tempDir, type Stack } from '../helpers/stack';

const BOOKS: Book[] = [
  { id: 1, title: 'Two Spaces', topic: 'Distributed  Systems', stock: 5, price_cents: 3000 },
  { id: 2, title: 'Mixed Separators', topic: 'distributed -_ systems', stock: 5, price_cents: 5000 },
  { id: 3, title: 'Elsewhere', topic: 'graduate school', stock: 5, price_cents: 2500 },
];
const DISTRIBUTED = [
  { id: 1, title: 'Two Spaces' },
  { id: 2, title: 'Mixed Separators' },
];

describe('catalog: one topic key, computed by normalizeTopic', function () {
  this.timeout(20_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({ books: BOOKS });
  });
  after(async () => {
    await stack.close();
  });

  for (const spelling of ['distributed%20%20systems', 'distributed-systems', 'DISTRIBUTED_SYSTEMS', '%20distributed%09systems%20']) {
    it(`when the catalog is asked for '${spelling}', then the books stored under any spelling of that topic are found`, async () => {
      const res = await stack.catalog.inject(`/query_by_topic/${spelling}`);
      expect(res.statusCode).to.equal(200);
      expect(res.json().items).to.deep.equal(DISTRIBUTED);
    });
  }

  it('when the frontend searches /search/distributed%20%20systems, then it finds the same books as the catalog', async () => {
    const res = await stack.frontend.inject('/search/distributed%20%20systems');
    expect(res.statusCode).to.equal(200);
    expect(res.json()).to.deep.equal({ topic: 'Distributed  Systems', items: DISTRIBUTED, next_cursor: null, prev_cursor: null });
  });

  it('when a book of the topic is bought, then a search through the frontend still finds both books', async () => {
    expect((await stack.frontend.inject({ method: 'POST', url: '/buy/2' })).statusCode).to.equal(201);
    const res = await stack.frontend.inject('/search/distributed%20systems');
    expect(res.json().items).to.deep.equal(DISTRIBUTED);
    expect((await stack.store.getBook(2))!.stock).to.equal(4);
  });
});

describe('catalog: schema step 3 moves a step-2 database to the stored topic key', function () {
  let tmp: ReturnType<typeof tempDir>;
  let path: string;

  /** The database as the previous release left it: steps 1 and 2 as they were written, with a few rows. */
  function stepTwoDatabase(): void {
    const db = new Database(path);
    db.exec(`CREATE TABLE books (
       id          INTEGER PRIMARY KEY,
       title       TEXT    NOT NULL,
       topic       TEXT    NOT NULL,
       topic_key   TEXT    GENERATED ALWAYS AS (lower(trim(replace(replace(topic, '-', ' '), '_', ' ')))) VIRTUAL,
       stock       INTEGER NOT NULL CHECK (stock >= 0),
       price_cents INTEGER NOT NULL CHECK (price_cents >= 0)
     ) STRICT;
     CREATE INDEX books_topic_key ON books (topic_key);
     CREATE TABLE purchases (
       order_id    TEXT    PRIMARY KEY,
       book_id     INTEGER NOT NULL REFERENCES books (id),
       outcome     TEXT    NOT NULL CHECK (outcome IN ('purchased', 'out_of_stock')),
       title       TEXT    NOT NULL,
       price_cents INTEGER NOT NULL,
       stock_after INTEGER NOT NULL,
       created_at  TEXT    NOT NULL
     ) STRICT;
     CREATE TABLE stock_events (
       id         INTEGER PRIMARY KEY,
       book_id    INTEGER NOT NULL REFERENCES books (id),
       delta      INTEGER NOT NULL,
       reason     TEXT    NOT NULL CHECK (reason IN ('restock', 'update')),
       created_at TEXT    NOT NULL
     ) STRICT;
     PRAGMA user_version = 2;`);
    const insert = db.prepare('INSERT INTO books (id, title, topic, stock, price_cents) VALUES (?, ?, ?, ?, ?)');
    for (const b of BOOKS) insert.run(b.id, b.title, b.topic, b.stock - b.id, b.price_cents);
    db.prepare(`INSERT INTO purchases VALUES ('order-1', 1, 'purchased', 'Two Spaces', 3000, 3, '2025-01-01T00:00:00.000Z')`).run();
    db.prepare(`INSERT INTO stock_events (book_id, delta, reason, created_at) VALUES (2, -1, 'update', '2025-01-01T00:00:00.000Z')`).run();
    // The old key kept the double space: this is the disagreement step 3 removes.
    expect(db.prepare('SELECT topic_key FROM books WHERE id = 1').pluck().get()).to.equal('distributed  systems');
    db.close();
  }

  beforeEach(() => {
    tmp = tempDir();
    path = join(tmp.dir, 'catalog.db');
    stepTwoDatabase();
  });
  afterEach(() => tmp.remove());

  it('when a step-2 database is opened, then every row is kept and the stored topic key is normalizeTopic', async () => {
    const store = new SqliteCatalogStore(path);
    expect(await store.listBooks()).to.deep.equal(BOOKS.map((b) => ({ ...b, stock: b.stock - b.id })));
    expect((await store.findByTopic('distributed systems', { limit: 10 }))?.items).to.deep.equal(DISTRIBUTED);
    // Step 4 lists each topic once, spelled as its first book spells it.
    expect(await store.listTopics()).to.deep.equal(['Distributed  Systems', 'graduate school']);
    expect(await store.getPurchase('order-1')).to.include({ item_number: 1, outcome: 'purchased', stock_after: 3 });
    await store.close();

    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).to.equal(4);
      const keys = db.prepare('SELECT id, topic_key FROM books ORDER BY id').all();
      expect(keys).to.deep.equal([
        { id: 1, topic_key: 'distributed systems' },
        { id: 2, topic_key: 'distributed systems' },
        { id: 3, topic_key: 'graduate school' },
      ]);
      // An ordinary column now (hidden = 0; a generated one is 2 or 3), still indexed, and the references hold.
      const column = (db.pragma('table_xinfo(books)') as { name: string; hidden: number }[]).find((c) => c.name === 'topic_key');
      expect(column?.hidden).to.equal(0);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'books'").pluck().all()).to.include('books_topic_key');
      expect(db.pragma('foreign_key_check')).to.deep.equal([]);
      expect(db.prepare('SELECT count(*) FROM stock_events WHERE book_id = 2').pluck().get()).to.equal(1);
    } finally {
      db.close();
    }
  });

  it('when the migrated database is used, then a purchase of a migrated book is applied once', async () => {
    new SqliteCatalogStore(path).close();
    const reopened = new SqliteCatalogStore(path);
    expect(await reopened.purchase(3, 'order-2')).to.include({ kind: 'applied' });
    expect(await reopened.purchase(3, 'order-2')).to.include({ kind: 'replayed' });
    expect((await reopened.getBook(3))!.stock).to.equal(1);
    await reopened.close();
  });
});
