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

export const TopicResult = Type.Object({
  topic: Type.String(),
  items: Type.Array(Type.Object({ id: Type.Integer(), title: Type.String() })),
});
export type TopicResult = Static<typeof TopicResult>;

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

export const Health = Type.Object({ status: Type.String() });
export const Readiness = Type.Object({
  status: Type.String(),
  checks: Type.Record(Type.String(), Type.String()),
});

export function toItemNumber(params: ItemNumberParams): number {
  return Number(params.n);
}
