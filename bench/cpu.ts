/**
 * CPU time per process, read from /proc, and where the bench runs each process. CPU time per request is the figure
 * that stays put when the machine is busy: rps and latency move with whatever else runs, the work a request costs
 * does not.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat's times (sysconf CLK_TCK: 100 on every Linux we know of). */
const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of one process (every thread of it), in µs; undefined once it is gone. */
function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after its closing ")" do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** The parent of every process on the machine, for finding a server's worker processes (PostgreSQL's backends). */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      map.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  return map;
}

/** Something whose CPU time the bench reads before and after each measurement. */
export interface CpuMeter {
  /** µs of CPU used so far (monotonic while it runs). */
  read(): number;
}

/** One process, by PID. */
export function processMeter(pid: number): CpuMeter {
  let last = 0;
  return { read: () => (last = processCpuUs(pid) ?? last) };
}

/**
 * A process and every process below it (a PostgreSQL postmaster and its backends, checkpointer and WAL writer).
 * Children are found again at each reading; the CPU of one that exited between readings is lost, which is why the
 * services keep their database connections open.
 */
export function treeMeter(rootPid: () => number | undefined): CpuMeter {
  const seen = new Map<number, number>();
  return {
    read() {
      const root = rootPid();
      if (root === undefined) return [...seen.values()].reduce((a, b) => a + b, 0);
      const parentOf = parents();
      const inTree = (pid: number) => {
        for (let p: number | undefined = pid; p !== undefined && p > 1; p = parentOf.get(p)) if (p === root) return true;
        return false;
      };
      for (const pid of [root, ...[...parentOf.keys()].filter((pid) => pid !== root && inTree(pid))]) {
        const us = processCpuUs(pid);
        if (us !== undefined) seen.set(pid, us);
      }
      return [...seen.values()].reduce((a, b) => a + b, 0);
    },
  };
}

/** This process (the load generator): user and system time of every thread. */
export function selfMeter(): CpuMeter {
  return {
    read() {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
  };
}

export interface Placement {
  /** CPUs of the load generator (this process), as a taskset list; undefined when not pinned. */
  generator?: string;
  /** CPUs of every server process. */
  servers?: string;
  /** What was done, for the report. */
  note: string;
}

/**
 * Puts the load generator (this process, every thread) on CPU 0 and leaves the others to the servers, so a ratio
 * to the bare baseline measures the servers rather than how the load generator and the servers share cores. On one
 * core, or without taskset, everything shares and the report says so.
 */
export function placeProcesses(): Placement {
  // Every CPU the machine has online; once this process is pinned, availableParallelism() would say 1.
  const cores = cpus().length;
  if (cores < 2) return { note: 'not pinned: one core, shared by the load generator and every server' };
  const servers = cores === 2 ? '1' : `1-${cores - 1}`;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  } catch (err) {
    return { note: `not pinned (taskset failed: ${(err as Error).message.split('\n')[0]}): the load generator and the servers share ${cores} cores` };
  }
  return { generator: '0', servers, note: `pinned: load generator on CPU 0, servers on CPU ${servers}` };
}
