/**
 * One systemd guest, as close to a Vagrant VM as this machine allows without a hypervisor: a Debian root filesystem
 * shared read-only by every guest, with the guest's own overlay layer on top (kept across reboots, as a VM's disk
 * is), booted by systemd-nspawn with systemd as PID 1 inside a network namespace the lab made. The overlay is mounted
 * in a private mount namespace (`unshare --mount`), so it disappears with the guest and nothing is left mounted on
 * the machine. Commands run inside it with nsenter, like `vagrant ssh -c`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { processAlive, run, type CommandResult } from './netns-lab';

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
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The cgroup hierarchy systemd uses: name=systemd on cgroup v1, the unified one on v2. */
function cgroupRoot(): string {
  const v1 = '/sys/fs/cgroup/systemd';
  return existsSync(join(v1, 'cgroup.procs')) ? v1 : '/sys/fs/cgroup';
}

/** Removes a cgroup tree deepest first: a cgroup goes once it has no processes and no children. */
function removeCgroupTree(dir: string): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  try {
    rmdirSync(dir);
  } catch {
    // still has processes (the guest runs) or already gone
  }
}

/** Removes the cgroups of guests whose namespaces (`<prefix><pid>-…`) belonged to a test process that is gone. */
export function removeStaleCgroups(prefix: string): string[] {
  const notes: string[] = [];
  for (const entry of readdirSync(cgroupRoot())) {
    const owner = Number(new RegExp(`^bazar-${prefix}(\\d+)-`).exec(entry)?.[1]);
    if (!owner || processAlive(owner)) continue;
    removeCgroupTree(join(cgroupRoot(), entry));
    notes.push(`removed stale cgroup ${entry}`);
  }
  return notes;
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
    for (const dir of ['upper', 'work', 'merged']) mkdirSync(join(stateDir, dir), { recursive: true });
    const mountThenBoot = 'mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" && shift 4 && exec "$@"';
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
    const cgroup = this.freshCgroup();
    // Into its own cgroup first (inherited by nspawn), then the private mount namespace.
    const child = spawn(
      'sh',
      ['-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', cgroup,
        'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', mountThenBoot, 'sh',
        rootfs, join(stateDir, 'upper'), join(stateDir, 'work'), join(stateDir, 'merged'), ...nspawnArgs],
      // Without a host systemd, nspawn needs --register=no --keep-unit, and a writable /proc/sys for the guest.
      { stdio: ['ignore', log, log], env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: '1' } },
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
    const stopped = await Promise.race([this.exited!.then(() => true), sleep(timeoutMs).then(() => false)]);
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
   * Without a host systemd, nspawn (--keep-unit) puts the container's systemd in a `payload` cgroup below its own:
   * started from one cgroup, every guest would share one tree, and two guests' units of one name one cgroup (a unit
   * started in two guests at once failed with "Failed to attach to cgroup"; stopping one could signal the other's
   * processes). So each guest boots from a cgroup of its own, named after its network namespace (unique per run),
   * in the hierarchy systemd uses: name=systemd on cgroup v1, the unified one on v2. Emptied and made again at
   * every boot; removeCgroup() takes it away.
   */
  private freshCgroup(): string {
    this.removeCgroup();
    mkdirSync(this.cgroupDir, { recursive: true });
    return this.cgroupDir;
  }

  private get cgroupDir(): string {
    return join(cgroupRoot(), `bazar-${this.opts.netns}`);
  }

  /** Removes the guest's cgroup tree (nothing while it runs). */
  removeCgroup(): void {
    removeCgroupTree(this.cgroupDir);
  }

  async waitExited(timeoutMs: number): Promise<boolean> {
    if (!this.exited) return true;
    return Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
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

