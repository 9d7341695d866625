/**
 * Every listing's query on SQLite is answered from an index: EXPLAIN QUERY PLAN of the statements the stores
 * prepare (LISTING_SQL) shows an index search for each, and never a scan of a whole table. SQLite plans these
 * from the schema alone (no ANALYZE is run), so the plan is the same with 20,000 books as with 100,000.
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateBooks, booksJson } from '../../catalog-server/seed/generate';
import { LISTING_SQL as CATALOG_SQL, SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import { LISTING_SQL as ORDER_SQL, SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import { tempDir } from '../helpers/stack';

/** The plan's lines for `sql`, with every parameter bound to 1. */
function plan(db: Database.Database, sql: string): string[] {
  const params = Array((sql.match(/\?/g) ?? []).length).fill(1);
  return db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((row) => (row as { detail: string }).detail);
}

describe('SQLite: the listings read indexes, never whole tables', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof tempDir>;
  let catalog: Database.Database;
  let orders: Database.Database;

  before(async () => {
    tmp = tempDir();
    const seedPath = join(tmp.dir, 'books.json');
    writeFileSync(seedPath, booksJson(generateBooks(20_000)));
    await new SqliteCatalogStore(join(tmp.dir, 'catalog.db'), seedPath).close();
    const ledger = new SqliteOrderLedger(join(tmp.dir, 'orders.db'));
    for (let i = 0; i < 50; i++) await ledger.createPending(1 + (i % 4));
    await ledger.close();
    catalog = new Database(join(tmp.dir, 'catalog.db'), { readonly: true });
    orders = new Database(join(tmp.dir, 'orders.db'), { readonly: true });
  });
  after(() => {
    catalog?.close();
    orders?.close();
    tmp?.remove();
  });

  const expected: Record<keyof typeof CATALOG_SQL, RegExp[]> = {
    topicAfter: [/^SEARCH books USING INDEX books_topic_key \(topic_key=\? AND rowid>\?\)$/],
    topicBefore: [/^SEARCH books USING INDEX books_topic_key \(topic_key=\? AND rowid<\?\)$/],
    topicName: [/^SEARCH books USING INDEX books_topic_key \(topic_key=\?\)$/],
    booksAfter: [/^SEARCH books USING INTEGER PRIMARY KEY \(rowid>\?\)$/],
    booksBefore: [/^SEARCH books USING INTEGER PRIMARY KEY \(rowid<\?\)$/],
    // Read from the topics table, one row per topic, in key order: no book at all.
    topics: [],
  };

  for (const [name, lines] of Object.entries(expected) as [keyof typeof CATALOG_SQL, RegExp[]][]) {
    it(`when the catalog reads ${name}, then every access to books is an index search`, () => {
      const steps = plan(catalog, CATALOG_SQL[name]);
      const books = steps.filter((step) => / books\b/.test(step));
      expect(books, steps.join(' | ')).to.have.length(lines.length);
      lines.forEach((line, i) => expect(books[i], steps.join(' | ')).to.match(line));
      expect(steps.filter((step) => /^SCAN books/.test(step))).to.deep.equal([]);
      expect(steps.filter((step) => /TEMP B-TREE/.test(step)), 'no sort').to.deep.equal([]);
      if (name === 'topics') expect(steps).to.deep.equal(['SCAN topics']);
    });
  }

  it('when the order ledger lists orders newest first, with or without a status, then it searches an index backwards from the cursor', () => {
    expect(plan(orders, ORDER_SQL.all)).to.deep.equal(['SEARCH orders USING INTEGER PRIMARY KEY (rowid<?)']);
    expect(plan(orders, ORDER_SQL.byStatus)).to.deep.equal(['SEARCH orders USING INDEX orders_status_seq (status=? AND seq<?)']);
  });
});
