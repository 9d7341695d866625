/**
 * One systemd guest, as close to a Vagrant VM as this machine allows without a hypervisor: a Debian root filesystem
 * shared read-only by every guest, with the guest's own overlay layer on top (kept across reboots, as a VM's disk
 * is), booted by systemd-nspawn with systemd as PID 1 inside a network namespace the lab made. The overlay is mounted
 * in a private mount namespace (`unshare --mount`), so it disappears with the guest and nothing is left mounted on
 * the machine. Commands run inside it with nsenter, like `vagrant ssh -c`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive, run, type CommandResult } from './netns-lab';
import { setTimeout as sleep } from 'node:timers/promises';

export interface GuestOptions {
  name: string;
  /** The shared, read-only lower layer. */
  rootfs: string;
  /** This guest's folder on the host: upper/ (its disk), work/, merged/, console.log. */
  stateDir: string;
  netns: string;
  hostname: string;
  /** Host folders bind-mounted read-only, like Vagrant's /vagrant share. */
  readOnlyBinds: Array<{ host: string; guest: string }>;
  /** Host folders bind-mounted writable (a test's staging area between guests). */
  writableBinds?: Array<{ host: string; guest: string }>;
  /** Host folders the guest sees writable through a throwaway overlay (the host copy never changes). */
  scratchOverlays: Array<{ host: string; guest: string }>;
}

export interface ExecOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run as this guest user instead of root. */
  user?: string;
}

const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Whether `promise` settles within `ms`. The timer is cleared either way: left running, a minute's timer of a guest
 * that stopped at once held the test process open that long after its last test.
 */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Shell that runs `$2` with the unified (v2) cgroup hierarchy mounted at $CG2 for a moment, in a private mount
 * namespace of its own (nothing is mounted on the machine), and the v1 name=systemd hierarchy, if any, at $CG1.
 */
const WITH_CGROUPS = 'CG1=/sys/fs/cgroup/systemd; [ -e "$CG1/cgroup.procs" ] || CG1=; CG2=$(mktemp -d) && ' +
  'mount -t cgroup2 cgroup2 "$CG2" && { eval "$2"; status=$?; umount "$CG2"; rmdir "$CG2"; exit $status; }';

/** Removes the cgroup `$1` and everything below it, deepest first, in both hierarchies (only empty ones go). */
const REMOVE_CGROUP = 'for root in "$CG2" $CG1; do [ ! -d "$root/$1" ] || find "$root/$1" -depth -type d -exec rmdir {} + 2>/dev/null; done; true';

function withCgroups(script: string, arg: string): Promise<CommandResult> {
  return run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', WITH_CGROUPS, 'sh', arg, script]);
}

/** Removes the cgroups of guests whose namespaces (`<prefix><pid>-…`) belonged to a test process that is gone. */
export async function removeStaleCgroups(prefix: string): Promise<string[]> {
  const listed = await withCgroups('ls "$CG2" $CG1', '');
  const owners = new Map<string, number>();
  for (const entry of listed.stdout.split(/\s+/)) {
    const owner = Number(new RegExp(`^bazar-${prefix}(\\d+)-`).exec(entry)?.[1]);
    if (owner && !processAlive(owner)) owners.set(entry, owner);
  }
  for (const entry of owners.keys()) await withCgroups(REMOVE_CGROUP, entry);
  return [...owners.keys()].map((entry) => `removed stale cgroup ${entry}`);
}

export class Guest {
  private nspawn: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private pid1 = 0;

  constructor(readonly opts: GuestOptions) {}

  get upperDir(): string {
    return join(this.opts.stateDir, 'upper');
  }

  get consoleLog(): string {
    return join(this.opts.stateDir, 'console.log');
  }

  get running(): boolean {
    return this.nspawn !== undefined && this.nspawn.exitCode === null && this.nspawn.signalCode === null;
  }

  /** Boots the guest and waits until systemd says the system is up; returns the state and any failed units. */
  async boot(timeoutMs = 90_000): Promise<{ state: string; failed: string }> {
    const { stateDir, rootfs, netns, hostname } = this.opts;
    for (const dir of ['upper', 'work', 'merged', 'tmp']) mkdirSync(join(stateDir, dir), { recursive: true });
    // This shell becomes nspawn (exec): first into its own cgroup in both hierarchies (see cgroupName), then the
    // guest's disk, then the boot.
    const intoCgroup = 'mkdir -p "$CG2/$1" && echo $$ > "$CG2/$1/cgroup.procs" && ' +
      '{ [ -z "$CG1" ] || { mkdir -p "$CG1/$1" && echo $$ > "$CG1/$1/cgroup.procs"; }; } && umount "$CG2" && rmdir "$CG2"';
    const mountThenBoot = `CG1=/sys/fs/cgroup/systemd; [ -e "$CG1/cgroup.procs" ] || CG1=; CG2=$(mktemp -d) && mount -t cgroup2 cgroup2 "$CG2" && ${intoCgroup} && ` +
      'mount -t overlay overlay -o "lowerdir=$2,upperdir=$3,workdir=$4" "$5" && shift 5 && exec "$@"';
    const nspawnArgs = [
      'systemd-nspawn', '-D', join(stateDir, 'merged'), '--boot', '--register=no', '--keep-unit',
      `--network-namespace-path=/run/netns/${netns}`, `--hostname=${hostname}`, '--console=read-only',
      // Root in a VM may change its own firewall; nspawn drops this capability unless asked (it covers only the
      // guest's own network namespace).
      '--capability=CAP_NET_ADMIN',
      ...this.opts.readOnlyBinds.map((b) => `--bind-ro=${b.host}:${b.guest}`),
      ...(this.opts.writableBinds ?? []).map((b) => `--bind=${b.host}:${b.guest}`),
      ...this.opts.scratchOverlays.map((o) => `--overlay=${o.host}::${o.guest}`),
    ];
    const log = openSync(this.consoleLog, 'a');
    await this.removeCgroup();
    const child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', mountThenBoot, 'sh', this.cgroupName,
        rootfs, join(stateDir, 'upper'), join(stateDir, 'work'), join(stateDir, 'merged'), ...nspawnArgs],
      // Without a host systemd, nspawn needs --register=no --keep-unit, and a writable /proc/sys for the guest.
      // TMPDIR: nspawn keeps a --overlay's writable layer in a temporary folder, which a guest killed with SIGKILL
      // (a dead machine, teardown) leaves behind; under the guest's folder it goes with the rest at destroy().
      { stdio: ['ignore', log, log], env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: '1', TMPDIR: join(stateDir, 'tmp') } },
    );
    closeSync(log);
    this.nspawn = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.pid1 = 0;

    const deadline = Date.now() + timeoutMs;
    while (!this.pid1) {
      if (!this.running) throw new Error(`guest ${this.opts.name} did not boot:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`guest ${this.opts.name}: no PID 1 after ${timeoutMs} ms\n${this.tail()}`);
      this.pid1 = await this.findPid1();
      if (!this.pid1) await sleep(100);
    }
    // Until systemd is up as PID 1 with its socket, systemctl says nothing or 'offline': ask again.
    let wait = await this.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(5000, deadline - Date.now()) });
    while (['', 'offline'].includes(wait.stdout.trim()) && Date.now() < deadline && this.running) {
      await sleep(200);
      wait = await this.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: Math.max(5000, deadline - Date.now()) });
    }
    const state = wait.stdout.trim();
    if (state !== 'running' && state !== 'degraded') {
      throw new Error(`guest ${this.opts.name} is '${state}' after booting\n${wait.stderr}\n${this.tail()}`);
    }
    const failed = state === 'degraded' ? (await this.exec(['systemctl', '--failed', '--no-legend', '--plain'])).stdout.trim() : '';
    return { state, failed };
  }

  /** Runs a command in the guest, like `vagrant ssh -c`: only the given environment, never the test's. */
  exec(argv: string[], options: ExecOptions = {}): Promise<CommandResult> {
    if (!this.pid1) throw new Error(`guest ${this.opts.name} is not running`);
    const user = options.user;
    const home = user ? `/home/${user}` : '/root';
    const command = user ? ['runuser', '-u', user, '--', ...argv] : argv;
    // The environment travels as the process's environment, not in argv: a token stays out of `ps` on the host.
    return run('nsenter', ['--target', String(this.pid1), '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd', '--', ...command], {
      env: { PATH: GUEST_PATH, HOME: home, LANG: 'C.UTF-8', ...(user ? { USER: user } : {}), ...options.env },
      timeoutMs: options.timeoutMs ?? 60_000,
    });
  }

  /** Like exec(), but a non-zero exit throws with the output. */
  async mustExec(argv: string[], options: ExecOptions = {}): Promise<string> {
    const result = await this.exec(argv, options);
    if (result.code !== 0) throw new Error(`in guest ${this.opts.name}: ${argv.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  }

  /** A clean shutdown from inside (systemctl poweroff), waiting until the container has exited. */
  async shutdown(timeoutMs = 60_000): Promise<void> {
    if (!this.running || !this.pid1) return;
    await this.exec(['systemctl', 'poweroff'], { timeoutMs: 10_000 });
    const stopped = await settlesWithin(this.exited!, timeoutMs);
    this.pid1 = 0;
    if (!stopped) {
      this.kill();
      throw new Error(`guest ${this.opts.name} did not power off within ${timeoutMs} ms\n${this.tail()}`);
    }
  }

  /** Ends the guest at once (teardown): SIGKILL to its PID 1 makes nspawn exit. */
  kill(): void {
    for (const pid of [this.pid1, this.nspawn?.pid]) {
      if (!pid) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.pid1 = 0;
  }

  /**
   * Without a host systemd, nspawn (--keep-unit) splits the cgroup it starts in into `supervisor` and `payload`, the
   * container's systemd taking `payload`: started from one cgroup, every guest would share one tree, and two
   * guests' units of one name one cgroup (a unit started in two guests at once failed with "Failed to attach to
   * cgroup"; stopping one could signal the other's processes). So each guest boots from a cgroup of its own, named
   * after its network namespace (unique per run), in the unified hierarchy, which nspawn follows even where
   * name=systemd is a v1 hierarchy, and in that one too. Emptied at every boot; removeCgroup() takes it away.
   */
  private get cgroupName(): string {
    return `bazar-${this.opts.netns}`;
  }

  /** Removes the guest's cgroups (nothing while it runs). */
  async removeCgroup(): Promise<void> {
    await withCgroups(REMOVE_CGROUP, this.cgroupName);
  }

  async waitExited(timeoutMs: number): Promise<boolean> {
    if (!this.exited) return true;
    return settlesWithin(this.exited, timeoutMs);
  }

  /** The guest's PID 1 seen from the host: the process in its namespace whose PID inside is 1. */
  private async findPid1(): Promise<number> {
    const pids = (await run('ip', ['netns', 'pids', this.opts.netns])).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1].trim().split(/\s+/);
        if (nspid && nspid.length > 1 && nspid[nspid.length - 1] === '1') return Number(pid);
      } catch {
        // exited meanwhile
      }
    }
    return 0;
  }

  tail(lines = 30): string {
    try {
      return readFileSync(this.consoleLog, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no console output)';
    }
  }
}

