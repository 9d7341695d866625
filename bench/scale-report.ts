/**
 * What `npm run bench -- --scale` prints and writes: a Markdown table of every row with its p50 against the same
 * scenario at the smallest size and its answer size against the limit, the catalog start times, and JSON and SVG
 * files under the output folder.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { renderChart } from './chart';
import type { Measurement } from './measure';
import type { BackendName } from './scale-data';

const KB = 1024;
/** 4, 10k, 1M: chart labels are short. */
const compact = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

/** How long a catalog took to answer /readyz: seeding a new database, and starting on a seeded one. */
export interface Start {
  backend: BackendName;
  books: number;
  first_start_ms: number;
  restart_ms: number;
}

/** One measured row: a scenario at one size on one backend (medians of its rounds). */
export interface Row {
  backend: BackendName;
  scenario: string;
  short: string;
  size: number;
  unit: 'books' | 'orders';
  rps: number;
  latency: Measurement['latency'];
  /** CPU time of the serving processes per request, in microseconds (median of the rounds). */
  cpuUs: number;
  errors: number;
  /** The largest answer of the scenario's requests, in bytes. */
  bytes: number;
  /** The largest an answer may be: 64 KB of JSON, 200 KB of HTML. */
  maxBytes: number;
}

/** Each row's p50 and rps against the same backend and scenario at its smallest size. */
function compared(rows: Row[]) {
  return rows.map((row) => {
    const base = rows.find((r) => r.backend === row.backend && r.scenario === row.scenario)!;
    const p50Ratio = row.latency.p50 / base.latency.p50;
    const cpuRatio = row.cpuUs / base.cpuUs;
    const checks = [`${(row.bytes / KB).toFixed(1)} KB ≤ ${row.maxBytes / KB} KB: ${row.bytes <= row.maxBytes ? 'met' : 'MISSED'}`];
    if (row !== base) checks.unshift(`p50 ≤ 2× at ${base.size}: ${p50Ratio <= 2 ? 'met' : 'MISSED'}`);
    if (row.errors > 0) checks.push(`${row.errors} errors: MISSED`);
    return { ...row, base: base.size, p50Ratio, cpuRatio, rpsRatio: row.rps / base.rps, checks };
  });
}

/** The settings a run was made with, as the report names them. */
export interface RunSettings {
  connections: number;
  rounds: number;
  durationS: number;
  warmupS: number;
  out: string;
}

export function report(rows: Row[], starts: Start[], options: RunSettings, loadBefore: number[]): void {
  const results = compared(rows);
  const size = (n: number) => n.toLocaleString('en-US');
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out = [
    line(['backend', 'scenario', 'size', 'rps', 'p50 ms', 'p99 ms', 'p50 × smallest', 'CPU µs/req', 'CPU × smallest', 'answer', 'targets']),
    line(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
    ...results.map((r) =>
      line([
        r.backend,
        r.scenario,
        `${size(r.size)} ${r.unit}`,
        String(Math.round(r.rps)),
        r.latency.p50.toFixed(2),
        r.latency.p99.toFixed(2),
        r.p50Ratio.toFixed(2),
        String(Math.round(r.cpuUs)),
        r.cpuRatio.toFixed(2),
        `${(r.bytes / KB).toFixed(1)} KB`,
        r.checks.join('; '),
      ]),
    ),
    '',
    line(['backend', 'books', 'catalog start (seeds)', 'restart']),
    line(['---', '---:', '---:', '---:']),
    ...starts.map((s) => line([s.backend, size(s.books), `${(s.first_start_ms / 1000).toFixed(2)} s`, `${(s.restart_ms / 1000).toFixed(2)} s`])),
  ];
  process.stdout.write(`\n${out.join('\n')}\n\n`);
  mkdirSync(options.out, { recursive: true });
  const when = new Date().toISOString();
  const stamp = when.replace(/[:.]/g, '-');
  const json = JSON.stringify(
    {
      when,
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg_before: loadBefore, loadavg_after: loadavg() },
      settings: { connections: options.connections, rounds: options.rounds, duration_s: options.durationS, warmup_s: options.warmupS, cache: 'off' },
      results,
      starts,
    },
    null,
    2,
  );
  const title = `Bazar at scale: ${options.connections} connections, CACHE=off; ratio = rps against the same scenario at its smallest size`;
  const svg = renderChart(
    results.map((r) => ({ label: `${r.backend === 'postgres' ? 'pg' : r.backend} ${r.short} ${compact(r.size)}`, rps: r.rps, ratio: r.rpsRatio, latency: r.latency })),
    title,
  );
  for (const name of [`scale-${stamp}`, 'latest-scale']) {
    writeFileSync(join(options.out, `${name}.json`), json);
    writeFileSync(join(options.out, `${name}.svg`), svg);
  }
  process.stdout.write(`wrote ${join(options.out, `scale-${stamp}.json`)}\n      ${join(options.out, `scale-${stamp}.svg`)}\n`);
}
