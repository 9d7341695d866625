// pm2 process file. `npm start` runs every app here through pm2-runtime on one machine; a deployment host runs one
// of them with `pm2-runtime start ecosystem.config.js --only <catalog|order|frontend>`.
// Settings come from the environment (an env file on a deployment host), with the local defaults below.
//
// BAZAR_TOPOLOGY=replicated (what `npm run start:replicated` sets) runs every tier as replicas on this machine
// instead: one app per port in CATALOG_PORTS, ORDER_PORTS and FRONTEND_PORTS (named catalog-1, catalog-2, …), and
// every order replica and frontend lists every catalog replica, every frontend every order replica.
const path = require('node:path');

const env = process.env;
const dataDir = path.resolve(env.BAZAR_DATA_DIR || path.join(__dirname, 'data'));
const host = env.HOST || '127.0.0.1';
const replicated = env.BAZAR_TOPOLOGY === 'replicated';
const portList = (value) => value.split(',').map((port) => port.trim());
const ports = replicated
  ? {
      frontend: portList(env.FRONTEND_PORTS || '3000,3010'),
      catalog: portList(env.CATALOG_PORTS || '3001,3011'),
      order: portList(env.ORDER_PORTS || '3002,3012'),
    }
  : {
      frontend: [env.FRONTEND_PORT || '3000'],
      catalog: [env.CATALOG_PORT || '3001'],
      order: [env.ORDER_PORT || '3002'],
    };
// A client reaches a service bound to 0.0.0.0 through loopback; a service bound to one address, through it.
const reach = host === '0.0.0.0' ? '127.0.0.1' : host;
const origins = (list) => list.map((port) => `http://${reach}:${port}`).join(',');
const catalogUrl = env.CATALOG_URL || origins(ports.catalog);
const orderUrl = env.ORDER_URL || origins(ports.order);

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

/** One app per port of the tier: named after the tier alone, or tier-1, tier-2, … when replicated. */
function tier(name, script, extra) {
  return ports[name].map((port, i) => app(replicated ? `${name}-${i + 1}` : name, script, { PORT: port, ...extra }));
}

module.exports = {
  apps: [
    // Each service owns its database: CATALOG_DATABASE_URL and ORDER_DATABASE_URL (PostgreSQL) must name two
    // different databases; replicas of one service share it. Unset, each keeps SQLite at its DB_PATH.
    // DATABASE_PASSWORD_FILE, like BAZAR_TOKEN_FILE, keeps the password out of the URL and so out of pm2's dump.
    ...tier('catalog', 'catalog-server/server.js', {
      DB_PATH: env.CATALOG_DB_PATH || path.join(dataDir, 'catalog.db'),
      DATABASE_URL: env.CATALOG_DATABASE_URL || '',
      DATABASE_PASSWORD_FILE: env.DATABASE_PASSWORD_FILE || '',
    }),
    ...tier('order', 'order-server/server.js', {
      DB_PATH: env.ORDER_DB_PATH || path.join(dataDir, 'orders.db'),
      DATABASE_URL: env.ORDER_DATABASE_URL || '',
      DATABASE_PASSWORD_FILE: env.DATABASE_PASSWORD_FILE || '',
      CATALOG_URL: catalogUrl,
    }),
    ...tier('frontend', 'frontend-server/server.js', {
      CATALOG_URL: catalogUrl,
      ORDER_URL: orderUrl,
    }),
  ],
};
