import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { clientErrorHandler } from './client-error';
import { errors } from './errors';
import { makeErrorHandler, type ErrorPageRenderer } from './error-handler';
import { loggerOptions } from './logger';
import { registerOpenApi } from './openapi';
import { Metrics, registerMetrics } from './metrics';
import { Health, Readiness } from './schemas';
import type { LogLevel } from './config';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export type ReadinessCheck = () => Promise<void>;

export interface BaseAppOptions {
  service: string;
  logLevel?: LogLevel;
  /** Named dependency checks for /readyz; each rejects with a reason when its dependency does not answer. */
  readiness?: Record<string, ReadinessCheck>;
  renderErrorPage?: ErrorPageRenderer;
  /** Overrides of SERVER_LIMITS (tests shorten the timeouts). */
  limits?: Partial<ServerLimits>;
  /** Pass one in when something built before the app (an Upstream) must record into it; else a fresh one. */
  metrics?: Metrics;
}

export interface ServerLimits {
  bodyLimit: number;
  /** Largest request head (request line + headers); past it Node answers 431. */
  maxHeaderSize: number;
  /** A client must finish sending its headers within this; slowloris connections are cut here. */
  headersTimeout: number;
  /** A client must finish sending its whole request within this. */
  requestTimeout: number;
  /** An idle socket (no bytes either way) is closed after this. */
  connectionTimeout: number;
  /** Idle keep-alive sockets live this long; above the 10 s our undici pools use, so we never close one under them. */
  keepAliveTimeout: number;
  /** How often Node sweeps connections for headersTimeout/requestTimeout. */
  connectionsCheckingInterval: number;
}

export const SERVER_LIMITS: ServerLimits = {
  bodyLimit: 16 * 1024,
  maxHeaderSize: 16 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 15_000,
  connectionTimeout: 30_000,
  keepAliveTimeout: 20_000,
  connectionsCheckingInterval: 1_000,
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's request id so one buy can be followed across all three logs; anything odd gets a new one. */
function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * What every Bazar service has in common: TypeBox schemas validated strictly (unknown fields are rejected, not
 * stripped; "5" is not 5), request ids, one error handler, an empty-body-tolerant JSON parser, /healthz, /readyz.
 * It never listens: server.ts does.
 */
export function createBaseApp(options: BaseAppOptions): App {
  const handleError = makeErrorHandler(options.renderErrorPage);
  const limits = { ...SERVER_LIMITS, ...options.limits };
  const app = Fastify({
    logger: loggerOptions(options.service, options.logLevel ?? 'info'),
    genReqId: requestIdFor,
    // Malformed URLs (`/lookup/%zz`) fail before routing; answer them like every other bad input.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
    bodyLimit: limits.bodyLimit,
    requestTimeout: limits.requestTimeout,
    connectionTimeout: limits.connectionTimeout,
    keepAliveTimeout: limits.keepAliveTimeout,
    clientErrorHandler,
    http: {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeout,
      connectionsCheckingInterval: limits.connectionsCheckingInterval,
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  registerOpenApi(app, options.service);

  // Bodies are JSON; a text/plain body is a client mistake worth naming (415), not a schema failure.
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // A POST with `Content-Type: application/json` and no body (curl -X POST -H ...) means "no body", not an error.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(request, body as string, done);
  });

  // Hot-path hooks take callbacks, not async functions: an async hook costs a promise and a microtask per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // During a graceful close, answers in flight tell their client to hang up: otherwise a keep-alive connection
  // (our own undici pools keep them) stays open after its last answer and holds the close until the grace runs out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.setErrorHandler(handleError);
  // "No body" on a write means "no fields", so optional-body routes (restock) work with a bare POST.
  // Added only to POST and PUT routes, so reads do not pay for a hook that never applies to them.
  const emptyBodyIsNoFields = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    if (request.body === undefined && (request.method === 'POST' || request.method === 'PUT')) request.body = {};
    done();
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => m === 'POST' || m === 'PUT')) return;
    const existing = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    route.preValidation = [emptyBodyIsNoFields, ...existing];
  });
  app.setNotFoundHandler(async (request) => {
    throw errors.routeNotFound(request.method, request.url);
  });

  registerMetrics(app, options.metrics ?? new Metrics(options.service));

  // Probed every second by each client's balancer: log these only when something is wrong.
  app.get('/healthz', { logLevel: 'warn', schema: { response: { 200: Health } } }, async () => ({ status: 'ok' }));

  const checks = Object.entries(options.readiness ?? {});
  app.get('/readyz', { logLevel: 'warn', schema: { response: { 200: Readiness, 503: Readiness } } }, async (request, reply) => {
    const results = await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          await check();
          return [name, 'ok'] as const;
        } catch (err) {
          return [name, err instanceof Error ? err.message : String(err)] as const;
        }
      }),
    );
    const ready = results.every(([, result]) => result === 'ok');
    if (!ready) request.log.warn({ checks: Object.fromEntries(results) }, 'not ready');
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) };
  });

  return app;
}
