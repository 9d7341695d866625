import { randomUUID } from 'node:crypto';
import { IDEMPOTENCY_FORM_FIELD } from '../../common/idempotency';
import { pageQueryString, type PageQuery } from '../../common/paging';
import type { Book, BookPage, Order, TopicResult } from '../../common/schemas';
import { formatPrice, html, type SafeHtml } from './html';
import { layout, searchForm, stockBadge, topicSlug } from './layout';

export { layout, topicSlug } from './layout';
export { errorPage } from './error-page';
export { STYLESHEET } from './style';

function bookCard(book: Book): SafeHtml {
  return html`<li class="card">
<h3><a href="/lookup/${book.id}">${book.title}</a></h3>
<p class="meta">${book.topic}</p>
<div class="foot"><span class="price">${formatPrice(book.price_cents)}</span> ${stockBadge(book.stock)}</div>
</li>`;
}

function topicChips(topics: string[]): SafeHtml {
  return html`<ul class="chips">${topics.map((t) => html`<li><a href="/search/${topicSlug(t)}">${t}</a></li>`)}</ul>`;
}

function bookGrid(books: Book[]): SafeHtml {
  return books.length ? html`<ul class="grid">${books.map(bookCard)}</ul>` : html`<p class="note">The shelves are empty.</p>`;
}

/**
 * Previous / next links of a paged list, each a link to `path` with the page's cursor (and the page size asked
 * for, if any); nothing when the list fits one page.
 */
function pager(path: string, page: { next_cursor: string | null; prev_cursor: string | null }, limit?: string): SafeHtml | '' {
  if (page.next_cursor === null && page.prev_cursor === null) return '';
  const link = (cursor: string, rel: string, text: string) =>
    html`<a class="button secondary" rel="${rel}" href="${path}${pageQueryString({ limit, cursor })}">${text}</a>`;
  return html`<nav class="pager" aria-label="Pages">
${page.prev_cursor === null ? html`<span></span>` : link(page.prev_cursor, 'prev', '← Previous')}
${page.next_cursor === null ? '' : link(page.next_cursor, 'next', 'Next →')}
</nav>`;
}

/** The home page shows the first books only (however big the catalog), and links to all of them, a page at a time. */
export function homePage(topics: string[], books: Book[]): string {
  return layout(
    'Home',
    html`<h1>Books for distributed minds</h1>
<p class="lead">A tiny shop with a few good books. Pick a topic, look a book up, buy it in one click.</p>
${searchForm()}
<section aria-labelledby="topics-heading">
<h2 id="topics-heading">Browse by topic</h2>
${topicChips(topics)}
</section>
<section aria-labelledby="books-heading">
<h2 id="books-heading">Books</h2>
${bookGrid(books)}
<div class="ways"><a class="button secondary" href="/books">See all books</a></div>
</section>`,
  );
}

/** Every book, a page at a time. */
export function booksPage(page: BookPage): string {
  return layout(
    'All books',
    html`<p class="note"><a href="/">Home</a> › All books</p>
<h1>All books</h1>
${bookGrid(page.books)}
${pager('/books', page)}`,
  );
}

/** One page of a topic's books; `query` is the request's, so the page links keep the page size asked for. */
export function searchPage(result: TopicResult, query: PageQuery = {}): string {
  const count = result.items.length;
  const where = result.next_cursor === null && result.prev_cursor === null ? 'on this topic' : 'on this page';
  return layout(
    result.topic,
    html`<p class="note"><a href="/">Home</a> › Topic</p>
<h1>Books on <span class="topic-name">${result.topic}</span></h1>
<p class="lead">${count} ${count === 1 ? 'book' : 'books'} ${where}. Open one to see its price and stock.</p>
<ul class="grid">${result.items.map(
      (b) => html`<li class="card"><h3><a href="/lookup/${b.id}">${b.title}</a></h3>
<p class="meta">Item ${b.id}</p></li>`,
    )}</ul>
${pager(`/search/${topicSlug(result.topic)}`, result, query.limit)}
${searchForm(result.topic)}`,
  );
}

/** Each rendered form carries a fresh idempotency key: a double-click or a resent POST buys one copy, not two. */
function buyForm(book: Book): SafeHtml {
  return book.stock > 0
    ? html`<form action="/buy/${book.id}" method="post">
<input type="hidden" name="${IDEMPOTENCY_FORM_FIELD}" value="${randomUUID()}">
<button type="submit">Buy for ${formatPrice(book.price_cents)}</button></form>`
    : html`<p><button type="button" disabled aria-describedby="sold-out-note">Sold out</button></p>
<p id="sold-out-note" class="note">Every copy has been sold. New stock arrives with the next restock; until then,
<a href="/search/${topicSlug(book.topic)}">other books on ${book.topic}</a> may interest you.</p>`;
}

function bookFacts(book: Book): SafeHtml {
  return html`<dl class="facts">
<dt>Topic</dt><dd><a href="/search/${topicSlug(book.topic)}">${book.topic}</a></dd>
<dt>Price</dt><dd class="price">${formatPrice(book.price_cents)}</dd>
<dt>Stock</dt><dd>${stockBadge(book.stock)}</dd>
<dt>Item</dt><dd>${book.id}</dd>
</dl>`;
}

export function bookPage(book: Book): string {
  return layout(
    book.title,
    html`<p class="note"><a href="/">Home</a> › <a href="/search/${topicSlug(book.topic)}">${book.topic}</a></p>
<article class="panel book">
<h1>${book.title}</h1>
${bookFacts(book)}
${buyForm(book)}
</article>`,
  );
}

/** GET /buy/<n> in a browser: a GET must never buy, so it shows the book and asks for the POST. */
export function confirmBuyPage(book: Book): string {
  return layout(
    `Buy ${book.title}`,
    html`<section class="panel">
<h1>Buy “${book.title}”?</h1>
${bookFacts(book)}
${buyForm(book)}
<div class="ways"><a href="/lookup/${book.id}">Back to the book</a></div>
</section>`,
  );
}

/** The answer to a browser's POST /buy/<n>: what was bought, for how much, and what is left. */
export function orderPage(order: Order, book: Book | null): string {
  return layout(
    'Thank you',
    html`<section class="panel">
<h1>Thank you for your order</h1>
<p class="notice ok" role="status">Your copy of “${order.title}” is bought and on its way.</p>
<dl class="facts">
<dt>Order</dt><dd><code class="order-id">${order.order_id}</code></dd>
<dt>Book</dt><dd><a href="/lookup/${order.item_number}">${order.title}</a></dd>
<dt>Price</dt><dd class="price">${order.price_cents === null ? '' : formatPrice(order.price_cents)}</dd>
${book ? html`<dt>Left in stock</dt><dd class="stock-left">${stockBadge(book.stock)}</dd>` : ''}
</dl>
<div class="ways">
${book ? html`<a class="button secondary" href="/search/${topicSlug(book.topic)}">More on ${book.topic}</a>` : ''}
<a href="/">Back to the store</a>
</div>
</section>`,
  );
}
