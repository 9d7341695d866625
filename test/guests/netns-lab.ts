/**
 * A private network made of Linux network namespaces: one namespace per host, each with one `eth0` plugged into a
 * bridge that lives in a namespace of its own. Nothing is added to the root namespace (no interface, no address,
 * no route) and no namespace gets a default route, so a packet sent inside the lab can only reach the lab.
 * Needs root and iproute2.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface LabHost {
  name: string;
  ip: string;
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, never rejecting: the caller decides what a non-zero exit means. */
export function run(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like run(), but a non-zero exit is an error that carries the command's output. */
export async function mustRun(cmd: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<string> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

function ip(...args: string[]): Promise<string> {
  return mustRun('ip', args, { timeoutMs: 15_000 });
}

/** Why this machine cannot build the lab, or undefined when it can. */
export async function labUnavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'it needs root to create network namespaces';
  const probe = await new Promise<string | undefined>((resolve) =>
    execFile('ip', ['-V'], (err) => resolve(err ? 'iproute2 (`ip`) is not installed' : undefined)),
  );
  if (probe) return probe;
  const name = `bazar-probe-${process.pid}`;
  const add = await run('ip', ['netns', 'add', name]);
  if (add.code !== 0) return `this machine refuses to create network namespaces: ${add.stderr.trim()}`;
  await run('ip', ['netns', 'del', name]);
  return undefined;
}

/**
 * Deletes namespaces named `<prefix><pid>-…` whose test process (that PID) is gone, after SIGKILLing what still runs
 * in them: what a run interrupted before its teardown (Ctrl-C, a killed CI job) left behind. Returns what it did.
 */
export async function removeStaleLabs(prefix: string): Promise<string[]> {
  const notes: string[] = [];
  const names = (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((line) => line.split(/\s+/)[0])
    .filter((name) => name?.startsWith(prefix));
  for (const name of names) {
    const owner = Number(/^\D+(\d+)-/.exec(name)?.[1]);
    if (!owner || processAlive(owner)) continue;
    const pids = (await run('ip', ['netns', 'pids', name])).stdout.split(/\s+/).filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', name]);
    notes.push(`removed stale namespace ${name}${pids.length ? ` and its ${pids.length} processes` : ''}`);
  }
  return notes;
}

/** True while the process exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ipv4ToInt(address: string): number {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not IPv4: ${address}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function parseCidr(cidr: string): { base: number; bits: number } {
  const [address, bits = '32'] = cidr.split('/');
  return { base: ipv4ToInt(address), bits: Number(bits) };
}

/** True when the two IPv4 prefixes share any address. */
export function prefixesOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  const bits = Math.min(x.bits, y.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((x.base & mask) >>> 0) === ((y.base & mask) >>> 0);
}

const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'throw', 'unreachable', 'prohibit', 'blackhole', 'nat', 'anycast']);

/** The destination prefixes of `ip route show` output ("default" for a default route). */
export function routeDestinations(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((tokens) => tokens[0])
    .map((tokens) => (ROUTE_TYPES.has(tokens[0]) ? tokens[1] : tokens[0]));
}

export class NetnsLab {
  /** Namespace of the bridge that joins the hosts. */
  readonly switchNs: string;
  private readonly created: string[] = [];

  constructor(
    private readonly prefix: string,
    readonly network: string,
    readonly hosts: LabHost[],
  ) {
    this.switchNs = `${prefix}-net`;
  }

  ns(host: string): string {
    return `${this.prefix}-${host}`;
  }

  allNamespaces(): string[] {
    return [this.switchNs, ...this.hosts.map((h) => this.ns(h.name))];
  }

  /** Every namespace first (IPv6 off, so no router solicitations or DAD), then the wiring. */
  async create(): Promise<void> {
    const prefixLength = this.network.split('/')[1];
    for (const ns of this.allNamespaces()) {
      await ip('netns', 'add', ns);
      this.created.push(ns);
      if (existsSync('/proc/sys/net/ipv6')) {
        for (const scope of ['all', 'default']) {
          await mustRun('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 1 > /proc/sys/net/ipv6/conf/${scope}/disable_ipv6`]);
        }
      }
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await ip('-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', this.switchNs, 'link', 'set', 'br0', 'up');
    for (const host of this.hosts) {
      const ns = this.ns(host.name);
      // Created inside the switch namespace with the peer born in the host's: never an interface in the root one.
      await ip('-n', this.switchNs, 'link', 'add', this.port(host.name), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ip('-n', this.switchNs, 'link', 'set', this.port(host.name), 'master', 'br0', 'up');
      await ip('-n', ns, 'addr', 'add', `${host.ip}/${prefixLength}`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    }
  }

  /**
   * Throws unless no lab namespace has a default route (IPv4 or IPv6, any table) and the root namespace has no
   * route into, and no address in, the lab's network. Call it before anything sends a packet. Returns a summary.
   */
  async verifyIsolation(): Promise<string> {
    const problems: string[] = [];
    for (const ns of this.allNamespaces()) {
      for (const family of ['-4', '-6']) {
        const routes = await ip('-n', ns, family, 'route', 'show', 'table', 'all');
        const defaults = routeDestinations(routes).filter((d) => d === 'default' || d === '0.0.0.0/0' || d === '::/0');
        if (defaults.length > 0) problems.push(`namespace ${ns} has a default route (${family}):\n${routes}`);
      }
    }
    const rootRoutes = await ip('-4', 'route', 'show', 'table', 'all');
    const intoLab = routeDestinations(rootRoutes).filter(
      (d) => d !== 'default' && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(d) && parseCidr(d).bits > 0 && prefixesOverlap(d, this.network),
    );
    if (intoLab.length > 0) problems.push(`the root namespace has routes into ${this.network}: ${intoLab.join(', ')}`);
    const rootAddresses = (await ip('-4', '-o', 'addr', 'show'))
      .split('\n')
      .map((line) => /inet (\d+\.\d+\.\d+\.\d+)\//.exec(line)?.[1])
      .filter((a): a is string => a !== undefined && prefixesOverlap(`${a}/32`, this.network));
    if (rootAddresses.length > 0) problems.push(`the root namespace has addresses in ${this.network}: ${rootAddresses.join(', ')}`);
    if (problems.length > 0) throw new Error(`the lab is not isolated:\n${problems.join('\n')}`);
    return `${this.allNamespaces().length} namespaces without a default route; no route or address into ${this.network} in the root namespace`;
  }

  /** Unplugs (or plugs back) a host's cable at the switch; the host itself keeps its address and routes. */
  async setLink(host: string, up: boolean): Promise<void> {
    await ip('-n', this.switchNs, 'link', 'set', this.port(host), up ? 'up' : 'down');
  }

  /** Arguments for `ip` that run a command inside a host's namespace: run('ip', lab.exec('client', 'node', ...)). */
  exec(host: string, ...argv: string[]): string[] {
    return ['netns', 'exec', this.ns(host), ...argv];
  }

  /** The namespace a process lives in, by PID ('' when none of the named ones). */
  async namespaceOf(pid: number): Promise<string> {
    return (await run('ip', ['netns', 'identify', String(pid)])).stdout.trim();
  }

  /** SIGKILLs whatever still runs in the lab's namespaces (only the lab's own processes can be there), then deletes them. */
  async destroy(): Promise<string[]> {
    const notes: string[] = [];
    for (const ns of [...this.created].reverse()) {
      const pids = (await run('ip', ['netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
          notes.push(`killed leftover PID ${pid} in ${ns}`);
        } catch {
          // already gone
        }
      }
    }
    for (const ns of [...this.created].reverse()) {
      const result = await run('ip', ['netns', 'del', ns]);
      if (result.code !== 0) notes.push(`could not delete namespace ${ns}: ${result.stderr.trim()}`);
    }
    this.created.length = 0;
    return notes;
  }

  private port(host: string): string {
    return `v-${host}`.slice(0, 15);
  }
}
