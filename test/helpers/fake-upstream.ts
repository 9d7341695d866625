import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a fake replica treats calls (its /readyz and /healthz follow `ready`). */
export type FakeMode = 'ok' | 'fail-500' | 'coded-503' | 'reset' | 'hang';

export interface FakeCall {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeUpstream {
  url: string;
  mode: FakeMode;
  /** What /readyz and /healthz answer: 200 when true, 503 when false. */
  ready: boolean;
  /** Every call but probes, in arrival order. */
  calls: FakeCall[];
  probes: number;
  /** Answers every held ("hang") request with 200 now. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A replica of some upstream on 127.0.0.1, port 0, whose behaviour a test switches at will: answers {"from": url}
 * with 200, or 500, or a coded 503 (a tier behind it is down), or resets the connection, or never answers.
 */
export async function fakeUpstream(mode: FakeMode = 'ok'): Promise<FakeUpstream> {
  const held: ServerResponse[] = [];
  const fake: FakeUpstream = {
    url: '',
    mode,
    ready: true,
    calls: [],
    probes: 0,
    release() {
      for (const res of held.splice(0)) if (!res.destroyed) res.end(JSON.stringify({ from: fake.url }));
    },
    async close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/readyz' || req.url === '/healthz') {
        fake.probes++;
        res.statusCode = fake.ready ? 200 : 503;
        res.end(JSON.stringify({ status: fake.ready ? 'ready' : 'unavailable', checks: {} }));
        return;
      }
      fake.calls.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      switch (fake.mode) {
        case 'ok':
          res.end(JSON.stringify({ from: fake.url }));
          return;
        case 'fail-500':
          res.statusCode = 500;
          res.end(JSON.stringify({ secret: 'stack trace' }));
          return;
        case 'coded-503':
          res.statusCode = 503;
          res.end(JSON.stringify({ error: { code: 'upstream_unavailable', message: 'the catalog service is unavailable' } }));
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'hang':
          held.push(res);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** An origin where nothing listens (a port that was just free): connecting is refused. */
export async function refusingOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
