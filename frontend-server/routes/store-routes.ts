import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../common/base-app';
import { errors } from '../../common/errors';
import { readFormIdempotencyKey, readIdempotencyKey } from '../../common/idempotency';
import { prefersHtml } from '../negotiate';
import { BODY_ERRORS, errorReplies, textReply } from '../../common/api-docs';
import { PAGE_PARAMS } from '../../common/paging';
import { Book, ItemNumberParams, Order, TopicResult, toItemNumber } from '../../common/schemas';
import type { CatalogReads } from '../cache/catalog-reads';
import type { OrderClient } from '../clients/order-client';
import { bookPage, confirmBuyPage, orderPage, searchPage } from '../views/pages';

export interface StoreUpstreams {
  order: OrderClient;
  /** Lookups and searches, through the cache unless CACHE=off. */
  reads: CatalogReads;
}

export interface BuyRateLimit {
  /** Buys one client (IP) may make per window. */
  max: number;
  windowMs: number;
}

function ctx(request: FastifyRequest) {
  return { log: request.log, requestId: request.id };
}

/** Renders a value as a page; given the request's query too, for pages whose links keep its parameters. */
type PageView<T> = (value: T, query: Record<string, string | undefined>) => string;

/** Answers with a page for browsers and with the JSON value for everyone else. */
function negotiate<T>(request: FastifyRequest, reply: FastifyReply, value: T, page: PageView<T>) {
  if (!prefersHtml(request)) return value;
  return reply.type('text/html; charset=utf-8').send(page(value, request.query as Record<string, string | undefined>));
}

/**
 * JSON bytes of cached values, made once by the route's own response serializer (so byte-identical to a fresh
 * answer) and reused by every hit. Keyed by the cached object itself: a value dropped from the cache (change,
 * flush, TTL) is a new object next time, so bytes can never outlive their value.
 */
class SerializedHits {
  private readonly bytes = new WeakMap<object, Buffer>();

  send<T extends object>(request: FastifyRequest, reply: FastifyReply, value: T, page: PageView<T>) {
    if (prefersHtml(request)) return negotiate(request, reply, value, page);
    let body = this.bytes.get(value);
    if (body === undefined) {
      body = Buffer.from(reply.serialize(value) as string);
      this.bytes.set(value, body);
    }
    return reply.type(JSON_TYPE).send(body);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The report's three operations: search(topic), lookup(item_number), buy(item_number). */
export function registerStoreRoutes(app: App, { order, reads }: StoreUpstreams, buyRateLimit?: BuyRateLimit): void {
  // Without a cache every value is fresh from the catalog and used once: nothing to reuse.
  const hits = reads.caching ? new SerializedHits() : undefined;
  const answer = <T extends object>(request: FastifyRequest, reply: FastifyReply, value: T, page: PageView<T>) =>
    hits ? hits.send(request, reply, value, page) : negotiate(request, reply, value, page);

  app.get(
    '/search/:topic',
    {
      schema: {
        operationId: 'searchBooks',
        summary: 'search(topic): the books on a topic, a page at a time (next_cursor leads on)',
        params: Type.Object({ topic: Type.String({ minLength: 1, maxLength: 200 }) }),
        querystring: Type.Object(PAGE_PARAMS, { additionalProperties: false }),
        response: { 200: TopicResult, ...errorReplies(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const result = await reads.search(request.params.topic, request.query, ctx(request));
      return answer(request, reply, result, searchPage);
    },
  );

  // A search box submits `?topic=`; send it to the report's URL shape.
  app.get(
    '/search',
    {
      schema: {
        operationId: 'searchForm',
        summary: "The search box's target: redirects to /search/{topic}",
        querystring: Type.Object({ topic: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: {
          303: Type.Null({ description: 'See Other: the results are at /search/{topic} (Location)' }),
          ...errorReplies(400),
        },
      },
    },
    async (request, reply) => reply.redirect(`/search/${encodeURIComponent(request.query.topic.trim())}`, 303),
  );

  const lookup = (request: FastifyRequest, id: number) => reads.lookup(id, ctx(request));

  app.get(
    '/lookup/:n',
    {
      schema: {
        operationId: 'lookupBook',
        summary: 'lookup(item_number): one book with its stock and price',
        params: ItemNumberParams,
        response: { 200: Book, ...errorReplies(400, 404, 503) },
      },
    },
    async (request, reply) => answer(request, reply, await lookup(request, toItemNumber(request.params)), bookPage),
  );

  app.post(
    '/buy/:n',
    {
      schema: {
        operationId: 'buyBook',
        summary: 'buy(item_number): buy one copy',
        description:
          'Send an Idempotency-Key to make retries safe: the same key for the same book repeats the first ' +
          'outcome and never buys twice. 409 out_of_stock or request_in_progress; 422 idempotency_key_reused; ' +
          '429 rate_limited; 503 when the order service did not answer: the buy may still complete, so retry ' +
          'with the same key to learn its outcome.',
        params: ItemNumberParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        response: { 201: Order, ...errorReplies(...BODY_ERRORS, 404, 409, 422, 429, 503) },
      },
      config: buyRateLimit ? { rateLimit: { max: buyRateLimit.max, timeWindow: buyRateLimit.windowMs } } : {},
    },
    async (request, reply) => {
      const id = toItemNumber(request.params);
      // Without a client key each request is a new buy, but it still gets a key of its own so that our retries
      // to the order server can never buy twice.
      const key = readIdempotencyKey(request) ?? readFormIdempotencyKey(request) ?? `auto-${randomUUID()}`;
      const placed = await order.buy(id, key, ctx(request));
      reply.code(201);
      if (!prefersHtml(request)) return placed;
      // The thank-you page shows the stock left; if that lookup fails the order still stands.
      const book = await lookup(request, id).catch(() => null);
      return negotiate(request, reply, placed, (done) => orderPage(done, book));
    },
  );

  // A GET must never buy: browsers get a page with a Buy button, API clients are told to POST.
  const confirmBuy = {
    operationId: 'confirmBuyPage',
    summary: 'For browsers: a page with a Buy button (a GET never buys)',
    params: ItemNumberParams,
    response: { 200: textReply('text/html', 'The confirmation page'), ...errorReplies(400, 404, 405, 503) },
  };
  app.get('/buy/:n', { schema: confirmBuy }, async (request, reply) => {
    if (!prefersHtml(request)) throw errors.methodNotAllowed('POST');
    const book = await lookup(request, toItemNumber(request.params));
    return reply.type('text/html; charset=utf-8').send(confirmBuyPage(book));
  });
}
