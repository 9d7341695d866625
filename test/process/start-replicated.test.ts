/**
 * `npm run start:replicated` (scripts/start-replicated.js, `npm run build` first): two catalog, two order and two
 * frontend replicas under pm2-runtime over PostgreSQL, a local cluster of its own or the one the URLs name.
 */
import { expect } from 'chai';
import { chmodSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../support/ports';
import { waitUntilReady } from '../../support/wait-ready';
import { refused, runForeground, type Foreground } from '../helpers/foreground';
import { requirePostgres, usePostgres } from '../helpers/postgres';
import { runToExit } from '../helpers/processes';
import { tempDir } from '../helpers/stack';

const SCRIPT = 'scripts/start-replicated.js';
/** The line that lists the replicas' PIDs comes last, once every frontend is ready. */
const READY = /catalog-1 :\d+ pid (\d+), catalog-2 :\d+ pid (\d+)/;

interface Ports {
  frontends: number[];
  catalogs: number[];
  orders: number[];
}

/** Free ports for the six replicas and the local PostgreSQL, and the settings that hand them out. */
async function replicaPorts(): Promise<Ports & { env: Record<string, string> }> {
  const [f1, f2, c1, c2, o1, o2, pg] = await freePorts(7);
  return {
    frontends: [f1, f2],
    catalogs: [c1, c2],
    orders: [o1, o2],
    env: { FRONTEND_PORTS: `${f1},${f2}`, CATALOG_PORTS: `${c1},${c2}`, ORDER_PORTS: `${o1},${o2}`, PG_PORT: String(pg) },
  };
}

interface Session {
  dir: string;
  /** Starts the script with `env` on top of BAZAR_DATA_DIR and waits until it lists the replicas. */
  start(env: Record<string, string>): Promise<Foreground>;
}

/**
 * Runs `work` with a fresh data folder (one the server's user can get into when we are root: mkdtemp makes it
 * 700); afterwards stops any run it left going, as Ctrl-C would, and removes the folder.
 */
async function withDataDir(work: (session: Session) => Promise<void>): Promise<void> {
  const tmp = tempDir('bazar-start-replicated-');
  if (userInfo().uid === 0) chmodSync(tmp.dir, 0o755);
  const runs: Foreground[] = [];
  const start = async (env: Record<string, string>) => {
    const run = await runForeground(SCRIPT, { ...env, BAZAR_DATA_DIR: tmp.dir }, READY, 90_000);
    runs.push(run);
    return run;
  };
  try {
    await work({ dir: tmp.dir, start });
  } finally {
    for (const run of runs.filter((r) => r.child.exitCode === null)) {
      run.child.kill('SIGINT');
      await run.exited;
    }
    tmp.remove();
  }
}

async function buy(frontend: number, book: number, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${frontend}/buy/${book}`, {
    method: 'POST',
    headers: { accept: 'application/json', 'idempotency-key': key },
  });
  return { status: res.status, body: await res.json() };
}

async function stock(frontend: number, book: number): Promise<number> {
  return ((await (await fetch(`http://127.0.0.1:${frontend}/lookup/${book}`)).json()) as { stock: number }).stock;
}

/** The PIDs pm2 recorded for every app it runs. */
function pm2Pids(dir: string): number[] {
  const pids = join(dir, 'pm2', 'pids');
  return readdirSync(pids).map((file) => Number(readFileSync(join(pids, file), 'utf8')));
}

/** The postmaster's PID, from the first line of its pid file. */
function postmasterPid(dir: string): number {
  return Number(readFileSync(join(dir, 'postgres', 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** True while `pid` runs; an exited process its new parent has not reaped yet (a zombie, state Z) is not running. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function stopAndCheck(run: Foreground, ports: Ports, pids: number[]): Promise<void> {
  run.child.kill('SIGINT');
  expect(await run.exited).to.equal(0);
  for (const port of [...ports.frontends, ...ports.catalogs, ...ports.orders]) {
    expect(await refused(`http://127.0.0.1:${port}/healthz`), `port ${port}`).to.equal(true);
  }
  expect(pids.filter(alive), 'processes left running').to.deep.equal([]);
}

describe('npm run start:replicated: two replicas of every tier over PostgreSQL', function () {
  this.timeout(180_000);

  describe('with no database URL', () => {
    before(function () {
      requirePostgres(this);
    });

    it('when started, then it makes a local PostgreSQL, buys go on after a catalog replica is SIGKILLed, Ctrl-C stops every process, and a second start finds the data', () =>
      withDataDir(async ({ dir, start }) => {
        const ports = await replicaPorts();
        const pgPort = Number(ports.env.PG_PORT);
        let run = await start(ports.env);
        const printed = run.output.join('\n');
        expect(printed).to.include(`made a new PostgreSQL cluster on 127.0.0.1:${pgPort}`);
        expect(printed).to.include(`the store is open at http://127.0.0.1:${ports.frontends[0]}/ and http://127.0.0.1:${ports.frontends[1]}/`);
        expect(printed).to.include(`http://127.0.0.1:${ports.frontends[0]}/status`);
        const [f1, f2] = ports.frontends;
        const before = await stock(f1, 2);

        expect((await buy(f1, 2, 'replicated-1')).status).to.equal(201);
        const catalog1 = Number(run.match[1]);
        process.kill(catalog1, 'SIGKILL');
        const second = await buy(f2, 2, 'replicated-2');
        expect(second.status, JSON.stringify(second.body)).to.equal(201);
        // Two buys, two copies, whichever replica answered: the database is one.
        expect(await stock(f2, 2)).to.equal(before - 2);
        const direct = await fetch(`http://127.0.0.1:${ports.catalogs[1]}/query_by_item_number/2`);
        expect(((await direct.json()) as { stock: number }).stock).to.equal(before - 2);

        // pm2 starts the killed replica again, under a new PID.
        expect(await waitUntilReady(`http://127.0.0.1:${ports.catalogs[0]}/readyz`, { timeoutMs: 15_000 })).to.equal(true);
        const pids = [...pm2Pids(dir), postmasterPid(dir)];
        expect(pids.filter(alive)).to.have.length(7);
        expect(pids).not.to.include(catalog1);
        await stopAndCheck(run, ports, pids);
        expect(existsSync(join(dir, 'postgres', 'data', 'postmaster.pid'))).to.equal(false);

        run = await start(ports.env);
        expect(run.output.join('\n')).to.include(`bazar: PostgreSQL on 127.0.0.1:${pgPort}`);
        expect(await stock(f1, 2)).to.equal(before - 2);
        await stopAndCheck(run, ports, [...pm2Pids(dir), postmasterPid(dir)]);
      }));
  });

  it('when no PostgreSQL binaries are installed, then it stops at once and names the Debian package', () =>
    withDataDir(async ({ dir }) => {
      const { code, output } = await runToExit(SCRIPT, { BAZAR_DATA_DIR: dir, PG_BIN: join(dir, 'no-such-bin') });
      expect(code).to.equal(1);
      expect(output).to.match(/^bazar: PostgreSQL binaries \(initdb, pg_ctl\) not found in \S+no-such-bin; install Debian's package: apt-get install postgresql/);
      expect(existsSync(join(dir, 'pm2'))).to.equal(false);
    }));

  describe('with CATALOG_DATABASE_URL and ORDER_DATABASE_URL', () => {
    const cluster = usePostgres();

    it('when started, then the replicas use those databases, and Ctrl-C leaves that server running', () =>
      withDataDir(async ({ dir, start }) => {
        const pg = cluster();
        const [catalogDb, ordersDb] = [await pg.createDatabase('catalog'), await pg.createDatabase('orders')];
        const ports = await replicaPorts();
        const run = await start({ ...ports.env, CATALOG_DATABASE_URL: pg.url(catalogDb), ORDER_DATABASE_URL: pg.url(ordersDb) });
        expect(run.output.join('\n')).to.include('PostgreSQL from CATALOG_DATABASE_URL and ORDER_DATABASE_URL');
        const answer = await buy(ports.frontends[1], 3, 'given-urls');
        expect(answer.status).to.equal(201);
        expect(pg.psql(ordersDb, `SELECT status FROM orders WHERE order_id = '${answer.body.order_id}'`)).to.equal('confirmed');
        expect(pg.psql(catalogDb, `SELECT outcome FROM purchases WHERE order_id = '${answer.body.order_id}'`)).to.equal('purchased');
        await stopAndCheck(run, ports, pm2Pids(dir));
        expect(existsSync(join(dir, 'postgres'))).to.equal(false);
        expect(pg.psql('postgres', 'SELECT 1')).to.equal('1');
      }));

    it('when only one of the two URLs is set, then it refuses to start (78) and names both', () =>
      withDataDir(async ({ dir }) => {
        const { code, output } = await runToExit(SCRIPT, { BAZAR_DATA_DIR: dir, CATALOG_DATABASE_URL: cluster().url('postgres') });
        expect(code).to.equal(78);
        expect(output).to.include('set both CATALOG_DATABASE_URL and ORDER_DATABASE_URL');
      }));
  });
});
