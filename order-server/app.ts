import type { Dispatcher } from 'undici';
import { createBaseApp, type App } from '../common/base-app';
import type { LogLevel } from '../common/config';
import { Metrics, timeCalls } from '../common/metrics';
import { BuyService, type BuyServiceOptions } from './buy-service';
import { CatalogClient } from './clients/catalog-client';
import type { OrderLedger } from './ledger/types';
import { registerOrderRoutes } from './routes/order-routes';

export interface OrderAppOptions {
  ledger: OrderLedger;
  /** One catalog origin, or every catalog replica's: purchases are balanced across them. */
  catalogUrl: string | readonly string[];
  token?: string;
  logLevel?: LogLevel;
  /** The address clients use, named in /openapi.json (config: PUBLIC_URL). */
  publicUrl?: string;
  upstreamTimeoutMs?: number;
  /** How often each catalog replica's /readyz is probed (default 1000 ms; 0: never). */
  upstreamProbeIntervalMs?: number;
  /** 0 turns periodic reconciliation off (tests drive it by hand through app.buys). */
  reconcileIntervalMs?: number;
  catalogDispatcher?: Dispatcher;
  /** Tests only: see BuyServiceOptions.crashHook. */
  crashHook?: BuyServiceOptions['crashHook'];
}

declare module 'fastify' {
  interface FastifyInstance {
    buys: BuyService;
  }
}

/** Builds the order service; never listens. Pending orders are reconciled once when ready, then periodically. */
export function buildOrderApp(options: OrderAppOptions): App {
  const { ledger, token, reconcileIntervalMs = 5000 } = options;
  const timeoutMs = options.upstreamTimeoutMs ?? 1000;
  const metrics = new Metrics('order');
  const app: App = createBaseApp({
    service: 'order',
    publicUrl: options.publicUrl,
    logLevel: options.logLevel,
    metrics,
    readiness: {
      database: () => ledger.ping(),
      catalog: () => catalog.ping(),
    },
  });
  const catalog = new CatalogClient({
    origin: options.catalogUrl,
    token,
    timeoutMs,
    dispatcher: options.catalogDispatcher,
    metrics,
    probeIntervalMs: options.upstreamProbeIntervalMs,
    log: app.log,
  });
  const ledgerTx = metrics.histogram('sqlite_transaction_seconds', 'Time spent in one SQLite write transaction', ['op']);
  const buys = new BuyService(timeCalls(ledger, ['createPending', 'confirm', 'reject'], ledgerTx), catalog, {
    crashHook: options.crashHook,
  });
  // Read when scraped; capped like the ledger's own listing.
  metrics.gauge('orders_pending', 'Orders waiting for the catalog\'s answer (counted up to 1000)', async () =>
    (await ledger.list({ limit: 1000, status: 'pending' })).length,
  );
  app.decorate('buys', buys);
  registerOrderRoutes(app, buys, ledger, token);

  if (reconcileIntervalMs > 0) {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> = Promise.resolve();
    // Orders younger than two deadlines may still be in flight; leave them to their own request.
    const round = () => (running = buys.reconcile(app.log, 2 * timeoutMs).catch((err) => app.log.error({ err }, 'reconcile failed')));
    app.addHook('onReady', async () => {
      void round();
      timer = setInterval(round, reconcileIntervalMs);
      timer.unref();
    });
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await running;
    });
  }
  app.addHook('onClose', async () => {
    await catalog.close();
    await ledger.close();
  });
  return app;
}
