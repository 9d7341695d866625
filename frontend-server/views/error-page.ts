import { html, type SafeHtml } from './html';
import { layout, searchForm } from './layout';

/** Where the failed request was going; lets the page point back at the book or topic the visitor was after. */
export interface ErrorContext {
  method: string;
  url: string;
}

interface Explained {
  title: string;
  explain: SafeHtml;
}

function itemNumberIn(url: string): string | undefined {
  return /^\/(?:buy|lookup)\/([1-9][0-9]{0,14})(?:[?#]|$)/.exec(url)?.[1];
}

function topicIn(url: string): string {
  const raw = /^\/search\/([^?#]*)/.exec(url)?.[1];
  if (raw === undefined) return '';
  try {
    return decodeURIComponent(raw).replace(/-/g, ' ');
  } catch {
    return '';
  }
}

function explain(code: string, ctx: ErrorContext): Explained {
  switch (code) {
    case 'out_of_stock':
      return {
        title: 'Sold out',
        explain: html`<p>Every copy of this book has been sold, so nothing was bought and nothing was charged. New stock
arrives with the next restock; check back soon or pick another book.</p>`,
      };
    case 'book_not_found':
      return {
        title: 'No such book',
        explain: html`<p>We have no book with that item number. The home page lists every book we sell.</p>`,
      };
    case 'topic_not_found':
      return {
        title: 'No books on that topic',
        explain: html`<p>Nothing on our shelves matches that topic. Try another search, or browse the topics on the
home page.</p>`,
      };
    case 'invalid_item_number':
      return {
        title: 'Not a book number',
        explain: html`<p>Books are numbered 1, 2, 3 and so on; that address does not name one.</p>`,
      };
    case 'upstream_unavailable':
      return {
        title: 'The store is briefly unavailable',
        explain: ctx.method === 'POST'
          ? html`<p>Part of the store did not answer in time. If an order number is shown above, that order is kept
and will be settled on its own: please do not buy again, check the book's stock in a minute instead.</p>`
          : html`<p>Part of the store did not answer in time. This is usually over in a few seconds.</p>`,
      };
    case 'validation_failed':
      return { title: 'That did not look right', explain: html`<p>Please check what you typed and try again.</p>` };
    case 'not_found':
      return { title: 'Page not found', explain: html`<p>There is no page at this address.</p>` };
    default:
      return {
        title: 'Something went wrong',
        explain: html`<p>The store could not finish this request. Please try again shortly.</p>`,
      };
  }
}

function waysOn(code: string, ctx: ErrorContext): SafeHtml {
  const item = itemNumberIn(ctx.url);
  // Only a same-site path may become a link: `//host/...` would send the visitor elsewhere.
  const retry = code === 'upstream_unavailable' && ctx.method === 'GET' && /^\/(?![/\\])/.test(ctx.url);
  return html`<div class="ways">
${retry ? html`<a class="button" href="${ctx.url}">Try again</a>` : ''}
${item && code !== 'book_not_found' ? html`<a class="button secondary" href="/lookup/${item}">Back to the book</a>` : ''}
<a href="/">${code === 'book_not_found' ? 'See all books' : 'Back to the store'}</a>
</div>`;
}

/** A failure page for browsers: what happened in plain words, the service's own message, and a way on. */
export function errorPage(status: number, code: string, message: string, ctx: ErrorContext = { method: 'GET', url: '/' }): string {
  const { title, explain: text } = explain(code, ctx);
  return layout(
    title,
    html`<section class="panel">
<h1>${title}</h1>
<p class="notice" role="alert">${message}</p>
${text}
${waysOn(code, ctx)}
<p class="note">Error ${status} · <code>${code}</code></p>
</section>
${code === 'topic_not_found' || code === 'not_found' || code === 'validation_failed' ? searchForm(topicIn(ctx.url)) : ''}`,
  );
}
