import { Client, Pool, type Dispatcher } from 'undici';
import type { FastifyBaseLogger } from 'fastify';
import type { Histogram } from 'prom-client';
import { errors, type AppError } from '../errors';
import { authHeaders } from '../auth';
import { MAX_ORIGINS } from '../config';
import type { Metrics } from '../metrics';
import type { UpstreamStatus } from '../schemas';
import { TransportError, exchange, type Answer } from './exchange';
import { asErrorBody, relay } from './relay';
import { HealthProber } from './prober';
import { Replica } from './replica';
import { ReplicaSet } from './replica-set';

export interface UpstreamOptions {
  /** Human name used in errors and logs: "catalog", "order". */
  name: string;
  /** One origin, or the origins of the upstream's replicas (at most 31). */
  origin: string | readonly string[];
  token?: string;
  /** Whole-call deadline: connect, queueing, headers and body, every attempt included. Keeps "down" answers under 2 s. */
  timeoutMs: number;
  /** Tests pass an undici MockAgent (used for every replica); production gets one keep-alive Pool per replica. */
  dispatcher?: Dispatcher;
  connections?: number;
  /** Extra attempts for calls that are safe to repeat (GETs, and writes the caller marks idempotent). Default 2. */
  retries?: number;
  /**
   * The error for "this upstream did not answer" (default: 503 upstream_unavailable naming it). A caller whose
   * request may have been applied anyway (a buy) says so here.
   */
  unavailable?: () => AppError;
  /** Where call latency (upstream_request_duration_seconds) and the per-replica series are recorded. */
  metrics?: Metrics;
  /** How often each replica's /readyz is probed; default 1000 ms, 0 turns probing off. */
  probeIntervalMs?: number;
  /** A probe not answered within this fails; default 500 ms. A replica is probed again only once its last probe ended. */
  probeTimeoutMs?: number;
  /** Where ejections and reinstatements are logged. */
  log?: FastifyBaseLogger;
}

export interface CallOptions {
  headers?: Record<string, string>;
  /** Repeating the call cannot do the work twice (same order id, same idempotency key), so it may be retried. */
  idempotent?: boolean;
}

export interface CallContext {
  log: FastifyBaseLogger;
  requestId: string;
}

/** Backoff before retry `attempt` (1-based): full jitter over 50, 100, 200 … ms, capped at 400 ms. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(400, 50 * 2 ** (attempt - 1)));
}

/** Failures that may pass by themselves, so worth retrying on the same replica. */
const TRANSIENT = new Set([502, 503, 504]);
const NO_HEADERS: Record<string, string> = {};

/**
 * One upstream service reached over HTTP/JSON, over one or more replicas (see ReplicaSet for the choice,
 * HealthProber for the probes). 2xx bodies are returned; 4xx client errors are re-thrown as the same coded error;
 * anything else (refused, timed out, 5xx, a body that is not ours) becomes 503 upstream_unavailable, with the
 * detail only in the log. A replica that is refused, reset, runs out its time or answers 5xx is ejected (a 503 with
 * our coded body is not: that replica works, a tier behind it does not).
 */
export class Upstream {
  readonly name: string;
  private readonly set: ReplicaSet;
  private readonly prober: HealthProber;
  private readonly auth: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly metrics?: Metrics;
  private readonly unavailable: () => AppError;
  private readonly timers = new Map<string, Histogram.Internal<'target' | 'method' | 'outcome'>>();

  constructor(options: UpstreamOptions) {
    this.name = options.name;
    this.auth = authHeaders(options.token);
    this.timeoutMs = options.timeoutMs;
    this.retries = options.retries ?? 2;
    this.metrics = options.metrics;
    this.unavailable = options.unavailable ?? (() => errors.upstreamUnavailable(options.name));
    const origins = typeof options.origin === 'string' ? [options.origin] : options.origin;
    if (origins.length === 0 || origins.length > MAX_ORIGINS) {
      throw new Error(`${options.name}: between 1 and ${MAX_ORIGINS} origins, got ${origins.length}`);
    }
    const probeIntervalMs = options.probeIntervalMs ?? 1000;
    const probeTimeoutMs = options.probeTimeoutMs ?? 500;
    const replicas = origins.map(
      (origin, index) =>
        new Replica({
          upstream: options.name,
          origin,
          index,
          pool: options.dispatcher ?? this.pool(origin, options),
          probes: options.dispatcher ?? new Client(origin, { connect: { timeout: probeTimeoutMs }, keepAliveTimeout: 10_000 }),
          ownsDispatchers: options.dispatcher === undefined,
          counters: options.metrics?.replicaCounters(options.name, origin),
          log: options.log,
        }),
    );
    options.metrics?.watchReplicas(options.name, replicas);
    this.set = new ReplicaSet(replicas);
    this.prober = new HealthProber(replicas, { intervalMs: probeIntervalMs, timeoutMs: probeTimeoutMs, log: options.log });
    this.prober.start();
  }

  /** The replicas' origins, in configuration order. */
  get origins(): string[] {
    return this.set.replicas.map((replica) => replica.origin);
  }

  /**
   * One call within the whole-call deadline `timeoutMs`. A call that is safe to repeat is retried (at most
   * `retries` times, while time is left) when it got no answer or a 5xx: on a replica it has not tried yet, at
   * once; on one it has (a single replica), only after no answer or 502/503/504, with jittered backoff.
   *
   * A read keeps half the time left back while another replica is left to try, so a hung replica costs it half the
   * deadline. A write may use all the time left: it can be slow for a good reason (the order server waits up to
   * its own deadline for the catalog), and cutting it short would eject a working replica and turn its definite
   * "order pending" into "outcome unknown". With one replica every attempt may use all the time left, so a
   * slow-but-alive upstream is not cut short by the retry budget.
   */
  async call<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    ctx: CallContext,
    body?: unknown,
    options?: CallOptions,
  ): Promise<T> {
    const read = method === 'GET';
    const attempts = 1 + ((options?.idempotent ?? read) ? this.retries : 0);
    const deadline = performance.now() + this.timeoutMs;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = options?.headers ?? NO_HEADERS;
    let replica = this.set.choose(0);
    let tried = 0;
    let answer: Answer | undefined;
    for (let attempt = 1; ; attempt++) {
      tried |= replica.bit;
      const left = deadline - performance.now();
      const budget = read && attempt < attempts && this.set.hasUntried(tried) ? left / 2 : left;
      answer = await this.attempt(replica, method, path, ctx, payload, headers, Math.max(1, Math.floor(budget)));
      if (attempt >= attempts || (answer !== undefined && answer.statusCode < 500)) break;
      const next = this.set.choose(tried);
      const elsewhere = (tried & next.bit) === 0;
      if (!elsewhere && answer !== undefined && !TRANSIENT.has(answer.statusCode)) break;
      const pause = elsewhere ? 0 : backoffMs(attempt);
      // Not worth another attempt that could not even get an answer back in time.
      if (deadline - performance.now() - pause < 50) break;
      ctx.log.debug({ upstream: this.name, path, attempt, pause, replica: next.origin }, 'retrying upstream call');
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
      replica = next;
    }
    return relay<T>(answer, this.unavailable, ctx.log, this.name, method, path);
  }

  /**
   * One attempt on the replica at `origin`, never another: for messages that belong to one replica (a change
   * acknowledgement goes to the replica that sent the change).
   */
  async callReplica<T>(
    origin: string,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    ctx: CallContext,
    body?: unknown,
  ): Promise<T> {
    const replica = this.set.replicas.find((r) => r.origin === origin);
    if (!replica) throw new Error(`${this.name}: no replica ${origin}`);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const answer = await this.attempt(replica, method, path, ctx, payload, NO_HEADERS, this.timeoutMs);
    return relay<T>(answer, this.unavailable, ctx.log, this.name, method, path);
  }

  /**
   * Resolves once any replica answers its /healthz; otherwise rejects with a short reason (naming each replica
   * when there are several). Used by /readyz: the upstream is usable while one replica is.
   */
  async ping(): Promise<void> {
    const replicas = this.set.replicas;
    const checks = replicas.map(async (replica) => {
      const { statusCode } = await exchange(replica.probes, replica.origin, 'GET', '/healthz', NO_HEADERS, undefined, this.timeoutMs)
        .catch(() => ({ statusCode: 0 }));
      if (statusCode !== 200) {
        const reason = statusCode ? `answered ${statusCode}` : 'unreachable';
        throw new Error(replicas.length === 1 ? reason : `${replica.origin} ${reason}`);
      }
    });
    try {
      await Promise.any(checks);
    } catch (err) {
      throw new Error((err as AggregateError).errors.map((e: Error) => e.message).join('; '));
    }
  }

  /** Every replica with its state and counts, for /status. */
  status(): UpstreamStatus {
    return { name: this.name, replicas: this.set.replicas.map((replica) => replica.status()) };
  }

  /** One probe round now (tests; production probes on the interval). */
  probeNow(): Promise<void> {
    return this.prober.round();
  }

  async close(): Promise<void> {
    await this.prober.stop();
    await Promise.all(this.set.replicas.map((replica) => replica.close()));
  }

  private pool(origin: string, options: UpstreamOptions): Pool {
    return new Pool(origin, {
      connections: options.connections ?? 64,
      connect: { timeout: Math.min(options.timeoutMs, 1000) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  /** One request to one replica; undefined when no answer came (the replica is then ejected). */
  private async attempt(
    replica: Replica,
    method: string,
    path: string,
    ctx: CallContext,
    body: string | undefined,
    extraHeaders: Record<string, string>,
    timeoutMs: number,
  ): Promise<Answer | undefined> {
    const headers: Record<string, string> = {
      ...extraHeaders,
      ...this.auth,
      'x-request-id': ctx.requestId,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    replica.inFlight++;
    try {
      const answer = await exchange(replica.pool, replica.origin, method, path, headers, body, timeoutMs);
      this.observe(method, String(answer.statusCode), started);
      replica.answeredOne();
      if (answer.statusCode >= 500) {
        // A 503 in our own error shape is a working replica reporting a tier behind it: keep it in rotation.
        if (answer.statusCode === 503 && asErrorBody(answer.json)) replica.noteError('answered 503');
        else replica.eject(`answered ${answer.statusCode}`);
      } else if (replica.ejected) {
        replica.reinstate(started, 'answered a call');
      }
      if (ctx.log.level === 'debug' || ctx.log.level === 'trace') {
        const ms = Math.round(performance.now() - started);
        const { statusCode } = answer;
        ctx.log.debug({ upstream: this.name, replica: replica.origin, method, path, statusCode, ms }, 'upstream call');
      }
      return answer;
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      this.observe(method, 'failed', started);
      replica.failedOne();
      replica.eject(err.reason);
      const ms = Math.round(performance.now() - started);
      ctx.log.warn({ upstream: this.name, replica: replica.origin, method, path, err: err.cause, ms }, 'upstream call failed');
      return undefined;
    } finally {
      replica.inFlight--;
    }
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
}
