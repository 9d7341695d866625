import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Health, Readiness } from './schemas';

/** One dependency check for /readyz; rejects with a short reason when its dependency does not answer. */
export type ReadinessCheck = () => Promise<void>;

/**
 * GET /healthz: the process answers (for pm2, load balancers, "is it up"). GET /readyz: it and every named
 * dependency answer (503 naming the failing ones), so a deployment waits for a service that can really work.
 */
export function registerHealth(app: FastifyInstance, readiness: Record<string, ReadinessCheck>): void {
  app.get(
    '/healthz',
    { logLevel: 'warn', schema: { operationId: 'health', summary: 'Liveness: the process answers', response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );

  const checks = Object.entries(readiness);
  const readyz = {
    operationId: 'readiness',
    summary: 'Readiness: every dependency (database, upstream services) answers',
    response: {
      200: Type.Object(Readiness.properties, { description: 'Ready: every check says ok' }),
      503: Type.Object(Readiness.properties, { description: 'Not ready: the failing checks say why' }),
    },
  };
  // Probed every second by each client's balancer: logged only when something is wrong.
  app.get('/readyz', { logLevel: 'warn', schema: readyz }, async (request, reply) => {
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
}
