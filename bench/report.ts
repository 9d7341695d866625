import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapacityModel } from './capacity';
import { renderChart } from './chart';
import type { Measurement } from './measure';
import type { Tier } from './stacks';

export interface ProcessCpu {
  name: string;
  tier: Tier | 'load generator';
  /** CPU µs (user + system, every thread) per request answered. */
  us_per_request: number;
  /** Share of one core it was busy during the measurement. */
  busy: number;
}

export interface Row {
  name: string;
  label: string;
  /** The process the load was sent to. */
  entry: string;
  rps: number;
  /** rps over the mean of the baseline runs just before and after. */
  ratio: number;
  /** rps over another scenario's of the same run, when the scenario has a target against it. */
  versus?: { scenario: string; ratio: number; min_ratio: number };
  latency: Measurement['latency'];
  requests: number;
  errors: number;
  targets: string[];
  cpu: ProcessCpu[];
}

const fixed = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return `${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${body.map(line).join('\n')}\n`;
}

export function printResults(rows: Row[], baselineRuns: number[]): void {
  const head = ['scenario', 'rps', '× baseline', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'errors', 'targets'];
  const body = rows.map((r) => [
    r.label,
    String(Math.round(r.rps)),
    r.ratio.toFixed(2) + (r.versus ? ` (${r.versus.ratio.toFixed(2)}× ${r.versus.scenario})` : ''),
    r.latency.p50.toFixed(2),
    r.latency.p90.toFixed(2),
    r.latency.p99.toFixed(2),
    r.latency.p999.toFixed(2),
    String(r.errors),
    r.targets.join('; '),
  ]);
  process.stdout.write(`\n${table(head, body)}`);
  process.stdout.write(
    `baseline rps, run before each scenario and at the end: ${baselineRuns.map(Math.round).join(', ')}\n` +
      'each ratio uses the mean of the baseline runs just before and after that scenario; the baseline row shows their mean and the worst p99\n\n',
  );
  const base = rows[0].cpu.find((c) => c.tier === 'baseline')?.us_per_request ?? NaN;
  const cpuBody = rows.map((r) => {
    const servers = r.cpu.filter((c) => c.tier !== 'load generator');
    const total = servers.reduce((sum, c) => sum + c.us_per_request, 0);
    return [
      r.label,
      servers.map((c) => `${c.name} ${fixed(c.us_per_request)} (${Math.round(c.busy * 100)}%)`).join(', '),
      fixed(total),
      fixed(total / base, 2),
      fixed(r.cpu.find((c) => c.tier === 'load generator')?.us_per_request ?? NaN),
    ];
  });
  process.stdout.write(table(['scenario', 'CPU µs per request, each server (busy)', 'servers µs', '× baseline µs', 'load generator µs'], cpuBody));
  process.stdout.write('\n');
}

export function printCapacity(model: CapacityModel): void {
  const { input } = model;
  process.stdout.write(
    `capacity model: ${input.lookups} lookups/s (${Math.round(input.hitRatio * 100)} % cache hits) + ${input.buys} buys/s, ` +
      `replicas of one core each at ${Math.round(model.utilisation * 100)} % busy ` +
      `(costs from ${input.from.hit}, ${input.from.miss}, ${input.from.buy})\n`,
  );
  const per = (n: number | null) => (n === null ? '-' : String(n));
  const body = model.tiers.map((t) => [t.tier, fixed(t.cores, 2), String(t.replicas), per(t.perReplica.hits), per(t.perReplica.misses), per(t.perReplica.buys)]);
  process.stdout.write(table(['tier', 'cores busy', 'replicas', 'hits/s per replica', 'misses/s per replica', 'buys/s per replica'], body));
  process.stdout.write(`machines like this one (${model.coresPerMachine} cores): ${model.machines}\n`);
  for (const note of model.notes) process.stdout.write(`  note: ${note}\n`);
  process.stdout.write('\n');
}

/** Writes bench-<time>.json and .svg, and latest.json and latest.svg, into `dir`. */
export function writeReport(dir: string, report: { when: string } & Record<string, unknown>, rows: Row[], title: string): string[] {
  const stamp = report.when.replace(/[:.]/g, '-');
  const json = JSON.stringify(report, null, 2);
  const svg = renderChart(rows, title);
  const files = [join(dir, `bench-${stamp}.json`), join(dir, `bench-${stamp}.svg`)];
  writeFileSync(files[0], json);
  writeFileSync(files[1], svg);
  writeFileSync(join(dir, 'latest.json'), json);
  writeFileSync(join(dir, 'latest.svg'), svg);
  return files;
}
