import { Type, type TObject } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Book, TopicResult, type BookList, type EventAck, type TopicList } from '../../common/schemas';
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

/** The schema with no other fields allowed, at any depth, compiled once (a check costs well under a µs). */
const exactly = (schema: TObject) => TypeCompiler.Compile(Type.Object(schema.properties, { additionalProperties: false }));
const exactBook = exactly(Book);
const exactTopicResult = exactly(
  Type.Object({ topic: TopicResult.properties.topic, items: Type.Array(Type.Object(TopicResult.properties.items.items.properties, { additionalProperties: false })) }),
);

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

  async search(topic: string, ctx: CallContext): Promise<Fetched<TopicResult>> {
    const { value, text } = await this.upstream.callForBody<TopicResult>('GET', `/query_by_topic/${encodeURIComponent(topic)}`, ctx);
    return { value, json: exactTopicResult.Check(value) ? text : undefined };
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
}
