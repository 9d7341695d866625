#!/usr/bin/env node
// `npm run start:replicated`: the replicated store on this machine, in the foreground. Two catalog replicas, two
// order replicas and two frontends under pm2-runtime (ecosystem.config.js with BAZAR_TOPOLOGY=replicated), over
// PostgreSQL: CATALOG_DATABASE_URL and ORDER_DATABASE_URL when both are set, otherwise a cluster of our own under
// <data dir>/postgres, made from the installed PostgreSQL binaries on the first run and kept between runs.
// Ctrl-C stops every replica, then that cluster. Ports: FRONTEND_PORTS, CATALOG_PORTS, ORDER_PORTS (comma lists,
// one replica per port) and PG_PORT for the local cluster (default: a free one).
const path = require('node:path');
const { prepare, apps, pidOf, runPm2, fail } = require('./pm2-foreground');

async function database(dataDir) {
  const { CATALOG_DATABASE_URL: catalog, ORDER_DATABASE_URL: orders, DATABASE_URL: one } = process.env;
  if (catalog && orders) return { describe: 'PostgreSQL from CATALOG_DATABASE_URL and ORDER_DATABASE_URL', stop: async () => undefined };
  if (catalog || orders || one) {
    const which = one && !catalog && !orders ? 'DATABASE_URL names one database, but each service owns its own: ' : '';
    fail(`${which}set both CATALOG_DATABASE_URL and ORDER_DATABASE_URL, or neither for a local PostgreSQL`, 78);
  }
  const { startLocalPostgres, LocalPostgresError } = require('../dist/support/local-postgres');
  const port = process.env.PG_PORT;
  if (port !== undefined && !/^\d+$/.test(port)) fail(`PG_PORT must be a port number, not '${port}'`, 78);
  let pg;
  try {
    pg = await startLocalPostgres(path.join(dataDir, 'postgres'), { port: port && Number(port) });
  } catch (err) {
    fail(err instanceof LocalPostgresError ? err.message : err.stack, 1);
  }
  process.env.CATALOG_DATABASE_URL = pg.catalogUrl;
  process.env.ORDER_DATABASE_URL = pg.ordersUrl;
  const made = pg.created ? 'made a new PostgreSQL cluster' : 'PostgreSQL';
  return { describe: `${made} on 127.0.0.1:${pg.port}, data in ${pg.home}`, stop: pg.stop };
}

async function main() {
  process.env.BAZAR_TOPOLOGY = 'replicated';
  const { dataDir, view } = prepare();
  // Ctrl-C while the database starts: finish starting it, then stop it, rather than leave it running.
  let interrupted = false;
  const early = () => (interrupted = true);
  process.on('SIGINT', early).on('SIGTERM', early);
  const db = await database(dataDir);
  process.off('SIGINT', early).off('SIGTERM', early);
  if (interrupted) {
    await db.stop();
    fail('stopped before the replicas started', 130);
  }
  console.log(`bazar: ${db.describe}`);
  runPm2({
    view,
    afterStop: async () => {
      await db.stop();
    },
    onReady(frontends, ready) {
      if (!ready) {
        console.log(`bazar: not every frontend became ready within 30 s (${frontends.map((f) => `${f.url}/readyz`).join(', ')}); see the logs above`);
        return;
      }
      // The PIDs, so a teacher can kill one replica and watch /status route around it (pm2 restarts it).
      const replicas = apps().map((app) => `${app.name} :${app.port} pid ${pidOf(app.index) ?? '?'}`);
      console.log(
        [
          '',
          `bazar: the store is open at ${frontends.map((f) => `${f.url}/`).join(' and ')}`,
          `bazar: replicas and their state: ${frontends[0].url}/status`,
          `bazar: ${replicas.join(', ')}`,
          `bazar: ${db.describe}; Ctrl-C stops every replica and the database`,
          '',
        ].join('\n'),
      );
    },
  });
}

main().catch((err) => fail(err.stack));
