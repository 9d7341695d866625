import { join } from 'node:path';
import { freePorts } from '../../support/ports';
import { startService, type ServiceName, type ServiceProcess } from '../../support/service-process';
import { FaultProxy } from '../helpers/fault-proxy';

/**
 * One compiled service that the suite can kill, freeze and restart on the same port and database: fixed ports,
 * since the proxies (and the frontend) point at it.
 */
export class ManagedService {
  private process?: ServiceProcess;
  /** The last log lines of every start (warnings and errors: services run at LOG_LEVEL=warn), for a failure report. */
  readonly tail: string[] = [];
  starts = 0;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 20_000): Promise<void> {
    const start = ++this.starts;
    this.process = await startService(this.name, {
      port: this.port,
      env: { LOG_LEVEL: 'warn', ...this.env },
      timeoutMs,
      onLine: (line) => {
        this.tail.push(`[${this.name}#${start}] ${line}`);
        if (this.tail.length > 300) this.tail.splice(0, this.tail.length - 300);
      },
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.process?.child.kill(signal);
  }

  async kill(): Promise<void> {
    await this.process?.stop('SIGKILL');
  }

  /** Graceful stop (SIGTERM), falling back to SIGKILL; resolves with the exit code. */
  async stop(): Promise<number | null> {
    return this.process ? this.process.stop('SIGTERM', 10_000) : null;
  }
}

export interface Cluster {
  catalog: ManagedService;
  order: ManagedService;
  frontend: ManagedService;
  /** order → catalog */
  catalogProxy: FaultProxy;
  /** frontend → order */
  orderProxy: FaultProxy;
  stop(): Promise<void>;
}

export async function startCluster(
  dataDir: string,
  token: string,
  random: () => number,
  extraEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<Cluster> {
  const [catalogPort, orderPort, frontendPort, catalogProxyPort, orderProxyPort] = await freePorts(5, random);
  const catalogProxy = new FaultProxy(catalogPort);
  const orderProxy = new FaultProxy(orderPort);
  await catalogProxy.listen(catalogProxyPort);
  await orderProxy.listen(orderProxyPort);
  const base = { BAZAR_TOKEN: token };
  const catalog = new ManagedService('catalog', catalogPort, {
    ...base,
    DB_PATH: join(dataDir, 'catalog.db'),
    ...extraEnv.catalog,
  });
  const order = new ManagedService('order', orderPort, {
    ...base,
    DB_PATH: join(dataDir, 'orders.db'),
    CATALOG_URL: `http://127.0.0.1:${catalogProxyPort}`,
    ...extraEnv.order,
  });
  const frontend = new ManagedService('frontend', frontendPort, {
    ...base,
    CATALOG_URL: catalog.url,
    ORDER_URL: `http://127.0.0.1:${orderProxyPort}`,
    ...extraEnv.frontend,
  });
  const all = [catalog, order, frontend];
  try {
    for (const service of all) await service.start();
  } catch (err) {
    await Promise.all(all.map((s) => s.kill()));
    await Promise.all([catalogProxy.close(), orderProxy.close()]);
    throw err;
  }
  return {
    catalog,
    order,
    frontend,
    catalogProxy,
    orderProxy,
    async stop() {
      for (const service of [frontend, order, catalog]) await service.stop();
      await Promise.all([catalogProxy.close(), orderProxy.close()]);
    },
  };
}
