#!/usr/bin/env node
// `npm start`: build if the sources changed, then run catalog, order and frontend in the foreground under
// pm2-runtime (the same ecosystem.config.js a deployment host uses), print the store's URL, and stop all three
// cleanly on Ctrl-C. Data lives in ./data (or BAZAR_DATA_DIR) and survives restarts.
//
// In a terminal the services' JSON log lines are shown pretty-printed, and of each request only warnings and errors
// (support/log-view.ts); pm2's log files (data/pm2/logs) and a piped stdout keep the JSON lines whole.
const { prepare, runPm2 } = require('./pm2-foreground');

const { dataDir, view } = prepare();
runPm2({
  view,
  onReady([frontend], ready) {
    if (ready) console.log(`\nbazar: the store is open at ${frontend.url}/  (data in ${dataDir}; Ctrl-C stops all three)\n`);
    else console.log(`bazar: the frontend did not become ready at ${frontend.url}/readyz within 30 s; see the logs above`);
  },
});
