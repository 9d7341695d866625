import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { GroupCommit } from '../../common/group-commit';
import { migrate, openDatabase, type MigrationStep } from '../../common/sqlite';
import { keysetRead, toPage, type Page, type PageRequest } from '../../common/paging';
import { normalizeTopic } from '../../common/topic';
import type { Book } from '../../common/schemas';
import { FILL_TOPICS_SQL, TOPICS_SQL, readTopicPage } from './topics';
import type { BookAudit, BookPatch, CatalogStore, PurchaseRecord, PurchaseResult, TopicPage } from './types';

const SCHEMA: MigrationStep[] = [
  `CREATE TABLE books (
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
   ) STRICT;`,
  // Step 2: every stock change that is not a purchase (restock, update), with its delta, so the books can be
  // audited: for each book, seed stock + sum(delta) - purchases == stock, whatever crashed when.
  `CREATE TABLE stock_events (
     id         INTEGER PRIMARY KEY,
     book_id    INTEGER NOT NULL REFERENCES books (id),
     delta      INTEGER NOT NULL,
     reason     TEXT    NOT NULL CHECK (reason IN ('restock', 'update')),
     created_at TEXT    NOT NULL
   ) STRICT;`,
  // Step 3: topic_key becomes an ordinary column filled with normalizeTopic(), the one definition every backend
  // uses; step 1's SQL expression did not collapse repeated spaces, so a topic stored as "distributed  systems"
  // was found by no search. SQLite can drop the generated column but cannot add back a NOT NULL column without a
  // default, so the table is rebuilt with its rows (migrate() runs this with foreign keys off, checked after).
  (db) => {
    db.exec(`CREATE TABLE books_new (
       id          INTEGER PRIMARY KEY,
       title       TEXT    NOT NULL,
       topic       TEXT    NOT NULL,
       topic_key   TEXT    NOT NULL,
       stock       INTEGER NOT NULL CHECK (stock >= 0),
       price_cents INTEGER NOT NULL CHECK (price_cents >= 0)
     ) STRICT`);
    // Column lists spelled out: a step must keep meaning what it meant when it was written.
    const copy = db.prepare<[Book & { topic_key: string }]>(
      `INSERT INTO books_new (id, title, topic, topic_key, stock, price_cents)
       VALUES (@id, @title, @topic, @topic_key, @stock, @price_cents)`,
    );
    for (const book of db.prepare<[], Book>('SELECT id, title, topic, stock, price_cents FROM books').all()) {
      copy.run({ ...book, topic_key: normalizeTopic(book.topic) });
    }
    db.exec(`DROP TABLE books;
      ALTER TABLE books_new RENAME TO books;
      CREATE INDEX books_topic_key ON books (topic_key);`);
  },
  // Step 4: the topics, one row each (see topics.ts), so listing them reads one row per topic, not every book.
  `CREATE TABLE topics (
     topic_key TEXT PRIMARY KEY,
     topic     TEXT NOT NULL
   ) STRICT, WITHOUT ROWID;
   ${FILL_TOPICS_SQL};`,
];

const BOOK_COLUMNS = 'id, title, topic, stock, price_cents';

/**
 * The listings' reads, each answered from an index whatever the catalog's size (test/plans/sqlite-plans.test.ts
 * shows the plans). books_topic_key is on (topic_key) and, like every SQLite index, ends with the rowid, which
 * `id` is: so it is an index on (topic_key, id), and a topic's page is one range of it.
 */
export const LISTING_SQL = {
  topics: TOPICS_SQL,
  topicAfter: 'SELECT id, title, topic FROM books WHERE topic_key = ? AND id > ? ORDER BY id LIMIT ?',
  topicBefore: 'SELECT id, title, topic FROM books WHERE topic_key = ? AND id < ? ORDER BY id DESC LIMIT ?',
  topicName: 'SELECT topic FROM books WHERE topic_key = ? ORDER BY id LIMIT 1',
  booksAfter: `SELECT ${BOOK_COLUMNS} FROM books WHERE id > ? ORDER BY id LIMIT ?`,
  booksBefore: `SELECT ${BOOK_COLUMNS} FROM books WHERE id < ? ORDER BY id DESC LIMIT ?`,
};

function readSeed(path: string): Book[] {
  const books = JSON.parse(readFileSync(path, 'utf8')) as Book[];
  if (!Array.isArray(books)) throw new Error(`seed file ${path} must hold a JSON array of books`);
  return books;
}

interface PurchaseRow extends Omit<PurchaseRecord, 'item_number'> {
  book_id: number;
}

function toRecord({ book_id, ...row }: PurchaseRow): PurchaseRecord {
  return { ...row, item_number: book_id };
}

export class SqliteCatalogStore implements CatalogStore {
  readonly backend = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly purchaseTx;
  private readonly restockTx;
  private readonly updateTx;
  private readonly commits: GroupCommit;

  constructor(path: string, seedPath?: string) {
    this.db = openDatabase(path);
    migrate(this.db, SCHEMA);
    const db = this.db;
    this.stmt = {
      all: db.prepare<[], Book>(`SELECT ${BOOK_COLUMNS} FROM books ORDER BY id`),
      topics: db.prepare<[], { topic: string }>(LISTING_SQL.topics),
      topicAfter: db.prepare<[string, number, number], Book>(LISTING_SQL.topicAfter),
      topicBefore: db.prepare<[string, number, number], Book>(LISTING_SQL.topicBefore),
      topicName: db.prepare<[string], { topic: string }>(LISTING_SQL.topicName),
      booksAfter: db.prepare<[number, number], Book>(LISTING_SQL.booksAfter),
      booksBefore: db.prepare<[number, number], Book>(LISTING_SQL.booksBefore),
      byId: db.prepare<[number], Book>(`SELECT ${BOOK_COLUMNS} FROM books WHERE id = ?`),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM books'),
      insert: db.prepare<[Book & { topic_key: string }]>(
        `INSERT INTO books (${BOOK_COLUMNS}, topic_key) VALUES (@id, @title, @topic, @stock, @price_cents, @topic_key)`,
      ),
      update: db.prepare<{ id: number; stock: number | null; price_cents: number | null }, Book>(
        `UPDATE books SET stock = coalesce(@stock, stock), price_cents = coalesce(@price_cents, price_cents)
         WHERE id = @id RETURNING ${BOOK_COLUMNS}`,
      ),
      restock: db.prepare<[number]>('UPDATE books SET stock = ?'),
      decrement: db.prepare<[number], { stock: number }>(
        'UPDATE books SET stock = stock - 1 WHERE id = ? AND stock > 0 RETURNING stock',
      ),
      purchaseById: db.prepare<[string], PurchaseRow>('SELECT * FROM purchases WHERE order_id = ?'),
      recordPurchase: db.prepare<[PurchaseRow]>(
        `INSERT INTO purchases (order_id, book_id, outcome, title, price_cents, stock_after, created_at)
         VALUES (@order_id, @book_id, @outcome, @title, @price_cents, @stock_after, @created_at)`,
      ),
      stockEvent: db.prepare<[number, number, string, string]>(
        'INSERT INTO stock_events (book_id, delta, reason, created_at) VALUES (?, ?, ?, ?)',
      ),
      audit: db.prepare<[], BookAudit>(
        `SELECT b.id, b.stock,
                coalesce((SELECT sum(delta) FROM stock_events e WHERE e.book_id = b.id), 0) AS delta,
                (SELECT count(*) FROM purchases p WHERE p.book_id = b.id AND p.outcome = 'purchased') AS purchased
         FROM books b ORDER BY b.id`,
      ),
      ping: db.prepare('SELECT 1'),
    };
    const recordChanges = (before: Book[], after: Book[], reason: 'restock' | 'update') => {
      const now = new Date().toISOString();
      const old = new Map(before.map((b) => [b.id, b.stock]));
      for (const book of after) {
        const delta = book.stock - (old.get(book.id) ?? book.stock);
        if (delta !== 0) this.stmt.stockEvent.run(book.id, delta, reason, now);
      }
    };

    // The report read the stock and then wrote a new value in a second request; two buyers could both see 1.
    // Here the check and the decrement are one statement, and the order id is recorded in the same transaction,
    // so a retried purchase can never decrement twice.
    this.purchaseTx = db.transaction((id: number, orderId: string): PurchaseResult => {
      const prior = this.stmt.purchaseById.get(orderId);
      if (prior) {
        return prior.book_id === id ? { kind: 'replayed', purchase: toRecord(prior) } : { kind: 'order_id_reused' };
      }
      const book = this.stmt.byId.get(id);
      if (!book) return { kind: 'book_not_found' };
      const left = this.stmt.decrement.get(id);
      const row: PurchaseRow = {
        order_id: orderId,
        book_id: id,
        outcome: left ? 'purchased' : 'out_of_stock',
        title: book.title,
        price_cents: book.price_cents,
        stock_after: left ? left.stock : 0,
        created_at: new Date().toISOString(),
      };
      this.stmt.recordPurchase.run(row);
      return { kind: 'applied', purchase: toRecord(row) };
    });
    this.restockTx = db.transaction((stock: number) => {
      const before = this.stmt.all.all();
      this.stmt.restock.run(stock);
      const after = this.stmt.all.all();
      recordChanges(before, after, 'restock');
      return after;
    });
    this.updateTx = db.transaction((id: number, patch: BookPatch): Book | null => {
      const before = this.stmt.byId.get(id);
      if (!before) return null;
      const after = this.stmt.update.get({ id, stock: patch.stock ?? null, price_cents: patch.price_cents ?? null })!;
      recordChanges([before], [after], 'update');
      return after;
    });

    if (seedPath && this.stmt.count.get()!.n === 0) {
      const books = readSeed(seedPath);
      db.transaction(() => {
        books.forEach((book) => this.stmt.insert.run({ ...book, topic_key: normalizeTopic(book.topic) }));
        db.exec(FILL_TOPICS_SQL);
      })();
    }
    // Last: the schema and the seed above were committed with synchronous=FULL; every write from here on goes
    // through the group commit, which syncs off the event loop.
    this.commits = new GroupCommit(db);
  }

  async listBooks(): Promise<Book[]> {
    return this.stmt.all.all();
  }

  async pageBooks(page: PageRequest): Promise<Page<Book>> {
    const rows = keysetRead(
      page,
      (key, count) => this.stmt.booksAfter.all(key, count),
      (key, count) => this.stmt.booksBefore.all(key, count),
    );
    return toPage(rows, page, (book) => book.id);
  }

  async listTopics(): Promise<string[]> {
    return this.stmt.topics.all().map((row) => row.topic);
  }

  findByTopic(topic: string, page: PageRequest): Promise<TopicPage | null> {
    return readTopicPage(topic, page, {
      rows: async (topicKey, request) =>
        keysetRead(
          request,
          (key, count) => this.stmt.topicAfter.all(topicKey, key, count),
          (key, count) => this.stmt.topicBefore.all(topicKey, key, count),
        ),
      name: async (key) => this.stmt.topicName.get(key)?.topic,
    });
  }

  async getBook(id: number): Promise<Book | null> {
    return this.stmt.byId.get(id) ?? null;
  }

  async updateBook(id: number, patch: BookPatch): Promise<Book | null> {
    return this.commits.run(() => this.updateTx(id, patch));
  }

  async restockAll(stock: number): Promise<Book[]> {
    return this.commits.run(() => this.restockTx(stock));
  }

  async purchase(id: number, orderId: string): Promise<PurchaseResult> {
    // Concurrent purchases share one durable commit (one fsync); each still runs in its own savepoint.
    return this.commits.run(() => this.purchaseTx(id, orderId));
  }

  async getPurchase(orderId: string): Promise<PurchaseRecord | null> {
    const row = this.stmt.purchaseById.get(orderId);
    return row ? toRecord(row) : null;
  }

  async audit(): Promise<BookAudit[]> {
    return this.stmt.audit.all();
  }

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
