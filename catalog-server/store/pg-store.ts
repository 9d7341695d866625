import { readFileSync } from 'node:fs';
import { Batcher } from '../../common/batcher';
import { isConnectionLost } from '../../common/connection-lost';
import { PgDatabase, migrate, type Queryable } from '../../common/postgres';
import { keysetRead, toPage, type Page, type PageRequest } from '../../common/paging';
import { normalizeTopic } from '../../common/topic';
import type { Book } from '../../common/schemas';
import { SCHEMA } from './pg-schema';
import { FILL_TOPICS_SQL, TOPICS_SQL, readTopicPage } from './topics';
import type { BookAudit, BookPatch, CatalogStore, PurchaseRecord, PurchaseResult, TopicPage } from './types';

const BOOK = 'id, title, topic, stock, price_cents';
const PURCHASE = 'order_id, book_id, outcome, title, price_cents, stock_after, created_at';

/** Every statement, named: PostgreSQL plans each once per connection. */
export const SQL = {
  books: { name: 'catalog_books', text: `SELECT ${BOOK} FROM books ORDER BY id` },
  // The listings below are each answered from an index whatever the catalog's size (test/plans/postgres-plans.test.ts).
  booksAfter: { name: 'catalog_books_after', text: `SELECT ${BOOK} FROM books WHERE id > $1 ORDER BY id LIMIT $2` },
  booksBefore: { name: 'catalog_books_before', text: `SELECT ${BOOK} FROM books WHERE id < $1 ORDER BY id DESC LIMIT $2` },
  topics: { name: 'catalog_topics', text: TOPICS_SQL },
  topicAfter: {
    name: 'catalog_topic_after',
    text: 'SELECT id, title, topic FROM books WHERE topic_key = $1 AND id > $2 ORDER BY id LIMIT $3',
  },
  topicBefore: {
    name: 'catalog_topic_before',
    text: 'SELECT id, title, topic FROM books WHERE topic_key = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
  },
  topicName: { name: 'catalog_topic_name', text: 'SELECT topic FROM books WHERE topic_key = $1 ORDER BY id LIMIT 1' },
  book: { name: 'catalog_book', text: `SELECT ${BOOK} FROM books WHERE id = $1` },
  // FOR NO KEY UPDATE: the row is ours until commit, yet purchases (whose foreign key takes KEY SHARE on the book)
  // are not blocked from starting.
  lockBook: { name: 'catalog_lock_book', text: 'SELECT stock FROM books WHERE id = $1 FOR NO KEY UPDATE' },
  lockAll: { name: 'catalog_lock_all', text: 'SELECT id FROM books ORDER BY id FOR NO KEY UPDATE' },
  update: {
    name: 'catalog_update',
    text: `UPDATE books SET stock = coalesce($2::integer, stock), price_cents = coalesce($3::integer, price_cents)
           WHERE id = $1 RETURNING ${BOOK}`,
  },
  updateEvent: {
    name: 'catalog_update_event',
    text: "INSERT INTO stock_events (book_id, delta, reason, created_at) VALUES ($1, $2, 'update', now())",
  },
  restockEvents: {
    name: 'catalog_restock_events',
    text: `INSERT INTO stock_events (book_id, delta, reason, created_at)
           SELECT id, $1 - stock, 'restock', now() FROM books WHERE stock <> $1`,
  },
  restock: { name: 'catalog_restock', text: `UPDATE books SET stock = $1 RETURNING ${BOOK}` },
  purchases: {
    name: 'catalog_purchases',
    text: 'SELECT * FROM catalog_purchases($1::integer[], $2::text[])',
  },
  purchase: { name: 'catalog_purchase', text: `SELECT ${PURCHASE} FROM purchases WHERE order_id = $1` },
  audit: {
    name: 'catalog_audit',
    text: `SELECT b.id, b.stock,
                  coalesce((SELECT sum(delta) FROM stock_events e WHERE e.book_id = b.id), 0)::integer AS delta,
                  (SELECT count(*) FROM purchases p WHERE p.book_id = b.id AND p.outcome = 'purchased')::integer AS purchased
           FROM books b ORDER BY b.id`,
  },
  count: { name: 'catalog_count', text: 'SELECT count(*)::integer AS n FROM books' },
  // A batch of books per statement, as one array per column: a 100,000-book seed is 20 round trips, not 100,000.
  seed: {
    name: 'catalog_seed',
    text: `INSERT INTO books (id, title, topic, topic_key, stock, price_cents)
           SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::integer[])`,
  },
};

interface PurchaseRow {
  order_id: string;
  book_id: number;
  outcome: PurchaseRecord['outcome'];
  title: string;
  price_cents: number;
  stock_after: number;
  created_at: Date;
}

function toRecord({ book_id, created_at, ...row }: PurchaseRow): PurchaseRecord {
  return { ...row, item_number: book_id, created_at: created_at.toISOString() };
}

/** One purchase's answer from catalog_purchases(); r_n is its place in the batch, from 1. */
interface BatchRow {
  r_n: number;
  r_kind: 'applied' | 'prior' | 'book_not_found';
  r_order_id: string;
  r_book_id: number;
  r_outcome: PurchaseRecord['outcome'];
  r_title: string;
  r_price_cents: number;
  r_stock_after: number;
  r_created_at: Date;
}

/** Attempts of one batch of purchases when its connection is lost; see purchase(). */
const PURCHASE_ATTEMPTS = 3;

/**
 * The catalog on PostgreSQL, for catalog replicas that share one database. Same behaviour as SqliteCatalogStore
 * (the contract suite runs both); each write is one transaction under READ COMMITTED.
 */
export class PgCatalogStore implements CatalogStore {
  readonly backend = 'postgres';

  /** Purchases waiting for the batch on its way; see purchase(). */
  private readonly purchases = new Batcher<{ id: number; orderId: string }, PurchaseResult>((items) => this.purchaseBatch(items));

  private constructor(private readonly db: PgDatabase) {}

  /** Connects, migrates and, when the books table is empty, seeds it; safe when replicas start together. */
  static async open(url: string, seedPath?: string, options: { max?: number } = {}): Promise<PgCatalogStore> {
    const db = new PgDatabase(url, options);
    try {
      await migrate(db, 'bazar-catalog-schema', SCHEMA, (tx) => seed(tx, seedPath));
    } catch (err) {
      await db.close();
      throw err;
    }
    return new PgCatalogStore(db);
  }

  listBooks(): Promise<Book[]> {
    return this.db.query<Book>(SQL.books);
  }

  async pageBooks(page: PageRequest): Promise<Page<Book>> {
    const rows = await keysetRead(
      page,
      (key, count) => this.db.query<Book>(SQL.booksAfter, [key, count]),
      (key, count) => this.db.query<Book>(SQL.booksBefore, [key, count]),
    );
    return toPage(rows, page, (book) => book.id);
  }

  async listTopics(): Promise<string[]> {
    return (await this.db.query<{ topic: string }>(SQL.topics)).map((row) => row.topic);
  }

  findByTopic(topic: string, page: PageRequest): Promise<TopicPage | null> {
    return readTopicPage(topic, page, {
      rows: (topicKey, request) =>
        keysetRead(
          request,
          (key, count) => this.db.query(SQL.topicAfter, [topicKey, key, count]),
          (key, count) => this.db.query(SQL.topicBefore, [topicKey, key, count]),
        ),
      name: async (key) => (await this.db.query<{ topic: string }>(SQL.topicName, [key]))[0]?.topic,
    });
  }

  async getBook(id: number): Promise<Book | null> {
    const [book] = await this.db.query<Book>(SQL.book, [id]);
    return book ?? null;
  }

  updateBook(id: number, patch: BookPatch): Promise<Book | null> {
    return this.db.transaction(async (tx) => {
      const [before] = await tx.query<{ stock: number }>(SQL.lockBook, [id]);
      if (!before) return null;
      const [after] = await tx.query<Book>(SQL.update, [id, patch.stock ?? null, patch.price_cents ?? null]);
      if (after.stock !== before.stock) await tx.query(SQL.updateEvent, [id, after.stock - before.stock]);
      return after;
    });
  }

  restockAll(stock: number): Promise<Book[]> {
    return this.db.transaction(async (tx) => {
      // Every book locked first (in id order), then each change recorded against the stock it replaces.
      await tx.query(SQL.lockAll);
      await tx.query(SQL.restockEvents, [stock]);
      return (await tx.query<Book>(SQL.restock, [stock])).sort((a, b) => a.id - b.id);
    });
  }

  /**
   * Under READ COMMITTED with no serialization retries: claim the order id (INSERT … ON CONFLICT DO NOTHING), then
   * take a copy (UPDATE … WHERE stock > 0). So one order id never takes two copies, and two buyers never take one.
   * Purchases arriving while a batch is on its way go together as the next one: one statement (catalog_purchases,
   * schema step 3), one round trip, one commit and one WAL flush for all of them, synchronous_commit on.
   */
  purchase(id: number, orderId: string): Promise<PurchaseResult> {
    return this.purchases.submit({ id, orderId });
  }

  async getPurchase(orderId: string): Promise<PurchaseRecord | null> {
    const [row] = await this.db.query<PurchaseRow>(SQL.purchase, [orderId]);
    return row ? toRecord(row) : null;
  }

  audit(): Promise<BookAudit[]> {
    return this.db.query<BookAudit>(SQL.audit);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /**
   * A connection lost mid-way (a restart, a failover) leaves it unknown whether the COMMIT happened. The batch is
   * then sent again, here, and only because each purchase is idempotent per order id: if the first attempt
   * committed, the retry finds its rows; if not, they apply now. No other write is retried here.
   */
  private async purchaseBatch(items: { id: number; orderId: string }[]): Promise<PurchaseResult[]> {
    const books = items.map((item) => item.id);
    const orders = items.map((item) => item.orderId);
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.db.query<BatchRow>(SQL.purchases, [books, orders]);
        const results: PurchaseResult[] = new Array(items.length);
        for (const row of rows) {
          const { id } = items[row.r_n - 1];
          // A replay here may be the lost attempt's own commit; replays are published too (PublishingStore).
          results[row.r_n - 1] = toResult(row, id);
        }
        return results;
      } catch (err) {
        if (attempt >= PURCHASE_ATTEMPTS || !isConnectionLost(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }
}

function toResult(row: BatchRow, id: number): PurchaseResult {
  if (row.r_kind === 'book_not_found') return { kind: 'book_not_found' };
  const purchase = toRecord({
    order_id: row.r_order_id,
    book_id: row.r_book_id,
    outcome: row.r_outcome,
    title: row.r_title,
    price_cents: row.r_price_cents,
    stock_after: row.r_stock_after,
    created_at: row.r_created_at,
  });
  if (row.r_kind === 'applied') return { kind: 'applied', purchase };
  return purchase.item_number === id ? { kind: 'replayed', purchase } : { kind: 'order_id_reused' };
}

interface SeedBook extends Book {}

/** Books per seeding statement: big enough that round trips do not matter, small enough to keep one message modest. */
const SEED_BATCH = 5000;

/** Fills an empty books table from the seed file; runs under the migration lock, so two replicas seed once. */
async function seed(tx: Queryable, seedPath: string | undefined): Promise<void> {
  if (!seedPath) return;
  const [{ n }] = await tx.query<{ n: number }>(SQL.count);
  if (n > 0) return;
  const books = JSON.parse(readFileSync(seedPath, 'utf8')) as SeedBook[];
  if (!Array.isArray(books)) throw new Error(`seed file ${seedPath} must hold a JSON array of books`);
  for (let start = 0; start < books.length; start += SEED_BATCH) {
    const batch = books.slice(start, start + SEED_BATCH);
    await tx.query(SQL.seed, [
      batch.map((b) => b.id),
      batch.map((b) => b.title),
      batch.map((b) => b.topic),
      batch.map((b) => normalizeTopic(b.topic)),
      batch.map((b) => b.stock),
      batch.map((b) => b.price_cents),
    ]);
  }
  await tx.query(FILL_TOPICS_SQL);
}
