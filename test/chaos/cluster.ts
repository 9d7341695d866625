import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../common/paths';
import { FaultProxy } from '../helpers/fault-proxy';

export type ServiceName = 'catalog' | 'order' | 'frontend';
const ROOT = projectRoot(__dirname);
const SCRIPTS: Record<ServiceName, string> = {
  catalog: 'dist/catalog-server/server.js',
  order: 'dist/order-server/server.js',
  frontend: 'dist/frontend-server/server.js',
};

/** True when nothing listens on the port right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * Fixed ports below the ephemeral range: a restarted service must come back on the same port, since the proxies
 * (and the frontend) point at it.
 */
export async function freePorts(count: number, random: () => number): Promise<number[]> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(random() * 1_000) * 10;
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return ports;
  }
  throw new Error('no free block of ports between 20000 and 30000');
}

/** One compiled service that the suite can kill, freeze and restart on the same port and database. */
export class ManagedService {
  child?: ChildProcess;
  /** The last log lines (warnings and errors: services run at LOG_LEVEL=warn), for a failure report. */
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
    this.starts++;
    const child = spawn(process.execPath, [join(ROOT, SCRIPTS[this.name])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(this.port), LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (line: string) => {
      this.tail.push(`[${this.name}#${this.starts}] ${line}`);
      if (this.tail.length > 300) this.tail.splice(0, this.tail.length - 300);
    };
    createInterface({ input: child.stdout! }).on('line', keep);
    createInterface({ input: child.stderr! }).on('line', keep);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}:\n${this.tail.join('\n')}`);
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(500) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${this.name} did not answer /healthz within ${timeoutMs} ms:\n${this.tail.join('\n')}`);
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Graceful stop (SIGTERM), falling back to SIGKILL; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
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
