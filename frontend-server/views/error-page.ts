import { ERROR_STATUS, type ErrorCode } from '../../common/errors';
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

const SOMETHING_WRONG: Explained = {
  title: 'Something went wrong',
  explain: html`<p>The store could not finish this request. Please try again shortly.</p>`,
};

/** Plain words for the codes a visitor can meet; any other code gets SOMETHING_WRONG. */
const EXPLAINED: Partial<Record<ErrorCode, (ctx: ErrorContext) => Explained>> = {
  out_of_stock: () => ({
    title: 'Sold out',
    explain: html`<p>Every copy of this book has been sold, so nothing was bought and nothing was charged. New stock
arrives with the next restock; check back soon or pick another book.</p>`,
  }),
  book_not_found: () => ({
    title: 'No such book',
    explain: html`<p>We have no book with that item number. The home page lists every book we sell.</p>`,
  }),
  topic_not_found: () => ({
    title: 'No books on that topic',
    explain: html`<p>Nothing on our shelves matches that topic. Try another search, or browse the topics on the
home page.</p>`,
  }),
  invalid_item_number: () => ({
    title: 'Not a book number',
    explain: html`<p>Books are numbered 1, 2, 3 and so on; that address does not name one.</p>`,
  }),
  upstream_unavailable: (ctx) => ({
    title: 'The store is briefly unavailable',
    explain: ctx.method === 'POST'
      ? html`<p>Part of the store did not answer in time. If an order number is shown above, that order is kept
and will be settled on its own: please do not buy again, check the book's stock in a minute instead.</p>`
      : html`<p>Part of the store did not answer in time. This is usually over in a few seconds.</p>`,
  }),
  validation_failed: () => ({ title: 'That did not look right', explain: html`<p>Please check what you typed and try again.</p>` }),
  not_found: () => ({ title: 'Page not found', explain: html`<p>There is no page at this address.</p>` }),
};

/** Codes whose page offers the search box: the visitor was looking for something and may try other words. */
const OFFER_SEARCH = new Set<ErrorCode>(['topic_not_found', 'not_found', 'validation_failed']);

function waysOn(code: ErrorCode, ctx: ErrorContext): SafeHtml {
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
export function errorPage(code: ErrorCode, message: string, ctx: ErrorContext = { method: 'GET', url: '/' }): string {
  const { title, explain: text } = EXPLAINED[code]?.(ctx) ?? SOMETHING_WRONG;
  return layout(
    title,
    html`<section class="panel">
<h1>${title}</h1>
<p class="notice" role="alert">${message}</p>
${text}
${waysOn(code, ctx)}
<p class="note">Error ${ERROR_STATUS[code]} · <code>${code}</code></p>
</section>
${OFFER_SEARCH.has(code) ? searchForm(topicIn(ctx.url)) : ''}`,
  );
}
