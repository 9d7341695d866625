/** How the HA test says what it measured: the failover timelines, the reads during failovers, the figures line. */
import type { Figures } from '../helpers/invariants';
import { cacheReads, okShare, type StoreLoad } from './keyed-load';
import type { Failover } from './scenario';

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const percent = ({ ok, of }: { ok: number; of: number }) => (of === 0 ? 'n/a' : `${((100 * ok) / of).toFixed(1)}%`);

function spread(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 1) return seconds(sorted[0]);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return `min ${seconds(sorted[0])}, median ${seconds(median)}, max ${seconds(sorted[sorted.length - 1])}`;
}

/** kill → detected → promoted → first write, and the old primary's return. */
export function timeline(f: Failover): string {
  const how =
    f.outcome === 'failed over'
      ? `detected ${seconds(f.detectedMs)} → promoted ${seconds(f.promotedMs)}`
      : 'its keeper restarted PostgreSQL before the monitor gave up on it (no failover)';
  return `${f.kind} killed: ${how} → first write ${seconds(f.firstWriteMs)}; a sync standby streams again ${seconds(f.rejoinedMs)} after ${f.kind === 'node' ? 'the node restarted' : 'the kill'}`;
}

/** What the shoppers' reads saw while writes were out: from each kill until writes were back. */
export function duringFailovers(load: StoreLoad, failovers: Failover[]) {
  const windows = failovers.map((f) => [f.killedAt, f.killedAt + f.firstWriteMs] as const);
  const sum = <T extends Record<string, number>>(parts: T[], zero: T): T =>
    parts.reduce((a, b) => Object.fromEntries(Object.keys(zero).map((k) => [k, a[k] + b[k]])) as T, zero);
  // A window in which the cache was emptied (a stall of the frontend, a lost change stream, a change of every book)
  // shows misses that no cache could have answered; the others show what a kept cache does.
  const emptied = windows.filter(([from, to]) => load.cache.some((c) => c.at >= from && c.at <= to && c.entries === 0));
  const kept = windows.filter((w) => !emptied.includes(w));
  return {
    ms: windows.reduce((n, [from, to]) => n + to - from, 0),
    emptied: emptied.length,
    /** Lookups of books nobody was buying, in the windows whose cache was kept. */
    quietKept: sum(kept.map(([from, to]) => okShare(load.lookups, from, to, (l) => !l.forSale)), { ok: 0, of: 0 }),
    lookups: sum(windows.map(([from, to]) => okShare(load.lookups, from, to)), { ok: 0, of: 0 }),
    /** Lookups of books nobody was buying: their cache entries were never invalidated. */
    quiet: sum(windows.map(([from, to]) => okShare(load.lookups, from, to, (l) => !l.forSale)), { ok: 0, of: 0 }),
    /** Lookups of books being bought: most entries had just been invalidated by a buy when the database died. */
    bought: sum(windows.map(([from, to]) => okShare(load.lookups, from, to, (l) => l.forSale)), { ok: 0, of: 0 }),
    live: sum(windows.map(([from, to]) => okShare(load.cache, from, to)), { ok: 0, of: 0 }),
    reads: sum(windows.map(([from, to]) => cacheReads(load.cache, from, to)), { hits: 0, misses: 0 }),
  };
}

export interface Summary {
  failovers: Failover[];
  rounds: number;
  standbyPauseMs: number;
  load: StoreLoad;
  lost: number;
  duplicated: number;
  figures: Figures;
  streams: { streamLosses: number[]; cutOffs: number; stallFlushedEntries: number };
}

/** The lines before the figures line: ledger, stock per book, reads, change streams. */
export function details({ load, figures, streams, failovers }: Summary): string[] {
  const during = duringFailovers(load, failovers);
  const kills = failovers.map((f) => f.killedAt);
  const sinceKill = (t: number) => {
    const kill = kills.filter((k) => k <= t).pop();
    return kill === undefined ? 'before the first kill' : `${seconds(t - kill)} after a kill`;
  };
  return [
    `${load.histories.length} buys, ${load.retries} attempts retried; ledger: ${figures.orders.confirmed} confirmed, ${figures.orders.rejected} rejected, ${figures.orders.pending} pending`,
    ...figures.perBook.map(
      (b) => `book ${b.item}: initial ${b.initial} + restocked ${b.restocked} - final ${b.final} = ${b.initial + b.restocked - b.final}; confirmed orders ${b.confirmed}; catalog purchases ${b.purchased}`,
    ),
    `lookups: ${percent(okShare(load.lookups))} of ${load.lookups.length} answered over the run; cache live ${percent(okShare(load.cache))} of the run`,
    `during failovers (${seconds(during.ms)} from kills to writes back): ${percent(during.lookups)} of ${during.lookups.of} lookups answered: ` +
      `${percent(during.quiet)} of ${during.quiet.of} of books nobody was buying, ${percent(during.bought)} of ${during.bought.of} of books being bought; ` +
      `cache live ${percent(during.live)} of the time, emptied in ${during.emptied} of ${failovers.length} failovers, ${during.reads.hits} hits, ${during.reads.misses} misses (a miss asks the catalog, whose database is away)`,
    `change streams: ${streams.streamLosses.length} lost by the frontend (${streams.streamLosses.map(sinceKill).join(', ') || 'none'}), ` +
      `${streams.cutOffs} subscribers cut off by a catalog for a late acknowledgement, ${streams.stallFlushedEntries} cache entries dropped after a stall`,
    ...failovers.map((f) => `timeline: ${timeline(f)}`),
  ];
}

/** The one line of figures. */
export function figuresLine({ failovers, rounds, standbyPauseMs, load, lost, duplicated }: Summary): string {
  const byKind = (kind: string) => failovers.filter((f) => f.kind === kind).map((f) => f.firstWriteMs);
  const restarts = failovers.filter((f) => f.outcome === 'restarted in place').length;
  const during = duringFailovers(load, failovers);
  return (
    `ha: failover ${spread(byKind('node'))} (node killed; kill → writes back), ${spread(byKind('postmaster'))} (postmaster killed, ${restarts} of ${rounds} restarted in place); ` +
    `standby down: writes paused ${seconds(standbyPauseMs)}; ${load.acks.length} buys acknowledged, ${lost} lost, ${duplicated} duplicated; ` +
    `lookups ${percent(okShare(load.lookups))} answered; during failovers cache live ${percent(during.live)}, lookups answered ${percent(during.quiet)} (books nobody was buying), ${percent(during.bought)} (books being bought)`
  );
}
