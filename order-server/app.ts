import type { Dispatcher } from 'undici';
import { createBaseApp, type App } from '../common/base-app';
import { isConnectionLost } from '../common/connection-lost';
import type { LogLevel } from '../common/config';
import { Metrics, timeCalls, transactionHistogram } from '../common/metrics';
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
  const timedLedger = timeCalls(ledger, ['createPending', 'confirm', 'reject'], transactionHistogram(metrics), ledger.backend);
  const buys = new BuyService(timedLedger, catalog, {
    crashHook: options.crashHook,
    // The catalog call's deadline, plus as much again for the ledger writes around it, plus a margin.
    leaseMs: 2 * timeoutMs + 1000,
  });
  // Read when scraped; capped like the ledger's own listing.
  metrics.gauge('orders_pending', 'Orders waiting for the catalog\'s answer (counted up to 1000)', async () =>
    (await ledger.list({ limit: 1000, status: 'pending' })).orders.length,
  );
  app.decorate('buys', buys);
  registerOrderRoutes(app, buys, ledger, token);

  let stopReconciling = async () => {};
  if (reconcileIntervalMs > 0) {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> | undefined;
    // Orders younger than two deadlines may still be in flight; leave them to their own request. A round starts
    // only when the last one ended, so closing has one round to wait for.
    const round = () =>
      (running ??= buys
        .reconcile(app.log, 2 * timeoutMs)
        // The ledger's database restarting or failing over is expected: the next round tries again.
        .catch((err: unknown) =>
          isConnectionLost(err)
            ? app.log.warn({ reason: (err as Error).message }, 'reconcile waits: the database is unavailable')
            : app.log.error({ err }, 'reconcile failed'),
        )
        .finally(() => (running = undefined)));
    app.addHook('onReady', async () => {
      void round();
      timer = setInterval(round, reconcileIntervalMs);
      timer.unref();
    });
    stopReconciling = async () => {
      clearInterval(timer);
      await running;
    };
  }
  // One hook, in this order: Fastify runs onClose hooks last-registered-first, so as two hooks the ledger would
  // close under a reconcile round still driving an order.
  app.addHook('onClose', async () => {
    await stopReconciling();
    await catalog.close();
    await ledger.close();
  });
  return app;
}
