import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { requireToken } from '../../common/auth';
import { errors } from '../../common/errors';
import { Book, BookList, ItemNumberParams, OrderId, Purchase, errorResponses, toItemNumber } from '../../common/schemas';
import type { CatalogStore } from '../store/types';

const Count = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });

const auth = { 401: errorResponses[401] };

/** Writes: only the other Bazar services (holding BAZAR_TOKEN) may change stock, prices or record purchases. */
export function registerWriteRoutes(app: App, store: CatalogStore, token: string | undefined): void {
  const checkToken = requireToken(token);

  app.put(
    '/update/:n',
    {
      onRequest: checkToken,
      schema: {
        params: ItemNumberParams,
        body: Type.Object(
          { stock: Type.Optional(Count), price_cents: Type.Optional(Count) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Book, ...errorResponses, ...auth },
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
        body: Type.Object({ stock: Type.Optional(Count) }, { additionalProperties: false }),
        response: { 200: BookList, ...errorResponses, ...auth },
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
        params: ItemNumberParams,
        body: Type.Object({ order_id: OrderId }, { additionalProperties: false }),
        response: { 200: Purchase, 201: Purchase, 422: errorResponses[400], ...errorResponses, ...auth },
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
        params: Type.Object({ order_id: OrderId }),
        response: {
          200: Type.Object({ ...Purchase.properties, outcome: Type.String() }),
          ...errorResponses,
          ...auth,
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
