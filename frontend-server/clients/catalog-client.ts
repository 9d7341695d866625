import type { Book, BookList, EventAck, TopicList, TopicResult, UpstreamStatus } from '../../common/schemas';
import { Upstream, type CallContext, type UpstreamOptions } from '../../common/upstream';

/**
 * What the frontend asks of the catalog, and nothing else. Reads are balanced over the catalog's replicas and
 * retried on another one; an acknowledgement goes to the replica whose change it acknowledges.
 */
export class CatalogClient {
  private readonly upstream: Upstream;

  constructor(options: Omit<UpstreamOptions, 'name'>) {
    this.upstream = new Upstream({ name: 'catalog', ...options });
  }

  /** Every catalog replica's origin; the frontend subscribes to each one's changes. */
  get origins(): string[] {
    return this.upstream.origins;
  }

  lookup(id: number, ctx: CallContext): Promise<Book> {
    return this.upstream.call<Book>('GET', `/query_by_item_number/${id}`, ctx);
  }

  search(topic: string, ctx: CallContext): Promise<TopicResult> {
    return this.upstream.call<TopicResult>('GET', `/query_by_topic/${encodeURIComponent(topic)}`, ctx);
  }

  async topics(ctx: CallContext): Promise<string[]> {
    return (await this.upstream.call<TopicList>('GET', '/topics', ctx)).topics;
  }

  async books(ctx: CallContext): Promise<Book[]> {
    return (await this.upstream.call<BookList>('GET', '/books', ctx)).books;
  }

  /** Tells the replica at `origin` that this subscriber applied its changes up to `seq`. Never balanced. */
  ack(origin: string, subscriber: string, seq: number, ctx: CallContext): Promise<EventAck> {
    return this.upstream.callReplica<EventAck>(origin, 'POST', '/events/ack', ctx, { subscriber, seq });
  }

  ping(ctx: CallContext): Promise<void> {
    return this.upstream.ping(ctx);
  }

  status(): UpstreamStatus {
    return this.upstream.status();
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}
