// Runs inside the client namespace (`ip netns exec <client> node http-probe.js '<json>'`): the test's own process
// lives in the root namespace, which has no route to the lab. Takes a JSON array of
// {method, url, token?, timeoutMs?}, makes the requests one after another, prints a JSON array of
// {status, ms, json} or {error, ms}.
'use strict';

async function probe({ method = 'GET', url, token, timeoutMs = 5000 }) {
  const started = performance.now();
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) });
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
