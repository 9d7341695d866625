import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { requireToken } from '../../common/auth';
import { errors } from '../../common/errors';
import { readIdempotencyKey } from '../../common/idempotency';
import { BODY_ERRORS, errorReplies } from '../../common/api-docs';
import { PAGE_PARAMS, pageCursors, readPageQuery } from '../../common/paging';
import { ItemNumberParams, Order, OrderId, OrderList, toItemNumber } from '../../common/schemas';
import type { BuyService } from '../buy-service';
import type { OrderLedger } from '../ledger/types';

/** All order routes are for the frontend only (it holds BAZAR_TOKEN). */
export function registerOrderRoutes(app: App, buys: BuyService, ledger: OrderLedger, token: string | undefined): void {
  const checkToken = requireToken(token);

  app.post(
    '/buy/:n',
    {
      onRequest: checkToken,
      schema: {
        operationId: 'placeOrder',
        summary: 'Buy one copy: record the order, have the catalog take it out of stock, confirm it',
        description:
          'An Idempotency-Key makes retries safe: the same key for the same book repeats the first outcome ' +
          '(header idempotent-replayed: true) and never buys twice. 409 out_of_stock or request_in_progress; ' +
          '422 idempotency_key_reused; 503 when the catalog did not answer: the order stays pending and is settled ' +
          'shortly.',
        params: ItemNumberParams,
        response: { 201: Order, ...errorReplies(...BODY_ERRORS, 401, 404, 409, 422, 503) },
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
      },
    },
    async (request, reply) => {
      const key = readIdempotencyKey(request);
      const { order, replayed } = await buys.buy(
        toItemNumber(request.params),
        { log: request.log, requestId: request.id },
        key,
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      reply.code(201);
      return order;
    },
  );

  app.get(
    '/orders',
    {
      onRequest: checkToken,
      schema: {
        operationId: 'listOrders',
        summary: 'Orders newest first, a page at a time, optionally only those with one status',
        description:
          'Follow next_cursor to walk every order: a walk sees each order that existed when it began exactly once, ' +
          'while new orders arrive. A cursor belongs to its status filter; ask with the same status.',
        querystring: Type.Object(
          {
            ...PAGE_PARAMS,
            status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('rejected')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: OrderList, ...errorReplies(400, 401) },
      },
    },
    async (request) => {
      const { limit, after } = readPageQuery('orders', request.query);
      const page = await ledger.list({ limit, after, status: request.query.status });
      return { orders: page.orders, next_cursor: pageCursors('orders', { next: page.next, prev: null }).next_cursor };
    },
  );

  app.get(
    '/orders/:id',
    {
      onRequest: checkToken,
      schema: {
        operationId: 'getOrder',
        summary: 'One order and its status (pending, confirmed or rejected)',
        params: Type.Object({ id: OrderId }),
        response: { 200: Order, ...errorReplies(400, 401, 404) },
      },
    },
    async (request) => {
      const order = await ledger.get(request.params.id);
      if (!order) throw errors.orderNotFound(request.params.id);
      return order;
    },
  );
}
