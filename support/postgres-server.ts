/**
 * A PostgreSQL server of our own, made from the installed binaries: for the tests' throwaway clusters
 * (test/helpers/postgres.ts) and for `npm run start:replicated`'s local one (support/local-postgres.ts). Never a
 * server the system runs. initdb refuses to run as root, so as root every binary runs as the `postgres` user, and
 * the folders it writes are handed to that user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Where Debian's `postgresql` package puts the server binaries, newest version first; PG_BIN names another folder. */
export function postgresBinDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.PG_BIN) return [env.PG_BIN];
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  return versions.sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin'));
}

/** The folder with initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return postgresBinDirs(env).find((dir) => existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb')));
}

/** What to tell someone who has no PostgreSQL binaries. */
export function missingPostgresMessage(env: NodeJS.ProcessEnv = process.env): string {
  const searched = postgresBinDirs(env);
  const where = searched.length > 0 ? searched.join(', ') : '/usr/lib/postgresql/<version>/bin';
  return `PostgreSQL binaries (initdb, pg_ctl) not found in ${where}; install Debian's package: apt-get install postgresql (or set PG_BIN)`;
}

const asRoot = userInfo().uid === 0;
const execFileAsync = promisify(execFile);

/** The settings every cluster of ours starts with: durable (fsync, synchronous commit) and small. */
export const BASE_SETTINGS = `
fsync = on
synchronous_commit = on
shared_buffers = 32MB
log_min_messages = warning
`;

/** Runs PostgreSQL's binaries from one folder, as the `postgres` user when we are root. */
export class PostgresBinaries {
  constructor(readonly dir: string) {}

  command(bin: string, args: string[]): [string, string[]] {
    const path = join(this.dir, bin);
    return asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  }

  run(bin: string, args: string[], options: { quiet?: boolean } = {}): string {
    const [file, argv] = this.command(bin, args);
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', options.quiet ? 'ignore' : 'pipe'] });
  }

  async runAsync(bin: string, args: string[]): Promise<void> {
    const [file, argv] = this.command(bin, args);
    await execFileAsync(file, argv);
  }

  /** Creates `path` (mode 700) for the server's user to own. */
  ownedDir(path: string): string {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return this.handOver(path);
  }

  /** Makes the server's user the owner of `path` (when we are root; otherwise it is ours, and so its). */
  handOver(path: string): string {
    if (asRoot) {
      const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
      chownSync(path, id('-u'), id('-g'));
    }
    return path;
  }

  /** True when the server's user can write in `path` (as root: every folder above it must let `postgres` through). */
  canWrite(path: string): boolean {
    if (!asRoot) return true;
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-w', path], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }
}

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

/** initdb into `dataDir` (UTF8, superuser `postgres`): trusting loopback, or with a password from `passwordFile`. */
export function initdb(pg: PostgresBinaries, dataDir: string, auth: { passwordFile?: string } = {}): void {
  const method = auth.passwordFile ? ['-A', 'scram-sha-256', `--pwfile=${auth.passwordFile}`] : ['-A', 'trust'];
  pg.run('initdb', ['-D', dataDir, ...method, '-U', 'postgres', '-E', 'UTF8', '--no-instructions'], { quiet: true });
}
