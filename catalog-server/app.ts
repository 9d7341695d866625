import { createBaseApp, type App } from '../common/base-app';
import type { LogLevel } from '../common/config';
import { registerQueryRoutes } from './routes/query-routes';
import { registerWriteRoutes } from './routes/write-routes';
import type { CatalogStore } from './store/types';

export interface CatalogAppOptions {
  store: CatalogStore;
  token?: string;
  logLevel?: LogLevel;
}

/** Builds the catalog service around a store; never listens (server.ts does). Closing the app closes the store. */
export function buildCatalogApp({ store, token, logLevel }: CatalogAppOptions): App {
  const app = createBaseApp({ service: 'catalog', logLevel, readiness: { database: () => store.ping() } });
  registerQueryRoutes(app, store);
  registerWriteRoutes(app, store, token);
  app.addHook('onClose', () => store.close());
  return app;
}
