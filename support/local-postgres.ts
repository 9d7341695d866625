/**
 * The PostgreSQL cluster `npm run start:replicated` keeps under the data folder when it is given no database URLs:
 * made once with initdb, started on every run on loopback only (TCP, no unix socket), stopped on Ctrl-C, and kept
 * between runs like the SQLite files of `npm start`. The superuser's password is generated at initdb and kept
 * beside the cluster (mode 600), so other users of the machine cannot walk in over loopback.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePorts } from './ports';
import { BASE_SETTINGS, PostgresBinaries, canWrite, findPostgresBin, handOver, missingPostgresMessage, ownedDir, pgNode } from './postgres-server';

/** The databases the two services own, one each. */
export const LOCAL_DATABASES = { catalog: 'bazar_catalog', orders: 'bazar_orders' } as const;

export interface LocalPostgres {
  port: number;
  /** The folder that holds the cluster (data, log, password). */
  home: string;
  /** True when this run made the cluster (initdb); false when it found one from an earlier run. */
  created: boolean;
  catalogUrl: string;
  ordersUrl: string;
  stop(): Promise<void>;
}

/** A problem to tell the user in one line (no stack): no binaries, a folder the server cannot use. */
export class LocalPostgresError extends Error {}

/** Starts (creating it first if need be) the cluster in `home`, on `port` or a free one, with both databases. */
export async function startLocalPostgres(home: string, options: { port?: number } = {}): Promise<LocalPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new LocalPostgresError(missingPostgresMessage());
  const server = new PostgresBinaries(bin);
  ownedDir(home);
  if (!canWrite(home)) {
    throw new LocalPostgresError(
      `the postgres user cannot write in ${home}: every folder above it must let others through (chmod o+x), or set BAZAR_DATA_DIR elsewhere`,
    );
  }
  const port = options.port ?? (await freePorts(1))[0];
  const node = pgNode(server, home, port);
  const passwordFile = join(home, 'password');
  const created = !existsSync(join(node.dataDir, 'PG_VERSION'));
  if (created) {
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    handOver(passwordFile); // initdb, running as postgres, reads it
    try {
      // Six services with a pool of 10 each fit in 100 connections.
      server.initdb(node.dataDir, { passwordFile, settings: `${BASE_SETTINGS}max_connections = 100\n` });
    } catch (err) {
      const why = String((err as { stderr?: string }).stderr || (err as Error).message).trim();
      throw new LocalPostgresError(`initdb failed in ${node.dataDir} (remove that folder to try again):\n${why}`);
    }
    handOver(writeFile(join(node.dataDir, 'pg_hba.conf'), 'host all all 127.0.0.1/32 scram-sha-256\n'));
  } else if (!existsSync(passwordFile)) {
    throw new LocalPostgresError(`${passwordFile} is missing: remove ${home} to make a new cluster (its data goes with it)`);
  }
  // A server left running by an earlier run that did not get to stop it (it was killed): ours, so stop it.
  if (node.running()) await node.stop('fast');
  try {
    await node.start();
  } catch {
    const log = existsSync(node.log) ? readFileSync(node.log, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
    throw new LocalPostgresError(`PostgreSQL did not start on 127.0.0.1:${port} (log ${node.log}):\n${log}`);
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  const url = (database: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  try {
    await createDatabases(url('postgres'));
  } catch (err) {
    await node.stop('fast');
    throw err;
  }
  return {
    port,
    home,
    created,
    catalogUrl: url(LOCAL_DATABASES.catalog),
    ordersUrl: url(LOCAL_DATABASES.orders),
    stop: () => node.stop('fast'),
  };
}

function writeFile(path: string, text: string): string {
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** Creates each service's database unless it exists; the services create their tables themselves at start. */
async function createDatabases(adminUrl: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const name of Object.values(LOCAL_DATABASES)) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
    }
  } finally {
    await client.end();
  }
}
