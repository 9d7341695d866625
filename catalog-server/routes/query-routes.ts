import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { errors } from '../../common/errors';
import { errorReplies } from '../../common/api-docs';
import { PAGE_PARAMS, pageCursors, readPageQuery } from '../../common/paging';
import { Book, BookPage, ItemNumberParams, TopicList, TopicResult, toItemNumber } from '../../common/schemas';
import type { CatalogStore } from '../store/types';

/** The report's read API, public: query by topic, query by item number, and listings for the storefront. */
export function registerQueryRoutes(app: App, store: CatalogStore): void {
  app.get(
    '/query_by_topic/:topic',
    {
      schema: {
        operationId: 'queryByTopic',
        summary: 'The books on one topic (id and title of each), a page at a time in item-number order',
        params: Type.Object({ topic: Type.String({ minLength: 1, maxLength: 200 }) }),
        querystring: Type.Object(PAGE_PARAMS, { additionalProperties: false }),
        response: { 200: TopicResult, ...errorReplies(400, 404) },
      },
    },
    async (request) => {
      const page = await store.findByTopic(request.params.topic, readPageQuery('topic', request.query));
      if (!page) throw errors.topicNotFound(request.params.topic, await store.listTopics());
      return { topic: page.topic, items: page.items, ...pageCursors('topic', page) };
    },
  );

  app.get(
    '/query_by_item_number/:n',
    {
      schema: {
        operationId: 'queryByItemNumber',
        summary: 'One book: title, topic, stock and price',
        params: ItemNumberParams,
        response: { 200: Book, ...errorReplies(400, 404) },
      },
    },
    async (request) => {
      const id = toItemNumber(request.params);
      const book = await store.getBook(id);
      if (!book) throw errors.bookNotFound(id);
      return book;
    },
  );

  const topics = { operationId: 'listTopics', summary: 'Every topic that has books', response: { 200: TopicList } };
  app.get('/topics', { schema: topics }, async () => ({ topics: await store.listTopics() }));

  app.get(
    '/books',
    {
      schema: {
        operationId: 'listBooks',
        summary: 'Every book, a page at a time in item-number order',
        querystring: Type.Object(PAGE_PARAMS, { additionalProperties: false }),
        response: { 200: BookPage, ...errorReplies(400) },
      },
    },
    async (request) => {
      const page = await store.pageBooks(readPageQuery('books', request.query));
      return { books: page.items, ...pageCursors('books', page) };
    },
  );
}
