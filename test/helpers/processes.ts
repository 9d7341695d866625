import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../common/paths';
import { startService, type ServiceProcess } from '../../support/service-process';

export interface ProcessStack {
  catalog: ServiceProcess;
  order: ServiceProcess;
  frontend: ServiceProcess;
  stop(): Promise<void>;
}

/** Catalog, order and frontend as three compiled processes on loopback, with databases under `dataDir`. */
export async function startProcessStack(dataDir: string, token: string, extraEnv: Record<string, string> = {}): Promise<ProcessStack> {
  const started: ServiceProcess[] = [];
  try {
    const base = { BAZAR_TOKEN: token, ...extraEnv };
    const catalog = await startService('catalog', { env: { ...base, DB_PATH: join(dataDir, 'catalog.db') } });
    started.push(catalog);
    const order = await startService('order', { env: { ...base, DB_PATH: join(dataDir, 'orders.db'), CATALOG_URL: catalog.url } });
    started.push(order);
    const frontend = await startService('frontend', { env: { ...base, CATALOG_URL: catalog.url, ORDER_URL: order.url } });
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

/**
 * Runs one compiled service to its exit (for start-up refusals: bad configuration, no database) with only the
 * given env and PATH. `output` is stdout and stderr together, in arrival order.
 */
export function runToExit(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot(__dirname), script)], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stderr = '';
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      output += chunk;
    });
    child.on('exit', (code) => resolve({ code, stderr, output }));
  });
}
