// pm2 process file for all three services. `npm start` runs every app here through pm2-runtime on one machine;
// a deployment host runs one of them with `pm2-runtime start ecosystem.config.js --only <catalog|order|frontend>`.
// Settings come from the environment (an env file on a deployment host), with the local defaults below.
const path = require('node:path');

const env = process.env;
const dataDir = path.resolve(env.BAZAR_DATA_DIR || path.join(__dirname, 'data'));
const host = env.HOST || '127.0.0.1';
const ports = {
  frontend: env.FRONTEND_PORT || '3000',
  catalog: env.CATALOG_PORT || '3001',
  order: env.ORDER_PORT || '3002',
};
// A client reaches a service bound to 0.0.0.0 through loopback; a service bound to one address, through it.
const reach = host === '0.0.0.0' ? '127.0.0.1' : host;
const catalogUrl = env.CATALOG_URL || `http://${reach}:${ports.catalog}`;
const orderUrl = env.ORDER_URL || `http://${reach}:${ports.order}`;

const shared = {
  HOST: host,
  LOG_LEVEL: env.LOG_LEVEL || 'info',
  BAZAR_TOKEN: env.BAZAR_TOKEN || '',
  // A deployment host names a file instead, so `pm2 save` writes the file's path, not the secret, into its dump.
  BAZAR_TOKEN_FILE: env.BAZAR_TOKEN_FILE || '',
  SHUTDOWN_GRACE_MS: '5000',
};

function app(name, script, extra) {
  return {
    name,
    script: path.join(__dirname, 'dist', script),
    cwd: __dirname,
    exec_mode: 'fork',
    instances: 1,
    autorestart: true,
    // Restart quickly after a crash, backing off if it keeps crashing.
    exp_backoff_restart_delay: 100,
    // Longer than SHUTDOWN_GRACE_MS, so in-flight requests finish before pm2 resorts to SIGKILL.
    kill_timeout: 8000,
    env: { ...shared, ...extra },
  };
}

module.exports = {
  apps: [
    // Each service owns its database: CATALOG_DATABASE_URL and ORDER_DATABASE_URL (PostgreSQL) must name two
    // different databases. Unset, each keeps SQLite at its DB_PATH. DATABASE_PASSWORD_FILE, like BAZAR_TOKEN_FILE,
    // keeps the password out of the URL and so out of pm2's dump.
    app('catalog', 'catalog-server/server.js', {
      PORT: ports.catalog,
      DB_PATH: env.CATALOG_DB_PATH || path.join(dataDir, 'catalog.db'),
      DATABASE_URL: env.CATALOG_DATABASE_URL || '',
      DATABASE_PASSWORD_FILE: env.DATABASE_PASSWORD_FILE || '',
    }),
    app('order', 'order-server/server.js', {
      PORT: ports.order,
      DB_PATH: env.ORDER_DB_PATH || path.join(dataDir, 'orders.db'),
      DATABASE_URL: env.ORDER_DATABASE_URL || '',
      DATABASE_PASSWORD_FILE: env.DATABASE_PASSWORD_FILE || '',
      CATALOG_URL: catalogUrl,
    }),
    app('frontend', 'frontend-server/server.js', {
      PORT: ports.frontend,
      CATALOG_URL: catalogUrl,
      ORDER_URL: orderUrl,
    }),
  ],
};
