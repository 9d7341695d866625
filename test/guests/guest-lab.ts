/**
 * A topology of provision/hosts.json as booted systemd guests on one private network, provisioned the way the
 * Vagrantfile does it. The network is a NetnsLab: one namespace per guest with its hosts.json address, plus `host`
 * (the Vagrant host's address, where a laptop sits on a host-only network) and `stranger` (an address on the same
 * network that no role lists as a client). Every request is made from one of those namespaces; the test's own
 * namespace has no route into the lab.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Guest } from './guest';
import { NetnsLab, mustRun, type CommandResult } from './netns-lab';
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
}
/** provision/topology.js: the same reading of hosts.json the guests' scripts use. */
export const topologyModule = require('../../provision/topology') as TopologyModule;

export interface ProbeRequest {
  method?: 'GET' | 'POST' | 'PUT';
  url: string;
  token?: string;
  timeoutMs?: number;
}
export interface ProbeResult {
  status?: number;
  error?: string;
  ms: number;
  json?: any;
}

/** Where the Vagrantfile's provisioners read the project: the share every guest mounts. */
const SHARE = '/vagrant';
const PROBE = join(__dirname, 'http-probe.js');

export class GuestLab {
  readonly net: NetnsLab;
  readonly guests = new Map<string, Guest>();
  /** The shared secret, as a laptop keeps it: a file outside the project (the Vagrantfile's ~/.bazar/<clone>.token). */
  readonly token = randomBytes(32).toString('hex');
  readonly strangerIp: string;

  constructor(
    readonly topology: Topology,
    readonly prefix: string,
    readonly stateDir: string,
    rootfs: string,
    npmCache: string,
    projectRoot: string,
  ) {
    const taken = new Set([topology.hostIp, ...topology.guests.map((g) => g.ip)]);
    const base = topology.network.replace(/\.\d+\/\d+$/, '.');
    const free = [...Array(200).keys()].map((i) => `${base}${250 - i}`).find((ip) => !taken.has(ip));
    if (!free) throw new Error(`no free address for the stranger in ${topology.network}`);
    this.strangerIp = free;
    this.net = new NetnsLab(prefix, topology.network, [
      ...topology.guests.map((g) => ({ name: g.name, ip: g.ip })),
      { name: 'host', ip: topology.hostIp },
      { name: 'stranger', ip: this.strangerIp },
    ]);
    for (const g of topology.guests) {
      this.guests.set(g.name, new Guest({
        name: g.name,
        rootfs,
        stateDir: join(stateDir, g.name),
        netns: this.net.ns(g.name),
        hostname: `bazar-${g.name}`,
        readOnlyBinds: [{ host: projectRoot, guest: SHARE }],
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
   * each. The token travels only in the app provisioner's environment, as the Vagrantfile's `env:` sends it.
   */
  async provision(g: TopologyGuest): Promise<{ node: CommandResult; firewall: CommandResult; app: CommandResult }> {
    const guest = this.guest(g.name);
    const env = { BAZAR_SRC: SHARE, BAZAR_TOPOLOGY: this.topology.name };
    const script = (name: string) => `${SHARE}/provision/${name}`;
    // Like Vagrant, a provisioner that fails stops the ones after it.
    const steps: Array<[string, () => Promise<CommandResult>]> = [
      ['node', () => guest.exec(['bash', script('install-node.sh')], { env, timeoutMs: 300_000 })],
      ['firewall', () => guest.exec(['bash', script('install-firewall.sh'), g.name], { env, timeoutMs: 60_000 })],
      ['app', () => guest.exec(['bash', script('install-app.sh'), g.role], {
        env: { ...env, BAZAR_GUEST: g.name, BAZAR_USER: 'vagrant', BAZAR_TOKEN: this.token },
        timeoutMs: 900_000,
      })],
    ];
    const results: Record<string, CommandResult> = {};
    for (const [name, step] of steps) {
      const result = await step();
      results[name] = result;
      if (result.code !== 0) {
        const journal = await guest.exec(['journalctl', '--no-pager', '-n', '40']);
        throw new Error(`provisioning ${g.name} failed at ${name}:\n${result.stdout}\n${result.stderr}\n--- journal ---\n${journal.stdout}`);
      }
    }
    return results as { node: CommandResult; firewall: CommandResult; app: CommandResult };
  }

  /** Requests made one after another from a namespace of the lab: `host`, `stranger` or a guest's. */
  async probe(from: string, requests: ProbeRequest[]): Promise<ProbeResult[]> {
    const out = await mustRun('ip', this.net.exec(from, process.execPath, PROBE, JSON.stringify(requests)), { timeoutMs: 90_000 });
    return JSON.parse(out) as ProbeResult[];
  }

  /** A clean poweroff of every guest still running (SIGKILL for one that does not stop), then the network. */
  async destroy(): Promise<string[]> {
    await Promise.allSettled([...this.guests.values()].map((guest) => guest.shutdown(30_000)));
    for (const guest of this.guests.values()) guest.kill();
    await Promise.all([...this.guests.values()].map((guest) => guest.waitExited(10_000)));
    const notes = await this.net.destroy();
    rmSync(this.stateDir, { recursive: true, force: true });
    return notes;
  }
}
