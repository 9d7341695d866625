import { loadOrExit } from '../common/config';
import { runServer } from '../common/server-runner';
import { buildFrontendApp } from './app';
import { readFrontendConfig } from './config';

const config = loadOrExit(() => readFrontendConfig());
const app = buildFrontendApp(config);
void runServer(app, config);
