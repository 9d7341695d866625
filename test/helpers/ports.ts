import { createServer } from 'node:net';

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Free loopback ports for processes that must be told their port up front (pm2 apps, restarted services).
 * Drawn below 32768 so they never collide with the kernel's ephemeral range used by outgoing connections.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (!ports.includes(port) && (await tryListen(port))) ports.push(port);
  }
  return ports;
}
