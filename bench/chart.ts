export interface ChartRow {
  label: string;
  rps: number;
  ratio: number;
  latency: { p50: number; p90: number; p99: number; p999: number };
  /** CPU µs per request of each process (the load generator's is left out of the chart). */
  cpu?: { name: string; tier: string; us_per_request: number }[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = { rps: '#3b6ea8', p50: '#9ecae1', p90: '#6baed6', p99: '#3182bd', p999: '#08519c' };
const TIER_COLORS: Record<string, string> = {
  baseline: '#999999',
  frontend: '#e6550d',
  catalog: '#31a354',
  order: '#756bb1',
  postgres: '#636363',
};

/**
 * A self-contained SVG: throughput bars with their ratio to the baseline on the left, the latency percentiles of
 * each scenario in the middle (log scale, so a 0.3 ms cache hit and a 20 ms buy both show), and on the right the
 * CPU µs each request cost, stacked by process.
 */
export function renderChart(rows: ChartRow[], title: string): string {
  const rowH = 34;
  const top = 60;
  const labelW = 190;
  const barW = 300;
  const gap = 60;
  const latX = labelW + barW + gap + 60;
  const latW = 340;
  const cpuX = latX + latW + 70;
  const cpuW = 260;
  const width = cpuX + cpuW + 80;
  const height = top + rows.length * rowH + 60;
  const maxRps = Math.max(...rows.map((r) => r.rps), 1);
  const allLat = rows.flatMap((r) => [r.latency.p50, r.latency.p999]).filter((v) => v > 0);
  const minLog = Math.floor(Math.log10(Math.max(Math.min(...allLat, 1), 0.01)));
  const maxLog = Math.ceil(Math.log10(Math.max(...allLat, 1)));
  const servers = (row: ChartRow) => (row.cpu ?? []).filter((c) => c.tier !== 'load generator');
  const maxCpu = Math.max(1, ...rows.map((r) => servers(r).reduce((sum, c) => sum + c.us_per_request, 0)));
  const lx = (ms: number) => latX + ((Math.log10(Math.max(ms, 10 ** minLog)) - minLog) / (maxLog - minLog || 1)) * latW;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${labelW}" y="${top - 12}" font-weight="bold">Throughput (requests/s, ratio to baseline)</text>`);
  out.push(`<text x="${latX}" y="${top - 12}" font-weight="bold">Latency, ms (log scale): p50 · p90 · p99 · p99.9</text>`);
  out.push(`<text x="${cpuX}" y="${top - 12}" font-weight="bold">CPU µs per request, by process</text>`);
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(row.label)}</text>`);
    const w = (row.rps / maxRps) * barW;
    out.push(`<rect x="${labelW}" y="${y + 4}" width="${w.toFixed(1)}" height="20" fill="${COLORS.rps}"/>`);
    out.push(`<text x="${labelW + w + 4}" y="${y + 18}">${Math.round(row.rps)} (${row.ratio.toFixed(2)}×)</text>`);
    const marks: [keyof typeof COLORS, number][] = [['p50', row.latency.p50], ['p90', row.latency.p90], ['p99', row.latency.p99], ['p999', row.latency.p999]];
    out.push(`<line x1="${lx(row.latency.p50).toFixed(1)}" x2="${lx(row.latency.p999).toFixed(1)}" y1="${y + 14}" y2="${y + 14}" stroke="#999"/>`);
    for (const [key, ms] of marks) {
      out.push(`<circle cx="${lx(ms).toFixed(1)}" cy="${y + 14}" r="5" fill="${COLORS[key]}"><title>${key} ${ms.toFixed(2)} ms</title></circle>`);
    }
    out.push(`<text x="${latX + latW + 4}" y="${y + 18}" font-size="10">${row.latency.p99.toFixed(1)}</text>`);
    let x = cpuX;
    for (const c of servers(row)) {
      const w = (c.us_per_request / maxCpu) * cpuW;
      const color = TIER_COLORS[c.tier] ?? '#bbbbbb';
      out.push(`<rect x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="20" fill="${color}" stroke="white"><title>${esc(c.name)} ${c.us_per_request.toFixed(1)} µs</title></rect>`);
      x += w;
    }
    if (servers(row).length > 0) out.push(`<text x="${(x + 4).toFixed(1)}" y="${y + 18}">${(x === cpuX ? 0 : servers(row).reduce((sum, c) => sum + c.us_per_request, 0)).toFixed(0)}</text>`);
  });
  const axisY = top + rows.length * rowH + 10;
  for (let e = minLog; e <= maxLog; e++) {
    const x = lx(10 ** e);
    out.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${axisY}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${axisY + 14}" text-anchor="middle">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
  }
  const legend: [keyof typeof COLORS, string][] = [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99 (ms, right)'], ['p999', 'p99.9']];
  legend.forEach(([key, text], i) => {
    out.push(`<circle cx="${latX + i * 110}" cy="${axisY + 32}" r="5" fill="${COLORS[key]}"/><text x="${latX + i * 110 + 8}" y="${axisY + 36}">${text}</text>`);
  });
  Object.entries(TIER_COLORS).forEach(([tier, color], i) => {
    out.push(`<rect x="${cpuX + i * 60}" y="${axisY + 27}" width="10" height="10" fill="${color}"/><text x="${cpuX + i * 60 + 13}" y="${axisY + 36}" font-size="10">${tier}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
