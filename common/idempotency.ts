import type { FastifyRequest } from 'fastify';
import { errors } from './errors';

/** 1 to 64 visible ASCII characters: room for a UUID or a client's own scheme, nothing that could smuggle bytes. */
const KEY = /^[\x21-\x7e]{1,64}$/;

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** The storefront's Buy form carries its key as a hidden field, since a plain HTML form cannot set headers. */
export const IDEMPOTENCY_FORM_FIELD = 'idempotency_key';

function checked(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY.test(raw)) throw errors.invalidIdempotencyKey();
  return raw;
}

/** The request's Idempotency-Key, undefined when absent; anything malformed is a 400 before any work is done. */
export function readIdempotencyKey(request: FastifyRequest): string | undefined {
  return checked(request.headers[IDEMPOTENCY_HEADER]);
}

/** The key a browser's Buy form sent (urlencoded body), so a double-click or a resubmitted form buys once. */
export function readFormIdempotencyKey(request: FastifyRequest): string | undefined {
  const body = request.body;
  return body !== null && typeof body === 'object' ? checked((body as Record<string, unknown>)[IDEMPOTENCY_FORM_FIELD]) : undefined;
}
