/**
 * Every listing's query on PostgreSQL is answered from an index. The planner chooses by cost, so the tables hold
 * enough rows for its choice to mean something (100,000 books on 100 topics and 100,000 orders, ANALYZEd), and it is
 * left free: no enable_seqscan=off. A sequential scan of books or orders fails the test. A sort is allowed only
 * where the planner expects few rows (at most two pages' worth: near a topic's end it reads the few books left
 * through the index and sorts them, which costs no more than reading a page). The topics are read from their own
 * table, one row per topic, however the planner likes.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgDatabase } from '../../common/postgres';
import { booksJson, generateBooks } from '../../catalog-server/seed/generate';
import { PgCatalogStore, SQL as CATALOG_SQL } from '../../catalog-server/store/pg-store';
import { PgOrderLedger, SQL as ORDER_SQL } from '../../order-server/ledger/pg-ledger';
import { usePostgres } from '../helpers/postgres';
import { tempDir } from '../helpers/stack';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  'Plan Rows': number;
  Plans?: PlanNode[];
}

/** A page is at most 100 rows; the stores read one more. */
const PAGE_ROWS = 101;

/** Every node of a plan tree, depth first, as "Node Type [index] [direction]". */
function nodes(node: PlanNode): string[] {
  const here = [node['Node Type'], node['Index Name'], node['Scan Direction']].filter(Boolean).join(' ');
  return [here, ...(node.Plans ?? []).flatMap(nodes)];
}

/** Sorts that could grow with the table: over more than two pages' worth of rows. */
function bigSorts(node: PlanNode): string[] {
  const here = node['Node Type'] === 'Sort' && node['Plan Rows'] > 2 * PAGE_ROWS ? [`Sort of ${node['Plan Rows']} rows`] : [];
  return [...here, ...(node.Plans ?? []).flatMap(bigSorts)];
}

async function explain(db: PgDatabase, statement: { text: string }, values: unknown[]): Promise<PlanNode> {
  const [row] = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${statement.text}`, values);
  return row['QUERY PLAN'][0].Plan;
}

describe('PostgreSQL: the listings read indexes, never whole tables', function () {
  this.timeout(120_000);
  const cluster = usePostgres();
  let catalog: PgDatabase;
  let orders: PgDatabase;

  before(async function () {
    const tmp = tempDir();
    try {
      const seedPath = join(tmp.dir, 'books.json');
      writeFileSync(seedPath, booksJson(generateBooks(100_000)));
      const catalogUrl = cluster().url(await cluster().createDatabase('plans_catalog'));
      await (await PgCatalogStore.open(catalogUrl, seedPath)).close();
      const ordersUrl = cluster().url(await cluster().createDatabase('plans_orders'));
      await (await PgOrderLedger.open(ordersUrl)).close();
      catalog = new PgDatabase(catalogUrl);
      orders = new PgDatabase(ordersUrl);
      // Statuses as in a running store: mostly confirmed, some rejected, and only the few buys in flight pending.
      await orders.query(`INSERT INTO orders (order_id, item_number, status, created_at, updated_at)
        SELECT 'o' || i, 1 + i % 4, CASE WHEN i % 5000 = 0 THEN 'pending' WHEN i % 10 = 0 THEN 'rejected' ELSE 'confirmed' END,
               now(), now()
        FROM generate_series(1, 100000) AS i`);
      await Promise.all([catalog.query('ANALYZE'), orders.query('ANALYZE')]);
    } finally {
      tmp.remove();
    }
  });
  after(async () => {
    await Promise.all([catalog?.close(), orders?.close()]);
  });

  const topic = 'distributed systems';
  const cases: [string, { text: string }, unknown[], RegExp][] = [
    ["a topic's first page", CATALOG_SQL.topicAfter, [topic, 0, PAGE_ROWS], /^Index Scan books_topic_key_id Forward$/],
    ["a page in the middle of a topic", CATALOG_SQL.topicAfter, [topic, 50_000, PAGE_ROWS], /^Index Scan books_topic_key_id Forward$/],
    ["a topic's last page", CATALOG_SQL.topicAfter, [topic, 99_500, PAGE_ROWS], /^Bitmap Index Scan books_topic_key_id$|^Index Scan books_topic_key_id Forward$/],
    ['the page before a cursor in a topic', CATALOG_SQL.topicBefore, [topic, 50_000, PAGE_ROWS], /^Index Scan books_topic_key_id Backward$/],
    ["a topic's name", CATALOG_SQL.topicName, [topic], /^Index Scan books_topic_key_id Forward$/],
    ['a page of books', CATALOG_SQL.booksAfter, [50_000, PAGE_ROWS], /^Index Scan books_pkey Forward$/],
    ['the page of books before a cursor', CATALOG_SQL.booksBefore, [50_000, PAGE_ROWS], /^Index Scan books_pkey Backward$/],
  ];

  for (const [what, statement, values, index] of cases) {
    it(`when the catalog reads ${what}, then it reads ${index.source.replace(/[\^$\\]/g, '')}, with no sequential scan and no sort that grows with the table`, async () => {
      const root = await explain(catalog, statement, values);
      const steps = nodes(root);
      expect(steps.some((step) => index.test(step)), steps.join(' | ')).to.equal(true);
      expect(steps.filter((step) => step.startsWith('Seq Scan')), steps.join(' | ')).to.deep.equal([]);
      expect(bigSorts(root), steps.join(' | ')).to.deep.equal([]);
    });
  }

  it('when the catalog lists the topics, then it reads the topics table (one row per topic) and no book', async () => {
    const root = await explain(catalog, CATALOG_SQL.topics, []);
    const steps = nodes(root);
    expect(steps.filter((step) => /books/.test(step)), steps.join(' | ')).to.deep.equal([]);
    expect(root['Plan Rows'], steps.join(' | ')).to.be.within(90, 110);
    expect(await catalog.query('SELECT count(*)::integer AS n FROM topics')).to.deep.equal([{ n: 100 }]);
  });

  it('when the ledger lists orders newest first, with or without a status, then it scans an index backwards from the cursor, with no sort that grows with the table', async () => {
    expect(nodes(await explain(orders, ORDER_SQL.list, [PAGE_ROWS, 50_000]))).to.deep.equal(['Limit', 'Index Scan orders_seq Backward']);
    for (const status of ['confirmed', 'rejected', 'pending']) {
      // A common status is found fastest by walking all orders backwards and skipping the others, a rarer one by its
      // own index; the few pending orders may be read from the index kept for reconciling them, and sorted.
      const root = await explain(orders, ORDER_SQL.listByStatus, [PAGE_ROWS, 50_000, status]);
      const steps = nodes(root);
      expect(steps.some((step) => /^Index Scan orders_(status_seq Backward|seq Backward|pending)/.test(step)), `${status}: ${steps.join(' | ')}`).to.equal(true);
      expect(steps.filter((step) => step.startsWith('Seq Scan')), status).to.deep.equal([]);
      expect(bigSorts(root), `${status}: ${steps.join(' | ')}`).to.deep.equal([]);
    }
  });
});
