import { join } from 'node:path';
import { freePorts } from '../../support/ports';
import { startService, type ServiceName, type ServiceProcess } from '../../support/service-process';
import { FaultProxy } from '../helpers/fault-proxy';
import type { StoreDatabases } from '../helpers/invariants';

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
    /** How logs and reports name it: `catalog`, or `catalog-2` among replicas. */
    readonly label: string = name,
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
        this.tail.push(`[${this.label}#${start}] ${line}`);
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
  catalogs: ManagedService[];
  orders: ManagedService[];
  frontends: ManagedService[];
  /** order → catalog replica i, one proxy per catalog replica */
  catalogProxies: FaultProxy[];
  /** frontend → order replica i, one proxy per order replica */
  orderProxies: FaultProxy[];
  stop(): Promise<void>;
}

/**
 * `replicas` of each service on fixed loopback ports (drawn with `random`), with a fault proxy in front of every
 * catalog replica (the order replicas reach it through it) and every order replica (the frontends do). Every order
 * replica lists every catalog proxy; every frontend lists every order proxy and every catalog replica directly (its
 * change streams). With one replica each and SQLite, this is the single-process store.
 */
export async function startCluster(
  replicas: number,
  storage: StoreDatabases,
  token: string,
  random: () => number,
  extraEnv: Partial<Record<ServiceName, Record<string, string>>> = {},
): Promise<Cluster> {
  const ports = await freePorts(5 * replicas, random);
  const take = () => ports.splice(0, replicas);
  const [catalogPorts, orderPorts, frontendPorts, catalogProxyPorts, orderProxyPorts] = [take(), take(), take(), take(), take()];
  const catalogProxies = catalogPorts.map((port) => new FaultProxy(port));
  const orderProxies = orderPorts.map((port) => new FaultProxy(port));
  const proxies = [...catalogProxies, ...orderProxies];
  await Promise.all(proxies.map((proxy, i) => proxy.listen([...catalogProxyPorts, ...orderProxyPorts][i])));
  const list = (list: number[]) => list.map((port) => `http://127.0.0.1:${port}`).join(',');
  const base = { BAZAR_TOKEN: token };
  const [catalogDb, ordersDb] =
    'sqliteDir' in storage
      ? [{ DB_PATH: join(storage.sqliteDir, 'catalog.db') }, { DB_PATH: join(storage.sqliteDir, 'orders.db') }]
      : [{ DATABASE_URL: storage.catalogUrl }, { DATABASE_URL: storage.ordersUrl }];
  const label = (name: ServiceName, i: number) => (replicas > 1 ? `${name}-${i + 1}` : name);
  const catalogEnv = { ...base, ...catalogDb, ...extraEnv.catalog };
  const orderEnv = { ...base, ...ordersDb, CATALOG_URL: list(catalogProxyPorts), ...extraEnv.order };
  const frontendEnv = { ...base, CATALOG_URL: list(catalogPorts), ORDER_URL: list(orderProxyPorts), ...extraEnv.frontend };
  const catalogs = catalogPorts.map((port, i) => new ManagedService('catalog', port, catalogEnv, label('catalog', i)));
  const orders = orderPorts.map((port, i) => new ManagedService('order', port, orderEnv, label('order', i)));
  const frontends = frontendPorts.map((port, i) => new ManagedService('frontend', port, frontendEnv, label('frontend', i)));
  const all = [...catalogs, ...orders, ...frontends];
  try {
    // One after the other: the first catalog creates and seeds the database, the others find it ready.
    for (const service of all) await service.start();
  } catch (err) {
    await Promise.all(all.map((s) => s.kill()));
    await Promise.all(proxies.map((p) => p.close()));
    throw err;
  }
  return {
    catalogs,
    orders,
    frontends,
    catalogProxies,
    orderProxies,
    async stop() {
      for (const tier of [frontends, orders, catalogs]) await Promise.all(tier.map((service) => service.stop()));
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}
