import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../common/paths';

export type ServiceName = 'catalog' | 'order' | 'frontend';

export interface ServiceProcess {
  name: ServiceName;
  child: ChildProcess;
  url: string;
  /** Every log line the service printed, for assertions and for debugging a failure. */
  lines: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const ROOT = projectRoot(__dirname);
const SCRIPTS: Record<ServiceName, string> = {
  catalog: 'dist/catalog-server/server.js',
  order: 'dist/order-server/server.js',
  frontend: 'dist/frontend-server/server.js',
};

/**
 * Starts one compiled service (`npm run build` first) as its own process with PORT=0 and resolves with the URL it
 * logged once listening. Only the given env and PATH reach it, so the test controls its whole configuration.
 */
export function startService(name: ServiceName, env: Record<string, string>, timeoutMs = 15_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(ROOT, SCRIPTS[name])], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${lines.join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string) => {
      lines.push(line);
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ name, child, url: match[1], lines, stop });
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${lines.join('\n')}`));
    });
  });
}

export interface ProcessStack {
  catalog: ServiceProcess;
  order: ServiceProcess;
  frontend: ServiceProcess;
  stop(): Promise<void>;
}

/** Catalog, order and frontend as three processes on loopback, with databases under `dataDir`. */
export async function startProcessStack(dataDir: string, token: string, extraEnv: Record<string, string> = {}): Promise<ProcessStack> {
  const started: ServiceProcess[] = [];
  try {
    const base = { BAZAR_TOKEN: token, ...extraEnv };
    const catalog = await startService('catalog', { ...base, DB_PATH: join(dataDir, 'catalog.db') });
    started.push(catalog);
    const order = await startService('order', { ...base, DB_PATH: join(dataDir, 'orders.db'), CATALOG_URL: catalog.url });
    started.push(order);
    const frontend = await startService('frontend', { ...base, CATALOG_URL: catalog.url, ORDER_URL: order.url });
    started.push(frontend);
    return {
      catalog,
      order,
      frontend,
      async stop() {
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop('SIGKILL')));
    throw err;
  }
}
