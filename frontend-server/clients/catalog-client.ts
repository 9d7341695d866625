import { Type, type TObject } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { pageQueryString, type PageQuery } from '../../common/paging';
import { Book, BookRef, TopicResult, type BookPage, type EventAck, type TopicList } from '../../common/schemas';
import { UpstreamClient, type CallContext, type UpstreamOptions } from '../../common/upstream';

/**
 * A read's value, and the JSON to answer it with when that is already at hand: the catalog's own bytes, passed on
 * when they hold exactly what this frontend's schema allows (the catalog serializes with the same schema, so
 * serializing the parsed value again would write the same bytes).
 */
export interface Fetched<T> {
  value: T;
  json?: string;
}

/** An object schema with no other fields allowed. */
const closed = (schema: TObject) => Type.Object(schema.properties, { additionalProperties: false });
/** The answers' schemas with no other fields allowed, at any depth, compiled once (a check costs well under a µs). */
const exactBook = TypeCompiler.Compile(closed(Book));
const exactTopicResult = TypeCompiler.Compile(closed(Type.Object({ ...TopicResult.properties, items: Type.Array(closed(BookRef)) })));

/**
 * What the frontend asks of the catalog, and nothing else. Reads are balanced over the catalog's replicas and
 * retried on another one; an acknowledgement goes to the replica whose change it acknowledges.
 */
export class CatalogClient extends UpstreamClient {
  constructor(options: Omit<UpstreamOptions, 'name'>) {
    super({ name: 'catalog', ...options });
  }

  async lookup(id: number, ctx: CallContext): Promise<Fetched<Book>> {
    const { value, text } = await this.upstream.callForBody<Book>('GET', `/query_by_item_number/${id}`, ctx);
    return { value, json: exactBook.Check(value) ? text : undefined };
  }

  /** One page of a topic's books; the catalog answers 400 validation_failed for a cursor it did not give out. */
  async search(topic: string, page: PageQuery, ctx: CallContext): Promise<Fetched<TopicResult>> {
    const path = `/query_by_topic/${encodeURIComponent(topic)}${pageQueryString(page)}`;
    const { value, text } = await this.upstream.callForBody<TopicResult>('GET', path, ctx);
    return { value, json: exactTopicResult.Check(value) ? text : undefined };
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
