import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Bodies are JSON. A text/plain body is a client mistake worth naming (415), not a schema failure; and "no body" on a
 * write means "no fields", so optional-body routes (restock) work with a bare POST, with or without a JSON
 * Content-Type (curl -X POST -H 'content-type: application/json' sends none).
 */
export function registerJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(request, body as string, done);
  });

  const emptyBodyIsNoFields = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    if (request.body === undefined && (request.method === 'POST' || request.method === 'PUT')) request.body = {};
    done();
  };
  // Added only to POST and PUT routes, so reads do not pay for a hook that never applies to them.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => m === 'POST' || m === 'PUT')) return;
    const existing = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    route.preValidation = [emptyBodyIsNoFields, ...existing];
  });
}
