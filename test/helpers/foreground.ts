import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../common/paths';

const ROOT = projectRoot(__dirname);

export interface Foreground {
  child: ChildProcess;
  /** Every line printed so far, stdout and stderr together. */
  output: string[];
  /** The first line that matched `readyLine`. */
  match: RegExpExecArray;
  exited: Promise<number | null>;
}

/**
 * Runs one of our foreground scripts (scripts/start.js, scripts/start-replicated.js) as `npm start` would, with only
 * `env` (and PATH, HOME), and resolves once it prints a line matching `readyLine`; rejects with its output when it
 * exits first or stays silent for `timeoutMs`.
 */
export function runForeground(script: string, env: Record<string, string>, readyLine: RegExp, timeoutMs = 40_000): Promise<Foreground> {
  const child = spawn(process.execPath, [join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not print ${readyLine}:\n${output.join('\n')}`)), timeoutMs);
    const onLine = (line: string) => {
      output.push(line);
      const match = readyLine.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ child, output, match, exited });
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${output.join('\n')}`));
    });
  });
}

/** True when nothing listens at `url` any more. */
export async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}
