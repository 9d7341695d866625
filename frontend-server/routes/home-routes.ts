import { errorReplies, textReply } from '../../common/api-docs';
import type { App } from '../../common/base-app';
import type { CatalogClient } from '../clients/catalog-client';
import { STYLESHEET, homePage } from '../views/pages';

/** The home page and its stylesheet; served from memory so the store works offline. */
export function registerHomeRoutes(app: App, catalog: CatalogClient): void {
  const home = {
    operationId: 'homePage',
    summary: 'For browsers: the store front page (topics and books)',
    response: { 200: textReply('text/html', 'The home page'), ...errorReplies(503) },
  };
  app.get('/', { schema: home }, async (request, reply) => {
    const ctx = { log: request.log, requestId: request.id };
    const [topics, books] = await Promise.all([catalog.topics(ctx), catalog.books(ctx)]);
    return reply.type('text/html; charset=utf-8').send(homePage(topics, books));
  });

  const style = { operationId: 'stylesheet', summary: "The pages' stylesheet", response: { 200: textReply('text/css', 'CSS') } };
  app.get('/static/style.css', { schema: style }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
}
