import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { requireToken } from '../../common/auth';
import { errors } from '../../common/errors';
import { BODY_ERRORS, errorReplies } from '../../common/api-docs';
import { Book, BookList, ItemNumberParams, MAX_AMOUNT, OrderId, Purchase, toItemNumber } from '../../common/schemas';
import type { CatalogStore } from '../store/types';

const Count = Type.Integer({ minimum: 0, maximum: MAX_AMOUNT });



/** Writes: only the other Bazar services (holding BAZAR_TOKEN) may change stock, prices or record purchases. */
export function registerWriteRoutes(app: App, store: CatalogStore, token: string | undefined): void {
  const checkToken = requireToken(token);

  app.put(
    '/update/:n',
    {
      onRequest: checkToken,
      schema: {
        operationId: 'updateBook',
        summary: "Set a book's stock and/or price",
        params: ItemNumberParams,
        body: Type.Object(
          { stock: Type.Optional(Count), price_cents: Type.Optional(Count) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Book, ...errorReplies(...BODY_ERRORS, 401, 404) },
      },
    },
    async (request) => {
      const id = toItemNumber(request.params);
      const book = await store.updateBook(id, request.body);
      if (!book) throw errors.bookNotFound(id);
      request.log.info({ book: id, patch: request.body }, 'book updated');
      return book;
    },
  );

  app.post(
    '/restock',
    {
      onRequest: checkToken,
      schema: {
        operationId: 'restock',
        summary: 'New stock arrives: every book back to `stock` (default 5)',
        body: Type.Object({ stock: Type.Optional(Count) }, { additionalProperties: false }),
        response: { 200: BookList, ...errorReplies(...BODY_ERRORS, 401) },
      },
    },
    async (request) => {
      // The report's "new stock arrives": every book back to 5 unless told otherwise.
      const stock = request.body.stock ?? 5;
      const books = await store.restockAll(stock);
      request.log.info({ stock }, 'restocked');
      return { books };
    },
  );

  app.post(
    '/purchase/:n',
    {
      onRequest: checkToken,
      schema: {
        operationId: 'purchase',
        summary: 'Take one copy out of stock for an order, at most once per order id',
        description:
          '201 when this call took the copy; 200 when this order id already had (a retry): the first outcome is ' +
          'repeated and stock is not touched again. 409 out_of_stock; 422 order_id_reused (another book).',
        params: ItemNumberParams,
        body: Type.Object({ order_id: OrderId }, { additionalProperties: false }),
        response: { 200: Purchase, 201: Purchase, ...errorReplies(...BODY_ERRORS, 401, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const id = toItemNumber(request.params);
      const { order_id } = request.body;
      const result = await store.purchase(id, order_id);
      switch (result.kind) {
        case 'book_not_found':
          throw errors.bookNotFound(id);
        case 'order_id_reused':
          throw errors.orderIdReused(order_id);
      }
      const { purchase } = result;
      request.log.info({ book: id, order_id, outcome: purchase.outcome, replayed: result.kind === 'replayed' }, 'purchase');
      if (purchase.outcome === 'out_of_stock') throw errors.outOfStock(id, purchase.title);
      reply.code(result.kind === 'applied' ? 201 : 200);
      return { ...purchase, outcome: 'purchased' as const };
    },
  );

  app.get(
    '/purchases/:order_id',
    {
      onRequest: checkToken,
      schema: {
        operationId: 'getPurchase',
        summary: 'The purchase recorded for an order id, if any',
        params: Type.Object({ order_id: OrderId }),
        response: {
          200: Type.Object({ ...Purchase.properties, outcome: Type.String() }),
          ...errorReplies(400, 401, 404),
        },
      },
    },
    async (request) => {
      const purchase = await store.getPurchase(request.params.order_id);
      if (!purchase) throw errors.orderNotFound(request.params.order_id);
      return purchase;
    },
  );
}
