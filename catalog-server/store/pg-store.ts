import { readFileSync } from 'node:fs';
import { isConnectionLost, migrate, openPostgres, type Sql, type TransactionSql } from '../../common/postgres';
import { normalizeTopic } from '../../common/topic';
import type { Book, TopicResult } from '../../common/schemas';
import type { BookAudit, BookPatch, CatalogStore, PurchaseRecord, PurchaseResult } from './types';

/**
 * Numbered steps, applied once each at start (see migrate()). topic_key is an ordinary column written from
 * normalizeTopic() in this file, never an SQL expression, so both backends and every search agree on one rule.
 */
const SCHEMA = [
  `CREATE TABLE books (
     id          integer PRIMARY KEY,
     title       text    NOT NULL,
     topic       text    NOT NULL,
     topic_key   text    NOT NULL,
     stock       integer NOT NULL CHECK (stock >= 0),
     price_cents integer NOT NULL CHECK (price_cents >= 0)
   );
   CREATE INDEX books_topic_key ON books (topic_key);
   CREATE TABLE purchases (
     order_id    text        PRIMARY KEY,
     book_id     integer     NOT NULL REFERENCES books (id),
     outcome     text        NOT NULL CHECK (outcome IN ('purchased', 'out_of_stock')),
     title       text        NOT NULL,
     price_cents integer     NOT NULL,
     stock_after integer     NOT NULL,
     created_at  timestamptz NOT NULL
   );
   CREATE INDEX purchases_book ON purchases (book_id) WHERE outcome = 'purchased';
   CREATE TABLE stock_events (
     id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     book_id    integer     NOT NULL REFERENCES books (id),
     delta      integer     NOT NULL,
     reason     text        NOT NULL CHECK (reason IN ('restock', 'update')),
     created_at timestamptz NOT NULL
   );`,
];

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

/** Attempts of one purchase when its connection is lost; see purchase(). */
const PURCHASE_ATTEMPTS = 3;

/**
 * The catalog on PostgreSQL, for catalog replicas that share one database. Same behaviour as SqliteCatalogStore
 * (the contract suite runs both); writes are one transaction each under READ COMMITTED.
 */
export class PgCatalogStore implements CatalogStore {
  readonly backend = 'postgres';

  private constructor(private readonly sql: Sql) {}

  /** Connects, migrates and, when the books table is empty, seeds it; safe when replicas start together. */
  static async open(url: string, seedPath?: string, options: { max?: number } = {}): Promise<PgCatalogStore> {
    const sql = openPostgres(url, options);
    try {
      await migrate(sql, 'bazar-catalog-schema', SCHEMA, (tx) => seed(tx, seedPath));
    } catch (err) {
      await sql.end({ timeout: 1 });
      throw err;
    }
    return new PgCatalogStore(sql);
  }

  async listBooks(): Promise<Book[]> {
    return this.sql<Book[]>`SELECT id, title, topic, stock, price_cents FROM books ORDER BY id`;
  }

  async listTopics(): Promise<string[]> {
    const rows = await this.sql<{ topic: string }[]>`
      SELECT topic FROM books GROUP BY topic, topic_key ORDER BY topic_key, topic`;
    return rows.map((row) => row.topic);
  }

  async findByTopic(topic: string): Promise<TopicResult | null> {
    const books = await this.sql<Book[]>`
      SELECT id, title, topic FROM books WHERE topic_key = ${normalizeTopic(topic)} ORDER BY id`;
    if (books.length === 0) return null;
    return { topic: books[0].topic, items: books.map(({ id, title }) => ({ id, title })) };
  }

  async getBook(id: number): Promise<Book | null> {
    const [book] = await this.sql<Book[]>`SELECT id, title, topic, stock, price_cents FROM books WHERE id = ${id}`;
    return book ?? null;
  }

  async updateBook(id: number, patch: BookPatch): Promise<Book | null> {
    return this.sql.begin(async (tx) => {
      // FOR NO KEY UPDATE: the row is ours until commit, yet purchases (whose foreign key takes KEY SHARE on the
      // book) are not blocked from starting.
      const [before] = await tx<{ stock: number }[]>`SELECT stock FROM books WHERE id = ${id} FOR NO KEY UPDATE`;
      if (!before) return null;
      const [after] = await tx<Book[]>`
        UPDATE books SET stock = coalesce(${patch.stock ?? null}::integer, stock),
                         price_cents = coalesce(${patch.price_cents ?? null}::integer, price_cents)
        WHERE id = ${id} RETURNING id, title, topic, stock, price_cents`;
      if (after.stock !== before.stock) {
        await tx`INSERT INTO stock_events (book_id, delta, reason, created_at)
                 VALUES (${id}, ${after.stock - before.stock}, 'update', now())`;
      }
      return after;
    });
  }

  async restockAll(stock: number): Promise<Book[]> {
    return this.sql.begin(async (tx) => {
      // Lock every book first (in id order, like any other multi-row writer would), then record each change
      // against the stock it replaces.
      await tx`SELECT id FROM books ORDER BY id FOR NO KEY UPDATE`;
      await tx`INSERT INTO stock_events (book_id, delta, reason, created_at)
               SELECT id, ${stock} - stock, 'restock', now() FROM books WHERE stock <> ${stock}`;
      const books = await tx<Book[]>`UPDATE books SET stock = ${stock} RETURNING id, title, topic, stock, price_cents`;
      return books.sort((a, b) => a.id - b.id);
    });
  }

  /**
   * One transaction under READ COMMITTED, with no serialization retries: the order id is claimed first
   * (INSERT … ON CONFLICT DO NOTHING waits for a racing twin with the same id and then finds its row), and the
   * stock check and decrement are one UPDATE … WHERE stock > 0, which waits for the row lock and re-reads the
   * committed stock. So two buyers can never both take the last copy, and one order id never takes two.
   *
   * A connection lost mid-way (a restart, a failover) leaves it unknown whether the COMMIT happened. The purchase
   * is sent again, and only because it is idempotent per order id: if the first attempt committed, the retry
   * finds its row and answers `replayed`; if not, it applies now. Other writes are not retried here.
   */
  async purchase(id: number, orderId: string): Promise<PurchaseResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.purchaseOnce(id, orderId);
        // The lost attempt may be the one that applied it: say so, so the change is published (an extra cache
        // invalidation costs a miss; a missing one would leave caches stale).
        return attempt > 1 && result.kind === 'replayed' ? { ...result, kind: 'applied' } : result;
      } catch (err) {
        if (attempt >= PURCHASE_ATTEMPTS || !isConnectionLost(err)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  async getPurchase(orderId: string): Promise<PurchaseRecord | null> {
    const [row] = await this.sql<PurchaseRow[]>`
      SELECT order_id, book_id, outcome, title, price_cents, stock_after, created_at FROM purchases WHERE order_id = ${orderId}`;
    return row ? toRecord(row) : null;
  }

  async audit(): Promise<BookAudit[]> {
    return this.sql<BookAudit[]>`
      SELECT b.id, b.stock,
             coalesce((SELECT sum(delta) FROM stock_events e WHERE e.book_id = b.id), 0)::integer AS delta,
             (SELECT count(*) FROM purchases p WHERE p.book_id = b.id AND p.outcome = 'purchased')::integer AS purchased
      FROM books b ORDER BY b.id`;
  }

  async ping(): Promise<void> {
    await this.sql`SELECT 1`;
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  private async purchaseOnce(id: number, orderId: string): Promise<PurchaseResult> {
    const applied = await this.sql.begin('isolation level read committed', async (tx) => {
      // Recorded as out_of_stock until the decrement below succeeds; no row at all when the book does not exist
      // or the order id was seen before.
      const [claimed] = await tx<PurchaseRow[]>`
        INSERT INTO purchases (order_id, book_id, outcome, title, price_cents, stock_after, created_at)
        SELECT ${orderId}, id, 'out_of_stock', title, price_cents, 0, now() FROM books WHERE id = ${id}
        ON CONFLICT (order_id) DO NOTHING
        RETURNING order_id, book_id, outcome, title, price_cents, stock_after, created_at`;
      if (!claimed) return null;
      const [taken] = await tx<{ stock_after: number }[]>`
        WITH taken AS (UPDATE books SET stock = stock - 1 WHERE id = ${id} AND stock > 0 RETURNING stock)
        UPDATE purchases SET outcome = 'purchased', stock_after = taken.stock FROM taken
        WHERE order_id = ${orderId} RETURNING purchases.stock_after`;
      return taken ? { ...claimed, outcome: 'purchased' as const, stock_after: taken.stock_after } : claimed;
    });
    if (applied) return { kind: 'applied', purchase: toRecord(applied) };
    const prior = await this.getPurchase(orderId);
    if (!prior) return { kind: 'book_not_found' };
    return prior.item_number === id ? { kind: 'replayed', purchase: prior } : { kind: 'order_id_reused' };
  }
}

interface SeedBook extends Book {}

/** Fills an empty books table from the seed file; runs under the migration lock, so two replicas seed once. */
async function seed(tx: TransactionSql, seedPath: string | undefined): Promise<void> {
  if (!seedPath) return;
  const [{ n }] = await tx<{ n: number }[]>`SELECT count(*)::integer AS n FROM books`;
  if (n > 0) return;
  const books = JSON.parse(readFileSync(seedPath, 'utf8')) as SeedBook[];
  if (!Array.isArray(books)) throw new Error(`seed file ${seedPath} must hold a JSON array of books`);
  for (const book of books) {
    await tx`INSERT INTO books (id, title, topic, topic_key, stock, price_cents)
             VALUES (${book.id}, ${book.title}, ${book.topic}, ${normalizeTopic(book.topic)}, ${book.stock}, ${book.price_cents})`;
  }
}
