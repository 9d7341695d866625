import type { FastifyInstance } from 'fastify';

/**
 * During a graceful close, answers in flight tell their client to hang up: otherwise a keep-alive connection (our own
 * undici pools keep them) stays open after its last answer and holds the close until the grace runs out.
 */
export function registerGracefulClose(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, not an async one: it runs on every answer.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}
