/**
 * What `npm run test:ha` does to a running cluster under keyed load, and what it measures: the standby dies (writes
 * must pause briefly, not hang), then the primary dies, once by its postmaster alone and once with its keeper (the
 * machine), each time followed by the old primary's return as a streaming synchronous standby.
 */
import { sleep } from '../chaos/load';
import { waitFor, type HaCluster, type HaNode } from '../helpers/ha-cluster';
import type { KeyedLoad } from './keyed-load';

/** The target: writes are back within this long after the primary is killed. */
export const WRITES_BACK_LIMIT_MS = 15_000;
/** With the standby down, the primary must drop synchronous replication and go on within this long. */
export const STANDBY_DOWN_PAUSE_LIMIT_MS = 15_000;
const REJOIN_LIMIT_MS = 90_000;

export type KillKind = 'postmaster' | 'node';

export interface Failover {
  kind: KillKind;
  /**
   * Milliseconds after the kill: the monitor gave up on the primary; the monitor heard the standby report itself
   * writable; writes were acknowledged again (the end of the outage, which can come before the report).
   */
  detectedMs: number;
  promotedMs: number;
  firstWriteMs: number;
  /** From the old primary's restart (or, for a postmaster kill, from the kill) to it streaming as sync standby. */
  rejoinedMs: number;
}

export interface Violation {
  rule: string;
  detail: string;
}

/**
 * The longest stretch in [from, to] without an acknowledged write, and the acknowledgement that ended it (undefined
 * when the stretch runs to `to`). Around a failover that stretch is the outage: a backend of a killed postmaster
 * may still answer for a moment after the kill, so "the first write sent after the kill" would measure nothing.
 */
export function longestGap(load: KeyedLoad, from: number, to: number): { ms: number; endedAt?: number } {
  let last = from;
  let gap: { ms: number; endedAt?: number } = { ms: 0 };
  for (const ack of load.acks) {
    if (ack.ackedAt < from || ack.ackedAt > to) continue;
    if (ack.ackedAt - last > gap.ms) gap = { ms: ack.ackedAt - last, endedAt: ack.ackedAt };
    last = ack.ackedAt;
  }
  return to - last > gap.ms ? { ms: to - last } : gap;
}

/** Kills the standby's node for `downMs`, then brings it back; returns the longest write pause meanwhile. */
export async function standbyDown(cluster: HaCluster, load: KeyedLoad, downMs = 8000): Promise<number> {
  const { standby } = await cluster.waitForSync();
  const killedAt = Date.now();
  cluster.killNode(standby);
  await sleep(downMs);
  const pause = longestGap(load, killedAt, Date.now()).ms;
  cluster.restartNode(standby);
  await cluster.waitForSync(REJOIN_LIMIT_MS);
  return pause;
}

/**
 * Kills the primary (its postmaster, or the whole node), times detection, promotion and the first write, then
 * brings the old primary back and waits until it streams to the new primary as its synchronous standby.
 */
export async function failover(cluster: HaCluster, load: KeyedLoad, kind: KillKind): Promise<Failover> {
  const { primary: old, standby } = await cluster.waitForSync();
  await sleep(1000);
  const killedAt = Date.now();
  if (kind === 'postmaster') cluster.killPostmaster(old);
  else cluster.killNode(old);
  const since = (t: number) => t - killedAt;
  let detectedMs = NaN;
  let promotedMs = NaN;
  await waitFor(`writes after killing ${old.name}'s ${kind}`, 60_000, async () => {
    const states = await cluster.states();
    const state = (n: HaNode) => states.find((s) => s.name === n.name)!;
    if (Number.isNaN(detectedMs) && state(old).goal !== 'primary') detectedMs = since(Date.now());
    if (Number.isNaN(promotedMs) && ['wait_primary', 'primary'].includes(state(standby).reported)) promotedMs = since(Date.now());
    const lastAck = load.acks[load.acks.length - 1]?.ackedAt ?? 0;
    return !Number.isNaN(promotedMs) && lastAck > killedAt + promotedMs ? true : undefined;
  });
  const outage = longestGap(load, killedAt, Date.now());
  // A killed node comes back as an operator would restart the machine; after a postmaster kill its keeper is
  // alive and rewinds it into a standby by itself.
  let rejoinFrom = killedAt;
  if (kind === 'node') {
    rejoinFrom = Date.now();
    cluster.restartNode(old);
  }
  const after = await cluster.waitForSync(REJOIN_LIMIT_MS);
  if (after.standby.name !== old.name) throw new Error(`${old.name} did not come back as the standby`);
  return { kind, detectedMs, promotedMs, firstWriteMs: since(outage.endedAt ?? Number.NaN), rejoinedMs: Date.now() - rejoinFrom };
}

/** Every acknowledged key is in the database exactly once. */
export async function checkKeys(load: KeyedLoad): Promise<{ lost: number; duplicated: number; violations: Violation[] }> {
  const rows = await load.rowsPerKey();
  const violations: Violation[] = [];
  let lost = 0;
  let duplicated = 0;
  for (const { key } of load.acks) {
    const n = rows.get(key) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated++;
    if (n !== 1 && violations.length < 20) violations.push({ rule: 'an acknowledged key is stored exactly once', detail: `${key}: ${n} rows` });
  }
  return { lost, duplicated, violations };
}
