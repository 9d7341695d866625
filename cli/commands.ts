import { MAX_PAGE_LIMIT, pageQueryString, type PageQuery } from '../common/paging';
import type { Book, Order, OrderList, TopicResult } from '../common/schemas';
import { record, stockText, table, type Style } from './format';
import { callJson, type Target } from './http';
import { formatCents } from './money';

export interface Targets {
  frontend: Target;
  catalog: Target;
  order: Target;
}

/** What a command prints: `json` for --json (the service's own answer), `text` for people. */
export interface Output {
  json: unknown;
  text: string;
}

function bookRecord(book: Book, style: Style): string {
  return record(
    [
      ['Item', String(book.id)],
      ['Title', book.title],
      ['Topic', book.topic],
      ['Price', formatCents(book.price_cents)],
      ['Stock', stockText(book.stock, style)],
    ],
    style,
  );
}

function booksTable(books: Book[], style: Style): string {
  return table(
    [{ header: 'ITEM', align: 'right' }, { header: 'TITLE' }, { header: 'TOPIC' }, { header: 'PRICE', align: 'right' }, { header: 'STOCK', align: 'right' }],
    books.map((b) => [String(b.id), b.title, b.topic, formatCents(b.price_cents), stockText(b.stock, style)]),
    style,
  );
}

/** A listing's page size (the service's default when unset), and whether to read every page. */
export interface Paging {
  limit?: number;
  all: boolean;
}

/**
 * The first page, or with `all` every page, following next_cursor to the end. Walking all, pages are as big as the
 * services allow unless --limit says otherwise: fewer round trips.
 */
async function readPages<P extends { next_cursor: string | null }>(paging: Paging, read: (query: PageQuery) => Promise<P>): Promise<P[]> {
  const size = paging.limit ?? (paging.all ? MAX_PAGE_LIMIT : undefined);
  const limit = size === undefined ? undefined : String(size);
  const pages = [await read({ limit })];
  for (let cursor = pages[0].next_cursor; paging.all && cursor !== null; cursor = pages[pages.length - 1].next_cursor) {
    pages.push(await read({ limit, cursor }));
  }
  return pages;
}

/** Runs `task` over `items` with at most `width` at a time, keeping their order. */
async function mapLimited<T, R>(items: T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

export async function search(t: Targets, topic: string, paging: Paging, style: Style): Promise<Output> {
  const path = `/search/${encodeURIComponent(topic)}`;
  const pages = await readPages(paging, (query) => callJson<TopicResult>(t.frontend, 'GET', `${path}${pageQueryString(query)}`));
  const items = pages.flatMap((page) => page.items);
  // Search gives titles only; people also want price and stock, so look each one up, a few at a time.
  const books = await mapLimited(items, 16, (item) => callJson<Book>(t.frontend, 'GET', `/lookup/${item.id}`));
  const more = pages[pages.length - 1].next_cursor === null ? '' : `More books on '${pages[0].topic}': add --all to list them all.\n`;
  // --all gives one answer holding every page's items.
  const json = pages.length === 1 ? pages[0] : { ...pages[0], items, next_cursor: null };
  return { json, text: booksTable(books, style) + more };
}

export async function lookup(t: Targets, n: number, style: Style): Promise<Output> {
  const book = await callJson<Book>(t.frontend, 'GET', `/lookup/${n}`);
  return { json: book, text: bookRecord(book, style) };
}

export async function buy(t: Targets, n: number, style: Style): Promise<Output> {
  const order = await callJson<Order>(t.frontend, 'POST', `/buy/${n}`);
  // The order stands whether or not this lookup answers; it only adds the stock left.
  const book = await callJson<Book>(t.frontend, 'GET', `/lookup/${n}`).catch(() => null);
  const pairs: [string, string][] = [
    ['Order', order.order_id],
    ['Item', String(order.item_number)],
    ['Title', order.title ?? '-'],
    ['Price', formatCents(order.price_cents)],
    ['Status', order.status],
  ];
  if (book) pairs.push(['Stock left', stockText(book.stock, style)]);
  return { json: order, text: `${style.green('Bought')} “${order.title}” for ${formatCents(order.price_cents)}.\n${record(pairs, style)}` };
}

export async function orders(t: Targets, paging: Paging, style: Style): Promise<Output> {
  const pages = await readPages(paging, (query) => callJson<OrderList>(t.order, 'GET', `/orders${pageQueryString(query)}`));
  const list = pages.flatMap((page) => page.orders);
  const paint = (status: string) => (status === 'confirmed' ? style.green : status.startsWith('rejected') ? style.red : style.yellow)(status);
  const more = pages[pages.length - 1].next_cursor === null ? '' : 'More orders: add --all to list them all.\n';
  const text = list.length
    ? table(
        [{ header: 'ORDER' }, { header: 'ITEM', align: 'right' }, { header: 'TITLE' }, { header: 'PRICE', align: 'right' }, { header: 'STATUS' }, { header: 'CREATED' }],
        list.map((o) => [o.order_id, String(o.item_number), o.title ?? '-', formatCents(o.price_cents), paint(o.reason ? `${o.status} (${o.reason})` : o.status), o.created_at]),
        style,
      ) + more
    : 'No orders yet.\n';
  return { json: pages.length === 1 ? pages[0] : { orders: list, next_cursor: null }, text };
}

export async function restock(t: Targets, stock: number | undefined, style: Style): Promise<Output> {
  const result = await callJson<{ books: Book[] }>(t.catalog, 'POST', '/restock', stock === undefined ? {} : { stock });
  return { json: result, text: `Restocked every book to ${stock ?? 5}.\n${booksTable(result.books, style)}` };
}

export async function update(t: Targets, n: number, patch: { stock?: number; price_cents?: number }, style: Style): Promise<Output> {
  const book = await callJson<Book>(t.catalog, 'PUT', `/update/${n}`, patch);
  return { json: book, text: `Updated item ${n}.\n${bookRecord(book, style)}` };
}

export async function topics(t: Targets, style: Style): Promise<Output> {
  const result = await callJson<{ topics: string[] }>(t.catalog, 'GET', '/topics');
  return { json: result, text: table([{ header: 'TOPIC' }], result.topics.map((topic) => [topic]), style) };
}
