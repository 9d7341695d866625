/** How the PostgreSQL stores make and change their schema: numbered steps, once each, even when replicas start together. */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgCatalogStore } from '../../catalog-server/store/pg-store';
import { PgDatabase, migrate } from '../../common/postgres';
import { PgOrderLedger } from '../../order-server/ledger/pg-ledger';
import { usePostgres } from '../helpers/postgres';
import { tempDir } from '../helpers/stack';

describe('PostgreSQL: schema migrations', function () {
  this.timeout(30_000);
  const cluster = usePostgres();

  it('when two catalog and two order replicas start at once on new databases, then each step is applied and recorded once', async () => {
    const pg = cluster();
    const [catalogDb, ordersDb] = [await pg.createDatabase('catalog'), await pg.createDatabase('orders')];
    const opened = await Promise.all([
      PgCatalogStore.open(pg.url(catalogDb)),
      PgCatalogStore.open(pg.url(catalogDb)),
      PgOrderLedger.open(pg.url(ordersDb)),
      PgOrderLedger.open(pg.url(ordersDb)),
    ]);
    await Promise.all(opened.map((store) => store.close()));
    for (const database of [catalogDb, ordersDb]) {
      expect(pg.psql(database, 'SELECT string_agg(version::text, \',\' ORDER BY version) FROM schema_migrations')).to.equal('1,2');
    }
  });

  it('when the code gains a step, then a database made by the older code gets only that step, once', async () => {
    const pg = cluster();
    const url = pg.url(await pg.createDatabase('steps'));
    const steps = ['CREATE TABLE t (x integer)', 'ALTER TABLE t ADD COLUMN y integer'];
    const old = new PgDatabase(url);
    await migrate(old, 'test-schema', steps.slice(0, 1));
    await old.query('INSERT INTO t (x) VALUES (1)');
    await old.close();
    // Two "replicas" of the new code at once; a second ALTER TABLE would fail on the existing column.
    const replicas = [new PgDatabase(url), new PgDatabase(url)];
    await Promise.all(replicas.map((db) => migrate(db, 'test-schema', steps)));
    expect(await replicas[0].query('SELECT x, y FROM t')).to.deep.equal([{ x: 1, y: null }]);
    expect(await replicas[1].query('SELECT version FROM schema_migrations ORDER BY version')).to.deep.equal([{ version: 1 }, { version: 2 }]);
    await Promise.all(replicas.map((db) => db.close()));
  });

  it('when a seeded topic is spelled oddly, then its key is stored as normalizeTopic() makes it, and searches find it', async () => {
    const pg = cluster();
    const tmp = tempDir();
    const seedPath = join(tmp.dir, 'books.json');
    writeFileSync(seedPath, JSON.stringify([{ id: 7, title: 'Odd', topic: '  Graduate__School ', stock: 1, price_cents: 100 }]));
    const database = await pg.createDatabase('topics');
    const store = await PgCatalogStore.open(pg.url(database), seedPath);
    try {
      expect(pg.psql(database, 'SELECT topic_key FROM books')).to.equal('graduate school');
      expect(await store.findByTopic('graduate-school', { limit: 10 })).to.deep.include({ topic: '  Graduate__School ', items: [{ id: 7, title: 'Odd' }] });
    } finally {
      await store.close();
      tmp.remove();
    }
  });
});
