import { loadOrExit } from '../common/config';
import { openOrExit, runServer } from '../common/server-runner';
import { buildCatalogApp } from './app';
import { readCatalogConfig } from './config';
import { PgCatalogStore } from './store/pg-store';
import { SqliteCatalogStore } from './store/sqlite-store';
import type { CatalogStore } from './store/types';

const config = loadOrExit(() => readCatalogConfig());
void openOrExit<CatalogStore>('the catalog database', () =>
  config.databaseUrl ? PgCatalogStore.open(config.databaseUrl, config.seedPath) : new SqliteCatalogStore(config.dbPath, config.seedPath),
).then((store) => {
  const app = buildCatalogApp({
    store,
    token: config.token,
    logLevel: config.logLevel,
    eventsAckTimeoutMs: config.eventsAckTimeoutMs,
  });
  if (!config.token) app.log.warn('BAZAR_TOKEN is not set: writes are open to anyone on this machine');
  return runServer(app, config);
});
