/** The storefront's HTML through app.inject(): what each page says, that hostile values stay text, and that API clients still get JSON. */
import { expect } from 'chai';
import type { Book, Order } from '../../common/schemas';
import { bookPage, booksPage, errorPage, homePage, orderPage, searchPage } from '../../frontend-server/views/pages';
import { AUTH, startStack, type Stack } from '../helpers/stack';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const PAYLOADS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>'];

/** Markup a payload could inject if it were not escaped. */
function expectInert(body: string): void {
  expect(body).not.to.include('<script');
  expect(body).not.to.include('<img');
  for (const payload of PAYLOADS) expect(body).not.to.include(payload);
}

describe('storefront pages', () => {
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      books: [
        { id: 1, title: 'RPCs for Dummies', topic: 'distributed systems', stock: 5, price_cents: 5000 },
        { id: 2, title: 'Almost Gone', topic: 'distributed systems', stock: 2, price_cents: 1234 },
        { id: 3, title: 'Gone', topic: 'graduate school', stock: 0, price_cents: 2500 },
        { id: 4, title: PAYLOADS[0], topic: PAYLOADS[1], stock: 3, price_cents: 999 },
      ],
    });
  });
  after(async () => {
    await stack.close();
  });

  const get = (url: string) => stack.frontend.inject({ url, headers: HTML });

  it('when the home page opens, then it lists topics and the first books with price and a stock badge, and links to all books', async () => {
    const res = await get('/');
    expect(res.statusCode).to.equal(200);
    expect(res.body).to.include('<html lang="en">').and.include('<label for="topic">').and.include('href="#main"');
    expect(res.body.match(/<h1>/g)).to.have.length(1);
    expect(res.body).to.include('href="/search/distributed-systems"').and.include('href="/search/graduate-school"');
    expect(res.body.match(/<li class="card">/g)).to.have.length(4);
    expect(res.body).to.include('<a class="button secondary" href="/books">See all books</a>');
    expect(res.body).to.include('<span class="badge in-stock">5 in stock</span>');
    expect(res.body).to.include('<span class="badge low-stock">Only 2 left</span>');
    expect(res.body).to.include('<span class="badge sold-out">Sold out</span>');
    expect(res.body).to.include('$50.00').and.include('$12.34');
    expectInert(res.body);
    expect(res.body).to.include('&lt;script&gt;alert(1)&lt;/script&gt;').and.include('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('when a book is sold out, then its page has no Buy form, a disabled button and a way on', async () => {
    const res = await get('/lookup/3');
    expect(res.statusCode).to.equal(200);
    expect(res.body).not.to.include('action="/buy/3"');
    expect(res.body).to.include('<button type="button" disabled aria-describedby="sold-out-note">Sold out</button>');
    expect(res.body).to.include('href="/search/graduate-school"');
    const inStock = await get('/lookup/1');
    expect(inStock.body).to.match(
      /<form action="\/buy\/1" method="post">\n<input type="hidden" name="idempotency_key" value="[0-9a-f-]{36}">\n<button type="submit">Buy for \$50\.00<\/button><\/form>/,
    );
  });

  it('when someone searches for markup, then it is redirected and shown back as text, never as markup', async () => {
    for (const payload of PAYLOADS.map((p) => `${p} `)) {
      const redirect = await stack.frontend.inject({ url: `/search?topic=${encodeURIComponent(payload)}`, headers: HTML });
      expect(redirect.statusCode).to.equal(303);
      const res = await get(redirect.headers.location as string);
      expectInert(res.body);
    }
    const found = await get(`/search/${encodeURIComponent(PAYLOADS[1])}`);
    expect(found.statusCode).to.equal(200);
    expectInert(found.body);
    expect(found.body).to.include('value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    const missing = await get(`/search/${encodeURIComponent(PAYLOADS[0])}`);
    expect(missing.statusCode).to.equal(404);
    expectInert(missing.body);
    expect(missing.body).to.include('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('when a hostile title is bought, then the book and thank-you pages show it as text', async () => {
    const book = await get('/lookup/4');
    expectInert(book.body);
    const bought = await stack.frontend.inject({
      method: 'POST',
      url: '/buy/4',
      headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(bought.statusCode).to.equal(201);
    expectInert(bought.body);
    expect(bought.body).to.include('<dd class="stock-left"><span class="badge low-stock">Only 2 left</span></dd>');
  });

  it('when buying fails, then the page explains the refusal and links back to the book', async () => {
    const res = await stack.frontend.inject({
      method: 'POST',
      url: '/buy/3',
      headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(res.statusCode).to.equal(409);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expect(res.body).to.include('<h1>Sold out</h1>').and.include('nothing was bought').and.include('href="/lookup/3"');
    const unknown = await get('/lookup/77');
    expect(unknown.body).to.include('<h1>No such book</h1>').and.include('>See all books</a>');
    const bad = await get('/lookup/abc');
    expect(bad.statusCode).to.equal(400);
    expect(bad.body).to.include('<h1>Not a book number</h1>');
  });

  it('when an API client asks, then the JSON API is unchanged', async () => {
    for (const headers of [{}, { accept: '*/*' }, { accept: 'application/json' }]) {
      const res = await stack.frontend.inject({ url: '/lookup/1', headers });
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(res.json()).to.deep.equal(await stack.store.getBook(1));
    }
    const missing = await stack.frontend.inject({ url: '/lookup/77' });
    expect(missing.json()).to.deep.equal({ error: { code: 'book_not_found', message: 'there is no book with item number 77' } });
  });

  it('when the stylesheet is fetched, then it is one small local CSS file with visible focus and a phone layout', async () => {
    const res = await stack.frontend.inject('/static/style.css');
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/css/);
    expect(res.body).to.include(':focus-visible').and.include('auto-fill');
    expect(res.body).not.to.match(/https?:\/\//);
    expect(res.body.length).to.be.below(8 * 1024);
  });

  it('when catalog stock changes, then the next page shows it (no stale page)', async () => {
    expect((await stack.catalog.inject({ method: 'PUT', url: '/update/1', headers: AUTH, payload: { stock: 0 } })).statusCode).to.equal(200);
    expect((await get('/lookup/1')).body).to.include('<span class="badge sold-out">Sold out</span>');
  });
});

describe('storefront views: every interpolated value is escaped', () => {
  const evil = PAYLOADS.join(' ');
  const book: Book = { id: 9, title: evil, topic: evil, stock: 1, price_cents: 100 };
  const order: Order = {
    order_id: 'o-1', item_number: 9, title: evil, price_cents: 100, status: 'confirmed', created_at: '2026-01-01T00:00:00.000Z',
  };

  it('when any page renders hostile titles, topics, messages or URLs, then no markup gets through', () => {
    for (const page of [
      homePage([evil], [book]),
      searchPage({ topic: evil, items: [{ id: 9, title: evil }], next_cursor: evil, prev_cursor: evil }, { limit: evil }),
      booksPage({ books: [book], next_cursor: evil, prev_cursor: null }),
      bookPage(book),
      orderPage(order, book),
      errorPage('out_of_stock', evil, { method: 'POST', url: `/buy/9` }),
      errorPage('upstream_unavailable', evil, { method: 'GET', url: `/search/${evil}` }),
      errorPage('topic_not_found', evil, { method: 'GET', url: `/search/${encodeURIComponent(evil)}` }),
    ]) {
      expectInert(page);
    }
  });

  it('when a retry link would leave the site, then it is not offered', () => {
    expect(errorPage('upstream_unavailable', 'x', { method: 'GET', url: '/lookup/1' })).to.include('href="/lookup/1">Try again');
    expect(errorPage('upstream_unavailable', 'x', { method: 'GET', url: '//evil.example/' })).not.to.include('Try again');
    expect(errorPage('upstream_unavailable', 'x', { method: 'POST', url: '/buy/1' })).not.to.include('Try again');
  });
});
