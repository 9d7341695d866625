/** The compiled catalog and order servers started with DATABASE_URL (`npm run build` first). */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../../support/ports';
import { usePostgres } from '../helpers/postgres';
import { runToExit } from '../helpers/processes';
import { startService, type ServiceProcess } from '../../support/service-process';
import { tempDir } from '../helpers/stack';

const TOKEN = 'postgres-process-token-0123456789';

describe('processes: catalog and order on PostgreSQL', function () {
  this.timeout(60_000);
  const cluster = usePostgres();

  it('when DATABASE_URL is set, then each service keeps its data in its own database and a buy goes through', async () => {
    const pg = cluster();
    const tmp = tempDir();
    const [catalogDb, ordersDb] = [await pg.createDatabase('catalog'), await pg.createDatabase('orders')];
    const started: ServiceProcess[] = [];
    try {
      const base = { BAZAR_TOKEN: TOKEN, DB_PATH: join(tmp.dir, 'unused.db') };
      const catalog = await startService('catalog', { env: { ...base, DATABASE_URL: pg.url(catalogDb) } });
      started.push(catalog);
      const order = await startService('order', { env: { ...base, DATABASE_URL: pg.url(ordersDb), CATALOG_URL: catalog.url } });
      started.push(order);

      const res = await fetch(`${order.url}/buy/2`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).to.equal(201);
      const { order_id } = (await res.json()) as { order_id: string };
      expect(pg.psql(catalogDb, `SELECT stock FROM books WHERE id = 2`)).to.equal('4');
      expect(pg.psql(ordersDb, `SELECT status FROM orders WHERE order_id = '${order_id}'`)).to.equal('confirmed');
      // Neither service opened the other's database, nor SQLite.
      expect(pg.psql(catalogDb, "SELECT to_regclass('orders') IS NULL")).to.equal('t');
      expect(pg.psql(ordersDb, "SELECT to_regclass('books') IS NULL")).to.equal('t');
      expect(existsSync(base.DB_PATH)).to.equal(false);
      expect(await Promise.all(started.map((service) => service.stop()))).to.deep.equal([0, 0]);
    } finally {
      await Promise.all(started.map((service) => service.stop('SIGKILL')));
      tmp.remove();
    }
  });

  it('when no server answers at DATABASE_URL, then the service exits at once with one line that hides the password', async () => {
    const [port] = await freePorts(1);
    const { code, output } = await runToExit('dist/order-server/server.js', {
      PORT: '0',
      DATABASE_URL: `postgres://bazar:hunter2-secret@127.0.0.1:${port}/orders`,
    });
    expect(code).to.equal(1);
    expect(output).to.match(/^could not open the order ledger: no PostgreSQL server that answers \(127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(output).not.to.include('hunter2-secret');
  });

  it('when DATABASE_URL is malformed, then the service refuses to start (78) with a message that hides the password', async () => {
    const { code, output } = await runToExit('dist/catalog-server/server.js', {
      PORT: '0',
      DATABASE_URL: 'postgres://bazar:hunter2-secret@db:99999/catalog',
    });
    expect(code).to.equal(78);
    expect(output).to.match(/^configuration error: DATABASE_URL has a bad host 'db:99999'/);
    expect(output).not.to.include('hunter2-secret');
  });
});
