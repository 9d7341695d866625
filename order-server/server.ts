import { loadOrExit } from '../common/config';
import { openOrExit, runServer } from '../common/server-runner';
import { buildOrderApp } from './app';
import { readOrderConfig } from './config';
import { PgOrderLedger } from './ledger/pg-ledger';
import { SqliteOrderLedger } from './ledger/sqlite-ledger';
import type { OrderLedger } from './ledger/types';

const config = loadOrExit(() => readOrderConfig());
void openOrExit<OrderLedger>('the order ledger', () =>
  config.databaseUrl ? PgOrderLedger.open(config.databaseUrl) : new SqliteOrderLedger(config.dbPath),
).then((ledger) => {
  const app = buildOrderApp({ ...config, ledger });
  if (!config.token) app.log.warn('BAZAR_TOKEN is not set: buys and orders are open to anyone on this machine');
  return runServer(app, config);
});
