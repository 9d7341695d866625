import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import type { CatalogClient } from '../clients/catalog-client';
import { STYLESHEET, homePage } from '../views/pages';

/** The home page and its stylesheet; served from memory so the store works offline. */
export function registerHomeRoutes(app: App, catalog: CatalogClient): void {
  app.get('/', async (request, reply) => {
    const ctx = { log: request.log, requestId: request.id };
    const [topics, books] = await Promise.all([catalog.topics(ctx), catalog.books(ctx)]);
    return reply.type('text/html; charset=utf-8').send(homePage(topics, books));
  });

  app.get('/static/style.css', { schema: { response: { 200: Type.String() } } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
}
