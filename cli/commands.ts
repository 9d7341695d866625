import type { Book, Order, TopicResult } from '../common/schemas';
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

export async function search(t: Targets, topic: string, style: Style): Promise<Output> {
  const result = await callJson<TopicResult>(t.frontend, 'GET', `/search/${encodeURIComponent(topic)}`);
  // Search gives titles only; people also want price and stock, so look each one up (a topic holds a few books).
  const books = await Promise.all(result.items.map((item) => callJson<Book>(t.frontend, 'GET', `/lookup/${item.id}`)));
  return { json: result, text: booksTable(books, style) };
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

export async function orders(t: Targets, limit: number | undefined, style: Style): Promise<Output> {
  const query = limit === undefined ? '' : `?limit=${limit}`;
  const result = await callJson<{ orders: Order[] }>(t.order, 'GET', `/orders${query}`);
  const paint = (status: string) => (status === 'confirmed' ? style.green : status.startsWith('rejected') ? style.red : style.yellow)(status);
  const text = result.orders.length
    ? table(
        [{ header: 'ORDER' }, { header: 'ITEM', align: 'right' }, { header: 'TITLE' }, { header: 'PRICE', align: 'right' }, { header: 'STATUS' }, { header: 'CREATED' }],
        result.orders.map((o) => [o.order_id, String(o.item_number), o.title ?? '-', formatCents(o.price_cents), paint(o.reason ? `${o.status} (${o.reason})` : o.status), o.created_at]),
        style,
      )
    : 'No orders yet.\n';
  return { json: result, text };
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
