/**
 * Throwaway PostgreSQL clusters for tests and benchmarks: initdb into a temp folder, a free loopback port, fsync on
 * (durability is part of what the tests check, and of what the benchmarks measure), started with pg_ctl and removed
 * afterwards. Never a server already running. When run as root the server runs as the `postgres` user (initdb
 * refuses root). Optional `standby`: a streaming replica made with pg_basebackup, for tests of a multi-host URL and
 * a promotion. test/helpers/postgres.ts wraps it for mocha suites.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './ports';

/** Where Debian puts the server binaries; PG_BIN names another folder. */
export const BIN_DIRS = process.env.PG_BIN
  ? [process.env.PG_BIN]
  : ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

export const PG_BIN = BIN_DIRS.find((dir) => existsSync(join(dir, 'pg_ctl')));

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

const asRoot = userInfo().uid === 0;

/** A PostgreSQL binary, run as the `postgres` user when we are root, else as ourselves. */
function command(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN!, bin), ...args]] : [join(PG_BIN!, bin), args];
}

function run(bin: string, args: string[], options: { quiet?: boolean } = {}): string {
  const [file, argv] = command(bin, args);
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', options.quiet ? 'ignore' : 'pipe'] });
}

const execFileAsync = promisify(execFile);

async function runAsync(bin: string, args: string[]): Promise<void> {
  const [file, argv] = command(bin, args);
  await execFileAsync(file, argv);
}

function ownedDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(path, uid, gid);
  }
  return path;
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

/** Starts a cluster; throws when the PostgreSQL binaries are missing (PG_BIN says where they were looked for). */
export async function startCluster(options: { standby?: boolean; maxConnections?: number } = {}): Promise<PgCluster> {
  if (!PG_BIN) throw new Error(`PostgreSQL binaries not found in ${BIN_DIRS.join(', ')} (Debian: apt-get install postgresql)`);
  const root = mkdtempSync(join(tmpdir(), 'bazar-pg-'));
  if (asRoot) execFileSync('chmod', ['755', root]);
  const [primaryPort, standbyPort] = await freePorts(2);
  const primary = node(root, 'primary', primaryPort);
  const nodes = [primary];
  let standby: PgNode | undefined;
  try {
    run('initdb', ['-D', primary.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-instructions'], { quiet: true });
    writeFileSync(join(primary.dataDir, 'postgresql.auto.conf'), `${SETTINGS}max_connections = ${options.maxConnections ?? 100}\n`);
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
