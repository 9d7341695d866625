/**
 * Throwaway PostgreSQL clusters for tests: initdb into a temp folder, a free loopback port, fsync on (durability is
 * part of what the tests check), started with pg_ctl and removed afterwards. Never a server already running.
 * When run as root the server runs as the `postgres` user (initdb refuses root). Optional `standby`: a streaming
 * replica made with pg_basebackup, for tests of a multi-host URL and a promotion.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../support/ports';

/** Where Debian puts the server binaries, newest first; PG_BIN names another folder. */
export const PG_BIN_DIRS = process.env.PG_BIN
  ? [process.env.PG_BIN]
  : ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

/**
 * The first of PG_BIN_DIRS that holds pg_ctl and, when given, `extension` in the version's lib/ folder (an
 * extension is built for one major version).
 */
export function findPgBin(extension?: string): string | undefined {
  return PG_BIN_DIRS.find(
    (dir) => existsSync(join(dir, 'pg_ctl')) && (!extension || existsSync(join(dir, '..', 'lib', extension))),
  );
}

const PG_BIN = findPgBin();

/**
 * spawn()/execFile() options that run a command as `postgres` when we are root (initdb refuses root), and as
 * ourselves otherwise.
 */
export const asPostgres: { uid?: number; gid?: number } = postgresIds();

function postgresIds(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return {}; // no postgres user: PostgreSQL is not installed, which the callers' prerequisite checks report
  }
}

/** Makes `path` (mode 700) owned by the servers' user. */
export function ownedDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (asPostgres.uid !== undefined) chownSync(path, asPostgres.uid, asPostgres.gid!);
  return path;
}

/**
 * A new data folder at `dataDir` made by `bin`'s initdb (trust, superuser `postgres`), with `settings` in its
 * postgresql.auto.conf: read after postgresql.conf and anything it includes, so these win.
 */
export function initdb(bin: string, dataDir: string, settings: string): void {
  ownedDir(dataDir);
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    ...asPostgres,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  writeFileSync(join(dataDir, 'postgresql.auto.conf'), settings);
}

export interface PgNode {
  port: number;
  dataDir: string;
  /**
   * Stops the server: 'fast' is a clean shutdown, 'immediate' is a crash (no checkpoint, recovery on start).
   * Asynchronous, like the other changes below, so the code under test keeps running meanwhile.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Standby only: ends recovery so the node accepts writes. */
  promote(): Promise<void>;
}

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

/** A PostgreSQL binary, run as the `postgres` user when we are root, else as ourselves. */
function run(bin: string, args: string[], options: { quiet?: boolean } = {}): string {
  return execFileSync(join(PG_BIN!, bin), args, {
    ...asPostgres,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', options.quiet ? 'ignore' : 'pipe'],
  });
}

const execFileAsync = promisify(execFile);

async function runAsync(bin: string, args: string[]): Promise<void> {
  await execFileAsync(join(PG_BIN!, bin), args, asPostgres);
}

function node(root: string, name: string, port: number): PgNode {
  // One folder per node owned by the server's user: its data, its unix socket and its log.
  const home = ownedDir(join(root, name));
  const dataDir = join(home, 'data');
  const socketDir = ownedDir(join(home, 'socket'));
  const log = join(home, 'server.log');
  const options = `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1`;
  return {
    port,
    dataDir,
    start: () => runAsync('pg_ctl', ['-D', dataDir, '-l', log, '-o', options, '-w', '-t', '60', 'start']),
    stop: async (mode = 'fast') => {
      if (existsSync(join(dataDir, 'postmaster.pid'))) await runAsync('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);
    },
    promote: () => runAsync('pg_ctl', ['-D', dataDir, '-w', 'promote']),
  };
}

/** Stops a node at once, whatever state it is in; for cleaning up. */
function kill(dataDir: string): void {
  if (existsSync(join(dataDir, 'postmaster.pid'))) run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { quiet: true });
}

/**
 * The settings the tests run with. fsync and synchronous_commit stay on; the rest keeps a cluster small (two
 * cores are shared by the whole suite). The standby copies them, so it allows the primary's max_connections, as
 * recovery requires.
 */
const SETTINGS = `
fsync = on
synchronous_commit = on
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 4
hot_standby = on
log_min_messages = warning
`;

/**
 * Starts a cluster, or skips the calling suite loudly when the PostgreSQL binaries are missing; under CI=true
 * their absence is a failure, not a skip. Call from a `before` hook with its `this`.
 */
export async function startPostgres(
  context: Mocha.Context,
  options: { standby?: boolean; maxConnections?: number } = {},
): Promise<PgCluster> {
  if (!PG_BIN) {
    const message = `PostgreSQL binaries not found in ${PG_BIN_DIRS.join(', ')} (Debian: apt-get install postgresql)`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI must run the PostgreSQL tests`);
    process.stderr.write(`\n  SKIPPED (${context.test?.parent?.fullTitle()}): ${message}\n\n`);
    context.skip();
  }
  const root = mkdtempSync(join(tmpdir(), 'bazar-pg-'));
  if (asPostgres.uid !== undefined) execFileSync('chmod', ['755', root]);
  const [primaryPort, standbyPort] = await freePorts(2);
  const primary = node(root, 'primary', primaryPort);
  const nodes = [primary];
  let standby: PgNode | undefined;
  try {
    initdb(PG_BIN, primary.dataDir, `${SETTINGS}max_connections = ${options.maxConnections ?? 100}\n`);
    writeFileSync(join(primary.dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n');
    await primary.start();
    if (options.standby) {
      standby = node(root, 'standby', standbyPort);
      // -R writes the standby's primary_conninfo and standby.signal; -X stream copies the WAL made meanwhile.
      run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standby.dataDir, '-R', '-X', 'stream'], { quiet: true });
      await standby.start();
      nodes.push(standby);
    }
  } catch (err) {
    nodes.forEach((n) => kill(n.dataDir));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  let counter = 0;
  const cluster: PgCluster = {
    primary,
    standby,
    url: (database, at = primary) => `postgres://postgres@127.0.0.1:${at.port}/${database}`,
    psql: (database, sql, at = primary) =>
      run('psql', ['-h', '127.0.0.1', '-p', String(at.port), '-U', 'postgres', '-d', database, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql]).trim(),
    async createDatabase(prefix = 'test') {
      const name = `${prefix}_${process.pid}_${++counter}`;
      cluster.psql('postgres', `CREATE DATABASE ${name}`);
      return name;
    },
    stop() {
      for (const n of nodes.reverse()) {
        try {
          kill(n.dataDir);
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
export function usePostgres(options: { standby?: boolean; maxConnections?: number } = {}): () => PgCluster {
  let cluster: PgCluster | undefined;
  before(async function () {
    this.timeout(120_000);
    cluster = await startPostgres(this, options);
  });
  after(() => cluster?.stop());
  return () => cluster!;
}
