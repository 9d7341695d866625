import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's genReqId: keeps a caller's x-request-id so one buy can be followed across all three logs; anything odd
 * gets a new one.
 */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Every answer names its request id, so a client can quote it and the next hop can pass it on; and while the
 * service closes (`closing()`), every answer says Connection: close (see graceful-close.ts). One callback hook on
 * onSend for both, which every answer runs, errors and malformed URLs included: an async hook would cost a promise
 * and a microtask per request, and each hook the lifecycle runs costs its own call chain.
 */
export function registerRequestIds(app: FastifyInstance, closing: () => boolean): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (closing()) reply.header('connection', 'close');
    done(null, payload);
  });
}
