import type { Counter } from 'prom-client';
import type { Metrics } from '../../common/metrics';
import type { PageQuery } from '../../common/paging';
import type { Book, CacheStatus, TopicResult } from '../../common/schemas';
import { normalizeTopic } from '../../common/topic';
import type { CallContext } from '../../common/upstream';
import type { ChangeEvent } from '../../common/change-event';
import type { CatalogClient } from '../clients/catalog-client';
import { ResponseCache } from './response-cache';

type Kind = 'lookup' | 'search';

const bookKey = (id: number) => `b:${id}`;
/** A topic's key names the group of all its pages, and is also the key of its default page (no parameters). */
const topicKey = (topic: string) => `t:${topic}`;
const pageKey = (topic: string, { limit, cursor }: PageQuery) =>
  limit === undefined && cursor === undefined ? topic : `${topic}\n${limit ?? ''}\n${cursor ?? ''}`;

/**
 * The frontend's two cacheable reads. Without a cache (CACHE=off) they go straight to the catalog; with one, a hit
 * never leaves the process and a miss fills the cache unless a change for that key arrived meanwhile.
 */
export class CatalogReads {
  /** Children bound once: a labelled inc() hashes its labels on every call, and hits are the hot path. */
  private readonly hits: Record<Kind, Counter.Internal>;
  private readonly misses: Record<Kind, Counter.Internal>;
  private readonly invalidations: Counter<'reason'>;
  /** The same counts as plain numbers, for /status (a prom-client counter is only read asynchronously). */
  private hitCount = 0;
  private missCount = 0;

  /** Updated by a short interval timer; a hit seeing it overdue knows this process was stalled (GC, SIGSTOP, CPU). */
  private lastTick = performance.now();
  private stallMs = 150;
  private watchdog?: NodeJS.Timeout;

  constructor(
    private readonly catalog: CatalogClient,
    private readonly cache: ResponseCache<unknown> | undefined,
    metrics: Metrics,
  ) {
    const hits = metrics.counter('cache_hits_total', 'Answers served from the frontend cache', ['kind']);
    const misses = metrics.counter('cache_misses_total', 'Cacheable reads that went to the catalog', ['kind']);
    this.hits = { lookup: hits.labels('lookup'), search: hits.labels('search') };
    this.misses = { lookup: misses.labels('lookup'), search: misses.labels('search') };
    this.invalidations = metrics.counter(
      'cache_invalidations_total',
      'Cache entries dropped: "change" by a change event, "flush" when the change stream was lost, "stall" after this process stalled',
      ['reason'],
    );
    metrics.gauge('cache_entries', 'Entries in the frontend cache', () => cache?.size ?? 0);
    metrics.gauge('cache_live', '1 while subscribed to every catalog replica\'s changes and caching, else 0', () => (this.live ? 1 : 0));
  }

  /** False with CACHE=off: every read goes to the catalog. */
  get caching(): boolean {
    return this.cache !== undefined;
  }

  /** True while subscribed to the catalog's changes (only then are answers cached and served from cache). */
  get live(): boolean {
    return this.cache?.isLive ?? false;
  }

  lookup(id: number, ctx: CallContext): Promise<Book> {
    return this.read('lookup', bookKey(id), () => this.catalog.lookup(id, ctx));
  }

  /** One page of a topic's books, cached per page; a change to the topic drops every page of it (its group). */
  search(topic: string, page: PageQuery, ctx: CallContext): Promise<TopicResult> {
    const group = topicKey(normalizeTopic(topic));
    return this.read('search', pageKey(group, page), () => this.catalog.search(topic, page, ctx), group);
  }

  /** The cache's half of /status (the subscriptions are ChangeStreams'). */
  status(): Omit<CacheStatus, 'subscriptions'> {
    const reads = this.hitCount + this.missCount;
    return {
      state: !this.cache ? 'off' : this.live ? 'live' : 'dark',
      entries: this.cache?.size ?? 0,
      hits: this.hitCount,
      misses: this.missCount,
      hit_ratio: reads === 0 ? null : this.hitCount / reads,
    };
  }

  applyChange(change: ChangeEvent): void {
    if (!this.cache) return;
    if (change.ids === 'all' || change.topics === 'all') {
      this.invalidations.inc({ reason: 'change' }, this.cache.flush());
      return;
    }
    const keys = [...change.ids.map(bookKey), ...change.topics.map(topicKey)];
    this.invalidations.inc({ reason: 'change' }, this.cache.invalidate(keys));
  }

  /**
   * The catalog cuts off a subscriber that has not acknowledged a change within ackTimeoutMs. A frontend stalled
   * that long may have been cut off, with the change and the disconnect both still unread in its socket buffers,
   * while a client's request waits on another socket and could be read first. So a hit is served only if the
   * watchdog ticked within half that time; otherwise everything is flushed and the read goes to the catalog.
   */
  connected(ackTimeoutMs: number): void {
    if (!this.cache) return;
    this.stallMs = Math.max(10, ackTimeoutMs / 2);
    if (!this.watchdog) {
      this.watchdog = setInterval(() => (this.lastTick = performance.now()), Math.max(5, this.stallMs / 5));
      this.watchdog.unref();
    }
    this.lastTick = performance.now();
    this.cache.goLive();
  }

  stop(): void {
    clearInterval(this.watchdog);
  }

  disconnected(): void {
    if (!this.cache) return;
    this.invalidations.inc({ reason: 'flush' }, this.cache.size);
    this.cache.goDark();
  }

  private notStalled(): boolean {
    const now = performance.now();
    if (now - this.lastTick <= this.stallMs) return true;
    this.invalidations.inc({ reason: 'stall' }, this.cache!.flush());
    this.lastTick = now;
    return false;
  }

  private async read<T>(kind: Kind, key: string, load: () => Promise<T>, group = key): Promise<T> {
    if (!this.cache) return load();
    const cached = this.cache.get(key);
    if (cached !== undefined && this.notStalled()) {
      this.hits[kind].inc();
      this.hitCount++;
      return cached as T;
    }
    this.misses[kind].inc();
    this.missCount++;
    return (await this.cache.fill(key, load, group)).value as T;
  }
}
