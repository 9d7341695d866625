import { join } from 'node:path';
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
