/**
 * A topology of provision/hosts.json as booted systemd guests on one private network, provisioned the way the
 * Vagrantfile does it. The network is a NetnsLab: one namespace per guest with its hosts.json address, plus `host`
 * (the Vagrant host's address, where a laptop sits on a host-only network) and `stranger` (an address on the same
 * network that no role lists as a client). Every request is made from one of those namespaces; the test's own
 * namespace has no route into the lab.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Guest } from './guest';
import { NetnsLab, mustRun, run, type CommandResult } from './netns-lab';
import type { LabAuditRequest } from './lab-audit';
import type { LabShopperOptions, LabShopperReport } from './lab-shopper';
import { GUEST_NPM_CACHE } from './rootfs';

export type AppRole = 'catalog' | 'order' | 'frontend';
export type DbRole = 'pg-monitor' | 'pg-node';
export interface TopologyGuest {
  name: string;
  role: AppRole | DbRole;
  ip: string;
  port: number;
}
export interface Topology {
  name: string;
  network: string;
  hostIp: string;
  roles: Record<TopologyGuest['role'], { port: number; clients: string[]; database?: string }>;
  guests: TopologyGuest[];
}
interface TopologyModule {
  APP_ROLES: AppRole[];
  loadTopology(options: { file?: string; name?: string; network?: string }): Topology;
  allowedSources(topology: Topology, role: TopologyGuest['role']): string[] | undefined;
  nftRuleset(topology: Topology, guest: string): string;
  guestEnv(topology: Topology, guest: string): Record<string, string | number>;
  databaseUrlOf(topology: Topology, role: TopologyGuest['role']): string | undefined;
}
/** provision/topology.js: the same reading of hosts.json the guests' scripts use. */
export const topologyModule = require('../../provision/topology') as TopologyModule;

export interface ProbeRequest {
  method?: 'GET' | 'POST' | 'PUT';
  /** An http:// URL, or tcp://ip:port for a bare TCP connect (a database port). */
  url: string;
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  timeoutMs?: number;
}
export interface ProbeResult {
  status?: number;
  /** tcp:// only: the connection was accepted. */
  connected?: boolean;
  error?: string;
  ms: number;
  json?: any;
}

/** What one guest's provisioning ran: the Vagrantfile's provisioners by name (app or postgres, by role). */
export interface Provisioned {
  node: CommandResult;
  firewall: CommandResult;
  app?: CommandResult;
  postgres?: CommandResult;
  /** Seconds each step took, for the timings line ("node 3.1 s, firewall 0.4 s, app 40.2 s"). */
  steps: string;
}

export interface GuestLabOptions {
  /**
   * Namespaces `client1` … `clientN` at free addresses, for shoppers: the frontend lets each client address make 60
   * buys a minute (BUY_RATE_LIMIT_MAX), so load that should not meet that limit comes from several.
   */
  clients?: number;
  /**
   * A host folder every service guest mounts at BUILD_SHARE, writable only by `writer`: where the replicated test
   * puts one guest's /opt/bazar for the others' BAZAR_APP_FROM.
   */
  buildShare?: { dir: string; writer: string };
}

export interface ProvisionOptions {
  /** install-app.sh's BAZAR_APP_FROM: an install made in another guest, under BUILD_SHARE. */
  appFrom?: string;
  /** Settles when that install is there: install-app.sh waits for it, install-node.sh and the firewall do not. */
  appAfter?: Promise<unknown>;
}

/** Where the service guests see GuestLabOptions.buildShare. */
export const BUILD_SHARE = '/var/cache/bazar-build';

/** Where the Vagrantfile's provisioners read the project: the share every guest mounts. */
const SHARE = '/vagrant';
const PROBE = join(__dirname, 'http-probe.js');
const SHOPPER = join(__dirname, 'lab-shopper.ts');
const AUDIT = join(__dirname, 'lab-audit.ts');

export interface E2eReport {
  stats: { passes: number; pending: number };
  tests: Array<{ title: string }>;
  failures: Array<{ title: string; err: { message: string } }>;
}

/** The e2e suite passed, with nothing pending, and covered search, lookup, buy, out of stock and restock. */
export function expectE2ePassed(code: number | null, report: E2eReport): void {
  expect(report.failures.map((f) => `${f.title}: ${f.err.message}`)).to.deep.equal([]);
  expect(code).to.equal(0);
  expect(report.stats.pending).to.equal(0);
  const titles = report.tests.map((t) => t.title).join('\n');
  for (const topic of [/searching a topic/, /looking up a book/, /buying a book/, /past its stock/, /restock/]) expect(titles).to.match(topic);
}

export class GuestLab {
  readonly net: NetnsLab;
  readonly guests = new Map<string, Guest>();
  /** The shared secret, as a laptop keeps it: a file outside the project (the Vagrantfile's ~/.bazar/<clone>.token). */
  readonly token = randomBytes(32).toString('hex');
  /** The database password, kept like the token (the Vagrantfile's ~/.bazar/<clone>.db-password). */
  readonly dbPassword = randomBytes(24).toString('hex');
  readonly strangerIp: string;
  /** The client namespaces' names (GuestLabOptions.clients). */
  readonly clients: string[];

  constructor(
    readonly topology: Topology,
    readonly prefix: string,
    readonly stateDir: string,
    rootfs: string,
    npmCache: string,
    projectRoot: string,
    options: GuestLabOptions = {},
  ) {
    const taken = new Set([topology.hostIp, ...topology.guests.map((g) => g.ip)]);
    const base = topology.network.replace(/\.\d+\/\d+$/, '.');
    const free = [...Array(200).keys()].map((i) => `${base}${250 - i}`).filter((ip) => !taken.has(ip));
    const clients = options.clients ?? 0;
    if (free.length < 1 + clients) throw new Error(`not enough free addresses for the stranger and ${clients} clients in ${topology.network}`);
    this.strangerIp = free[0];
    this.clients = Array.from({ length: clients }, (_, i) => `client${i + 1}`);
    this.net = new NetnsLab(prefix, topology.network, [
      ...topology.guests.map((g) => ({ name: g.name, ip: g.ip })),
      { name: 'host', ip: topology.hostIp },
      { name: 'stranger', ip: this.strangerIp },
      ...this.clients.map((name, i) => ({ name, ip: free[1 + i] })),
    ]);
    const share = options.buildShare;
    if (share) mkdirSync(share.dir, { recursive: true });
    for (const g of topology.guests) {
      const build = share && topologyModule.APP_ROLES.includes(g.role as AppRole) ? [{ host: share.dir, guest: BUILD_SHARE }] : [];
      this.guests.set(g.name, new Guest({
        name: g.name,
        rootfs,
        stateDir: join(stateDir, g.name),
        netns: this.net.ns(g.name),
        hostname: `bazar-${g.name}`,
        readOnlyBinds: [{ host: projectRoot, guest: SHARE }, ...(share?.writer === g.name ? [] : build)],
        writableBinds: share?.writer === g.name ? build : [],
        scratchOverlays: [{ host: npmCache, guest: GUEST_NPM_CACHE }],
      }));
    }
  }

  guest(name: string): Guest {
    const guest = this.guests.get(name);
    if (!guest) throw new Error(`no guest ${name}`);
    return guest;
  }

  guestsOf(role: TopologyGuest['role']): TopologyGuest[] {
    return this.topology.guests.filter((g) => g.role === role);
  }

  /** The topology's guest of that name. */
  spec(name: string): TopologyGuest {
    const g = this.topology.guests.find((x) => x.name === name);
    if (!g) throw new Error(`no guest ${name} in topology ${this.topology.name}`);
    return g;
  }

  url(guest: TopologyGuest): string {
    return `http://${guest.ip}:${guest.port}`;
  }

  /** The network, then each guest's own files (hostname), then all guests booted at once. */
  async create(): Promise<string> {
    await this.net.create();
    const isolation = await this.net.verifyIsolation();
    for (const g of this.topology.guests) {
      const etc = join(this.guest(g.name).upperDir, 'etc');
      mkdirSync(etc, { recursive: true });
      writeFileSync(join(etc, 'hostname'), `bazar-${g.name}\n`);
    }
    return isolation;
  }

  async bootAll(): Promise<Array<{ name: string; state: string; failed: string }>> {
    return Promise.all(this.topology.guests.map(async (g) => ({ name: g.name, ...(await this.guest(g.name).boot()) })));
  }

  async shutdownAll(): Promise<void> {
    await Promise.all([...this.guests.values()].map((guest) => guest.shutdown()));
  }

  /**
   * `vagrant provision <guest>`: the Vagrantfile's three shell provisioners, as root, with the environment it gives
   * each. A service guest: install-node.sh, install-firewall.sh, install-app.sh; a database guest: install-node.sh
   * --node-only, install-firewall.sh, install-postgres-ha.sh. The token and the database password travel only in
   * the last one's environment, as the Vagrantfile's `env:` sends them. `appFrom` is install-app.sh's
   * BAZAR_APP_FROM, which the Vagrantfile never sets (the replicated test's shortcut, said where it is used), and
   * `appAfter` what install-app.sh waits for (that install being made), the two scripts before it running meanwhile.
   */
  async provision(g: TopologyGuest, { appFrom, appAfter }: ProvisionOptions = {}): Promise<Provisioned> {
    const guest = this.guest(g.name);
    const env = { BAZAR_SRC: SHARE, BAZAR_TOPOLOGY: this.topology.name };
    const script = (name: string) => `${SHARE}/provision/${name}`;
    const withDatabase = this.guestsOf('pg-node').length > 0;
    const database = g.role === 'pg-monitor' || g.role === 'pg-node';
    // Like Vagrant, a provisioner that fails stops the ones after it.
    const steps: Array<['node' | 'firewall' | 'app' | 'postgres', () => Promise<CommandResult>]> = [
      ['node', () => guest.exec(['bash', script('install-node.sh'), ...(database ? ['--node-only'] : [])], { env, timeoutMs: 300_000 })],
      ['firewall', () => guest.exec(['bash', script('install-firewall.sh'), g.name], { env, timeoutMs: 60_000 })],
    ];
    if (database) {
      steps.push(['postgres', () => guest.exec(['bash', script('install-postgres-ha.sh'), g.role.replace(/^pg-/, '')], {
        env: { ...env, BAZAR_GUEST: g.name, ...(g.role === 'pg-node' ? { BAZAR_DB_PASSWORD: this.dbPassword } : {}) },
        timeoutMs: 900_000,
      })]);
    } else {
      steps.push(['app', () => guest.exec(['bash', script('install-app.sh'), g.role], {
        env: {
          ...env, BAZAR_GUEST: g.name, BAZAR_USER: 'vagrant', BAZAR_TOKEN: this.token,
          ...(withDatabase && (g.role === 'catalog' || g.role === 'order') ? { BAZAR_DB_PASSWORD: this.dbPassword } : {}),
          ...(appFrom ? { BAZAR_APP_FROM: appFrom } : {}),
        },
        timeoutMs: 900_000,
      })]);
    }
    const results: Partial<Provisioned> = {};
    const took: string[] = [];
    for (const [name, step] of steps) {
      if (name === 'app' && appAfter) {
        const waiting = Date.now();
        await appAfter;
        took.push(`waited ${((Date.now() - waiting) / 1000).toFixed(1)} s`);
      }
      const started = Date.now();
      const result = await step();
      took.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
      results[name] = result;
      if (result.code !== 0) {
        const journal = await guest.exec(['journalctl', '--no-pager', '-n', '40']);
        throw new Error(`provisioning ${g.name} failed at ${name}:\n${result.stdout}\n${result.stderr}\n--- journal ---\n${journal.stdout}`);
      }
    }
    return { ...results, steps: took.join(', ') } as Provisioned;
  }

  /** The end-to-end suite (test/e2e) from the host's namespace against a frontend and a catalog guest. */
  async runE2e(projectRoot: string, frontend: TopologyGuest, catalog: TopologyGuest): Promise<{ code: number | null; report: E2eReport }> {
    const mocha = join(projectRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const result = await run('ip', this.net.exec('host', process.execPath, mocha, '--no-config', '--require', 'ts-node/register/transpile-only',
      '--extension', 'ts', '--timeout', '20000', '--reporter', 'json', 'test/e2e/store.e2e.test.ts'), {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BAZAR_URL: this.url(frontend), BAZAR_CATALOG_URL: this.url(catalog), BAZAR_TOKEN: this.token },
      timeoutMs: 180_000,
    });
    return { code: result.code, report: JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as E2eReport };
  }

  /**
   * Shoppers buying and looking up (lab-shopper.ts), one process in each of the namespaces `from`, until stop(),
   * which lets the buys under way finish and returns every buy's history and every lookup.
   */
  startShoppers(from: string[], options: Omit<LabShopperOptions, 'keyPrefix'> & { keyPrefix: string }): { stop: () => Promise<LabShopperReport> } {
    const shoppers = from.map((ns) => this.startShopper(ns, { ...options, keyPrefix: `${options.keyPrefix}-${ns}` }));
    return {
      stop: async () => {
        const reports = await Promise.all(shoppers.map((s) => s.stop()));
        return { histories: reports.flatMap((r) => r.histories), lookups: reports.flatMap((r) => r.lookups) };
      },
    };
  }

  private startShopper(from: string, options: LabShopperOptions): { stop: () => Promise<LabShopperReport> } {
    const shopper = this.nodeIn(from, SHOPPER, [JSON.stringify(options)]);
    return {
      stop: async () => {
        shopper.child.stdin.end();
        const timer = setTimeout(() => shopper.child.kill('SIGKILL'), 120_000);
        const { code, stdout, stderr } = await shopper.done;
        clearTimeout(timer);
        if (code !== 0) throw new Error(`the shoppers exited with ${code}:\n${stderr}`);
        return JSON.parse(stdout) as LabShopperReport;
      },
    };
  }

  /**
   * The store's databases as its catalog and order guests reach them (multi-host URLs, the password in them), read
   * from `from`, a namespace the database guests let in: every order id, or the chaos suite's audit (lab-audit.ts).
   */
  async audit(from: string, request: LabAuditRequest): Promise<unknown> {
    const audit = this.nodeIn(from, AUDIT, []);
    audit.child.stdin.end(JSON.stringify(request));
    const timer = setTimeout(() => audit.child.kill('SIGKILL'), 120_000);
    const { code, stdout, stderr } = await audit.done;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`the audit exited with ${code}:\n${stderr}`);
    return JSON.parse(stdout);
  }

  /** A service's DATABASE_URL as hosts.json gives it (topology.js), with the password in it, for lab-audit.ts. */
  databaseUrl(role: 'catalog' | 'order'): string {
    const url = topologyModule.databaseUrlOf(this.topology, role);
    if (!url) throw new Error(`topology ${this.topology.name} has no database guests`);
    return url.replace(/^(postgres:\/\/[^@:/]+)@/, (_all, head: string) => `${head}:${this.dbPassword}@`);
  }

  /** One of this project's TypeScript scripts run by the host's Node in a namespace of the lab, its stdin a pipe. */
  private nodeIn(from: string, script: string, args: string[]) {
    const child = spawn('ip', this.net.exec(from, process.execPath, '-r', 'ts-node/register/transpile-only', script, ...args), {
      cwd: join(__dirname, '..', '..'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.once('close', (code) => resolve({ code, stdout, stderr })),
    );
    return { child, done };
  }

  /** Requests made one after another from a namespace of the lab: `host`, `stranger` or a guest's. */
  async probe(from: string, requests: ProbeRequest[]): Promise<ProbeResult[]> {
    const out = await mustRun('ip', this.net.exec(from, process.execPath, PROBE, JSON.stringify(requests)), { timeoutMs: 90_000 });
    return JSON.parse(out) as ProbeResult[];
  }

  /** A clean poweroff of every guest still running (SIGKILL for one that does not stop), then the network. */
  async destroy(): Promise<string[]> {
    const stopped = await Promise.allSettled([...this.guests.values()].map((guest) => guest.shutdown(30_000)));
    const notes = stopped.flatMap((r) => (r.status === 'rejected' ? [String(r.reason?.message ?? r.reason).split('\n')[0]] : []));
    for (const guest of this.guests.values()) guest.kill();
    await Promise.all([...this.guests.values()].map((guest) => guest.waitExited(10_000)));
    for (const guest of this.guests.values()) await guest.removeCgroup();
    notes.push(...(await this.net.destroy()));
    // Each guest's disk (and the build share) removed at once: one after the other took three times as long here,
    // mostly waiting on the disk (about 20 s for six installs' node_modules).
    const entries = existsSync(this.stateDir) ? readdirSync(this.stateDir) : [];
    await Promise.all(entries.map((entry) => rm(join(this.stateDir, entry), { recursive: true, force: true })));
    rmSync(this.stateDir, { recursive: true, force: true });
    return notes;
  }
}
