import type { FastifyBaseLogger } from 'fastify';
import { AppError, isErrorCode } from '../errors';
import type { Answer } from './exchange';

/**
 * Statuses whose `{error:{code,message}}` body we relay unchanged: the client's mistakes, and a deeper tier's own
 * "upstream unavailable" (its message says which service and which order).
 */
const RELAYED = new Set([400, 404, 409, 422, 503]);

/** The `{error:{code,message}}` body every Bazar service answers errors with, or undefined if it is not one. */
export function asErrorBody(json: unknown): { code: string; message: string } | undefined {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string'
    ? { code: error.code, message: error.message }
    : undefined;
}

/**
 * What a call's last answer means to its caller: a 2xx body is returned; a coded 4xx (or a deeper tier's coded
 * 503) is thrown as the same error; no answer or anything else is `unavailable()`, with the detail only in the log.
 */
export function relay<T>(
  answer: Answer | undefined,
  unavailable: () => AppError,
  log: FastifyBaseLogger,
  upstream: string,
  method: string,
  path: string,
): T {
  if (answer === undefined) throw unavailable();
  const { statusCode, json, retryAfter } = answer;
  if (statusCode >= 200 && statusCode < 300) return json as T;
  const relayed = asErrorBody(json);
  if (RELAYED.has(statusCode) && relayed && isErrorCode(relayed.code)) {
    // "Come back in n s" is advice for the end client too (request_in_progress).
    const headers: Record<string, string> = retryAfter ? { 'retry-after': retryAfter } : {};
    throw new AppError(relayed.code, relayed.message, headers);
  }
  log.error({ upstream, method, path, statusCode, body: json }, 'unexpected upstream answer');
  throw unavailable();
}
