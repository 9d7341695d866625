import { fastifySwagger } from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';

const DESCRIPTIONS: Record<string, string> = {
  frontend:
    'The public store: search(topic), lookup(item_number), buy(item_number). Browsers (Accept: text/html) get ' +
    'pages; every other client gets the JSON described here.',
  catalog: 'Owner of the book database. Reads are public; writes need the shared bearer token (BAZAR_TOKEN).',
  order: 'Handles buys by asking the catalog and keeps the durable order ledger. Every route needs the bearer token.',
};

/** Routes guarded by requireToken() (common/auth.ts) say so in the document, without each route repeating it. */
function needsToken(route: RouteOptions | undefined): boolean {
  const hooks = [route?.onRequest ?? []].flat();
  return hooks.some((hook) => typeof hook === 'function' && hook.name === 'checkToken');
}

/**
 * Registers @fastify/swagger so the document is generated from the same TypeBox schemas that validate requests,
 * and serves it at GET /openapi.json. Must run before any route is added: the plugin collects routes through an
 * onRoute hook, so a route added earlier would be missing from the document.
 */
export function registerOpenApi(app: FastifyInstance, service: string): void {
  // Called directly, not through register(): register() defers loading until ready(), after createBaseApp's
  // callers have added their routes, and the document would come out empty. The plugin's setup is synchronous.
  fastifySwagger(
    app,
    {
      openapi: {
        openapi: '3.0.3',
        info: { title: `Bazar ${service} service`, version: '0.1.0', description: DESCRIPTIONS[service] },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the shared BAZAR_TOKEN' } },
        },
      },
      transform: ({ schema, url, route }) => ({
        schema: needsToken(route as RouteOptions) ? { ...schema, security: [{ bearer: [] }] } : schema,
        url,
      }),
    },
    (err?: Error) => {
      if (err) throw err;
    },
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
