/**
 * PostgreSQL servers of our own, made from the installed binaries: the throwaway clusters of tests and benchmarks
 * (below; test/helpers/postgres.ts wraps them for mocha), the HA harness's nodes (test/helpers/ha-cluster.ts) and
 * `npm run start:replicated`'s kept local cluster (support/local-postgres.ts). Never a server the system runs.
 * initdb refuses to run as root, so as root every binary runs as the `postgres` user, and the folders it writes are
 * handed to that user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from './ports';

/** Where Debian's `postgresql` package puts the server binaries, newest version first; PG_BIN names another folder. */
export function postgresBinDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.PG_BIN) return [env.PG_BIN];
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  return versions.sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin'));
}

/**
 * The first folder with initdb and pg_ctl and, when given, `extension` in its version's lib/ folder (an extension
 * such as pg_auto_failover's is built for one major version); undefined when there is none.
 */
export function findPostgresBin(options: { extension?: string; env?: NodeJS.ProcessEnv } = {}): string | undefined {
  const { extension, env } = options;
  return postgresBinDirs(env).find(
    (dir) =>
      existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb')) && (!extension || existsSync(join(dir, '..', 'lib', extension))),
  );
}

/** True when a server of our own can be made here; when not, `missingPostgresMessage()` says what to install. */
export const postgresInstalled = (): boolean => findPostgresBin() !== undefined;

/** What to tell someone who has no PostgreSQL binaries. */
export function missingPostgresMessage(env: NodeJS.ProcessEnv = process.env): string {
  const searched = postgresBinDirs(env);
  const where = searched.length > 0 ? searched.join(', ') : '/usr/lib/postgresql/<version>/bin';
  return `PostgreSQL binaries (initdb, pg_ctl) not found in ${where}; install Debian's package: apt-get install postgresql (or set PG_BIN)`;
}

/**
 * spawn()/execFile() options that run a command as `postgres` when we are root, and as ourselves otherwise. From
 * `/`, so a working folder the postgres user cannot enter makes no warnings; every path we pass is absolute.
 */
export const asPostgres: { uid?: number; gid?: number; cwd?: string } = postgresIds();

function postgresIds(): { uid?: number; gid?: number; cwd?: string } {
  if (userInfo().uid !== 0) return {};
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { uid: id('-u'), gid: id('-g'), cwd: '/' };
  } catch {
    return {}; // no postgres user: PostgreSQL is not installed, which the callers' prerequisite checks report
  }
}

/** Makes the server's user the owner of `path` (when we are root; otherwise it is ours, and so its). */
export function handOver(path: string): string {
  if (asPostgres.uid !== undefined) chownSync(path, asPostgres.uid, asPostgres.gid!);
  return path;
}

/** Creates `path` (mode 700) for the server's user to own. */
export function ownedDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return handOver(path);
}

/** True when the server's user can write in `path` (as root: every folder above it must let `postgres` through). */
export function canWrite(path: string): boolean {
  if (asPostgres.uid === undefined) return true;
  try {
    execFileSync('test', ['-w', path], { ...asPostgres, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const execFileAsync = promisify(execFile);

export interface InitdbOptions {
  /** Written to postgresql.auto.conf, read after postgresql.conf and anything it includes, so these win. */
  settings?: string;
  /** The superuser's password (scram-sha-256); without it, trust. */
  passwordFile?: string;
  /** Skips initdb's fsync of the new files: for clusters thrown away afterwards. */
  noSync?: boolean;
}

/** Runs PostgreSQL's binaries from one folder, as the `postgres` user when we are root. */
export class PostgresBinaries {
  constructor(readonly dir: string) {}

  /** Its output; stderr goes into the error thrown on failure, or nowhere when `quiet`. */
  run(bin: string, args: string[], options: { quiet?: boolean } = {}): string {
    return execFileSync(join(this.dir, bin), args, { ...asPostgres, encoding: 'utf8', stdio: ['ignore', 'pipe', options.quiet ? 'ignore' : 'pipe'] });
  }

  async runAsync(bin: string, args: string[]): Promise<void> {
    await execFileAsync(join(this.dir, bin), args, asPostgres);
  }

  /** A new data folder at `dataDir` (UTF8, superuser `postgres`), owned by the server's user. */
  initdb(dataDir: string, options: InitdbOptions = {}): void {
    ownedDir(dataDir);
    const auth = options.passwordFile ? ['-A', 'scram-sha-256', `--pwfile=${options.passwordFile}`] : ['-A', 'trust'];
    const sync = options.noSync ? ['--no-sync'] : [];
    // stderr kept in the error thrown, for a message that says why.
    this.run('initdb', ['-D', dataDir, ...auth, '-U', 'postgres', '-E', 'UTF8', ...sync, '--no-instructions']);
    if (options.settings !== undefined) writeFileSync(join(dataDir, 'postgresql.auto.conf'), options.settings);
  }
}

/** The settings every cluster of ours starts with: durable (fsync, synchronous commit) and small. */
export const BASE_SETTINGS = `
fsync = on
synchronous_commit = on
shared_buffers = 32MB
log_min_messages = warning
`;

export interface PgNode {
  port: number;
  dataDir: string;
  /** The server's log file. */
  log: string;
  start(): Promise<void>;
  /**
   * Stops the server: 'fast' is a clean shutdown, 'immediate' is a crash (no checkpoint, recovery on start).
   * Asynchronous, so the code under test keeps running meanwhile.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops (by default as a crash) and starts again on the same port; resolves once it accepts connections. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Standby only: ends recovery so the node accepts writes. */
  promote(): Promise<void>;
  /** True while a postmaster runs on this data folder. */
  running(): boolean;
}

/**
 * One server on loopback only: its data in `<home>/data`, its log in `<home>/server.log`, and its unix socket in
 * `socketDir` (none when omitted: TCP only, so a deep path cannot overflow a socket name).
 */
export function pgNode(pg: PostgresBinaries, home: string, port: number, socketDir?: string): PgNode {
  const dataDir = join(home, 'data');
  const log = join(home, 'server.log');
  const options = `-p ${port} -k ${socketDir ?? "''"} -c listen_addresses=127.0.0.1`;
  const running = () => {
    if (!existsSync(join(dataDir, 'postmaster.pid'))) return false;
    try {
      pg.run('pg_ctl', ['-D', dataDir, 'status'], { quiet: true });
      return true;
    } catch {
      return false; // a pid file left by a crash
    }
  };
  return {
    port,
    dataDir,
    log,
    running,
    start: () => pg.runAsync('pg_ctl', ['-D', dataDir, '-l', log, '-o', options, '-w', '-t', '60', 'start']),
    stop: async (mode = 'fast') => {
      if (running()) await pg.runAsync('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);
    },
    restart: (mode = 'immediate') =>
      pg.runAsync('pg_ctl', ['-D', dataDir, '-l', log, '-o', options, '-m', mode, '-w', '-t', '60', 'restart']),
    promote: () => pg.runAsync('pg_ctl', ['-D', dataDir, '-w', 'promote']),
  };
}

/** A throwaway cluster: a primary and, when asked for, a streaming standby, on loopback with trust. */
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

export interface ThrowawayOptions {
  /** A streaming replica made with pg_basebackup, for tests of a multi-host URL and a promotion. */
  standby?: boolean;
  maxConnections?: number;
}

/**
 * The settings of throwaway clusters: ours (durability is part of what the tests check and the benchmarks
 * measure), plus streaming to a standby. The standby copies them, so it allows the primary's max_connections, as
 * recovery requires.
 */
const THROWAWAY_SETTINGS = `${BASE_SETTINGS}wal_level = replica
max_wal_senders = 4
hot_standby = on
`;

/**
 * Starts a throwaway cluster: initdb into a temp folder, free loopback ports, started with pg_ctl; stop() removes
 * it. Throws `missingPostgresMessage()` when the binaries are missing (check `postgresInstalled()` first).
 */
export async function startThrowawayCluster(options: ThrowawayOptions = {}): Promise<PgCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(missingPostgresMessage());
  const pg = new PostgresBinaries(bin);
  const root = mkdtempSync(join(tmpdir(), 'bazar-pg-'));
  // The server's user must get through to its folders below.
  if (asPostgres.uid !== undefined) chmodSync(root, 0o755);
  // One folder per node owned by the server's user: its data, its unix socket and its log.
  const node = (name: string, port: number) => {
    const home = ownedDir(join(root, name));
    return pgNode(pg, home, port, ownedDir(join(home, 'socket')));
  };
  // Stops a node at once, whatever state it is in; for cleaning up.
  const kill = (n: PgNode) => n.running() && pg.run('pg_ctl', ['-D', n.dataDir, '-m', 'immediate', '-w', 'stop'], { quiet: true });
  const [primaryPort, standbyPort] = await freePorts(2);
  const primary = node('primary', primaryPort);
  const nodes = [primary];
  let standby: PgNode | undefined;
  try {
    pg.initdb(primary.dataDir, { settings: `${THROWAWAY_SETTINGS}max_connections = ${options.maxConnections ?? 100}\n`, noSync: true });
    writeFileSync(join(primary.dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n');
    await primary.start();
    if (options.standby) {
      standby = node('standby', standbyPort);
      // -R writes the standby's primary_conninfo and standby.signal; -X stream copies the WAL made meanwhile.
      pg.run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', standby.dataDir, '-R', '-X', 'stream'], { quiet: true });
      await standby.start();
      nodes.push(standby);
    }
  } catch (err) {
    nodes.forEach(kill);
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
          kill(n);
        } catch {
          // already stopped by the test
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
  return cluster;
}
