/**
 * A client written only against the types openapi-typescript generates from the three /openapi.json documents.
 * test/openapi/generated-client.test.ts generates them into ./generated beside a copy of this file, type-checks
 * both with tsc, then runs shop() against a started stack. The project's own typecheck skips this folder
 * (tsconfig.json "exclude"): ./generated exists only there.
 */
import type { operations as FrontendOperations, paths as FrontendPaths } from './generated/frontend';
import type { paths as CatalogPaths } from './generated/catalog';
import type { paths as OrderPaths } from './generated/order';

type Method = 'get' | 'post' | 'put';
/** The methods a path really has: the generator types the others as `?: never`. */
type MethodOf<Item> = { [M in Method & keyof Item]-?: [NonNullable<Item[M]>] extends [never] ? never : M }[Method & keyof Item];
type OperationOf<Paths, P extends keyof Paths, M> = NonNullable<Paths[P][M & keyof Paths[P]]>;
type ParamsOf<Op> = Op extends { parameters: infer P } ? P : never;
type BodyOf<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined;
type JsonOf<Response> = Response extends { content: { 'application/json': infer B } } ? B : never;
type Responses<Op> = Op extends { responses: infer R } ? R : never;
export type SuccessOf<Op> = JsonOf<Responses<Op>[keyof Responses<Op> & (200 | 201)]>;
export type ErrorOf<Op> = JsonOf<Responses<Op>[Exclude<keyof Responses<Op>, 200 | 201>]>;

export class ApiError<Body> extends Error {
  constructor(
    readonly status: number,
    readonly body: Body,
  ) {
    super(`answered ${status}`);
  }
}

/** A typed fetch for one service: the path, method, parameters, body and answer all come from its document. */
export function clientFor<Paths>(baseUrl: string, token?: string) {
  return async function call<P extends keyof Paths & string, M extends MethodOf<Paths[P]>>(
    method: M,
    path: P,
    params: ParamsOf<OperationOf<Paths, P, M>>,
    body?: BodyOf<OperationOf<Paths, P, M>>,
  ): Promise<SuccessOf<OperationOf<Paths, P, M>>> {
    const given = params as { path?: Record<string, string>; query?: Record<string, string>; header?: Record<string, string> };
    const url = new URL(path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(given.path?.[name] ?? '')), baseUrl);
    for (const [name, value] of Object.entries(given.query ?? {})) url.searchParams.set(name, value);
    const headers: Record<string, string> = { accept: 'application/json', ...given.header };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const json: unknown = await res.json();
    if (!res.ok) throw new ApiError(res.status, json as ErrorOf<OperationOf<Paths, P, M>>);
    return json as SuccessOf<OperationOf<Paths, P, M>>;
  };
}

export interface StoreUrls {
  frontend: string;
  catalog: string;
  order: string;
}

/** The report's walk through the store: lookup, search, buy; then the catalog's stock and the order ledger. */
export async function shop(urls: StoreUrls, token: string, idempotencyKey: string) {
  const frontend = clientFor<FrontendPaths>(urls.frontend);
  const catalog = clientFor<CatalogPaths>(urls.catalog);
  const order = clientFor<OrderPaths>(urls.order, token);

  // The generator names each operation's types after its operationId.
  const book: SuccessOf<FrontendOperations['lookupBook']> = await frontend('get', '/lookup/{n}', { path: { n: '1' } });
  const found = await frontend('get', '/search/{topic}', { path: { topic: book.topic } });
  const bought = await frontend('post', '/buy/{n}', {
    path: { n: String(book.id) },
    header: { 'idempotency-key': idempotencyKey },
  });
  const after = await catalog('get', '/query_by_item_number/{n}', { path: { n: String(book.id) } });
  const { orders } = await order('get', '/orders', { query: { status: 'confirmed' } });
  let missing: ErrorOf<FrontendOperations['lookupBook']> | undefined;
  try {
    await frontend('get', '/lookup/{n}', { path: { n: '999' } });
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    missing = err.body as ErrorOf<FrontendOperations['lookupBook']>;
  }
  return {
    book: { id: book.id, title: book.title, stock: book.stock, priceCents: book.price_cents },
    titles: found.items.map((item) => item.title),
    bought: { orderId: bought.order_id, status: bought.status, priceCents: bought.price_cents },
    stockAfter: after.stock,
    confirmed: orders.map((o) => o.order_id),
    missingCode: missing?.error.code,
  };
}

/** Never called: each call is a mistake the generated types must reject, or tsc fails on the unused directive. */
export function mistakesTheTypesCatch(urls: StoreUrls, token: string, book: SuccessOf<FrontendOperations['lookupBook']>) {
  const frontend = clientFor<FrontendPaths>(urls.frontend);
  const order = clientFor<OrderPaths>(urls.order, token);
  // @ts-expect-error a book has no author
  void book.author;
  // @ts-expect-error lookupBook's path parameter is n
  void frontend('get', '/lookup/{n}', { path: { id: '1' } });
  // @ts-expect-error /lookup/{n} is read with GET only
  void frontend('post', '/lookup/{n}', { path: { n: '1' } });
  // @ts-expect-error the frontend has no /orders; the order service does
  void frontend('get', '/orders', {});
  // @ts-expect-error listOrders filters by pending, confirmed or rejected only
  void order('get', '/orders', { query: { status: 'shipped' } });
}
