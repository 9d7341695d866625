import type { FaultRecord, FaultScope } from './faults';
import type { Figures } from '../helpers/invariants';
import type { BuyHistory } from '../helpers/shopper';
import type { LoadStats, Operation } from './load';

export interface Tally {
  ok: number;
  total: number;
}

/** Operations sorted by what was faulted while they ran. */
export type SuccessBy = Record<FaultScope, Record<Operation['kind'], Tally>>;

interface Window {
  fault: FaultRecord;
  from: number;
  to: number;
}

/**
 * When each fault was on: from the moment it hit until it was healed (restarted, woken, proxy back to normal); a
 * database restart's runs on `settleMs` past the restart, while the replicas find the server again. Restocks are
 * no fault.
 */
function windows(faults: FaultRecord[], settleMs: number): Window[] {
  return faults
    .filter((f) => f.scope !== 'none')
    .map((fault) => ({ fault, from: fault.startedAt, to: fault.endedAt + (fault.scope === 'database' ? settleMs : 0) }));
}

const overlaps = (w: Window, from: number, to: number) => from <= w.to && to >= w.from;
const tally = (): Record<Operation['kind'], Tally> => ({ read: { ok: 0, total: 0 }, buy: { ok: 0, total: 0 } });

/** Sorts every operation by the worst fault it overlapped: the database restart, else one replica's, else none. */
export function successByFault(operations: Operation[], faults: FaultRecord[], settleMs: number): SuccessBy {
  const by: SuccessBy = { database: tally(), replica: tally(), none: tally() };
  const all = windows(faults, settleMs);
  for (const op of operations) {
    const hit = all.filter((w) => overlaps(w, op.startedAt, op.endedAt));
    const scope: FaultScope = hit.some((w) => w.fault.scope === 'database') ? 'database' : hit.length > 0 ? 'replica' : 'none';
    by[scope][op.kind].total++;
    if (op.ok) by[scope][op.kind].ok++;
  }
  return by;
}

export interface KindFigures {
  kind: string;
  /** How long its faults lasted, in all. */
  ms: number;
  read: Tally;
  buy: Tally;
  /** The longest time, across one of its faults, that no buy got a definite answer: how long buying stood still. */
  pauseMs: number;
}

/** The times buys got a definite answer (201, or 409 out of stock), in order. */
function definiteAnswers(histories: BuyHistory[]): number[] {
  return histories.flatMap((h) => h.attempts.filter((a) => a.status === 201 || a.code === 'out_of_stock').map((a) => a.at)).sort((a, b) => a - b);
}

/** The longest gap between two definite answers that `counts` (given the two answers' times) accepts. */
function longestPause(answers: number[], counts: (before: number, after: number) => boolean): number {
  let longest = 0;
  for (let i = 1; i < answers.length; i++) if (counts(answers[i - 1], answers[i])) longest = Math.max(longest, answers[i] - answers[i - 1]);
  return longest;
}

/** The longest time no buy got a definite answer while no fault was on: the pause to compare the others with. */
export function calmPauseMs(faults: FaultRecord[], histories: BuyHistory[], settleMs: number): number {
  const all = windows(faults, settleMs);
  return longestPause(definiteAnswers(histories), (a, b) => !all.some((w) => overlaps(w, a, b)));
}

/** Per kind of fault: how long its faults lasted, how the operations that overlapped one fared, the longest pause. */
export function successByKind(operations: Operation[], faults: FaultRecord[], histories: BuyHistory[], settleMs: number): KindFigures[] {
  const answers = definiteAnswers(histories);
  const all = windows(faults, settleMs);
  const kinds = [...new Set(all.map((w) => w.fault.kind))].sort();
  return kinds.map((kind) => {
    const mine = all.filter((w) => w.fault.kind === kind);
    const row = tally();
    for (const op of operations.filter((o) => mine.some((w) => overlaps(w, o.startedAt, o.endedAt)))) {
      row[op.kind].total++;
      if (op.ok) row[op.kind].ok++;
    }
    const ms = mine.reduce((n, w) => n + w.fault.endedAt - w.fault.startedAt, 0);
    return { kind, ms, ...row, pauseMs: longestPause(answers, (a, b) => mine.some((w) => overlaps(w, a, b))) };
  });
}

/** ok / total as a percentage with two decimals ("n/a" when nothing ran). */
export function percent(...tallies: Tally[]): string {
  const ok = tallies.reduce((n, t) => n + t.ok, 0);
  const total = tallies.reduce((n, t) => n + t.total, 0);
  return total === 0 ? 'n/a' : `${((100 * ok) / total).toFixed(2)} % (${ok}/${total})`;
}

export function ratio(...tallies: Tally[]): number {
  const total = tallies.reduce((n, t) => n + t.total, 0);
  return total === 0 ? 1 : tallies.reduce((n, t) => n + t.ok, 0) / total;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
}

export interface RunSummary {
  seed: number;
  topology: string;
  runMs: number;
  loadMs: number;
  clients: number;
  stats: LoadStats;
  faults: FaultRecord[];
  figures: Figures;
  success: SuccessBy;
  byKind: KindFigures[];
  calmPauseMs: number;
  recoveredAfterMs: number;
  recoveryLimitMs: number;
}

/** The figures every run prints, pass or fail. */
export function printFigures(say: (line: string) => void, r: RunSummary): void {
  const h = r.stats.histories;
  const count = (outcome: string) => h.filter((x) => x.outcome === outcome).length;
  const byKind = r.faults.reduce<Record<string, number>>((acc, f) => ({ ...acc, [f.kind]: (acc[f.kind] ?? 0) + 1 }), {});
  say('---- figures ----');
  say(`seed ${r.seed}; ${r.topology}; run ${(r.runMs / 1000).toFixed(1)} s; load ${(r.loadMs / 1000).toFixed(1)} s with ${r.clients} clients`);
  say(`operations ${r.stats.reads + r.stats.buys}: reads ${r.stats.reads} (${r.stats.readRetries} tried again after no answer or a 5xx), buys ${r.stats.buys}`);
  say(`buys: ${count('confirmed')} answered 201, ${count('rejected')} rejected (out of stock), ${count('unknown')} gave up after 5 retries; ${r.stats.retries} retries`);
  say(`latency of answers: p50 ${percentile(r.stats.latenciesMs, 50)} ms, p99 ${percentile(r.stats.latenciesMs, 99)} ms`);
  say(`faults ${r.faults.length}: ${Object.entries(byKind).map(([k, n]) => `${k} x${n}`).join(', ')}`);
  const s = r.success;
  const what = r.topology.startsWith('replicated') ? 'one replica of a tier faulted' : 'a service faulted';
  say(`success while ${what}: reads ${percent(s.replica.read)}, buys ${percent(s.replica.buy)}, together ${percent(s.replica.read, s.replica.buy)}`);
  say(`success with no fault: ${percent(s.none.read, s.none.buy)}; no buy answered for at most ${r.calmPauseMs} ms`);
  for (const k of r.byKind) {
    say(`  during ${k.kind} (${(k.ms / 1000).toFixed(1)} s in all): reads ${percent(k.read)}, buys ${percent(k.buy)}; no buy answered for at most ${k.pauseMs} ms`);
  }
  if (s.database.read.total + s.database.buy.total > 0) {
    say(`success around the database restart (not counted above): reads ${percent(s.database.read)}, buys ${percent(s.database.buy)}`);
  }
  say(`ledger: ${r.figures.orders.confirmed} confirmed, ${r.figures.orders.rejected} rejected, ${r.figures.orders.pending} pending`);
  for (const b of r.figures.perBook) {
    say(`book ${b.item}: initial ${b.initial} + restocked ${b.restocked} - final ${b.final} = ${b.initial + b.restocked - b.final}; confirmed ${b.confirmed}; catalog purchases ${b.purchased}`);
  }
  say(`buys work again ${Math.round(r.recoveredAfterMs)} ms after the last fault healed (limit ${r.recoveryLimitMs} ms)`);
}
