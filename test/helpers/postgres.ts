/**
 * Throwaway PostgreSQL clusters for tests: initdb into a temp folder, a free loopback port, fsync on (durability is
 * part of what the tests check), started with pg_ctl and removed afterwards. Never a server already running.
 * When run as root the server runs as the `postgres` user (initdb refuses root). Optional `standby`: a streaming
 * replica made with pg_basebackup, for tests of a multi-host URL and a promotion.
 */
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../support/ports';
import {
  BASE_SETTINGS,
  PostgresBinaries,
  findPostgresBin,
  initdb,
  missingPostgresMessage,
  pgNode,
  type PgNode,
} from '../../support/postgres-server';

export type { PgNode } from '../../support/postgres-server';

const PG_BIN = findPostgresBin();

export interface PgCluster {
  primary: PgNode;
  standby?: PgNode;
  /** A URL for `database` on the primary (or the given node). */
  url(database: string, node?: PgNode): string;
  /** A fresh, empty database on the primary, named after `prefix` and a counter. */
  createDatabase(prefix?: string): Promise<string>;
  /** Runs SQL through psql on the primary (or `node`), returning its unaligned output. */
  psql(database: string, sql: string, node?: PgNode): string;
  stop(): void;
}

/** A node with its own folder owned by the server's user: its data, its unix socket and its log. */
function node(pg: PostgresBinaries, root: string, name: string, port: number): PgNode {
  const home = pg.ownedDir(join(root, name));
  return pgNode(pg, home, port, pg.ownedDir(join(home, 'socket')));
}

/** Stops a node at once, whatever state it is in; for cleaning up. */
function kill(pg: PostgresBinaries, n: PgNode): void {
  if (n.running()) pg.run('pg_ctl', ['-D', n.dataDir, '-m', 'immediate', '-w', 'stop'], { quiet: true });
}

/**
 * The settings the tests run with: ours (fsync and synchronous_commit on, small), plus streaming to a standby.
 * The standby copies them, so it allows the primary's max_connections, as recovery requires.
 */
const SETTINGS = `${BASE_SETTINGS}wal_level = replica
max_wal_senders = 4
hot_standby = on
`;

export interface PostgresOptions {
  standby?: boolean;
  maxConnections?: number;
}

/** True when a throwaway cluster can be made here; when not, `missingPostgresMessage()` says what to install. */
export const postgresInstalled = (): boolean => PG_BIN !== undefined;

/**
 * Skips the calling suite loudly when the PostgreSQL binaries are missing; under CI=true their absence is a
 * failure, not a skip. Call from a `before` hook with its `this`.
 */
export function requirePostgres(context: Mocha.Context): void {
  if (PG_BIN) return;
  const message = missingPostgresMessage();
  if (process.env.CI === 'true') throw new Error(`${message}; CI must run the PostgreSQL tests`);
  process.stderr.write(`\n  SKIPPED (${context.test?.parent?.fullTitle()}): ${message}\n\n`);
  context.skip();
}

/** Starts a cluster, or skips the calling suite as `requirePostgres` does. Call from a `before` hook with its `this`. */
export async function startPostgres(context: Mocha.Context, options: PostgresOptions = {}): Promise<PgCluster> {
  requirePostgres(context);
  return createPostgres(options);
}

/** Starts a throwaway cluster (for callers outside mocha: check `postgresInstalled()` first). */
export async function createPostgres(options: PostgresOptions = {}): Promise<PgCluster> {
  if (!PG_BIN) throw new Error(missingPostgresMessage());
  const pg = new PostgresBinaries(PG_BIN);
  const root = mkdtempSync(join(tmpdir(), 'bazar-pg-'));
  // The server's user must get through to its folders below.
  if (userInfo().uid === 0) chmodSync(root, 0o755);
  const [primaryPort, standbyPort] = await freePorts(2);
  const primary = node(pg, root, 'primary', primaryPort);
  const nodes = [primary];
  let standby: PgNode | undefined;
  try {
    initdb(pg, primary.dataDir);
    writeFileSync(join(primary.dataDir, 'postgresql.auto.conf'), `${SETTINGS}max_connections = ${options.maxConnections ?? 100}\n`);
    writeFileSync(join(primary.dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n');
    await primary.start();
    if (options.standby) {
      standby = node(pg, root, 'standby', standbyPort);
      // -R writes the standby's primary_conninfo and standby.signal; -X stream copies the WAL made meanwhile.
      pg.run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standby.dataDir, '-R', '-X', 'stream'], { quiet: true });
      await standby.start();
      nodes.push(standby);
    }
  } catch (err) {
    nodes.forEach((n) => kill(pg, n));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  let counter = 0;
  const cluster: PgCluster = {
    primary,
    standby,
    url: (database, at = primary) => `postgres://postgres@127.0.0.1:${at.port}/${database}`,
    psql: (database, sql, at = primary) =>
      pg.run('psql', ['-h', '127.0.0.1', '-p', String(at.port), '-U', 'postgres', '-d', database, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql]).trim(),
    async createDatabase(prefix = 'test') {
      const name = `${prefix}_${process.pid}_${++counter}`;
      cluster.psql('postgres', `CREATE DATABASE ${name}`);
      return name;
    },
    stop() {
      for (const n of nodes.reverse()) {
        try {
          kill(pg, n);
        } catch {
          // already stopped by the test
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  return cluster;
}

/**
 * One cluster for the enclosing describe block: started before its first test, stopped after its last. Returns
 * a getter, because the cluster exists only once the `before` hook has run.
 */
export function usePostgres(options: PostgresOptions = {}): () => PgCluster {
  let cluster: PgCluster | undefined;
  before(async function () {
    this.timeout(120_000);
    cluster = await startPostgres(this, options);
  });
  after(() => cluster?.stop());
  return () => cluster!;
}
