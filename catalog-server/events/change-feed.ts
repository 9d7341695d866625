import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Change, ChangeEvent, ChangeHello } from '../../common/change-event';

export interface ChangeFeedOptions {
  log: FastifyBaseLogger;
  /**
   * How long a write waits for every subscriber to confirm it applied the event before cutting the laggards off
   * (default 300 ms; keep it well below the order server's 1000 ms deadline for a purchase).
   */
  ackTimeoutMs?: number;
  /** A comment line this often lets subscribers tell a quiet stream from a dead one. */
  heartbeatMs?: number;
  /** Called when a subscriber is cut off for not acknowledging in time. */
  onCutOff?: () => void;
}

interface Subscriber {
  id: string;
  raw: ServerResponse;
  acked: number;
}

interface Waiter {
  seq: number;
  pending: Set<string>;
  done: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Server-sent change events for every committed write, with a barrier: publish() resolves only once every
 * subscriber connected at the time has acknowledged (POST /events/ack) that it applied the event, or has been cut
 * off for not doing so within ackTimeoutMs. The catalog acknowledges a write only after publish() resolves, so when a
 * client hears "done", no connected frontend can still answer from a cache entry the write made stale.
 * Subscribers register themselves by connecting; the catalog's configuration never lists them.
 */
export class ChangeFeed {
  private seq = 0;
  private readonly subscribers = new Map<string, Subscriber>();
  private readonly waiters = new Set<Waiter>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly ackTimeoutMs: number;

  constructor(private readonly options: ChangeFeedOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 300;
    this.heartbeat = setInterval(() => this.broadcast(': heartbeat\n\n'), options.heartbeatMs ?? 5000);
    this.heartbeat.unref();
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Takes over a hijacked response as an event stream; the first event tells the subscriber its id. */
  subscribe(raw: ServerResponse): string {
    const id = randomUUID();
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // The subscriber learns the ack timeout so it can tell when it may have been cut off without noticing yet.
    const hello: ChangeHello = { subscriber: id, seq: this.seq, ackTimeoutMs: this.ackTimeoutMs };
    raw.write(`event: hello\ndata: ${JSON.stringify(hello)}\n\n`);
    // acked starts at the current seq: earlier writes were acknowledged before this subscriber could have cached.
    this.subscribers.set(id, { id, raw, acked: this.seq });
    raw.on('close', () => this.drop(id, 'stream closed'));
    // A write to a peer that just vanished (EPIPE) must end this subscription, never the process.
    raw.on('error', () => this.drop(id, 'stream closed'));
    this.options.log.info({ subscriber: id, subscribers: this.subscribers.size }, 'change subscriber connected');
    return id;
  }

  /** Records that `id` applied every event up to `seq`; false when `id` is not (or no longer) subscribed. */
  ack(id: string, seq: number): boolean {
    const sub = this.subscribers.get(id);
    if (!sub) return false;
    if (seq > sub.acked) sub.acked = Math.min(seq, this.seq);
    for (const waiter of this.waiters) {
      if (waiter.seq <= sub.acked) this.settle(waiter, id);
    }
    return true;
  }

  /** Sends one event to every subscriber and resolves once each has applied it or been cut off. */
  publish(change: Change): Promise<void> {
    const seq = ++this.seq;
    if (this.subscribers.size === 0) return Promise.resolve();
    const event: ChangeEvent = { seq, ...change };
    const frame = `id: ${seq}\nevent: change\ndata: ${JSON.stringify(event)}\n\n`;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        seq,
        pending: new Set(this.subscribers.keys()),
        done: resolve,
        timer: setTimeout(() => {
          for (const id of waiter.pending) this.drop(id, `no ack for event ${seq} within ${this.ackTimeoutMs} ms`);
        }, this.ackTimeoutMs),
      };
      this.waiters.add(waiter);
      this.broadcast(frame);
    });
  }

  /** Ends every stream (subscribers flush, then subscribe again) and releases waiting writes. */
  disconnectAll(): void {
    for (const id of [...this.subscribers.keys()]) this.drop(id, 'catalog closing');
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.disconnectAll();
  }

  private broadcast(frame: string): void {
    for (const sub of this.subscribers.values()) sub.raw.write(frame);
  }

  private drop(id: string, reason: string): void {
    const sub = this.subscribers.get(id);
    if (!sub) return;
    this.subscribers.delete(id);
    // Destroying the socket is what makes the frontend flush: it stops caching until it has reconnected.
    sub.raw.destroy();
    if (reason !== 'stream closed' && reason !== 'catalog closing') {
      this.options.log.warn({ subscriber: id, reason }, 'change subscriber cut off');
      this.options.onCutOff?.();
    } else {
      this.options.log.info({ subscriber: id, reason }, 'change subscriber gone');
    }
    for (const waiter of this.waiters) this.settle(waiter, id);
  }

  private settle(waiter: Waiter, id: string): void {
    waiter.pending.delete(id);
    if (waiter.pending.size > 0) return;
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.done();
  }
}
