import type { FastifyInstance } from 'fastify';

/**
 * During a graceful close, answers in flight tell their client to hang up: otherwise a keep-alive connection (our own
 * undici pools keep them) stays open after its last answer and holds the close until the grace runs out. The header
 * itself is set by the one onSend hook every answer runs (registerRequestIds); this says when.
 */
export function registerGracefulClose(app: FastifyInstance): () => boolean {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  return () => closing;
}
