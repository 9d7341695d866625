import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { clientErrorHandler } from './client-error';
import { makeErrorHandler, registerErrorHandling, type ErrorPageRenderer } from './error-handler';
import { registerGracefulClose } from './graceful-close';
import { registerHealth, type ReadinessCheck } from './health';
import { registerJsonBodies } from './json-body';
import { loggerOptions } from './logger';
import { Metrics, registerMetrics } from './metrics';
import { registerOpenApi } from './openapi';
import { registerRequestIds, requestIdFor } from './request-id';
import type { LogLevel } from './config';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface BaseAppOptions {
  service: string;
  /** The address clients use, named in the OpenAPI document's `servers`; default: the service's local address. */
  publicUrl?: string;
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

/**
 * What every Bazar service has in common. The server itself: limits against slow and large requests, request ids,
 * pino, and TypeBox schemas validated strictly (unknown fields are rejected, not stripped; "5" is not 5). Then one
 * registration per concern, each in its own file. It never listens: server.ts does.
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

  // First: the OpenAPI document collects routes as they are added, and the body hook attaches itself to each.
  registerOpenApi(app, options.service, options.publicUrl);
  registerJsonBodies(app);
  registerRequestIds(app);
  registerGracefulClose(app);
  registerErrorHandling(app, handleError);
  registerMetrics(app, options.metrics ?? new Metrics(options.service));
  registerHealth(app, options.readiness ?? {});
  return app;
}
