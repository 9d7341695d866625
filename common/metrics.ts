import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { textReply } from './api-docs';

/** Seconds; fine at the low end because a cached lookup answers in well under a millisecond. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the replica gauges read; common/upstream's Replica has these. */
export interface WatchedReplica {
  readonly origin: string;
  readonly ejected: boolean;
  readonly inFlight: number;
}

/**
 * One Prometheus registry per app (never prom-client's global one), so two apps in one test process never share
 * or clash over counters. Services add their own metrics to `registry` (cache, database, pending orders).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly upstreamDuration: Histogram<'target' | 'method' | 'outcome'>;
  private readonly replicaAttempts: Counter<'target' | 'replica' | 'outcome'>;
  private readonly replicaEjections: Counter<'target' | 'replica'>;
  /** Replicas whose state the gauges read when scraped, by upstream name. */
  private readonly watched: { target: string; replicas: readonly WatchedReplica[] }[] = [];
  /** Label lookups hash an object each time; the hot path binds each (method, route, status) child once. */
  private readonly children = new Map<string, { count: Counter.Internal; time: Histogram.Internal<'method' | 'route' | 'status'> }>();

  constructor(service: string, options: { defaultMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({ service });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request received to response sent, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.upstreamDuration = new Histogram({
      name: 'upstream_request_duration_seconds',
      help: 'Calls to another Bazar service, by target service, method and outcome (status code or "failed")',
      labelNames: ['target', 'method', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.replicaAttempts = this.counter(
      'upstream_replica_attempts_total',
      'Attempts sent to each replica of another Bazar service: outcome "answered" (any HTTP status) or "failed" (none)',
      ['target', 'replica', 'outcome'],
    );
    this.replicaEjections = this.counter(
      'upstream_replica_ejections_total',
      'Times a replica was taken out of rotation (refused, reset, deadline, 5xx or a failed /readyz probe)',
      ['target', 'replica'],
    );
    const watched = this.watched;
    const replicaGauge = (name: string, help: string, read: (replica: WatchedReplica) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['target', 'replica'],
        registers: [this.registry],
        collect() {
          for (const { target, replicas } of watched) {
            for (const replica of replicas) this.set({ target, replica: replica.origin }, read(replica));
          }
        },
      });
    replicaGauge(
      'upstream_replica_in_rotation',
      '1 while a replica of another Bazar service is in rotation, 0 while ejected',
      (r) => (r.ejected ? 0 : 1),
    );
    replicaGauge(
      'upstream_replica_in_flight',
      'Requests outstanding at each replica of another Bazar service',
      (r) => r.inFlight,
    );
  }

  /** The per-replica counters of one replica, bound once (an attempt then pays one inc()). */
  replicaCounters(target: string, replica: string) {
    return {
      answered: this.replicaAttempts.labels({ target, replica, outcome: 'answered' }),
      failed: this.replicaAttempts.labels({ target, replica, outcome: 'failed' }),
      ejections: this.replicaEjections.labels({ target, replica }),
    };
  }

  /** Reports these replicas' rotation state and outstanding requests at every scrape. */
  watchReplicas(target: string, replicas: readonly WatchedReplica[]): void {
    this.watched.push({ target, replicas });
  }

  histogram<L extends string>(name: string, help: string, labelNames: L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  }

  counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge read when scraped, so the hot path pays nothing for it. */
  gauge(name: string, help: string, read: () => number | Promise<number>): Gauge {
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = this.children.get(key);
    if (!child) {
      const labels = { method, route, status: String(status) };
      child = { count: this.httpRequests.labels(labels), time: this.httpDuration.labels(labels) };
      this.children.set(key, child);
    }
    child.count.inc();
    child.time.observe(seconds);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/**
 * Counts and times every answer by route pattern (never the raw URL: `/lookup/1`, `/lookup/2`… would each be a
 * new series), and serves the registry at GET /metrics in Prometheus text format.
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.decorate('metrics', metrics);
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // Unmatched URLs all share one label so scanners cannot blow up the series count.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  // Text, not JSON: a string payload with a non-JSON content type is sent as it is, schema or not.
  const schema = {
    operationId: 'metrics',
    summary: 'Request, upstream, cache and process metrics of this service',
    response: { 200: textReply('text/plain', 'Prometheus text exposition format') },
  };
  app.get('/metrics', { logLevel: 'warn', schema }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/** The write-transaction histogram both stores record into, labelled by operation and database backend. */
export function transactionHistogram(metrics: Metrics): Histogram<'op' | 'backend'> {
  return metrics.histogram('db_transaction_seconds', 'Time spent in one database write transaction', ['op', 'backend']);
}

/**
 * Times the named async methods of `target` into `histogram` (label `op` = method name, `backend` as given),
 * leaving every other method as it was; used to time write transactions without touching the store's code.
 */
export function timeCalls<T extends object>(
  target: T,
  methods: (keyof T & string)[],
  histogram: Histogram<'op' | 'backend'>,
  backend: string,
): T {
  const timed = new Set<string | symbol>(methods);
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (!timed.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const end = histogram.startTimer({ op: String(prop), backend });
        try {
          return await value.apply(obj, args);
        } finally {
          end();
        }
      };
    },
  });
}
