/**
 * Shoppers for the HA test, through the frontend as real clients: buyers, each buy with its own Idempotency-Key and
 * retried with that key on 503, timeouts and "in progress" until it is answered (a buy that failed during a
 * failover may be sent many times but must be one order); lookers, reading books through the frontend's cache; and
 * a watcher of the cache's state on the frontend's /status.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Shopper, type BuyHistory } from '../helpers/shopper';
import type { HaStore } from './store';

export interface Ack {
  key: string;
  /** When the attempt that succeeded was sent, and when its 201 came (ms since the epoch). */
  sentAt: number;
  ackedAt: number;
}

export interface Sample {
  at: number;
  ok: boolean;
}

/** One lookup: answered (200) or not, and whether its book was being bought. */
export interface Lookup extends Sample {
  forSale: boolean;
}

/** The frontend's cache at one moment: live or not, its entries, and its hit and miss counts so far. */
export interface CacheSample extends Sample {
  entries: number;
  hits: number;
  misses: number;
}

export interface LoadOptions {
  buyers?: number;
  lookers?: number;
}

/** A buy is retried until answered, for as long as a failover can take and then some. */
const BUY_RETRIES = 200;

export class StoreLoad {
  /** 201s in the order they came. */
  readonly acks: Ack[] = [];
  readonly histories: BuyHistory[] = [];
  /** Every lookup. */
  readonly lookups: Lookup[] = [];
  /** The frontend's cache every 200 ms: ok while live. */
  readonly cache: CacheSample[] = [];
  private readonly shopper: Shopper;
  private readonly run = Date.now().toString(36);
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly store: HaStore,
    private readonly options: LoadOptions = {},
  ) {
    // Retries pause at most 500 ms, so the end of an outage shows within a fraction of a second.
    this.shopper = new Shopper({ urls: [store.frontendUrl], timeoutMs: 5000, maxRetries: BUY_RETRIES, maxBackoffMs: 500 });
  }

  /** Attempts that got no 201 and were retried. */
  get retries(): number {
    return this.histories.reduce((n, h) => n + h.attempts.length - 1, 0);
  }

  start(): void {
    this.running = true;
    const { buyers = 8, lookers = 2 } = this.options;
    this.loops = [
      ...Array.from({ length: buyers }, (_, id) => this.buyer(id)),
      ...Array.from({ length: lookers }, () => this.looker()),
      this.watcher(),
    ];
  }

  /** Stops starting new buys and waits for the ones in flight (each still retried until answered). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  close(): Promise<void> {
    return this.shopper.close();
  }

  private pick<T>(from: T[]): T {
    return from[Math.floor(Math.random() * from.length)];
  }

  private async buyer(id: number): Promise<void> {
    for (let i = 0; this.running; i++) {
      const history = await this.shopper.buy(this.pick(this.store.forSale), `ha-${this.run}-${id}-${i}`);
      this.histories.push(history);
      const last = history.attempts[history.attempts.length - 1];
      if (history.outcome === 'confirmed') this.acks.push({ key: history.key, sentAt: last.sentAt, ackedAt: last.at });
    }
  }

  private async looker(): Promise<void> {
    while (this.running) {
      const book = this.pick(this.store.seed).id;
      const { status } = await this.shopper.send('GET', `/lookup/${book}`);
      this.lookups.push({ at: Date.now(), ok: status === 200, forSale: this.store.forSale.includes(book) });
      await sleep(20);
    }
  }

  private async watcher(): Promise<void> {
    while (this.running) {
      const status = await this.store.cacheStatus().catch(() => undefined);
      if (status) this.cache.push({ at: Date.now(), ok: status.state === 'live', entries: status.entries, hits: status.hits, misses: status.misses });
      await sleep(200);
    }
  }
}

/** How many of the samples taken in [from, to] (and passing `which`) were ok, of how many. */
export function okShare<T extends Sample>(samples: T[], from = 0, to = Infinity, which: (s: T) => boolean = () => true): { ok: number; of: number } {
  const within = samples.filter((s) => s.at >= from && s.at <= to && which(s));
  return { ok: within.filter((s) => s.ok).length, of: within.length };
}

/** Cache hits and misses between the samples nearest `from` and `to`. */
export function cacheReads(samples: CacheSample[], from: number, to: number): { hits: number; misses: number } {
  const at = (t: number) => samples.filter((s) => s.at <= t).pop() ?? samples[0];
  const [start, end] = [at(from), at(to)];
  return start && end ? { hits: end.hits - start.hits, misses: end.misses - start.misses } : { hits: 0, misses: 0 };
}
