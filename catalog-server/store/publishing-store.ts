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
    // Only an applied, successful purchase changes a book; replays and "out of stock" leave every answer as it was.
    if (result.kind === 'applied' && result.purchase.outcome === 'purchased') {
      // Search answers list no stock today, but invalidating the topic keeps them right if they ever do.
      const book = await this.inner.getBook(id);
      await this.feed.publish({ ids: [id], topics: book ? [normalizeTopic(book.topic)] : 'all' });
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

  private async timed<T>(op: string, write: () => Promise<T>): Promise<T> {
    const end = this.txSeconds.startTimer({ op, backend: this.inner.backend });
    try {
      return await write();
    } finally {
      end();
    }
  }
}
