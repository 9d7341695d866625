import type { ErrorBody } from './schemas';

/**
 * Every error code a client can see, each declared once with the HTTP status it is always answered with. The
 * services build their errors from it (AppError takes a code, never a status), the CLI picks its exit code and hint
 * from it, and the storefront's error pages their wording: a new or renamed code is a compile error at each of them.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_item_number: 400,
  invalid_idempotency_key: 400,
  validation_failed: 400,
  unauthorized: 401,
  not_found: 404,
  book_not_found: 404,
  topic_not_found: 404,
  order_not_found: 404,
  subscriber_not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  out_of_stock: 409,
  request_in_progress: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  order_id_reused: 422,
  idempotency_key_reused: 422,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  upstream_unavailable: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** True for a code this version knows; an upstream's answer is only relayed as an AppError when it is one. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code);
}

/** The root error handler (error-handler.ts) turns these into `{ "error": { "code", "message" } }`. */
export class AppError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.statusCode = ERROR_STATUS[code];
  }
}

export const errors = {
  invalidItemNumber: (raw: string) =>
    new AppError('invalid_item_number', `item number must be a positive integer, got '${raw}'`),
  validationFailed: (message: string) => new AppError('validation_failed', message),
  unauthorized: () =>
    new AppError('unauthorized', 'a valid bearer token is required for this operation', {
      'www-authenticate': 'Bearer realm="bazar"',
    }),
  bookNotFound: (id: number) => new AppError('book_not_found', `there is no book with item number ${id}`),
  topicNotFound: (topic: string, known: string[]) =>
    new AppError('topic_not_found', `no books on topic '${topic}'; known topics: ${known.join(', ') || 'none'}`),
  orderNotFound: (id: string) => new AppError('order_not_found', `there is no order with id '${id}'`),
  subscriberNotFound: (id: string) =>
    new AppError('subscriber_not_found', `change subscriber '${id}' is not connected; subscribe again`),
  routeNotFound: (method: string, url: string) => new AppError('not_found', `no route for ${method} ${url.split('?')[0]}`),
  methodNotAllowed: (allow: string) => new AppError('method_not_allowed', `this resource only accepts ${allow}`, { allow }),
  outOfStock: (id: number, title?: string) =>
    new AppError('out_of_stock', `${title ? `'${title}'` : `book ${id}`} is out of stock`),
  orderIdReused: (orderId: string) =>
    new AppError('order_id_reused', `order id '${orderId}' was already used for another book`),
  upstreamUnavailable: (service: string) =>
    new AppError('upstream_unavailable', `the ${service} service is unavailable, please try again shortly`),
  databaseUnavailable: () =>
    new AppError('upstream_unavailable', 'the database is unavailable (restarting or failing over), please try again shortly'),
  buyOutcomeUnknown: () =>
    new AppError(
      'upstream_unavailable',
      'the order service did not answer in time, so this buy may still complete; retry with the same ' +
        'Idempotency-Key to get its outcome (never a second copy)',
    ),
  orderPending: (orderId: string) =>
    new AppError(
      'upstream_unavailable',
      `the catalog did not answer in time; order ${orderId} is pending and will be settled shortly`,
    ),
  invalidIdempotencyKey: () =>
    new AppError(
      'invalid_idempotency_key',
      'an idempotency key (Idempotency-Key header or idempotency_key form field) must be 1 to 64 visible ASCII characters',
    ),
  idempotencyKeyReused: () =>
    new AppError('idempotency_key_reused', 'this Idempotency-Key was already used to buy another book'),
  requestInProgress: () =>
    new AppError('request_in_progress', 'a buy with this Idempotency-Key is still being processed; retry shortly', {
      'retry-after': '1',
    }),
  rateLimited: (seconds: number) =>
    new AppError('rate_limited', `too many buys from this client; retry in ${seconds} s`, {
      'retry-after': String(seconds),
    }),
  internal: () => new AppError('internal_error', 'internal error'),
};

/** The JSON body of every error answer; its schema (for the OpenAPI documents) is ErrorBody in schemas.ts. */
export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}
