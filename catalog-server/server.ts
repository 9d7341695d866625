import { loadOrExit } from '../common/config';
import { runServer } from '../common/server-runner';
import { buildCatalogApp } from './app';
import { readCatalogConfig } from './config';
import { SqliteCatalogStore } from './store/sqlite-store';

const config = loadOrExit(() => readCatalogConfig());
const store = new SqliteCatalogStore(config.dbPath, config.seedPath);
const app = buildCatalogApp({
  store,
  token: config.token,
  logLevel: config.logLevel,
  eventsAckTimeoutMs: config.eventsAckTimeoutMs,
});
if (!config.token) app.log.warn('BAZAR_TOKEN is not set: writes are open to anyone on this machine');
void runServer(app, config);
