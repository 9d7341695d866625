import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../common/paths';
import { freePorts } from './ports';
import { waitUntilReady } from './wait-ready';

export type ServiceName = 'catalog' | 'order' | 'frontend';

/** The compiled entry points (`npm run build` first). */
export const SERVICE_SCRIPTS: Record<ServiceName, string> = {
  catalog: 'dist/catalog-server/server.js',
  order: 'dist/order-server/server.js',
  frontend: 'dist/frontend-server/server.js',
};

export interface StartOptions {
  /**
   * The process's whole configuration: only these reach it, on top of PATH, HOST=127.0.0.1, LOG_LEVEL=info and
   * its PORT, so nothing in the caller's environment can change what is tested or measured.
   */
  env?: Record<string, string>;
  /** A fixed port, for a service restarted where others point at it; by default a free one (freePorts). */
  port?: number;
  /** Polled until it answers 200: /healthz (listening) by default; /readyz also waits for the dependencies. */
  readyPath?: string;
  timeoutMs?: number;
  nodeArgs?: string[];
  /** Called with each log line as it arrives (the chaos suite keeps a labelled tail across restarts). */
  onLine?: (line: string) => void;
}

export interface ServiceProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  /** Every line the process printed (stdout and stderr), for assertions and failure reports. */
  lines: string[];
  /** The exit code, or null when a signal ended it. */
  exited: Promise<number | null>;
  /**
   * Sends `signal` (SIGTERM) to this process only, by its PID, and resolves with its exit code; past `killAfterMs`
   * without an exit it is SIGKILLed.
   */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<number | null>;
}

const ROOT = projectRoot(__dirname);

/** Starts one compiled service as its own process and resolves once its readyPath answers 200. */
export function startService(name: ServiceName, options: StartOptions = {}): Promise<ServiceProcess> {
  return startScript(name, SERVICE_SCRIPTS[name], options);
}

/**
 * Starts `script` (a path under the project root) as its own process and resolves once it is ready. When it picked
 * the port itself and lost it to someone else between probe and bind, it tries again on another one.
 */
export async function startScript(name: string, script: string, options: StartOptions = {}): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePorts(1))[0];
    try {
      return await startOnce(name, script, port, options);
    } catch (err) {
      if (options.port !== undefined || attempt >= 3 || !(err instanceof PortTaken)) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(name: string, script: string, port: number, options: StartOptions): Promise<ServiceProcess> {
  const { timeoutMs = 20_000, readyPath = '/healthz' } = options;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...options.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const streams = [child.stdout!, child.stderr!].map((input) => {
    const reader = createInterface({ input });
    reader.on('line', (line) => {
      lines.push(line);
      options.onLine?.(line);
    });
    return once(reader, 'close');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 10_000) => {
    if (running()) {
      // A frozen process (SIGSTOP, as the chaos suite does) acts on no signal but SIGKILL until it is woken.
      child.kill('SIGCONT');
      child.kill(signal);
    }
    const killer = setTimeout(() => running() && child.kill('SIGKILL'), killAfterMs);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };

  const url = `http://127.0.0.1:${port}`;
  if (await waitUntilReady(url + readyPath, { timeoutMs, stillRunning: running })) {
    return { name, port, url, child, lines, exited, stop };
  }
  const timedOut = running();
  const code = await stop('SIGKILL');
  // The last lines (the reason it exited) may still be in the pipes.
  await Promise.race([Promise.all(streams), new Promise((resolve) => setTimeout(resolve, 1000))]);
  const output = lines.join('\n');
  if (timedOut) throw new Error(`${name} did not answer ${readyPath} within ${timeoutMs} ms:\n${output}`);
  if (output.includes('EADDRINUSE')) throw new PortTaken(`${name}: port ${port} was taken`);
  throw new Error(`${name} exited with ${code} before it was ready:\n${output}`);
}
