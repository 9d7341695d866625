/**
 * A throwaway highly available PostgreSQL on loopback, managed by pg_auto_failover (Debian:
 * postgresql-15-auto-failover): a monitor and two data nodes, one primary and one synchronous standby, each node a
 * `pg_autoctl` keeper supervising its postmaster. Everything lives in one temp folder and runs as the `postgres`
 * user when we are root; teardown kills only the process groups started here. docs/ha.md explains the topology and
 * the timeouts below.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../common/paths';
import { PgDatabase } from '../../common/postgres';
import { freePorts } from '../../support/ports';
import { PostgresBinaries, asPostgres, findPostgresBin, ownedDir } from '../../support/postgres-server';
import { NODE_STATES_SQL, SYNC_STANDBYS_SQL, settledPair, type NodeState } from './pg-auto-failover-states';
import { childrenOf, killGroup, signalGroup, signalPid } from './process-groups';
import { waitFor } from './wait';

const PG_AUTOCTL = '/usr/bin/pg_autoctl';
/** pg_auto_failover's extension, built for one major version: the cluster uses that version's binaries. */
const EXTENSION = 'pgautofailover.so';
const PG_BIN = findPostgresBin({ extension: EXTENSION });
const HA_PACKAGES = 'postgresql-15 postgresql-15-auto-failover';

/**
 * The timeouts a deployment uses (provision/pg-auto-failover/, explained in docs/ha.md): the monitor's failure
 * detection, each node's PostgreSQL settings, and each keeper's network partition timeout.
 */
const SETTINGS_DIR = join(projectRoot(__dirname), 'provision', 'pg-auto-failover');
const setting = (file: string) => readFileSync(join(SETTINGS_DIR, file), 'utf8');
const keeperSettings = () =>
  setting('keeper.cfg')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => line.trim().split(/\s+/));

/**
 * Small servers (pg_autoctl sizes shared_buffers from the machine's memory). In postgresql.auto.conf, read after
 * pg_autoctl's own include, so these win; pg_basebackup copies them to the standby.
 */
const TEST_SETTINGS = "shared_buffers = '32MB'\nlog_min_messages = warning\n";

export interface HaNode {
  name: string;
  port: number;
  dataDir: string;
}

export interface HaCluster {
  nodes: [HaNode, HaNode];
  monitorUrl: string;
  /** The multi-host URL of `database` with target_session_attrs=read-write: whichever node is primary now. */
  url(database: string): string;
  /** The monitor's current view of both nodes. */
  states(): Promise<NodeState[]>;
  /** The node the monitor has as primary (goal and reported state agree). */
  primary(): Promise<HaNode>;
  /** SIGKILL of the node's postmaster only (PID from postmaster.pid); its keeper lives on. Returns the PID. */
  killPostmaster(node: HaNode): number;
  /** SIGKILL of keeper and postmaster together: the machine died. */
  killNode(node: HaNode): void;
  /** Starts a killed node's keeper again; it rejoins as a standby (pg_rewind) by itself. */
  restartNode(node: HaNode): void;
  /** Resolves once one node is primary and the other streams to it as a synchronous standby. */
  waitForSync(timeoutMs?: number): Promise<{ primary: HaNode; standby: HaNode }>;
  /** The folder holding data and logs (kept on failure for inspection). */
  root: string;
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

/** null when pg_autoctl and PostgreSQL with the pg_auto_failover extension are installed; else what is missing. */
export function haPrerequisites(): string | null {
  const missing = [existsSync(PG_AUTOCTL) ? '' : PG_AUTOCTL, PG_BIN ? '' : `PostgreSQL binaries with ${EXTENSION}`].filter(Boolean);
  return missing.length === 0 ? null : `missing ${missing.join(', ')} (Debian: apt-get install ${HA_PACKAGES})`;
}

/** Polls a check that asks a server every 100 ms; a check that fails (the server is away) counts as "not yet". */
export function poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  return waitFor(what, () => check().catch(() => false), timeoutMs, 100);
}

/** One connection to one server, for the harness's own questions. */
const connect = (url: string) => new PgDatabase(url, { max: 1, connectTimeoutMs: 2000 });

/** Starts a cluster: monitor, then node1 (primary), then node2 (a pg_basebackup of it), then `databases`. */
export async function startHaCluster(options: { databases?: string[] } = {}): Promise<HaCluster> {
  if (!PG_BIN) throw new Error(haPrerequisites()!);
  const bin = PG_BIN;
  // Owned by the servers' user: pg_autoctl makes folders beside the data folders (backup/ for pg_basebackup).
  const root = ownedDir(mkdtempSync(join(tmpdir(), 'bazar-ha-')));
  execFileSync('chmod', ['755', root]);
  for (const dir of ['config', 'share', 'run', 'socket', 'log']) ownedDir(join(root, dir));
  const env = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: root,
    LANG: 'C.UTF-8',
    // pg_autoctl keeps its configuration and state under these, never in the postgres user's home.
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'share'),
    XDG_RUNTIME_DIR: join(root, 'run'),
    PGHOST: join(root, 'socket'),
  };
  const groups = new Set<ChildProcess>();
  const sweeps = new Set<Promise<void>>();
  const kill = (child: ChildProcess) => {
    const sweep = killGroup(child).finally(() => {
      sweeps.delete(sweep);
      groups.delete(child);
    });
    sweeps.add(sweep);
  };
  // On a crash or Ctrl-C of the test itself nothing async runs any more: one SIGKILL per group is all there is
  // time for (a signal ends Node without an 'exit' event, hence the handlers).
  const killGroups = () => groups.forEach((c) => signalGroup(c, 'SIGKILL'));
  const onSignal = (signal: NodeJS.Signals) => {
    killGroups();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', killGroups);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const run = (args: string[]) =>
    execFileSync(PG_AUTOCTL, args, { ...asPostgres, env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const runAsync = (args: string[], logName: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawnLogged(args, logName);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_autoctl ${args[0]} ${args[1]} exited ${code}; see ${logName}`))));
    });
  const spawnLogged = (args: string[], logName: string): ChildProcess => {
    const log = openSync(join(root, 'log', logName), 'a');
    // detached: its own process group (keeper, its services and the postmaster), which killNode ends at once.
    const child = spawn(PG_AUTOCTL, args, { ...asPostgres, env, cwd: root, stdio: ['ignore', log, log], detached: true });
    // Forgotten only once its group is empty (a group id is a PID, free to be reused by others after that).
    groups.add(child);
    child.once('exit', () => signalGroup(child, 0) || groups.delete(child));
    return child;
  };
  const keepers = new Map<string, ChildProcess>();
  const newDataDir = (dataDir: string, settings: string) => {
    new PostgresBinaries(bin).initdb(dataDir, { settings: TEST_SETTINGS + settings, noSync: true });
    // In postgresql.conf, not the auto file: pg_autoctl connects through this socket folder (PGHOST).
    appendFileSync(join(dataDir, 'postgresql.conf'), `unix_socket_directories = '${env.PGHOST}'\n`);
  };

  const [monitorPort, port1, port2] = await freePorts(3);
  const nodes: [HaNode, HaNode] = [
    { name: 'node1', port: port1, dataDir: join(root, 'node1') },
    { name: 'node2', port: port2, dataDir: join(root, 'node2') },
  ];
  const monitorUrl = `postgres://postgres@127.0.0.1:${monitorPort}/pg_auto_failover`;
  const monitorData = join(root, 'monitor');
  const common = ['--hostname', '127.0.0.1', '--listen', '127.0.0.1', '--auth', 'trust', '--no-ssl', '--pgctl', join(bin, 'pg_ctl')];
  const monitor = connect(monitorUrl);
  const startKeeper = (node: HaNode) => keepers.set(node.name, spawnLogged(['run', '--pgdata', node.dataDir], `${node.name}.log`));

  const states = () =>
    monitor.query<NodeState>(NODE_STATES_SQL);
  const byName = (name: string) => nodes.find((n) => n.name === name)!;
  /** Runs `sql` on `node` alone (its own connection, closed after). */
  const onNode = async <R extends object>(node: HaNode, sql: string): Promise<R[]> => {
    const db = connect(`postgres://postgres@127.0.0.1:${node.port}/postgres`);
    try {
      return await db.query<R>(sql);
    } finally {
      await db.close();
    }
  };

  const cluster: HaCluster = {
    nodes,
    monitorUrl,
    root,
    url: (database) => `postgres://postgres@${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}/${database}?target_session_attrs=read-write`,
    states,
    async primary() {
      const p = (await states()).find((s) => s.goal === 'primary' && s.reported === 'primary');
      if (!p) throw new Error('no primary right now');
      return byName(p.name);
    },
    killPostmaster(node) {
      const pid = postmasterPid(node);
      if (pid === undefined) throw new Error(`${node.name} has no running postmaster`);
      process.kill(pid, 'SIGKILL');
      return pid;
    },
    killNode(node) {
      const keeper = keepers.get(node.name);
      if (!keeper) throw new Error(`${node.name} is not running`);
      // Backends run in sessions of their own, outside the keeper's group; a dead machine takes them along too,
      // or they would answer their clients for a moment after the "death".
      const pid = postmasterPid(node);
      const backends = pid === undefined ? [] : childrenOf(pid);
      kill(keeper);
      for (const backend of backends) signalPid(backend, 'SIGKILL');
      keepers.delete(node.name);
    },
    restartNode(node) {
      if (keepers.has(node.name)) throw new Error(`${node.name} is already running`);
      startKeeper(node);
    },
    async waitForSync(timeoutMs = 60_000) {
      let pair: { primary: HaNode; standby: HaNode } | undefined;
      await poll('a primary with a streaming synchronous standby', timeoutMs, async () => {
        const settled = settledPair(await states());
        if (!settled) return false;
        const [{ n }] = await onNode<{ n: number }>(byName(settled.primary.name), SYNC_STANDBYS_SQL);
        pair = { primary: byName(settled.primary.name), standby: byName(settled.standby.name) };
        return n === 1;
      });
      return pair!;
    },
    async stop({ keepFiles = false } = {}) {
      groups.forEach(kill);
      await Promise.all(sweeps);
      process.removeListener('exit', killGroups);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      await monitor.close().catch(() => undefined);
      // Backends notice their postmaster's death and exit; wait for the data folders to be let go.
      await sleep(500);
      if (!keepFiles) rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    newDataDir(monitorData, setting('monitor.conf'));
    spawnLogged(['create', 'monitor', '--pgdata', monitorData, '--pgport', String(monitorPort), ...common, '--run'], 'monitor.log');
    await poll('the monitor', 30_000, async () => (await monitor.query('SELECT 1 FROM pgautofailover.formation')).length > 0);
    const monitorForNodes = `postgres://autoctl_node@127.0.0.1:${monitorPort}/pg_auto_failover?sslmode=disable`;
    const create = (node: HaNode) =>
      ['create', 'postgres', '--pgdata', node.dataDir, '--pgport', String(node.port), '--name', node.name, '--dbname', 'postgres', ...common, '--monitor', monitorForNodes];
    newDataDir(nodes[0].dataDir, setting('node.conf'));
    // Without --run, create registers and initialises the node and exits: then its timeout is set, then it runs.
    run(create(nodes[0]));
    for (const [key, value] of keeperSettings()) run(['config', 'set', '--pgdata', nodes[0].dataDir, key, value]);
    startKeeper(nodes[0]);
    await poll('node1 as single', 30_000, async () => (await states()).some((s) => s.reported === 'single'));
    // pg_basebackup waits for a spread checkpoint on the primary; ask for immediate ones until the copy starts.
    let copying = true;
    const nudge = (async () => {
      while (copying) {
        await onNode(nodes[0], 'CHECKPOINT').catch(() => undefined);
        await sleep(1000);
      }
    })();
    try {
      await runAsync(create(nodes[1]), 'node2-create.log');
    } finally {
      copying = false;
      await nudge;
    }
    for (const [key, value] of keeperSettings()) run(['config', 'set', '--pgdata', nodes[1].dataDir, key, value]);
    startKeeper(nodes[1]);
    await cluster.waitForSync(60_000);
    if (options.databases?.length) {
      const db = connect(cluster.url('postgres'));
      try {
        for (const name of options.databases) await db.query(`CREATE DATABASE ${name}`);
      } finally {
        await db.close();
      }
    }
    return cluster;
  } catch (err) {
    await cluster.stop({ keepFiles: true });
    throw new Error(`${err instanceof Error ? err.message : String(err)} (logs in ${join(root, 'log')})`);
  }
}

function postmasterPid(node: HaNode): number | undefined {
  try {
    const pid = Number(readFileSync(join(node.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
