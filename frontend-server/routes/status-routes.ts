import type { FastifyReply } from 'fastify';
import type { App } from '../../common/base-app';
import { prefersHtml } from '../negotiate';
import { StatusReport } from '../../common/schemas';
import type { CatalogReads } from '../cache/catalog-reads';
import type { ChangeStreams } from '../cache/change-streams';
import type { CatalogClient } from '../clients/catalog-client';
import type { OrderClient } from '../clients/order-client';
import { statusPage } from '../views/status-page';

export interface StatusSources {
  catalog: CatalogClient;
  order: OrderClient;
  reads: CatalogReads;
  /** Undefined with CACHE=off (nothing is subscribed). */
  changes?: ChangeStreams;
}

/**
 * GET /status: every upstream replica (in rotation, ejected, probing; in flight, answered, last error) and the
 * cache (live or dark, each replica's change stream, hit ratio). A page for browsers, JSON for everyone else.
 * Public like /metrics: it names replicas and counts, never a token, body or header.
 */
export function registerStatusRoutes(app: App, { catalog, order, reads, changes }: StatusSources): void {
  const schema = {
    operationId: 'storeStatus',
    summary: 'Every upstream replica and the cache, as the balancer sees them (a page for browsers)',
    response: { 200: StatusReport },
  };
  app.get('/status', { schema }, async (request, reply) => {
    const report: StatusReport = {
      upstreams: [catalog.status(), order.status()],
      cache: { ...reads.status(), subscriptions: changes?.status() ?? [] },
    };
    reply.header('cache-control', 'no-store');
    if (!prefersHtml(request)) return report;
    return sendPage(reply, statusPage(report));
  });
}

/** The route's typed reply only knows the JSON shape; the page goes out through the untyped one. */
function sendPage(reply: FastifyReply, page: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(page);
}
