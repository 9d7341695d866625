import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { errors } from '../../common/errors';
import { Book, BookList, ErrorBody, ItemNumberParams, TopicList, TopicResult, toItemNumber } from '../../common/schemas';
import type { CatalogStore } from '../store/types';

/** The report's read API, public: query by topic, query by item number, and listings for the storefront. */
export function registerQueryRoutes(app: App, store: CatalogStore): void {
  app.get(
    '/query_by_topic/:topic',
    {
      schema: {
        params: Type.Object({ topic: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: TopicResult, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const found = await store.findByTopic(request.params.topic);
      if (!found) throw errors.topicNotFound(request.params.topic, await store.listTopics());
      return found;
    },
  );

  app.get(
    '/query_by_item_number/:n',
    { schema: { params: ItemNumberParams, response: { 200: Book, 400: ErrorBody, 404: ErrorBody } } },
    async (request) => {
      const id = toItemNumber(request.params);
      const book = await store.getBook(id);
      if (!book) throw errors.bookNotFound(id);
      return book;
    },
  );

  app.get('/topics', { schema: { response: { 200: TopicList } } }, async () => ({
    topics: await store.listTopics(),
  }));

  app.get('/books', { schema: { response: { 200: BookList } } }, async () => ({
    books: await store.listBooks(),
  }));
}
