import type { Histogram } from 'prom-client';
import type { Page, PageRequest } from '../../common/paging';
import { normalizeTopic } from '../../common/topic';
import type { Book } from '../../common/schemas';
import type { ChangeFeed } from '../events/change-feed';
import type { BookAudit, BookPatch, CatalogStore, PurchaseRecord, PurchaseResult, TopicPage } from './types';

/**
 * Wraps the real store so that every committed write is published on the change feed before the write's caller
 * hears about it, and times each write transaction. Implementing CatalogStore explicitly (not a Proxy) means a
 * new write method cannot be added to the interface without the compiler asking how it is published.
 */
export class PublishingStore implements CatalogStore {
  /**
   * Each book's normalized topic, once read. No write changes a book's topic (updates touch stock and price), so it
   * is read once per book and process; a purchase then publishes without another query, also when the database
   * has just gone away.
   */
  private readonly topics = new Map<number, string>();

  constructor(
    private readonly inner: CatalogStore,
    private readonly feed: ChangeFeed,
    private readonly txSeconds: Histogram<'op' | 'backend'>,
  ) {}

  get backend() {
    return this.inner.backend;
  }

  listBooks(): Promise<Book[]> {
    return this.inner.listBooks();
  }

  pageBooks(page: PageRequest): Promise<Page<Book>> {
    return this.inner.pageBooks(page);
  }

  listTopics(): Promise<string[]> {
    return this.inner.listTopics();
  }

  findByTopic(topic: string, page: PageRequest): Promise<TopicPage | null> {
    return this.inner.findByTopic(topic, page);
  }

  getBook(id: number): Promise<Book | null> {
    return this.inner.getBook(id);
  }

  async updateBook(id: number, patch: BookPatch): Promise<Book | null> {
    const book = await this.timed('update', () => this.inner.updateBook(id, patch));
    if (book) await this.feed.publish({ ids: [id], topics: [normalizeTopic(book.topic)] });
    return book;
  }

  async restockAll(stock: number): Promise<Book[]> {
    const books = await this.timed('restock', () => this.inner.restockAll(stock));
    await this.feed.publish({ ids: 'all', topics: 'all' });
    return books;
  }

  async purchase(id: number, orderId: string): Promise<PurchaseResult> {
    const result = await this.timed('purchase', () => this.inner.purchase(id, orderId));
    // Only a purchase that took a copy changes a book; "out of stock" leaves every answer as it was. A replay is
    // published too: the first attempt may have committed and then lost its answer (the database went away right
    // after the COMMIT), so nobody heard of the change yet. An extra invalidation costs a miss; a missing one would
    // leave caches stale.
    if ((result.kind === 'applied' || result.kind === 'replayed') && result.purchase.outcome === 'purchased') {
      // Search answers list no stock today, but invalidating the topic keeps them right if they ever do.
      await this.feed.publish({ ids: [id], topics: await this.topicOf(id) });
    }
    return result;
  }

  getPurchase(orderId: string): Promise<PurchaseRecord | null> {
    return this.inner.getPurchase(orderId);
  }

  audit(): Promise<BookAudit[]> {
    return this.inner.audit();
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * The topic to invalidate with a change of book `id`. The purchase is committed whatever happens to the read: if
   * the database is gone already (its first purchase here, at the moment of a failover), every topic goes.
   */
  private async topicOf(id: number): Promise<string[] | 'all'> {
    let topic = this.topics.get(id);
    if (topic === undefined) {
      const book = await this.inner.getBook(id).catch(() => null);
      if (!book) return 'all';
      topic = normalizeTopic(book.topic);
      this.topics.set(id, topic);
    }
    return [topic];
  }

  private async timed<T>(op: string, write: () => Promise<T>): Promise<T> {
    const end = this.txSeconds.startTimer({ op, backend: this.inner.backend });
    try {
      return await write();
    } finally {
      end();
    }
  }
}
