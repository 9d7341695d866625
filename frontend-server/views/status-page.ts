import type { CacheStatus, ReplicaState, StatusReport, UpstreamStatus } from '../../common/schemas';
import { html, type SafeHtml } from './html';
import { layout } from './layout';

/** Seconds between reloads of the page, so a teacher can watch a replica leave and rejoin the rotation. */
export const STATUS_REFRESH_SECONDS = 2;

const STATE_CLASS: Record<ReplicaState, string> = { 'in rotation': 'in-stock', probing: 'low-stock', ejected: 'sold-out' };
const SUBSCRIPTION_CLASS = { subscribed: 'in-stock', connecting: 'sold-out' } as const;
const CACHE_CLASS = { live: 'in-stock', dark: 'sold-out', off: 'low-stock' } as const;

function title(name: string): string {
  return `${name[0].toUpperCase()}${name.slice(1)} replicas`;
}

function upstreamTable(upstream: UpstreamStatus): SafeHtml {
  return html`<section aria-labelledby="${upstream.name}-heading">
<h2 id="${upstream.name}-heading">${title(upstream.name)}</h2>
<div class="table-wrap"><table class="status" data-upstream="${upstream.name}">
<thead><tr><th scope="col">Replica</th><th scope="col">State</th><th scope="col">In flight</th><th scope="col">Answered</th>
<th scope="col">Failed</th><th scope="col">Ejections</th><th scope="col">Last error</th></tr></thead>
<tbody>${upstream.replicas.map(
    (r) => html`<tr data-origin="${r.origin}">
<td><code>${r.origin}</code></td>
<td><span class="badge ${STATE_CLASS[r.state]} state">${r.state}</span></td>
<td class="num">${r.in_flight}</td><td class="num">${r.answered}</td><td class="num">${r.failed}</td><td class="num">${r.ejections}</td>
<td>${r.last_error ? html`${r.last_error.reason} <span class="meta">at ${r.last_error.at}</span>` : html`<span class="meta">none</span>`}</td>
</tr>`,
  )}</tbody>
</table></div>
</section>`;
}

function cacheSection(cache: CacheStatus): SafeHtml {
  const ratio = cache.hit_ratio === null ? 'no reads yet' : `${(cache.hit_ratio * 100).toFixed(1)} %`;
  return html`<section aria-labelledby="cache-heading">
<h2 id="cache-heading">Cache</h2>
<dl class="facts">
<dt>State</dt><dd><span class="badge ${CACHE_CLASS[cache.state]} cache-state">${cache.state}</span></dd>
<dt>Entries</dt><dd>${cache.entries}</dd>
<dt>Hit ratio</dt><dd class="hit-ratio">${ratio} (${cache.hits} hits, ${cache.misses} misses)</dd>
</dl>
${
  cache.subscriptions.length
    ? html`<div class="table-wrap"><table class="status subscriptions">
<thead><tr><th scope="col">Catalog replica</th><th scope="col">Change stream</th></tr></thead>
<tbody>${cache.subscriptions.map(
        (s) => html`<tr data-origin="${s.origin}"><td><code>${s.origin}</code></td>
<td><span class="badge ${SUBSCRIPTION_CLASS[s.state]} state">${s.state}</span></td></tr>`,
      )}</tbody></table></div>`
    : ''
}
<p class="note">The cache serves only while subscribed to every catalog replica's changes: with one replica's stream
lost it is dark, and every lookup goes to the catalog until the stream is back.</p>
</section>`;
}

/** GET /status in a browser: every upstream replica and the cache, reloaded every few seconds. */
export function statusPage(report: StatusReport): string {
  return layout(
    'Status',
    html`<p class="note"><a href="/">Home</a> › Status</p>
<h1>Status</h1>
<p class="lead">Where this frontend sends its calls, and what its cache can vouch for. This page reloads every
${STATUS_REFRESH_SECONDS} s; scripts get the same as JSON (<code>curl -H 'Accept: application/json' …/status</code>).</p>
${report.upstreams.map(upstreamTable)}
${cacheSection(report.cache)}`,
    { refreshSeconds: STATUS_REFRESH_SECONDS },
  );
}
