import type { FastifyBaseLogger } from 'fastify';
import type { SubscriptionStatus } from '../../common/schemas';
import type { CatalogClient } from '../clients/catalog-client';
import type { CatalogReads } from './catalog-reads';
import { ChangeSubscriber } from './change-subscriber';

export interface ChangeStreamsOptions {
  catalog: CatalogClient;
  token?: string;
  log: FastifyBaseLogger;
  reads: CatalogReads;
  /** A stream silent this long is taken for dead (each catalog replica sends a heartbeat every 5 s). */
  idleTimeoutMs?: number;
}

/**
 * The cache's view of the catalog: one change stream per catalog replica. A replica publishes only the writes it
 * made itself, and waits only for its own subscribers; so the cache may serve only while subscribed to every
 * replica. It goes live when the last stream connects and dark the moment any one is lost. Each stream's changes
 * are acknowledged to the replica that sent them.
 */
export class ChangeStreams {
  private readonly origins: string[];
  private readonly subscribers: ChangeSubscriber[];
  /** Ack timeout each connected replica announced; the stall guard uses the shortest. */
  private readonly ackTimeouts = new Map<string, number>();

  constructor(private readonly options: ChangeStreamsOptions) {
    const { catalog, reads } = options;
    this.origins = catalog.origins;
    this.subscribers = this.origins.map(
      (origin) =>
        new ChangeSubscriber({
          origin,
          token: options.token,
          catalog,
          log: options.log.child({ replica: origin }),
          idleTimeoutMs: options.idleTimeoutMs,
          onConnect: (ackTimeoutMs) => this.connected(origin, ackTimeoutMs),
          onDisconnect: () => this.disconnected(origin),
          onChange: (change) => reads.applyChange(change),
        }),
    );
  }

  start(): void {
    for (const subscriber of this.subscribers) subscriber.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscribers.map((subscriber) => subscriber.stop()));
  }

  status(): SubscriptionStatus[] {
    return this.subscribers.map((subscriber, i) => ({
      origin: this.origins[i],
      state: subscriber.connected ? 'subscribed' : 'connecting',
    }));
  }

  private connected(origin: string, ackTimeoutMs: number): void {
    this.ackTimeouts.set(origin, ackTimeoutMs);
    if (this.ackTimeouts.size < this.subscribers.length) {
      const progress = { subscribed: this.ackTimeouts.size, replicas: this.subscribers.length };
      this.options.log.info(progress, 'cache stays off until subscribed to every catalog replica');
      return;
    }
    this.options.reads.connected(Math.min(...this.ackTimeouts.values()));
    this.options.log.info({ replicas: this.subscribers.length }, 'subscribed to every catalog replica; cache on');
  }

  private disconnected(origin: string): void {
    this.ackTimeouts.delete(origin);
    this.options.reads.disconnected();
  }
}
