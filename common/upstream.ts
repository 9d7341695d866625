import { EventEmitter } from 'node:events';
import { Pool, type Dispatcher } from 'undici';
import type { FastifyBaseLogger } from 'fastify';
import type { Histogram } from 'prom-client';
import { AppError, errors, isErrorCode } from './errors';
import { authHeaders } from './auth';
import type { Metrics } from './metrics';

export interface UpstreamOptions {
  /** Human name used in errors and logs: "catalog", "order". */
  name: string;
  origin: string;
  token?: string;
  /** Whole-call deadline: connect, queueing, headers and body. Keeps "dependency down" answers under 2 s. */
  timeoutMs: number;
  /** Tests pass an undici MockAgent; production gets one keep-alive Pool per upstream. */
  dispatcher?: Dispatcher;
  connections?: number;
  /** Extra attempts for calls that are safe to repeat (GETs, and writes the caller marks idempotent). Default 2. */
  retries?: number;
  /**
   * The error for "this upstream did not answer" (default: 503 upstream_unavailable naming it). A caller whose
   * request may have been applied anyway (a buy) says so here.
   */
  unavailable?: () => AppError;
  /** Where call latency by target is recorded (upstream_request_duration_seconds). */
  metrics?: Metrics;
}

export interface CallOptions {
  headers?: Record<string, string>;
  /** Repeating the call cannot do the work twice (same order id, same idempotency key), so it may be retried. */
  idempotent?: boolean;
}

/** Backoff before retry `attempt` (1-based): full jitter over 50, 100, 200 … ms, capped at 400 ms. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(400, 50 * 2 ** (attempt - 1)));
}

class TransportError extends Error {}

/**
 * A call's deadline, in the EventEmitter form of `signal` that undici accepts (it reads `aborted` and listens for
 * "abort"; with no `reason` it fails the call with its own RequestAbortedError). An AbortController plus the
 * listener undici adds to it cost ~5 µs per call (EventTarget); this costs ~0.1 µs.
 */
class Deadline extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

export interface CallContext {
  log: FastifyBaseLogger;
  requestId: string;
}

/**
 * Statuses whose `{error:{code,message}}` body we relay unchanged: the client's mistakes, and a deeper tier's own
 * "upstream unavailable" (its message says which service and which order).
 */
const RELAYED = new Set([400, 404, 409, 422, 503]);

/**
 * One upstream service reached over HTTP/JSON. 2xx bodies are returned; 4xx client errors are re-thrown as the same
 * coded error; anything else (refused, timed out, 5xx, a body that is not ours) becomes 503 upstream_unavailable,
 * with the detail only in the log.
 */
export class Upstream {
  readonly name: string;
  private readonly origin: string;
  private readonly auth: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retries: number;
  private readonly metrics?: Metrics;
  private readonly unavailable: () => AppError;
  private readonly timers = new Map<string, Histogram.Internal<'target' | 'method' | 'outcome'>>();

  constructor(options: UpstreamOptions) {
    this.name = options.name;
    this.origin = options.origin;
    this.auth = authHeaders(options.token);
    this.timeoutMs = options.timeoutMs;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.retries = options.retries ?? 2;
    this.metrics = options.metrics;
    this.unavailable = options.unavailable ?? (() => errors.upstreamUnavailable(options.name));
    this.dispatcher =
      options.dispatcher ??
      new Pool(options.origin, {
        connections: options.connections ?? 64,
        connect: { timeout: Math.min(options.timeoutMs, 1000) },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        keepAliveTimeout: 10_000,
      });
  }

  /**
   * One call within the whole-call deadline `timeoutMs`. Safe calls are retried, boundedly and with jittered
   * backoff, when the upstream could not be reached or answered 502/503/504, while time is left; each attempt may
   * use all the time left, so a slow-but-alive upstream is not cut short by the retry budget.
   */
  async call<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    ctx: CallContext,
    body?: unknown,
    options: CallOptions = {},
  ): Promise<T> {
    const attempts = 1 + ((options.idempotent ?? method === 'GET') ? this.retries : 0);
    const deadline = performance.now() + this.timeoutMs;
    let answer: { statusCode: number; json: unknown; retryAfter?: string } | undefined;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - performance.now();
      try {
        answer = await this.send(method, path, ctx, body, options.headers, Math.max(1, Math.floor(left)));
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        answer = undefined;
      }
      const transient = answer === undefined || [502, 503, 504].includes(answer.statusCode);
      if (!transient || attempt >= attempts) break;
      const pause = backoffMs(attempt);
      // Not worth another attempt that could not even get an answer back in time.
      if (deadline - performance.now() - pause < 50) break;
      ctx.log.debug({ upstream: this.name, path, attempt, pause }, 'retrying upstream call');
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    if (answer === undefined) throw this.unavailable();
    const { statusCode, json, retryAfter } = answer;
    if (statusCode >= 200 && statusCode < 300) return json as T;
    const relayed = asErrorBody(json);
    if (RELAYED.has(statusCode) && relayed && isErrorCode(relayed.code)) {
      // "Come back in n s" is advice for the end client too (request_in_progress).
      const headers: Record<string, string> = retryAfter ? { 'retry-after': retryAfter } : {};
      throw new AppError(relayed.code, relayed.message, headers);
    }
    ctx.log.error({ upstream: this.name, path, statusCode, body: json }, 'unexpected upstream answer');
    throw this.unavailable();
  }

  /** Rejects with a short reason unless the upstream answers its /healthz; used by /readyz. */
  async ping(ctx: CallContext): Promise<void> {
    const { statusCode } = await this.send('GET', '/healthz', ctx, undefined, {}, this.timeoutMs).catch(() => ({
      statusCode: 0,
    }));
    if (statusCode !== 200) throw new Error(statusCode ? `answered ${statusCode}` : 'unreachable');
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private observe(method: string, outcome: string, started: number): void {
    if (!this.metrics) return;
    // A labelled observe() hashes its label object every call; bind each (method, outcome) child once.
    const key = `${method} ${outcome}`;
    let child = this.timers.get(key);
    if (!child) {
      child = this.metrics.upstreamDuration.labels({ target: this.name, method, outcome });
      this.timers.set(key, child);
    }
    child.observe((performance.now() - started) / 1000);
  }

  private async send(
    method: string,
    path: string,
    ctx: CallContext,
    body: unknown,
    extraHeaders: Record<string, string> = {},
    timeoutMs: number,
  ) {
    const headers: Record<string, string> = {
      ...extraHeaders,
      ...this.auth,
      'x-request-id': ctx.requestId,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    // Not AbortSignal.timeout(): its timer cannot be cancelled, so every call would leave one behind that fires
    // (building a DOMException) long after the answer; profiling showed it on the hot path.
    const deadline = new Deadline();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      const res = await this.dispatcher.request({
        origin: this.origin,
        path,
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: deadline,
      });
      const text = await res.body.text();
      this.observe(method, String(res.statusCode), started);
      if (ctx.log.level === 'debug' || ctx.log.level === 'trace') {
        ctx.log.debug(
          { upstream: this.name, method, path, statusCode: res.statusCode, ms: Math.round(performance.now() - started) },
          'upstream call',
        );
      }
      const retryAfter = res.headers['retry-after'];
      return {
        statusCode: res.statusCode,
        json: parseJson(text),
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      };
    } catch (err) {
      this.observe(method, 'failed', started);
      ctx.log.warn(
        { upstream: this.name, method, path, err, ms: Math.round(performance.now() - started) },
        'upstream call failed',
      );
      throw new TransportError(String(err));
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return text.slice(0, 200);
  }
}

function asErrorBody(json: unknown): { code: string; message: string } | undefined {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string'
    ? { code: error.code, message: error.message }
    : undefined;
}
