// What `npm start` and `npm run start:replicated` share: build if a source changed, the settings every app gets,
// pm2-runtime in the foreground with the terminal's log view, waiting until every frontend is ready, and Ctrl-C.
// Which apps run, on which ports, is ecosystem.config.js's business alone; this file asks it.
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { buildIfNeeded } = require('./build-if-needed');

const root = path.resolve(__dirname, '..');
const ECOSYSTEM = path.join(root, 'ecosystem.config.js');

function fail(message, code = 1) {
  console.error(`bazar: ${message}`);
  process.exit(code);
}

/**
 * Builds if needed and sets, in this process's environment (which pm2-runtime and ecosystem.config.js read), the
 * data folder, one fresh token for every app, and PM2_HOME under the data folder. Returns the folder and the
 * terminal's log view (undefined: lines pass through as they are).
 */
function prepare() {
  buildIfNeeded();
  // Compiled from support/ by the build above: the same log view the tests check.
  const { chooseLogView } = require('../dist/support/log-view');
  let view;
  try {
    view = chooseLogView(process.env, Boolean(process.stdout.isTTY));
  } catch (err) {
    fail(err.message, 78);
  }
  const dataDir = path.resolve(process.env.BAZAR_DATA_DIR || path.join(root, 'data'));
  fs.mkdirSync(dataDir, { recursive: true });
  process.env.BAZAR_DATA_DIR = dataDir;
  // The apps share one secret; a fresh one per run is fine on a single machine.
  process.env.BAZAR_TOKEN = process.env.BAZAR_TOKEN || randomBytes(32).toString('hex');
  process.env.PM2_HOME = process.env.PM2_HOME || path.join(dataDir, 'pm2');
  return { dataDir, view };
}

/** The apps ecosystem.config.js defines for this process's environment, each with the origin it answers on. */
function apps() {
  delete require.cache[ECOSYSTEM];
  return require(ECOSYSTEM).apps.map((app, index) => {
    const host = !app.env.HOST || app.env.HOST === '0.0.0.0' ? '127.0.0.1' : app.env.HOST;
    return { name: app.name, index, port: Number(app.env.PORT), url: `http://${host}:${app.env.PORT}` };
  });
}

/**
 * The PID of the app at `index` in ecosystem.config.js, from the file pm2 keeps it in (rewritten when pm2 restarts
 * the app): `PM2_HOME/pids/<name>-<pm_id>.pid`, where a fresh pm2-runtime numbers the apps in the file's order (and
 * drops a `-<digits>` ending from the name, so `catalog-2` is `catalog-1.pid`: the id is what to go by).
 */
function pidOf(index) {
  const dir = path.join(process.env.PM2_HOME, 'pids');
  const file = fs.existsSync(dir) && fs.readdirSync(dir).find((f) => f.endsWith(`-${index}.pid`));
  return file ? Number(fs.readFileSync(path.join(dir, file), 'utf8')) : undefined;
}

/**
 * Runs every app of ecosystem.config.js under pm2-runtime in the foreground. Once every frontend answers /readyz,
 * `onReady(frontends, ready)` is called (ready false: not within 30 s). Ctrl-C (SIGINT) or SIGTERM stops pm2-runtime
 * and with it every app; then `afterStop` runs (stopping what the caller started besides) and the process exits.
 */
function runPm2({ view, onReady, afterStop = async () => undefined }) {
  const { pipeLogView } = require('../dist/support/log-view');
  const { waitUntilReady } = require('../dist/support/wait-ready');
  const pm2Runtime = path.join(path.dirname(require.resolve('pm2/package.json')), 'bin', 'pm2-runtime');
  const child = spawn(process.execPath, [pm2Runtime, 'start', ECOSYSTEM], {
    env: process.env,
    stdio: view ? ['inherit', 'pipe', 'pipe'] : 'inherit',
  });
  if (view) {
    pipeLogView(child.stdout, process.stdout, view);
    pipeLogView(child.stderr, process.stderr, view);
  }

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nbazar: stopping (${signal})...`);
    child.kill('SIGINT');
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // 'close', not 'exit': the last log lines may still be in the pipes when pm2-runtime exits.
  child.on('close', (code, signal) => {
    afterStop()
      .catch((err) => console.error(`bazar: ${err.message}`))
      .finally(() => {
        console.log('bazar: stopped');
        process.exit(code ?? (signal ? 1 : 0));
      });
  });

  const frontends = apps().filter((app) => app.name.startsWith('frontend'));
  const running = () => child.exitCode === null;
  void Promise.all(
    frontends.map((f) => waitUntilReady(`${f.url}/readyz`, { timeoutMs: 30_000, intervalMs: 250, stillRunning: running })),
  ).then((answers) => {
    if (!stopping) onReady(frontends, answers.every(Boolean));
  });
  return child;
}

module.exports = { prepare, apps, pidOf, runPm2, fail };
