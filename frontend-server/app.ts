import { parse as parseForm } from 'node:querystring';
import rateLimit from '@fastify/rate-limit';
import type { Dispatcher } from 'undici';
import { createBaseApp, type App } from '../common/base-app';
import type { LogLevel } from '../common/config';
import { errors } from '../common/errors';
import { prefersHtml } from '../common/negotiate';
import { Upstream } from '../common/upstream';
import { registerHomeRoutes } from './routes/home-routes';
import { registerStoreRoutes, type BuyRateLimit } from './routes/store-routes';
import { errorPage } from './views/pages';

export interface FrontendAppOptions {
  catalogUrl: string;
  orderUrl: string;
  token?: string;
  logLevel?: LogLevel;
  upstreamTimeoutMs?: number;
  /** Tests may pass undici MockAgents; by default each upstream gets its own keep-alive Pool. */
  catalogDispatcher?: Dispatcher;
  orderDispatcher?: Dispatcher;
  /** Per-client limit on POST /buy; undefined turns it off (in-process tests that buy a lot). */
  buyRateLimit?: BuyRateLimit;
}

/** Builds the public frontend; it holds no data, only the token for its calls to catalog and order. */
export function buildFrontendApp(options: FrontendAppOptions): App {
  const timeoutMs = options.upstreamTimeoutMs ?? 1500;
  const catalog = new Upstream({
    name: 'catalog',
    origin: options.catalogUrl,
    token: options.token,
    timeoutMs,
    dispatcher: options.catalogDispatcher,
  });
  const order = new Upstream({
    name: 'order',
    origin: options.orderUrl,
    token: options.token,
    timeoutMs,
    dispatcher: options.orderDispatcher,
  });
  const app = createBaseApp({
    service: 'frontend',
    logLevel: options.logLevel,
    readiness: {
      catalog: () => catalog.ping({ log: app.log, requestId: 'readyz' }),
      order: () => order.ping({ log: app.log, requestId: 'readyz' }),
    },
    renderErrorPage: (request, error) =>
      prefersHtml(request)
        ? errorPage(error.statusCode, error.code, error.message, { method: request.method, url: request.url })
        : undefined,
  });
  // Browsers POST the Buy form as urlencoded; it carries no fields we use, but it must not be a 415.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
    done(null, parseForm(body as string)),
  );
  registerHomeRoutes(app, catalog);
  // Only routes that opt in (the buy) are limited; the limiter must be loaded before they are declared.
  app
    .register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) => errors.rateLimited(Math.max(1, Math.ceil(context.ttl / 1000))),
    })
    .after(() => registerStoreRoutes(app, { catalog, order }, options.buyRateLimit));
  app.addHook('onClose', async () => {
    await Promise.all([catalog.close(), order.close()]);
  });
  return app;
}
