import { createBaseApp, type App } from '../common/base-app';
import type { LogLevel } from '../common/config';
import { Metrics, transactionHistogram } from '../common/metrics';
import { ChangeFeed } from './events/change-feed';
import { registerEventRoutes } from './events/event-routes';
import { registerQueryRoutes } from './routes/query-routes';
import { registerWriteRoutes } from './routes/write-routes';
import { PublishingStore } from './store/publishing-store';
import type { CatalogStore } from './store/types';

export interface CatalogAppOptions {
  store: CatalogStore;
  token?: string;
  logLevel?: LogLevel;
  /** The address clients use, named in /openapi.json (config: PUBLIC_URL). */
  publicUrl?: string;
  /** How long a write waits for every subscribed frontend to apply its change event (default 300 ms). */
  eventsAckTimeoutMs?: number;
  eventsHeartbeatMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    changes: ChangeFeed;
  }
}

/** Builds the catalog service around a store; never listens (server.ts does). Closing the app closes the store. */
export function buildCatalogApp({ store, token, logLevel, publicUrl, eventsAckTimeoutMs, eventsHeartbeatMs }: CatalogAppOptions): App {
  const metrics = new Metrics('catalog');
  const app = createBaseApp({ service: 'catalog', publicUrl, logLevel, metrics, readiness: { database: () => store.ping() } });
  const cutOff = metrics.counter('change_subscribers_cut_off_total', 'Frontends cut off for not acknowledging a change in time');
  const feed = new ChangeFeed({
    log: app.log,
    ackTimeoutMs: eventsAckTimeoutMs,
    heartbeatMs: eventsHeartbeatMs,
    onCutOff: () => cutOff.inc(),
  });
  metrics.gauge('change_subscribers', 'Frontends subscribed to the change stream', () => feed.subscriberCount);
  const published = new PublishingStore(store, feed, transactionHistogram(metrics));
  app.decorate('changes', feed);
  registerQueryRoutes(app, published);
  registerWriteRoutes(app, published, token);
  registerEventRoutes(app, feed, token);
  // Streams never end by themselves; close them first so the server can close, and the frontends flush.
  app.addHook('preClose', async () => feed.close());
  app.addHook('onClose', () => store.close());
  return app;
}
