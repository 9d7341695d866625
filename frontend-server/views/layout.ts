import { html, type SafeHtml } from './html';

/** URL path segment for a topic: the report's users type "distributed-systems", so we link that way too. */
export function topicSlug(topic: string): string {
  return encodeURIComponent(topic.replace(/ /g, '-'));
}

/**
 * The page shell: skip link, header, one <main>, footer. Pages give it a title and already-escaped markup; a page
 * that watches something live (/status) asks the browser to reload it every `refreshSeconds`.
 */
export function layout(title: string, body: SafeHtml, options: { refreshSeconds?: number } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Bazar</title>
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site-header"><div class="wrap">
<a class="brand" href="/">Bazar</a> <span class="tagline">the world's smallest book store</span>
</div></header>
<main id="main" class="wrap">
${body}
</main>
<footer class="site-footer"><div class="wrap">Bazar · three small services, one small store ·
<a href="/openapi.json">API</a></div></footer>
</body>
</html>
`.value;
}

export function searchForm(value = ''): SafeHtml {
  return html`<form class="search" action="/search" method="get" role="search">
<label for="topic">Search books by topic</label>
<input id="topic" name="topic" type="search" required maxlength="200" value="${value}" placeholder="e.g. distributed systems">
<button type="submit">Search</button>
</form>`;
}

/** Few copies left is worth saying: the report's store sells out after five. */
export function stockBadge(stock: number): SafeHtml {
  if (stock <= 0) return html`<span class="badge sold-out">Sold out</span>`;
  if (stock <= 2) return html`<span class="badge low-stock">Only ${stock} left</span>`;
  return html`<span class="badge in-stock">${stock} in stock</span>`;
}
