import type { Book, Order, TopicResult } from '../../common/schemas';
import { formatPrice, html, type SafeHtml } from './html';

/** URL path segment for a topic: the report's users type "distributed-systems", so we link that way too. */
export function topicSlug(topic: string): string {
  return encodeURIComponent(topic.replace(/ /g, '-'));
}

export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Bazar</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<header><a class="brand" href="/">Bazar</a> <span class="tagline">the world's smallest book store</span></header>
<main>
${body}
</main>
</body>
</html>
`.value;
}

function searchForm(value = ''): SafeHtml {
  return html`<form class="search" action="/search" method="get" role="search">
<label for="topic">Search by topic</label>
<input id="topic" name="topic" type="search" required maxlength="200" value="${value}" placeholder="distributed systems">
<button type="submit">Search</button>
</form>`;
}

function stockBadge(stock: number): SafeHtml {
  return stock > 0 ? html`<span class="badge in-stock">${stock} in stock</span>` : html`<span class="badge sold-out">Sold out</span>`;
}

export function homePage(topics: string[]): string {
  return layout(
    'Home',
    html`<h1>Books for distributed minds</h1>
${searchForm()}
<h2>Topics</h2>
<ul class="topics">${topics.map((t) => html`<li><a href="/search/${topicSlug(t)}">${t}</a></li>`)}</ul>`,
  );
}

export function searchPage(result: TopicResult): string {
  return layout(
    result.topic,
    html`<h1>Books on ${result.topic}</h1>
${searchForm(result.topic)}
<ul class="books">${result.items.map((b) => html`<li><a href="/lookup/${b.id}">${b.title}</a></li>`)}</ul>`,
  );
}

function buyForm(book: Book): SafeHtml {
  return book.stock > 0
    ? html`<form action="/buy/${book.id}" method="post"><button type="submit">Buy for ${formatPrice(book.price_cents)}</button></form>`
    : html`<p><button type="button" disabled>Sold out</button></p>`;
}

export function bookPage(book: Book): string {
  return layout(
    book.title,
    html`<article class="book">
<h1>${book.title}</h1>
<dl>
<dt>Topic</dt><dd><a href="/search/${topicSlug(book.topic)}">${book.topic}</a></dd>
<dt>Price</dt><dd>${formatPrice(book.price_cents)}</dd>
<dt>Stock</dt><dd>${stockBadge(book.stock)}</dd>
</dl>
${buyForm(book)}
</article>`,
  );
}

/** GET /buy/<n> in a browser: a GET must never buy, so it asks first. */
export function confirmBuyPage(book: Book): string {
  return layout(
    `Buy ${book.title}`,
    html`<h1>Buy “${book.title}”?</h1>
<p>Price: ${formatPrice(book.price_cents)} · ${stockBadge(book.stock)}</p>
${buyForm(book)}
<p><a href="/lookup/${book.id}">Back to the book</a></p>`,
  );
}

export function orderPage(order: Order, book: Book | null): string {
  return layout(
    'Thank you',
    html`<h1>Thank you for your order</h1>
<dl>
<dt>Order</dt><dd><code>${order.order_id}</code></dd>
<dt>Book</dt><dd><a href="/lookup/${order.item_number}">${order.title}</a></dd>
<dt>Price</dt><dd>${order.price_cents === null ? '' : formatPrice(order.price_cents)}</dd>
${book ? html`<dt>Left in stock</dt><dd>${stockBadge(book.stock)}</dd>` : ''}
</dl>
<p><a href="/">Back to the store</a></p>`,
  );
}

const TITLES: Record<string, string> = {
  out_of_stock: 'Sold out',
  book_not_found: 'No such book',
  topic_not_found: 'No such topic',
  invalid_item_number: 'Not a book number',
  upstream_unavailable: 'Please try again shortly',
};

export function errorPage(status: number, code: string, message: string): string {
  return layout(
    TITLES[code] ?? 'Something went wrong',
    html`<h1>${TITLES[code] ?? 'Something went wrong'}</h1>
<p class="error" role="alert">${message}</p>
<p class="status">Error ${status} · <code>${code}</code></p>
${searchForm()}
<p><a href="/">Back to the store</a></p>`,
  );
}

export const STYLESHEET = `:root{font-family:system-ui,sans-serif;line-height:1.5;color:#1d1d1f;background:#fafaf7}
body{margin:0 auto;max-width:44rem;padding:1rem}
header{display:flex;gap:.75rem;align-items:baseline;border-bottom:1px solid #ddd;margin-bottom:1rem}
.brand{font-weight:700;font-size:1.4rem;color:#7a3e00;text-decoration:none}.tagline{color:#666}
a{color:#0b57d0}a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #f5a300;outline-offset:2px}
.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}.search input{flex:1;min-width:12rem;padding:.4rem}
button{padding:.45rem .9rem;border-radius:.3rem;border:1px solid #7a3e00;background:#7a3e00;color:#fff;font-size:1rem}
button[disabled]{background:#aaa;border-color:#aaa}
.badge{padding:.1rem .5rem;border-radius:1rem;font-size:.9rem}.in-stock{background:#e3f4e1}.sold-out{background:#fbe0e0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
.error{color:#8a1010}
`;
