#!/usr/bin/env node
// `npm start`: build if the sources changed, then run catalog, order and frontend in the foreground under
// pm2-runtime (the same ecosystem.config.js a deployment host uses), print the store's URL, and stop all three
// cleanly on Ctrl-C. Data lives in ./data (or BAZAR_DATA_DIR) and survives restarts.
//
// In a terminal the services' JSON log lines are shown pretty-printed, and of each request only warnings and errors
// (support/log-view.ts); pm2's log files (data/pm2/logs) and a piped stdout keep the JSON lines whole.
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const { buildIfNeeded } = require('./build-if-needed');

const root = path.resolve(__dirname, '..');

async function main() {
  buildIfNeeded();
  // Compiled from support/ by the build above: the same readiness poll and log view the tests and bench use.
  const { waitUntilReady } = require('../dist/support/wait-ready');
  const { chooseLogView, pipeLogView } = require('../dist/support/log-view');
  let view;
  try {
    view = chooseLogView(process.env, Boolean(process.stdout.isTTY));
  } catch (err) {
    console.error(`bazar: ${err.message}`);
    process.exit(78);
  }
  const dataDir = path.resolve(process.env.BAZAR_DATA_DIR || path.join(root, 'data'));
  fs.mkdirSync(dataDir, { recursive: true });
  const env = {
    ...process.env,
    BAZAR_DATA_DIR: dataDir,
    // The three children share one secret; a fresh one per run is fine on a single machine.
    BAZAR_TOKEN: process.env.BAZAR_TOKEN || randomBytes(32).toString('hex'),
    PM2_HOME: process.env.PM2_HOME || path.join(dataDir, 'pm2'),
  };
  const pm2Runtime = path.join(path.dirname(require.resolve('pm2/package.json')), 'bin', 'pm2-runtime');
  const child = spawn(process.execPath, [pm2Runtime, 'start', path.join(root, 'ecosystem.config.js')], {
    env,
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
    console.log('bazar: stopped');
    process.exit(code ?? (signal ? 1 : 0));
  });

  const host = !env.HOST || env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST;
  const url = `http://${host}:${env.FRONTEND_PORT || 3000}/`;
  const ready = await waitUntilReady(`${url}readyz`, { timeoutMs: 30_000, intervalMs: 250, stillRunning: () => child.exitCode === null });
  if (ready) console.log(`\nbazar: the store is open at ${url}  (data in ${dataDir}; Ctrl-C stops all three)\n`);
  else if (!stopping) console.log(`bazar: the frontend did not become ready at ${url}readyz within 30 s; see the logs above`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
