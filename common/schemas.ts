import { Type, type Static } from '@sinclair/typebox';

/** The largest stock count or price (in cents) the catalog accepts; the CLI checks against it before asking. */
export const MAX_AMOUNT = 1_000_000_000;

/** At most 15 digits keeps every accepted item number a safe JavaScript integer. */
export const ItemNumberParams = Type.Object({ n: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }) });
export type ItemNumberParams = Static<typeof ItemNumberParams>;

/** `code` is one of ERROR_STATUS's keys (errors.ts); kept a plain string here so a route never fails to serialize. */
export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const Book = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  topic: Type.String(),
  stock: Type.Integer(),
  price_cents: Type.Integer(),
});
export type Book = Static<typeof Book>;

/** A paged answer's way on: pass it back as `?cursor=` for that page; null when there is none (see common/paging.ts). */
const Cursor = (description: string) => Type.Union([Type.String(), Type.Null()], { description });
const NEXT = Cursor('The next page (?cursor=this); null on the last page');
const PREV = Cursor('The previous page (?cursor=this); null on the first page');

export const BookRef = Type.Object({ id: Type.Integer(), title: Type.String() });
export type BookRef = Static<typeof BookRef>;

/** One page of a topic's books, in item-number order. */
export const TopicResult = Type.Object({
  topic: Type.String(),
  items: Type.Array(BookRef),
  next_cursor: NEXT,
  prev_cursor: PREV,
});
export type TopicResult = Static<typeof TopicResult>;

export const TopicList = Type.Object({ topics: Type.Array(Type.String()) });
export type TopicList = Static<typeof TopicList>;

export const BookList = Type.Object({ books: Type.Array(Book) });
export type BookList = Static<typeof BookList>;

/** One page of every book, in item-number order. */
export const BookPage = Type.Object({ books: Type.Array(Book), next_cursor: NEXT, prev_cursor: PREV });
export type BookPage = Static<typeof BookPage>;

/** The catalog's answer to a purchase that went through (applied now, or replayed for the same order id). */
export const Purchase = Type.Object({
  order_id: Type.String(),
  item_number: Type.Integer(),
  title: Type.String(),
  price_cents: Type.Integer(),
  outcome: Type.Literal('purchased'),
  stock_after: Type.Integer(),
  created_at: Type.String(),
});
export type Purchase = Static<typeof Purchase>;

/** The catalog's answer to a change acknowledgement: the latest sequence number it has published. */
export const EventAck = Type.Object({ seq: Type.Integer() });
export type EventAck = Static<typeof EventAck>;

export const OrderId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });

export const Order = Type.Object({
  order_id: Type.String(),
  item_number: Type.Integer(),
  title: Type.Union([Type.String(), Type.Null()]),
  price_cents: Type.Union([Type.Integer(), Type.Null()]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('rejected')]),
  reason: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  created_at: Type.String(),
});
export type Order = Static<typeof Order>;

/** One page of orders, newest first. */
export const OrderList = Type.Object({ orders: Type.Array(Order), next_cursor: NEXT });
export type OrderList = Static<typeof OrderList>;

export const Health = Type.Object({ status: Type.String() });
export const Readiness = Type.Object({
  status: Type.String(),
  checks: Type.Record(Type.String(), Type.String()),
});

export function toItemNumber(params: ItemNumberParams): number {
  return Number(params.n);
}

/** One upstream replica as a client sees it: "probing" is ejected with a /readyz probe in flight. */
export const ReplicaStatus = Type.Object({
  origin: Type.String(),
  state: Type.Union([Type.Literal('in rotation'), Type.Literal('ejected'), Type.Literal('probing')]),
  in_flight: Type.Integer(),
  /** Attempts that got an HTTP answer (any status), and attempts that got none. */
  answered: Type.Integer(),
  failed: Type.Integer(),
  ejections: Type.Integer(),
  last_error: Type.Union([Type.Object({ reason: Type.String(), at: Type.String() }), Type.Null()]),
});
export type ReplicaStatus = Static<typeof ReplicaStatus>;
export type ReplicaState = ReplicaStatus['state'];

export const UpstreamStatus = Type.Object({ name: Type.String(), replicas: Type.Array(ReplicaStatus) });
export type UpstreamStatus = Static<typeof UpstreamStatus>;

export const CacheStatus = Type.Object({
  /** "dark": not subscribed to every catalog replica, so nothing is served from the cache or kept in it. */
  state: Type.Union([Type.Literal('live'), Type.Literal('dark'), Type.Literal('off')]),
  entries: Type.Integer(),
  hits: Type.Integer(),
  misses: Type.Integer(),
  /** hits / (hits + misses) since start; null before the first cacheable read. */
  hit_ratio: Type.Union([Type.Number(), Type.Null()]),
  /** The change stream from each catalog replica (empty with CACHE=off). */
  subscriptions: Type.Array(
    Type.Object({ origin: Type.String(), state: Type.Union([Type.Literal('subscribed'), Type.Literal('connecting')]) }),
  ),
});
export type CacheStatus = Static<typeof CacheStatus>;
export type SubscriptionStatus = CacheStatus['subscriptions'][number];

/** The frontend's GET /status: where its calls go and what its cache can vouch for. */
export const StatusReport = Type.Object({ upstreams: Type.Array(UpstreamStatus), cache: CacheStatus });
export type StatusReport = Static<typeof StatusReport>;
