import type { FastifyRequest } from 'fastify';

const HTML = /html/i;

/**
 * True when the client prefers HTML over JSON. Browsers send `Accept: text/html,...`; API clients send JSON,
 * `*\/*` or nothing, and keep getting JSON. Ties go to whichever type the client listed first.
 */
export function prefersHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  // Most requests are API clients: no "html" anywhere means no HTML type, so skip the parse.
  if (!accept || !HTML.test(accept)) return false;
  let html = -1;
  let json = -1;
  let htmlPos = Infinity;
  let jsonPos = Infinity;
  accept.split(',').forEach((part, index) => {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (Number.isNaN(q)) return;
    if (type === 'text/html' || type === 'application/xhtml+xml') {
      if (q > html) [html, htmlPos] = [q, index];
    } else if (type === 'application/json') {
      if (q > json) [json, jsonPos] = [q, index];
    }
  });
  if (html <= 0) return false;
  return html > json || (html === json && htmlPos < jsonPos);
}
