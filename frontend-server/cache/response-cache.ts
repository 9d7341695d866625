export interface ResponseCacheOptions {
  maxEntries: number;
  /** Safety net only: push invalidation keeps entries right; the TTL bounds the damage of a bug in it. */
  ttlMs: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expires: number;
  /** What invalidates it: its own key, or a group's name (a topic, for each page of its search). */
  group: string;
}

/**
 * A bounded LRU (a Map keeps insertion order: a hit re-inserts its key, the oldest key is evicted first) with a
 * TTL, that serves and stores only while `live` (subscribed to the catalog's changes).
 *
 * The fill-vs-invalidate race: a fill reads the catalog, then stores. If an invalidation for its key (or a flush)
 * lands between the two, the value it read may be the old one, so it must not be stored. Each fill takes a ticket
 * (the invalidation counter when it began); a store is refused when the key was invalidated after that ticket.
 */
export class ResponseCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Bumped by every invalidation and flush. */
  private epoch = 0;
  private flushedAt = 0;
  /** Key -> epoch of its last invalidation; kept only while fills are in flight (they are the only readers). */
  private readonly invalidatedAt = new Map<string, number>();
  /** Group name -> keys stored under it (an entry whose key is its group's name is not listed). */
  private readonly groups = new Map<string, Set<string>>();
  private fillsInFlight = 0;
  private live = false;

  constructor(options: ResponseCacheOptions) {
    this.maxEntries = options.maxEntries;
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.entries.size;
  }

  get isLive(): boolean {
    return this.live;
  }

  get(key: string): V | undefined {
    if (!this.live) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.drop(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /**
   * Loads a value and stores it unless it may be stale by the time it arrives: unless its key, or the group it is
   * stored under, was invalidated meanwhile. Errors propagate, never stored.
   */
  async fill(key: string, load: () => Promise<V>, group = key): Promise<{ value: V; stored: boolean }> {
    const ticket = this.epoch;
    this.fillsInFlight++;
    try {
      const value = await load();
      return { value, stored: this.storeIfFresh(key, group, value, ticket) };
    } finally {
      if (--this.fillsInFlight === 0) this.invalidatedAt.clear();
    }
  }

  /** Drops the keys, and every entry of the groups these names name; returns how many entries were dropped. */
  invalidate(keys: Iterable<string>): number {
    this.epoch++;
    let dropped = 0;
    for (const key of keys) {
      if (this.drop(key)) dropped++;
      const members = this.groups.get(key);
      if (members) {
        for (const member of members) this.entries.delete(member);
        dropped += members.size;
        this.groups.delete(key);
      }
      if (this.fillsInFlight > 0) this.invalidatedAt.set(key, this.epoch);
    }
    // Bounded memory under a write storm: past the cache's own size, forgetting keys and refusing every fill is safe.
    if (this.invalidatedAt.size > this.maxEntries) this.flush();
    return dropped;
  }

  /** Drops everything and refuses every fill that began before now. */
  flush(): number {
    const dropped = this.entries.size;
    this.entries.clear();
    this.groups.clear();
    this.invalidatedAt.clear();
    this.flushedAt = ++this.epoch;
    return dropped;
  }

  /** Connected to the change stream: start from empty (we may have missed events) and cache again. */
  goLive(): void {
    this.flush();
    this.live = true;
  }

  /** Lost the change stream: nothing cached can be trusted, and nothing is cached until we are back. */
  goDark(): void {
    this.live = false;
    this.flush();
  }

  private storeIfFresh(key: string, group: string, value: V, ticket: number): boolean {
    if (!this.live || this.flushedAt > ticket || (this.invalidatedAt.get(group) ?? -1) > ticket) return false;
    this.drop(key);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs, group });
    if (group !== key) {
      const members = this.groups.get(group);
      if (members) members.add(key);
      else this.groups.set(group, new Set([key]));
    }
    if (this.entries.size > this.maxEntries) this.drop(this.entries.keys().next().value!);
    return true;
  }

  /** Removes one entry, and its place in its group; false when there was none. */
  private drop(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    if (entry.group !== key) {
      const members = this.groups.get(entry.group);
      members?.delete(key);
      if (members?.size === 0) this.groups.delete(entry.group);
    }
    return true;
  }
}
