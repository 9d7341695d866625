import { FILL_TOPICS_SQL } from './topics';

/**
 * The catalog's PostgreSQL schema: numbered steps, applied once each at start (see migrate()); a change is a new
 * step at the end, never an edit of an old one. topic_key is an ordinary column written from normalizeTopic() by
 * pg-store.ts, never an SQL expression, so both backends and every search agree on one rule.
 */
export const SCHEMA = [
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
  // Step 2: a topic's books are read a page at a time in id order, so its index names both: one range scan per
  // page, with no sort, however many books the topic has.
  // The topics get a table of their own (see topics.ts), so listing them reads one row per topic, not every book.
  `CREATE INDEX books_topic_key_id ON books (topic_key, id);
   DROP INDEX books_topic_key;
   CREATE TABLE topics (
     topic_key text PRIMARY KEY,
     topic     text NOT NULL
   );
   ${FILL_TOPICS_SQL};`,
  // Step 3: purchases in batches, one statement (one round trip, one commit) for all the purchases a catalog
  // process received meanwhile; see purchase(). Each purchase is what it was as two statements: claim the order id
  // (INSERT … ON CONFLICT DO NOTHING), then take a copy (UPDATE … WHERE stock > 0). In book order, so two batches
  // that both touch books 3 and 4 wait for each other instead of deadlocking.
  `CREATE FUNCTION catalog_purchases(p_books integer[], p_orders text[])
   RETURNS TABLE (r_n integer, r_kind text, r_order_id text, r_book_id integer, r_outcome text, r_title text,
                  r_price_cents integer, r_stock_after integer, r_created_at timestamptz)
   LANGUAGE plpgsql AS $$
   DECLARE
     i integer;
     claimed purchases%ROWTYPE;
     prior purchases%ROWTYPE;
     left_stock integer;
   BEGIN
     FOR i IN SELECT u.n FROM unnest(p_books) WITH ORDINALITY AS u(book, n) ORDER BY u.book, u.n LOOP
       INSERT INTO purchases (order_id, book_id, outcome, title, price_cents, stock_after, created_at)
         SELECT p_orders[i], b.id, 'out_of_stock', b.title, b.price_cents, 0, now() FROM books b WHERE b.id = p_books[i]
         ON CONFLICT (order_id) DO NOTHING
         RETURNING * INTO claimed;
       IF FOUND THEN
         UPDATE books SET stock = stock - 1 WHERE id = p_books[i] AND stock > 0 RETURNING stock INTO left_stock;
         IF FOUND THEN
           UPDATE purchases SET outcome = 'purchased', stock_after = left_stock WHERE order_id = p_orders[i];
           claimed.outcome := 'purchased';
           claimed.stock_after := left_stock;
         END IF;
         RETURN QUERY SELECT i, 'applied', claimed.order_id, claimed.book_id, claimed.outcome, claimed.title,
                             claimed.price_cents, claimed.stock_after, claimed.created_at;
       ELSE
         -- Seen before (by this batch, another one, or a replica's), or no such book.
         SELECT * INTO prior FROM purchases WHERE order_id = p_orders[i];
         IF FOUND THEN
           RETURN QUERY SELECT i, 'prior', prior.order_id, prior.book_id, prior.outcome, prior.title,
                               prior.price_cents, prior.stock_after, prior.created_at;
         ELSE
           RETURN QUERY SELECT i, 'book_not_found', p_orders[i], p_books[i], NULL::text, NULL::text,
                               NULL::integer, NULL::integer, NULL::timestamptz;
         END IF;
       END IF;
     END LOOP;
   END $$;`,
];
