import { parse as parseForm } from 'node:querystring';
import rateLimit from '@fastify/rate-limit';
import type { Dispatcher } from 'undici';
import { createBaseApp, type App } from '../common/base-app';
import type { LogLevel } from '../common/config';
import { errors } from '../common/errors';
import { Metrics } from '../common/metrics';
import { CatalogReads } from './cache/catalog-reads';
import { ChangeStreams } from './cache/change-streams';
import { ResponseCache } from './cache/response-cache';
import { prefersHtml } from './negotiate';
import { CatalogClient } from './clients/catalog-client';
import { OrderClient } from './clients/order-client';
import { registerHomeRoutes } from './routes/home-routes';
import { registerStatusRoutes } from './routes/status-routes';
import { registerStoreRoutes, type BuyRateLimit } from './routes/store-routes';
import { errorPage } from './views/pages';

export interface FrontendAppOptions {
  /** One catalog origin, or every catalog replica's: reads are balanced across them, and the cache follows each. */
  catalogUrl: string | readonly string[];
  /** One order origin, or every order replica's: buys are balanced across them. */
  orderUrl: string | readonly string[];
  token?: string;
  logLevel?: LogLevel;
  /** The address clients use, named in /openapi.json (config: PUBLIC_URL). */
  publicUrl?: string;
  upstreamTimeoutMs?: number;
  /** How often each upstream replica's /readyz is probed (default 1000 ms; 0: never). */
  upstreamProbeIntervalMs?: number;
  /** Tests may pass undici MockAgents; by default each upstream replica gets its own keep-alive Pool. */
  catalogDispatcher?: Dispatcher;
  orderDispatcher?: Dispatcher;
  /** Per-client limit on POST /buy; undefined turns it off (in-process tests that buy a lot). */
  buyRateLimit?: BuyRateLimit;
  /** false (CACHE=off) sends every lookup and search to the catalog; default: cache, kept fresh by /events. */
  cache?: boolean;
  cacheMaxEntries?: number;
  cacheTtlMs?: number;
  /** A change stream silent this long is taken for dead (each catalog replica sends a heartbeat every 5 s). */
  eventsIdleTimeoutMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    reads: CatalogReads;
  }
}

/** Builds the public frontend; it holds no data, only the token for its calls to catalog and order. */
export function buildFrontendApp(options: FrontendAppOptions): App {
  const timeoutMs = options.upstreamTimeoutMs ?? 1500;
  const metrics = new Metrics('frontend');
  const app: App = createBaseApp({
    service: 'frontend',
    publicUrl: options.publicUrl,
    logLevel: options.logLevel,
    metrics,
    readiness: {
      catalog: () => catalog.ping(),
      order: () => order.ping(),
    },
    renderErrorPage: (request, error) =>
      prefersHtml(request)
        ? errorPage(error.code, error.message, { method: request.method, url: request.url })
        : undefined,
  });
  const shared = { token: options.token, timeoutMs, metrics, probeIntervalMs: options.upstreamProbeIntervalMs, log: app.log };
  const catalog = new CatalogClient({ ...shared, origin: options.catalogUrl, dispatcher: options.catalogDispatcher });
  const order = new OrderClient({ ...shared, origin: options.orderUrl, dispatcher: options.orderDispatcher });
  // Browsers POST the Buy form urlencoded (not a 415): its hidden idempotency_key field makes a resubmitted form buy
  // once (readFormIdempotencyKey in the buy route).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
    done(null, parseForm(body as string)),
  );
  const cache =
    options.cache === false
      ? undefined
      : new ResponseCache<unknown>({ maxEntries: options.cacheMaxEntries ?? 10_000, ttlMs: options.cacheTtlMs ?? 60_000 });
  const reads = new CatalogReads(catalog, cache, metrics);
  const changes = cache
    ? new ChangeStreams({ catalog, token: options.token, log: app.log, reads, idleTimeoutMs: options.eventsIdleTimeoutMs })
    : undefined;
  app.decorate('reads', reads);
  registerHomeRoutes(app, catalog);
  registerStatusRoutes(app, { catalog, order, reads, changes });
  // Only routes that opt in (the buy) are limited; the limiter must be loaded before they are declared.
  app
    .register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) => errors.rateLimited(Math.max(1, Math.ceil(context.ttl / 1000))),
    })
    .after(() => registerStoreRoutes(app, { order, reads }, options.buyRateLimit));
  app.addHook('onReady', async () => changes?.start());
  app.addHook('onClose', async () => {
    reads.stop();
    await changes?.stop();
    await Promise.all([catalog.close(), order.close()]);
  });
  return app;
}
