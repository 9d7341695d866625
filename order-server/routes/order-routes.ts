import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { requireToken } from '../../common/auth';
import { errors } from '../../common/errors';
import { readIdempotencyKey } from '../../common/idempotency';
import { BODY_ERRORS, errorReplies } from '../../common/api-docs';
import { ItemNumberParams, Order, OrderId, toItemNumber } from '../../common/schemas';
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
        summary: 'The newest orders, optionally only those with one status',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$' })),
            status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('rejected')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ orders: Type.Array(Order) }), ...errorReplies(400, 401) },
      },
    },
    async (request) => ({
      orders: await ledger.list({ limit: Number(request.query.limit ?? 100), status: request.query.status }),
    }),
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
