/**
 * Every error a client can see is one of these coded constructors, so a status and a code never drift apart.
 * The root error handler (error-handler.ts) turns them into `{ "error": { "code", "message" } }`.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const errors = {
  invalidItemNumber: (raw: string) =>
    new AppError(400, 'invalid_item_number', `item number must be a positive integer, got '${raw}'`),
  validationFailed: (message: string) => new AppError(400, 'validation_failed', message),
  unauthorized: () =>
    new AppError(401, 'unauthorized', 'a valid bearer token is required for this operation', {
      'www-authenticate': 'Bearer realm="bazar"',
    }),
  bookNotFound: (id: number) => new AppError(404, 'book_not_found', `there is no book with item number ${id}`),
  topicNotFound: (topic: string, known: string[]) =>
    new AppError(404, 'topic_not_found', `no books on topic '${topic}'; known topics: ${known.join(', ') || 'none'}`),
  orderNotFound: (id: string) => new AppError(404, 'order_not_found', `there is no order with id '${id}'`),
  subscriberNotFound: (id: string) =>
    new AppError(404, 'subscriber_not_found', `change subscriber '${id}' is not connected; subscribe again`),
  routeNotFound: (method: string, url: string) =>
    new AppError(404, 'not_found', `no route for ${method} ${url.split('?')[0]}`),
  methodNotAllowed: (allow: string) =>
    new AppError(405, 'method_not_allowed', `this resource only accepts ${allow}`, { allow }),
  outOfStock: (id: number, title?: string) =>
    new AppError(409, 'out_of_stock', `${title ? `'${title}'` : `book ${id}`} is out of stock`),
  orderIdReused: (orderId: string) =>
    new AppError(422, 'order_id_reused', `order id '${orderId}' was already used for another book`),
  upstreamUnavailable: (service: string) =>
    new AppError(503, 'upstream_unavailable', `the ${service} service is unavailable, please try again shortly`),
  buyOutcomeUnknown: () =>
    new AppError(
      503,
      'upstream_unavailable',
      'the order service did not answer in time, so this buy may still complete; retry with the same ' +
        'Idempotency-Key to get its outcome (never a second copy)',
    ),
  orderPending: (orderId: string) =>
    new AppError(
      503,
      'upstream_unavailable',
      `the catalog did not answer in time; order ${orderId} is pending and will be settled shortly`,
    ),
  invalidIdempotencyKey: () =>
    new AppError(400, 'invalid_idempotency_key', 'an idempotency key (Idempotency-Key header or idempotency_key form field) must be 1 to 64 visible ASCII characters'),
  idempotencyKeyReused: () =>
    new AppError(422, 'idempotency_key_reused', 'this Idempotency-Key was already used to buy another book'),
  requestInProgress: () =>
    new AppError(409, 'request_in_progress', 'a buy with this Idempotency-Key is still being processed; retry shortly', {
      'retry-after': '1',
    }),
  rateLimited: (seconds: number) =>
    new AppError(429, 'rate_limited', `too many buys from this client; retry in ${seconds} s`, {
      'retry-after': String(seconds),
    }),
  internal: () => new AppError(500, 'internal_error', 'internal error'),
};

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
