import { Type } from '@sinclair/typebox';
import type { App } from '../../common/base-app';
import { requireToken } from '../../common/auth';
import { errors } from '../../common/errors';
import { readIdempotencyKey } from '../../common/idempotency';
import { ErrorBody, ItemNumberParams, Order, OrderId, errorResponses, toItemNumber } from '../../common/schemas';
import type { BuyService } from '../buy-service';
import type { OrderLedger } from '../ledger/types';

const auth = { 401: ErrorBody };

/** All order routes are for the frontend only (it holds BAZAR_TOKEN). */
export function registerOrderRoutes(app: App, buys: BuyService, ledger: OrderLedger, token: string | undefined): void {
  const checkToken = requireToken(token);

  app.post(
    '/buy/:n',
    {
      onRequest: checkToken,
      schema: {
        params: ItemNumberParams,
        response: { 201: Order, ...errorResponses, ...auth, 422: ErrorBody },
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
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$' })),
            status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('rejected')])),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ orders: Type.Array(Order) }), 400: ErrorBody, ...auth },
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
      schema: { params: Type.Object({ id: OrderId }), response: { 200: Order, 400: ErrorBody, 404: ErrorBody, ...auth } },
    },
    async (request) => {
      const order = await ledger.get(request.params.id);
      if (!order) throw errors.orderNotFound(request.params.id);
      return order;
    },
  );
}
