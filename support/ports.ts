import { createServer } from 'node:net';

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * `count` distinct loopback ports nobody listens on right now, for processes that must be told their port up front
 * (a restarted service comes back where the others point; pm2 apps). Drawn from 20000–31999, below the kernel's
 * ephemeral range (32768 and up), so no outgoing connection takes one between the probe and the bind. A seeded
 * `random` (the chaos suite) draws the same ports again.
 */
export async function freePorts(count: number, random: () => number = Math.random): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries >= 200) throw new Error(`no ${count} free ports between 20000 and 31999`);
    const port = 20_000 + Math.floor(random() * 12_000);
    if (!ports.includes(port) && (await isFree(port))) ports.push(port);
  }
  return ports;
}
