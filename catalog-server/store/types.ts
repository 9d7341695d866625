import type { DatabaseBackend } from '../../common/config';
import type { Page, PageRequest } from '../../common/paging';
import type { Book, BookRef } from '../../common/schemas';

export interface BookPatch {
  stock?: number;
  price_cents?: number;
}

export interface PurchaseRecord {
  order_id: string;
  item_number: number;
  title: string;
  price_cents: number;
  outcome: 'purchased' | 'out_of_stock';
  /** Stock left right after this purchase was applied. */
  stock_after: number;
  created_at: string;
}

export type PurchaseResult =
  | { kind: 'applied' | 'replayed'; purchase: PurchaseRecord }
  | { kind: 'book_not_found' }
  | { kind: 'order_id_reused' };

/** One book's stock accounted for: seed stock + delta - purchased must equal stock, whatever crashed when. */
export interface BookAudit {
  id: number;
  stock: number;
  /** Sum of every stock change that was not a purchase (restocks, updates). */
  delta: number;
  /** Purchases that took a copy. */
  purchased: number;
}

/** One page of a topic's books, in id order; `topic` is spelled as the topic's first book spells it. */
export interface TopicPage extends Page<BookRef> {
  topic: string;
}

/**
 * The catalog's storage. Async so a networked backend (PostgreSQL) can implement it; the SQLite one answers
 * synchronously inside. Every write is one transaction.
 */
export interface CatalogStore {
  readonly backend: DatabaseBackend;
  /** Every book, in id order: for tools and tests; the API reads them a page at a time (pageBooks). */
  listBooks(): Promise<Book[]>;
  /** One page of all books, in id order. */
  pageBooks(page: PageRequest): Promise<Page<Book>>;
  /** One entry per topic (per normalizeTopic() key), spelled as its first book spells it, in key order. */
  listTopics(): Promise<string[]>;
  /**
   * One page of the books whose topic matches after normalizeTopic(), in id order; null when no book has that
   * topic (a page past the end of a topic that exists is empty, not null).
   */
  findByTopic(topic: string, page: PageRequest): Promise<TopicPage | null>;
  getBook(id: number): Promise<Book | null>;
  updateBook(id: number, patch: BookPatch): Promise<Book | null>;
  restockAll(stock: number): Promise<Book[]>;
  /** Decrements stock by one if it is above zero and records the order id, atomically and at most once per id. */
  purchase(id: number, orderId: string): Promise<PurchaseResult>;
  getPurchase(orderId: string): Promise<PurchaseRecord | null>;
  /** Every book's stock next to what explains it, by id. */
  audit(): Promise<BookAudit[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
