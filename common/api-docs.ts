import { Type } from '@sinclair/typebox';
import { ErrorBody } from './schemas';

/**
 * What an error status means on any Bazar route, as the OpenAPI documents say it. The body is always ErrorBody and
 * `error.code` names the exact case (the coded constructors in errors.ts), so each text stays true of every route
 * that lists its status; a route's own `description` names the codes particular to it.
 */
const ERROR_MEANINGS = {
  400: 'Bad input (error.code says which: validation_failed, invalid_item_number, ...); nothing was changed.',
  401: 'The bearer token is missing or wrong (unauthorized).',
  404: 'What the path names does not exist (book_not_found, topic_not_found, order_not_found, ...).',
  405: 'This resource takes another method for API clients (method_not_allowed); the Allow header says which.',
  409: 'Conflicts with the current state (out_of_stock; request_in_progress: retry after Retry-After seconds).',
  413: 'The request body is too large (payload_too_large).',
  415: 'The request body is not JSON (unsupported_media_type).',
  422: 'The id or Idempotency-Key was already used for another book (order_id_reused, idempotency_key_reused).',
  429: 'Too many buys from this client (rate_limited); retry after Retry-After seconds.',
  503:
    'A service this one calls did not answer in time (upstream_unavailable); retry shortly. A buy may still ' +
    'complete: retry it with the same Idempotency-Key to learn its outcome.',
} as const;

export type ErrorStatus = keyof typeof ERROR_MEANINGS;

/** Statuses every route with a JSON request body can answer before its handler runs. */
export const BODY_ERRORS = [400, 413, 415] as const;

/**
 * The error answers a route really gives, for its `response` schema: each is ErrorBody (so error answers are
 * serialized like every other) with its meaning as the response's description.
 * Usage: `response: { 200: Book, ...errorReplies(400, 404, 503) }`.
 */
export function errorReplies<const S extends ErrorStatus>(...statuses: S[]): Record<S, typeof ErrorBody> {
  const replies = {} as Record<S, typeof ErrorBody>;
  // @fastify/swagger takes x-response-description as the response's description, not also the schema's.
  for (const status of statuses) {
    replies[status] = Type.Object(ErrorBody.properties, { 'x-response-description': ERROR_MEANINGS[status] });
  }
  return replies;
}

/** A non-JSON success answer (a page, a stylesheet, an event stream), documented with its real media type. */
export function textReply(mediaType: string, description: string) {
  return { description, content: { [mediaType]: { schema: { type: 'string' } } } };
}
