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
import type { Fetched } from '../clients/catalog-client';
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

/** Answers a browser (prefersHtml: its callers have asked already) with the value as a page. */
function sendPage<T>(request: FastifyRequest, reply: FastifyReply, value: T, page: PageView<T>) {
  return reply.type('text/html; charset=utf-8').send(page(value, request.query as Record<string, string | undefined>));
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * A catalog read, as a page for browsers or as JSON. The JSON is the catalog's own bytes when they hold exactly
 * what the route's schema allows, else what the route's own serializer writes, kept on the read so that every
 * cache hit of it sends the same string without serializing again. Either way byte for byte what serializing the
 * value would give (a test compares a miss, a hit and a CACHE=off answer). A string, not a Buffer: Node writes the
 * head and a string body with one write, a Buffer body with a second chunk.
 */
function answer<T>(request: FastifyRequest, reply: FastifyReply, read: Fetched<T>, page: PageView<T>) {
  if (prefersHtml(request)) return sendPage(request, reply, read.value, page);
  read.json ??= reply.serialize(read.value) as string;
  return reply.type(JSON_TYPE).send(read.json);
}

/** answer() now for a cache hit (no promise, no microtask: see CatalogReads.read), or once the catalog answered. */
function serve<T>(request: FastifyRequest, reply: FastifyReply, read: Fetched<T> | Promise<Fetched<T>>, page: PageView<T>) {
  if (!(read instanceof Promise)) {
    answer(request, reply, read, page);
    return;
  }
  return read.then((fetched) => {
    answer(request, reply, fetched, page);
  });
}

/** The report's three operations: search(topic), lookup(item_number), buy(item_number). */
export function registerStoreRoutes(app: App, { order, reads }: StoreUpstreams, buyRateLimit?: BuyRateLimit): void {
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
    (request, reply) => serve(request, reply, reads.search(request.params.topic, request.query, () => ctx(request)), searchPage),
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

  const lookup = (request: FastifyRequest, id: number) => reads.lookup(id, () => ctx(request));
  const book = async (request: FastifyRequest, id: number) => (await lookup(request, id)).value;

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
    (request, reply) => serve(request, reply, lookup(request, toItemNumber(request.params)), bookPage),
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
      const left = await book(request, id).catch(() => null);
      return sendPage(request, reply, placed, (done) => orderPage(done, left));
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
    return reply.type('text/html; charset=utf-8').send(confirmBuyPage(await book(request, toItemNumber(request.params))));
  });
}
