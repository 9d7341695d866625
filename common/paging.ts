import { Type } from '@sinclair/typebox';
import { errors } from './errors';

/**
 * Keyset pagination, the one way every listing pages (a topic's books, all books, orders). A page is asked for
 * by its position relative to a key the previous page named ("after book 812"), never by an offset, so a page
 * deep in a big listing costs what the first one does, and rows added meanwhile never shift what a walk sees.
 */

export const MAX_PAGE_LIMIT = 1000;

/** The query parameters of a paged listing, for route schemas. */
export const PAGE_PARAMS = {
  limit: Type.Optional(
    Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: `Items per page, 1 to ${MAX_PAGE_LIMIT} (default: 20 books, 100 orders)` }),
  ),
  cursor: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{1,200}$',
      description: 'Where the page starts: a next_cursor (or prev_cursor) from an earlier answer of this listing; opaque',
    }),
  ),
};

/** A page as a client asks for it: the query parameters, as they travel. */
export interface PageQuery {
  limit?: string;
  cursor?: string;
}

/** `?limit=…&cursor=…` for the parameters that are set ('' when none is); both are URL-safe by their patterns. */
export function pageQueryString({ limit, cursor }: PageQuery): string {
  if (limit === undefined) return cursor === undefined ? '' : `?cursor=${cursor}`;
  return cursor === undefined ? `?limit=${limit}` : `?limit=${limit}&cursor=${cursor}`;
}

/**
 * Which page to read, in the listing's own order: the items after key `after`, or the items before key `before`
 * (the previous page); neither means the first page.
 */
export interface PageRequest {
  limit: number;
  after?: number;
  before?: number;
}

/** One page in listing order; `next` and `prev` are the keys to ask `after` / `before` for, null at either end. */
export interface Page<T> {
  items: T[];
  next: number | null;
  prev: number | null;
}

/**
 * Reads the rows toPage() expects for `request`: `limit + 1` of them (the one more tells whether a page follows),
 * after its key (from the start: 0) or, asked `before`, before it. Each store passes its two keyset reads.
 */
export function keysetRead<R>(
  request: PageRequest,
  after: (key: number, count: number) => R,
  before: (key: number, count: number) => R,
): R {
  return request.before === undefined
    ? after(request.after ?? 0, request.limit + 1)
    : before(request.before, request.limit + 1);
}

/**
 * Turns the rows a store read for `request` into a page. The store reads `limit + 1` rows, so one more than fits
 * says another page follows without a second query: in listing order after `after` (or from the start), or in
 * reverse listing order before `before` (which this puts back in listing order).
 */
export function toPage<T>(rows: T[], request: PageRequest, keyOf: (row: T) => number): Page<T> {
  const more = rows.length > request.limit;
  const items = rows.slice(0, request.limit);
  if (request.before !== undefined) {
    items.reverse();
    return {
      items,
      next: items.length > 0 ? keyOf(items[items.length - 1]) : null,
      prev: more ? keyOf(items[0]) : null,
    };
  }
  return {
    items,
    next: more ? keyOf(items[items.length - 1]) : null,
    prev: request.after !== undefined && items.length > 0 ? keyOf(items[0]) : null,
  };
}

/**
 * What each listing's pages are like. A cursor names its listing (`tag`), so one from another listing is refused
 * rather than read as a key of this one. Orders are only walked forward (newest to oldest), so they never give out
 * a cursor to a previous page. The default page: 20 books, what a person reads at a glance (a page's cost grows with
 * its items, so a small default keeps a topic of a thousand books as cheap to open as one of two; the four-book
 * store still answers each topic in one page); 100 orders, as the order list always gave.
 */
export type Listing = 'books' | 'topic' | 'orders';
export const LISTINGS: Record<Listing, { tag: string; backward: boolean; defaultLimit: number }> = {
  books: { tag: 'b', backward: true, defaultLimit: 20 },
  topic: { tag: 't', backward: true, defaultLimit: 20 },
  orders: { tag: 'o', backward: false, defaultLimit: 100 },
};

/** Opaque to clients: base64url of `[listing, "a" | "b", key]`, e.g. `["t","a",812]`. */
function encodeCursor(listing: Listing, direction: 'a' | 'b', key: number): string {
  return Buffer.from(JSON.stringify([LISTINGS[listing].tag, direction, key])).toString('base64url');
}

function decodeCursor(listing: Listing, raw: string): Pick<PageRequest, 'after' | 'before'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { tag, backward } = LISTINGS[listing];
  if (Array.isArray(parsed) && parsed.length === 3 && parsed[0] === tag && Number.isSafeInteger(parsed[2]) && parsed[2] >= 0) {
    if (parsed[1] === 'a') return { after: parsed[2] };
    if (parsed[1] === 'b' && backward) return { before: parsed[2] };
  }
  throw errors.validationFailed(`cursor '${raw}' is not one this listing gave out; start again without a cursor`);
}

/** The page a request's `?limit=&cursor=` asks for; a cursor that is not this listing's is validation_failed. */
export function readPageQuery(listing: Listing, query: PageQuery): PageRequest {
  const limit = query.limit === undefined ? LISTINGS[listing].defaultLimit : Number(query.limit);
  return query.cursor === undefined ? { limit } : { limit, ...decodeCursor(listing, query.cursor) };
}

/** The cursors an answer carries for `page`: null where there is no page to go to. */
export function pageCursors(listing: Listing, page: Pick<Page<unknown>, 'next' | 'prev'>): { next_cursor: string | null; prev_cursor: string | null } {
  return {
    next_cursor: page.next === null ? null : encodeCursor(listing, 'a', page.next),
    prev_cursor: page.prev === null ? null : encodeCursor(listing, 'b', page.prev),
  };
}
