/**
 * Process groups a test starts and kills as a whole, and the children of a process. Only PIDs the test started (or
 * their descendants) are signalled.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The PIDs whose parent is `pid` (from /proc/<pid>/stat: the 4th field, after the parenthesised name). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Sends `signal` (0: none, only asks) to the child's process group; false when the group is empty. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (!child.pid) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false; // the group is empty
  }
}

/**
 * SIGKILL to the child's process group, repeated until the group is empty: a keeper's supervisor can fork a
 * service in the instant it dies, and a survivor would start the "dead" node's postmaster again.
 */
export async function killGroup(child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100 && signalGroup(child, 'SIGKILL'); i++) await sleep(50);
}
