/**
 * What `npm run test:ha` does to a running cluster under the store's load, and what it measures: the standby dies
 * (writes must pause briefly, not hang), then the primary dies, once by its postmaster alone and once with its
 * keeper (the machine), each time followed by the old primary's return as a streaming synchronous standby.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { poll, type HaCluster, type HaNode } from '../helpers/ha-cluster';
import type { StoreLoad } from './keyed-load';

/** The target: writes are back within this long after the primary is killed. */
export const WRITES_BACK_LIMIT_MS = 15_000;
/** With the standby down, the primary must drop synchronous replication and go on within this long. */
export const STANDBY_DOWN_PAUSE_LIMIT_MS = 15_000;
const REJOIN_LIMIT_MS = 90_000;

export type KillKind = 'postmaster' | 'node';

export interface Failover {
  kind: KillKind;
  /** When the primary was killed (ms since the epoch). */
  killedAt: number;
  /** A postmaster kill may end with the keeper restarting PostgreSQL before the monitor fails over. */
  outcome: 'failed over' | 'restarted in place';
  /**
   * Milliseconds after the kill: the monitor gave up on the primary; the monitor heard the standby report itself
   * writable; writes were acknowledged again (the end of the outage, which can come before the report).
   */
  detectedMs: number;
  promotedMs: number;
  firstWriteMs: number;
  /** From the node's restart (or, for a postmaster kill, from the kill) until a sync standby streams again. */
  rejoinedMs: number;
}

/**
 * The longest stretch in [from, to] without an acknowledged write, and the acknowledgement that ended it (undefined
 * when the stretch runs to `to`). Around a failover that stretch is the outage: a backend of a killed postmaster
 * may still answer for a moment after the kill, so "the first write sent after the kill" would measure nothing.
 */
function longestGap(load: StoreLoad, from: number, to: number): { ms: number; endedAt?: number } {
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
export async function standbyDown(cluster: HaCluster, load: StoreLoad, downMs = 8000): Promise<number> {
  const { standby } = await cluster.waitForSync();
  const killedAt = Date.now();
  cluster.killNode(standby);
  await sleep(downMs);
  const pause = longestGap(load, killedAt, Date.now()).ms;
  cluster.restartNode(standby);
  await cluster.waitForSync(REJOIN_LIMIT_MS);
  return pause;
}

/** Polls the monitor every 100 ms from the kill on: when it gave up on `old`, when `standby` reported writable. */
function watchMonitor(cluster: HaCluster, old: HaNode, standby: HaNode, killedAt: number) {
  const seen = { detectedMs: NaN, promotedMs: NaN };
  let watching = true;
  const done = (async () => {
    while (watching) {
      const states = await cluster.states().catch(() => []);
      const now = Date.now() - killedAt;
      const state = (n: HaNode) => states.find((s) => s.name === n.name);
      if (Number.isNaN(seen.detectedMs) && state(old) && state(old)!.goal !== 'primary') seen.detectedMs = now;
      if (Number.isNaN(seen.promotedMs) && ['wait_primary', 'primary'].includes(state(standby)?.reported ?? '')) seen.promotedMs = now;
      await sleep(100);
    }
  })();
  return {
    seen,
    stop: async () => {
      watching = false;
      await done;
    },
  };
}

/** Resolves once a write sent after `t` has been acknowledged. */
function writeAfter(load: StoreLoad, t: number, what: string): Promise<void> {
  return poll(what, 60_000, async () => load.acks[load.acks.length - 1]?.sentAt > t);
}

/**
 * Kills the primary (its postmaster, or the whole node), times detection, promotion and the end of the write
 * outage, and waits until the cluster has a primary with a streaming synchronous standby again. A killed node is
 * started again, as an operator restarts a machine, and must come back as the standby. After a postmaster kill the
 * keeper is alive: it either restarts PostgreSQL in place before the monitor gives up on it (crash recovery, same
 * primary) or, once the monitor has failed over, rewinds it into the standby; both keep every confirmed write.
 */
export async function failover(cluster: HaCluster, load: StoreLoad, kind: KillKind): Promise<Failover> {
  const { primary: old, standby } = await cluster.waitForSync();
  await sleep(1000);
  const killedAt = Date.now();
  if (kind === 'postmaster') cluster.killPostmaster(old);
  else cluster.killNode(old);
  const monitor = watchMonitor(cluster, old, standby, killedAt);
  let rejoinFrom = killedAt;
  try {
    if (kind === 'node') {
      await poll(`${standby.name} promoted`, 60_000, async () => !Number.isNaN(monitor.seen.promotedMs));
      await writeAfter(load, killedAt + monitor.seen.promotedMs, 'a write on the promoted standby');
      rejoinFrom = Date.now();
      cluster.restartNode(old);
    }
    const after = await cluster.waitForSync(REJOIN_LIMIT_MS);
    if (kind === 'node' && after.standby.name !== old.name) throw new Error(`${old.name} did not come back as the standby`);
    await writeAfter(load, Date.now(), 'a write once the cluster settled');
    const outage = longestGap(load, killedAt, Date.now());
    return {
      kind,
      killedAt,
      outcome: after.primary.name === old.name ? 'restarted in place' : 'failed over',
      ...monitor.seen,
      firstWriteMs: (outage.endedAt ?? Number.NaN) - killedAt,
      rejoinedMs: Date.now() - rejoinFrom,
    };
  } finally {
    await monitor.stop();
  }
}
