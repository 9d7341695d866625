// Runs inside the client namespace (`ip netns exec <client> node http-probe.js '<json>'`): the test's own process
// lives in the root namespace, which has no route to the lab. Takes a JSON array of
// {method, url, token?, body?, timeoutMs?}, makes the requests one after another, prints a JSON array of
// {status, ms, json} or {error, ms}. A tcp://ip:port URL only connects (a database port): {connected, ms} or
// {error, ms}.
'use strict';
const net = require('node:net');

function connect(url, timeoutMs, started) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (result) => {
      socket.destroy();
      resolve({ ...result, ms: Math.round(performance.now() - started) });
    };
    socket.setTimeout(timeoutMs, () => done({ error: 'ETIMEDOUT' }));
    socket.once('connect', () => done({ connected: true }));
    socket.once('error', (err) => done({ error: err.code || err.message }));
  });
}

async function probe({ method = 'GET', url, token, body, timeoutMs = 5000 }) {
  const started = performance.now();
  if (url.startsWith('tcp://')) return connect(url, timeoutMs, started);
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, ms: Math.round(performance.now() - started), json };
  } catch (err) {
    return { error: String(err && err.cause ? err.cause.code || err.cause.message : err), ms: Math.round(performance.now() - started) };
  }
}

(async () => {
  const results = [];
  for (const request of JSON.parse(process.argv[2])) results.push(await probe(request));
  process.stdout.write(JSON.stringify(results));
})();
