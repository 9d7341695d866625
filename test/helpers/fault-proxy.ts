import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

/**
 * A TCP proxy that misbehaves on command, to stand between two Bazar services: add latency, swallow traffic
 * (blackhole: connections stay open, nothing gets through, the caller must time out), refuse new connections, or
 * reset every live one. It listens on a fixed port so the services behind it can restart underneath it.
 */
export class FaultProxy {
  delayMs = 0;
  mode: ProxyMode = 'pass';
  /** Sees every chunk the target sends back, before it is passed on (the chaos suite kills on a 201). */
  onReply?: (chunk: Buffer) => void;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections that lost bytes in a blackhole; their HTTP streams are corrupt, so they never carry data again. */
  private readonly poisoned = new WeakSet<Socket>();
  connections = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    return (this.server.address() as { port: number }).port;
  }

  /** Tears down every live connection with a TCP RST, as a crashed peer or a flaky middlebox would. */
  resetAll(): number {
    const n = this.sockets.size;
    for (const socket of this.sockets) socket.resetAndDestroy();
    return n;
  }

  heal(): void {
    this.delayMs = 0;
    this.mode = 'pass';
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.connections++;
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        // A peer that vanished is reset on the other side too, so the caller sees the failure at once.
        const other = socket === client ? upstream : client;
        if (!other.destroyed) other.resetAndDestroy();
      });
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client, true);
  }

  private pipe(from: Socket, to: Socket, replies = false): void {
    let lastDelivery = 0;
    from.on('data', (chunk: Buffer) => {
      if (replies) this.onReply?.(chunk);
      if (this.mode === 'blackhole' || this.poisoned.has(from) || this.poisoned.has(to)) {
        this.poisoned.add(from);
        return;
      }
      if (this.delayMs === 0 && lastDelivery <= Date.now()) {
        to.write(chunk);
        return;
      }
      // Each chunk waits its delay but never overtakes the one before it.
      const at = Math.max(Date.now() + this.delayMs, lastDelivery);
      lastDelivery = at;
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, at - Date.now());
    });
  }
}
