import { fastifySwagger } from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { DEFAULT_PORTS, localUrl, type ServiceName } from './config';

const DESCRIPTIONS: Record<string, string> = {
  frontend:
    'The public store: search(topic), lookup(item_number), buy(item_number). Browsers (Accept: text/html) get ' +
    'pages; every other client gets the JSON described here.',
  catalog: 'Owner of the book database. Reads are public; writes need the shared bearer token (BAZAR_TOKEN).',
  order: 'Handles buys by asking the catalog and keeps the durable order ledger. Every route needs the bearer token.',
};

const BEARER = [{ bearer: [] }];

/**
 * Where clients reach this service: its PUBLIC_URL if set, else the address it listens on (a wildcard bind is
 * reachable on loopback), else, before it listens (inject), its default local address.
 */
function serverUrl(app: FastifyInstance, service: string, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const bound = app.server.address();
  if (bound !== null && typeof bound === 'object') {
    const host = bound.address === '0.0.0.0' || bound.address === '::' ? '127.0.0.1' : bound.address;
    return `http://${bound.family === 'IPv6' && host !== '127.0.0.1' ? `[${host}]` : host}:${bound.port}`;
  }
  return service in DEFAULT_PORTS ? localUrl(DEFAULT_PORTS[service as ServiceName]) : '/';
}

/** Routes guarded by requireToken() (common/auth.ts) say so in the document, without each route repeating it. */
function needsToken(route: RouteOptions | undefined): boolean {
  const hooks = [route?.onRequest ?? []].flat();
  return hooks.some((hook) => typeof hook === 'function' && hook.name === 'checkToken');
}

interface Document {
  servers?: { url: string; description?: string }[];
  paths?: Record<string, Record<string, { security?: unknown[] }>>;
  components?: { securitySchemes?: unknown };
}

/** The generated document, less the bearer scheme when no operation uses it (the frontend has none). */
function withoutUnusedScheme(doc: Document): Document {
  const operations = Object.values(doc.paths ?? {}).flatMap((ops) => Object.values(ops));
  if (operations.some((op) => (op.security?.length ?? 0) > 0)) return doc;
  return { ...doc, components: { ...doc.components, securitySchemes: undefined } };
}

/**
 * Registers @fastify/swagger so the document is generated from the same TypeBox schemas that validate requests,
 * and serves it at GET /openapi.json. Must run before any route is added: the plugin collects routes through an
 * onRoute hook, so a route added earlier would be missing from the document.
 * `publicUrl` is the address clients use (the service's PUBLIC_URL); by default the address it listens on.
 */
export function registerOpenApi(app: FastifyInstance, service: string, publicUrl?: string): void {
  // Called directly, not through register(): register() defers loading until ready(), after createBaseApp's
  // callers have added their routes, and the document would come out empty. The plugin's setup is synchronous.
  fastifySwagger(
    app,
    {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: `Bazar ${service} service`,
          version: '0.1.0',
          description: DESCRIPTIONS[service],
          license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
        },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the shared BAZAR_TOKEN' } },
        },
      },
      // Every operation states its security: the bearer token, or explicitly none (public), never "not said".
      transform: ({ schema, url, route }) => ({
        schema: { ...schema, security: needsToken(route as RouteOptions) ? BEARER : [] },
        url,
      }),
    },
    (err?: Error) => {
      if (err) throw err;
    },
  );
  let document: Document | undefined;
  app.get('/openapi.json', { schema: { hide: true } }, async () => {
    document ??= withoutUnusedScheme(app.swagger() as Document);
    const url = serverUrl(app, service, publicUrl);
    return { ...document, servers: [{ url, description: `the ${service} service (set PUBLIC_URL to name another)` }] };
  });
}
