/**
 * `npm run bench`: a bare Fastify baseline and the three services as processes on loopback (on SQLite, then on
 * PostgreSQL with one and two replicas of catalog and order), each scenario loaded by autocannon at fixed
 * connections for a fixed time. The load generator runs on CPU 0 and the servers on the other CPUs where the
 * machine allows. It prints rps, latency percentiles, errors, each scenario's rps as a ratio of the baseline's in the
 * same run, the CPU µs per request of every process, and a capacity model; it writes JSON and an SVG chart under
 * bench/results/ (git-ignored). Options: bench/options.ts (USAGE). `npm run bench -- --scale` is the other
 * benchmark, how cost grows with the catalog and the ledger (bench/scale.ts).
 *
 * The baseline runs before every scenario and at the end; each ratio uses the baseline runs on either side.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../common/paths';
import { capacityModel, type TierCost } from './capacity';
import { placeProcesses, selfMeter } from './cpu';
import { measure, type Measurement } from './measure';
import { parseArgs, type Options } from './options';
import { printCapacity, printResults, writeReport, type ProcessCpu, type Row } from './report';
import { runScale } from './scale';
import { SCENARIOS, type Scenario } from './scenarios';
import { Stacks, type Stack, type StackName, type Tier } from './stacks';

interface Run {
  m: Measurement;
  cpu: ProcessCpu[];
  /** The process the load was sent to. */
  entry: string;
}

async function main(argv: string[]): Promise<void> {
  const options = parseArgs(argv, projectRoot(__dirname));
  const cores = cpus().length;
  const placement = placeProcesses();
  const data = mkdtempSync(join(tmpdir(), 'bazar-bench-'));
  const profileDir = join(options.out, 'profiles');
  if (options.profile) mkdirSync(profileDir, { recursive: true });
  const stacks = new Stacks({
    dataDir: data,
    token: randomBytes(24).toString('hex'),
    cpus: placement.servers,
    nodeArgs: options.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  });
  const running: Partial<Record<StackName, Stack>> = {};
  try {
    const selected = selectScenarios(options, stacks);
    const loadBefore = loadavg();
    process.stdout.write(
      `bench: ${options.connections} connections, ${options.durationS} s per scenario (+${options.warmupS} s warm-up), ` +
        `${cores} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}\n  ${placement.note}\n`,
    );
    const stackFor = async (name: StackName) => {
      // One services stack at a time, so idle services do not share the servers' CPUs with the measured ones.
      for (const other of Object.keys(running) as StackName[]) {
        if (other !== name && other !== 'baseline') {
          await running[other]!.stop();
          delete running[other];
        }
      }
      return (running[name] ??= await stacks.start(name));
    };
    const run = async (scenario: Scenario): Promise<Run> => {
      const stack = await stackFor(scenario.stack);
      const entry = stack.entries[scenario.target];
      const load = { url: entry.url, requests: scenario.requests, connections: options.connections, durationS: options.durationS };
      if (options.warmupS > 0) await measure({ ...load, durationS: options.warmupS });
      const meters = [...stack.processes, { name: 'load generator', tier: 'load generator' as const, meter: selfMeter() }];
      const before = meters.map((p) => p.meter.read());
      const m = await measure(load);
      const cpu = meters.map((p, i) => {
        const us = p.meter.read() - before[i];
        return { name: p.name, tier: p.tier, us_per_request: us / Math.max(1, m.requests), busy: us / (options.durationS * 1e6) };
      });
      const main = cpu.filter((c) => c.tier !== 'load generator').reduce((sum, c) => sum + c.us_per_request, 0);
      process.stdout.write(`  ${scenario.name.padEnd(22)} ${Math.round(m.rps)} rps, p99 ${m.latency.p99.toFixed(2)} ms, ${main.toFixed(1)} µs CPU per request\n`);
      return { m, cpu, entry: entry.name };
    };

    // A VM's speed drifts from minute to minute, so the baseline runs before every scenario and once more at the
    // end; each scenario is compared with the mean of the baseline runs just before and just after it.
    const baselines: Run[] = [await run(SCENARIOS[0])];
    const results: { scenario: Scenario; run: Run; ratio: number }[] = [];
    for (const scenario of selected) {
      const result = await run(scenario);
      baselines.push(await run(SCENARIOS[0]));
      const around = (baselines[baselines.length - 2].m.rps + baselines[baselines.length - 1].m.rps) / 2;
      results.push({ scenario, run: result, ratio: result.m.rps / around });
    }
    const rows = [baselineRow(baselines), ...results.map((r) => row(r.scenario, r.run, r.ratio, results))];

    const model = capacityModel(
      {
        ...options.model,
        hit: costOf(rows, ['lookup-cache-hit'], ['frontend']),
        miss: costOf(rows, ['pg-lookup-cache-off', 'lookup-cache-off'], ['frontend', 'catalog', 'postgres']),
        buy: costOf(rows, ['pg-buy', 'buy'], ['frontend', 'order', 'catalog', 'postgres']),
      },
      cores,
    );
    printResults(rows, baselines.map((b) => b.m.rps));
    printCapacity(model);

    mkdirSync(options.out, { recursive: true });
    const when = new Date().toISOString();
    const report = {
      when,
      machine: { cores: cores, cpu: cpus()[0]?.model, node: process.version, loadavg_before: loadBefore, loadavg_after: loadavg() },
      settings: { connections: options.connections, duration_s: options.durationS, warmup_s: options.warmupS, placement: placement.note },
      baseline_rps: { runs: baselines.map((b) => b.m.rps), mean: rows[0].rps },
      scenarios: rows,
      capacity: model,
    };
    const title = `Bazar: ${options.connections} connections, ${options.durationS} s each, ${cores} cores, ${when}`;
    const [json, svg] = writeReport(options.out, report, rows, title);
    process.stdout.write(`wrote ${json}\n      ${svg}\n`);
  } finally {
    for (const stack of Object.values(running)) await stack.stop();
    await stacks.close();
    rmSync(data, { recursive: true, force: true });
  }
  if (options.profile) process.stdout.write(`CPU profiles in ${profileDir} (open in Chrome DevTools > Performance)\n`);
}

/** The scenarios asked for, less the PostgreSQL ones when they cannot run (said once, not an error). */
function selectScenarios(options: Options, stacks: Stacks): Scenario[] {
  const wanted = SCENARIOS.slice(1).filter((s) => !options.only || options.only.includes(s.name));
  const unknown = options.only?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const usesPg = (s: Scenario) => s.stack === 'pg1' || s.stack === 'pg2';
  const missing = options.postgres ? stacks.postgresMissing() : '--no-postgres';
  if (missing && wanted.some(usesPg)) {
    process.stdout.write(`  PostgreSQL scenarios skipped: ${missing}\n`);
    return wanted.filter((s) => !usesPg(s));
  }
  return wanted;
}

function baselineRow(runs: Run[]): Row {
  const sum = (key: 'requests' | 'errors' | 'non2xx' | 'timeouts') => runs.reduce((total, b) => total + b.m[key], 0);
  const worst = runs.reduce((w, b) => (b.m.latency.p99 > w.m.latency.p99 ? b : w));
  const cpu = runs[0].cpu.map((first, i) => ({
    ...first,
    us_per_request: runs.reduce((total, r) => total + r.cpu[i].us_per_request, 0) / runs.length,
    busy: runs.reduce((total, r) => total + r.cpu[i].busy, 0) / runs.length,
  }));
  return {
    name: 'baseline',
    label: SCENARIOS[0].label,
    entry: 'baseline',
    rps: runs.reduce((total, b) => total + b.m.rps, 0) / runs.length,
    ratio: 1,
    latency: worst.m.latency,
    requests: sum('requests'),
    errors: sum('errors') + sum('non2xx') + sum('timeouts'),
    targets: [],
    cpu,
  };
}

function row(scenario: Scenario, { m, cpu, entry }: Run, ratio: number, all: { scenario: Scenario; run: Run }[]): Row {
  const errors = m.errors + m.non2xx + m.timeouts;
  const targets: string[] = [];
  const check = (what: string, met: boolean) => targets.push(`${what}: ${met ? 'met' : 'MISSED'}`);
  if (scenario.target_min_ratio !== undefined) check(`ratio ≥ ${scenario.target_min_ratio}`, ratio >= scenario.target_min_ratio);
  if (scenario.target_max_p99_ms !== undefined) check(`p99 < ${scenario.target_max_p99_ms} ms`, m.latency.p99 < scenario.target_max_p99_ms);
  let versus: Row['versus'];
  const other = scenario.versus && all.find((r) => r.scenario.name === scenario.versus!.scenario);
  if (scenario.versus && other) {
    versus = { scenario: other.scenario.name, ratio: m.rps / other.run.m.rps, min_ratio: scenario.versus.min_ratio };
    check(`≥ ${versus.min_ratio}× ${versus.scenario}`, versus.ratio >= versus.min_ratio);
  }
  check('0 errors', errors === 0);
  return { name: scenario.name, label: scenario.label, entry, rps: m.rps, ratio, versus, latency: m.latency, requests: m.requests, errors, targets, cpu };
}

/**
 * Per-tier CPU of the first of `names` that ran (replicas of a tier added up), for the tiers on that request's path
 * only: the others in the stack spend a little on health probes, which is not what a request costs.
 */
function costOf(rows: Row[], names: string[], path: Tier[]): { scenario: string; cost: TierCost } {
  const found = names.map((name) => rows.find((r) => r.name === name)).find((r) => r !== undefined);
  const cost: TierCost = {};
  for (const c of found?.cpu ?? []) {
    if (c.tier === 'load generator' || !path.includes(c.tier)) continue;
    // Of the frontends only the one that took the load: the other in the stack answers a few probes, no requests.
    if (c.tier === 'frontend' && c.name !== found!.entry) continue;
    cost[c.tier] = (cost[c.tier] ?? 0) + c.us_per_request;
  }
  return { scenario: found?.name ?? 'not run', cost };
}

// `--scale` is the other benchmark: how cost grows with the catalog and the ledger (bench/scale.ts).
const argv = process.argv.slice(2);
(argv.includes('--scale') ? runScale(argv.filter((arg) => arg !== '--scale')) : main(argv)).catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
