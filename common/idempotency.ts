import type { FastifyRequest } from 'fastify';
import { errors } from './errors';

/** 1 to 64 visible ASCII characters: room for a UUID or a client's own scheme, nothing that could smuggle bytes. */
const KEY = /^[\x21-\x7e]{1,64}$/;

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The request's Idempotency-Key, undefined when absent; anything malformed is a 400 before any work is done. */
export function readIdempotencyKey(request: FastifyRequest): string | undefined {
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY.test(raw)) throw errors.invalidIdempotencyKey();
  return raw;
}
