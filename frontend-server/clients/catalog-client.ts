import { pageQueryString, type PageQuery } from '../../common/paging';
import type { Book, BookPage, EventAck, TopicList, TopicResult } from '../../common/schemas';
import { UpstreamClient, type CallContext, type UpstreamOptions } from '../../common/upstream';

/**
 * What the frontend asks of the catalog, and nothing else. Reads are balanced over the catalog's replicas and
 * retried on another one; an acknowledgement goes to the replica whose change it acknowledges.
 */
export class CatalogClient extends UpstreamClient {
  constructor(options: Omit<UpstreamOptions, 'name'>) {
    super({ name: 'catalog', ...options });
  }

  lookup(id: number, ctx: CallContext): Promise<Book> {
    return this.upstream.call<Book>('GET', `/query_by_item_number/${id}`, ctx);
  }

  /** One page of a topic's books; the catalog answers 400 validation_failed for a cursor it did not give out. */
  search(topic: string, page: PageQuery, ctx: CallContext): Promise<TopicResult> {
    return this.upstream.call<TopicResult>('GET', `/query_by_topic/${encodeURIComponent(topic)}${pageQueryString(page)}`, ctx);
  }

  async topics(ctx: CallContext): Promise<string[]> {
    return (await this.upstream.call<TopicList>('GET', '/topics', ctx)).topics;
  }

  /** One page of every book, in item-number order. */
  books(page: PageQuery, ctx: CallContext): Promise<BookPage> {
    return this.upstream.call<BookPage>('GET', `/books${pageQueryString(page)}`, ctx);
  }

  /** Tells the replica at `origin` that this subscriber applied its changes up to `seq`. Never balanced. */
  ack(origin: string, subscriber: string, seq: number, ctx: CallContext): Promise<EventAck> {
    return this.upstream.callReplica<EventAck>(origin, 'POST', '/events/ack', ctx, { subscriber, seq });
  }
}
