import { loadOrExit } from '../common/config';
import { runServer } from '../common/server-runner';
import { buildOrderApp } from './app';
import { readOrderConfig } from './config';
import { SqliteOrderLedger } from './ledger/sqlite-ledger';

const config = loadOrExit(() => readOrderConfig());
const app = buildOrderApp({ ...config, ledger: new SqliteOrderLedger(config.dbPath) });
if (!config.token) app.log.warn('BAZAR_TOKEN is not set: buys and orders are open to anyone on this machine');
void runServer(app, config);
