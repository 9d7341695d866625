import { Type } from '@sinclair/typebox';
import { errorReplies, textReply } from '../../common/api-docs';
import type { App } from '../../common/base-app';
import { PAGE_PARAMS } from '../../common/paging';
import type { CatalogClient } from '../clients/catalog-client';
import { STYLESHEET, booksPage, homePage } from '../views/pages';

/** Books on the home page: a first look, the same at 4 books or 100,000; the rest is a link away (/books). */
const HOME_BOOKS = '12';
/** Books per page of /books: the page stays far below 200 KB whatever the titles. */
const BOOKS_PER_PAGE = '60';

/** The home page, the paged list of every book, and the stylesheet (served from memory, so the store works offline). */
export function registerHomeRoutes(app: App, catalog: CatalogClient): void {
  const home = {
    operationId: 'homePage',
    summary: 'For browsers: the store front page (topics and the first few books)',
    response: { 200: textReply('text/html', 'The home page'), ...errorReplies(503) },
  };
  app.get('/', { schema: home }, async (request, reply) => {
    const ctx = { log: request.log, requestId: request.id };
    const [topics, first] = await Promise.all([catalog.topics(ctx), catalog.books({ limit: HOME_BOOKS }, ctx)]);
    return reply.type('text/html; charset=utf-8').send(homePage(topics, first.books));
  });

  const books = {
    operationId: 'booksPage',
    summary: `For browsers: every book, ${BOOKS_PER_PAGE} to a page, with links to the next and previous pages`,
    querystring: Type.Object({ cursor: PAGE_PARAMS.cursor }, { additionalProperties: false }),
    response: { 200: textReply('text/html', 'One page of books'), ...errorReplies(400, 503) },
  };
  app.get('/books', { schema: books }, async (request, reply) => {
    const ctx = { log: request.log, requestId: request.id };
    const page = await catalog.books({ limit: BOOKS_PER_PAGE, cursor: request.query.cursor }, ctx);
    return reply.type('text/html; charset=utf-8').send(booksPage(page));
  });

  const style = { operationId: 'stylesheet', summary: "The pages' stylesheet", response: { 200: textReply('text/css', 'CSS') } };
  app.get('/static/style.css', { schema: style }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
}
