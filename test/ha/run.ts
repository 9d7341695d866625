/**
 * The HA test (`npm run test:ha`): a pg_auto_failover cluster on loopback (monitor, primary, synchronous standby),
 * keyed writes under load, then the standby dies and comes back, the primary's postmaster is SIGKILLed, and the
 * primary's whole node (keeper and postmaster) is SIGKILLed; after each kill the old primary must rejoin as the
 * streaming synchronous standby. No acknowledged key may be lost or stored twice. Prints one line of figures.
 *   HA_ROUNDS=5 npm run test:ha     five postmaster kills and five node kills, with min / median / max
 * Skips loudly when pg_auto_failover is not installed; fails instead under CI=true.
 */
import { haPrerequisites, startHaCluster, type HaCluster } from '../helpers/ha-cluster';
import { driverLoad, type KeyedLoad, type LoadFactory } from './keyed-load';
import { checkKeys, failover, standbyDown, STANDBY_DOWN_PAUSE_LIMIT_MS, WRITES_BACK_LIMIT_MS, type Failover, type Violation } from './scenario';

/** The services' databases (catalog, order) and the plain-driver load's own. */
const DATABASES = ['catalog', 'orders', 'ha_load'];

function say(line: string): void {
  process.stdout.write(`[ha] ${line}\n`);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function spread(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 1) return seconds(sorted[0]);
  return `min ${seconds(sorted[0])}, median ${seconds(sorted[Math.floor(sorted.length / 2)])}, max ${seconds(sorted[sorted.length - 1])}`;
}

function describe(f: Failover): string {
  const how =
    f.outcome === 'failed over'
      ? `detected ${seconds(f.detectedMs)}, promoted ${seconds(f.promotedMs)}`
      : 'its keeper restarted PostgreSQL before the monitor gave up on it (no failover)';
  return `${f.kind} killed: ${how}, writes back ${seconds(f.firstWriteMs)}; a sync standby streams again ${seconds(f.rejoinedMs)} after ${f.kind === 'node' ? 'the node restarted' : 'the kill'}`;
}

/** Runs the whole scenario with the given load; returns the process exit code. */
export async function runHaTest(makeLoad: LoadFactory, rounds: number): Promise<number> {
  const missing = haPrerequisites();
  if (missing) {
    if (process.env.CI === 'true') {
      say(`FAILED: ${missing}; CI must run the HA test`);
      return 1;
    }
    say(`SKIPPED: ${missing}`);
    return 0;
  }
  const started = Date.now();
  let cluster: HaCluster | undefined;
  let load: KeyedLoad | undefined;
  const violations: Violation[] = [];
  try {
    cluster = await startHaCluster({ databases: DATABASES });
    say(`cluster up in ${seconds(Date.now() - started)}: monitor ${cluster.monitorUrl}, ${cluster.url('<db>')}; files in ${cluster.root}`);
    load = await makeLoad(cluster);
    load.start();

    const pause = await standbyDown(cluster, load);
    say(`standby killed: longest write pause ${seconds(pause)}; it rejoined as the sync standby`);
    if (pause > STANDBY_DOWN_PAUSE_LIMIT_MS) violations.push({ rule: 'writes go on without the standby', detail: `paused ${seconds(pause)}` });

    const failovers: Failover[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const kind of ['postmaster', 'node'] as const) {
        failovers.push(await failover(cluster, load, kind));
        say(describe(failovers[failovers.length - 1]));
      }
    }
    for (const f of failovers.filter((x) => x.firstWriteMs > WRITES_BACK_LIMIT_MS)) {
      violations.push({ rule: `writes back within ${seconds(WRITES_BACK_LIMIT_MS)} of the kill`, detail: describe(f) });
    }

    await load.stop();
    const keys = await checkKeys(load);
    violations.push(...keys.violations);
    const byKind = (kind: string) => failovers.filter((f) => f.kind === kind).map((f) => f.firstWriteMs);
    const restarts = failovers.filter((f) => f.outcome === 'restarted in place').length;
    say(`run ${seconds(Date.now() - started)}; ${load.failures} failed attempts retried; violations ${violations.length}`);
    for (const v of violations) say(`violation: ${v.rule}: ${v.detail}`);
    process.stdout.write(
      `ha: failover ${spread(byKind('node'))} (node killed), ${spread(byKind('postmaster'))} (postmaster killed, ${restarts} of ${rounds} restarted in place); ` +
        `standby down: writes paused ${seconds(pause)}; ${load.acks.length} ${load.noun} acknowledged, ${keys.lost} lost, ${keys.duplicated} duplicated\n`,
    );
  } catch (err) {
    violations.push({ rule: 'the scenario runs to the end', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    say(`FAILED: ${violations[violations.length - 1].detail}`);
  } finally {
    await load?.stop().catch(() => undefined);
    await load?.close().catch(() => undefined);
    // Kept for inspection when something failed: the logs of monitor and keepers are in its log/ folder.
    if (violations.length > 0 && cluster) say(`files kept in ${cluster.root}`);
    await cluster?.stop({ keepFiles: violations.length > 0 });
  }
  return violations.length === 0 ? 0 : 1;
}

if (require.main === module) {
  const raw = process.env.HA_ROUNDS;
  const rounds = raw && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : 1;
  runHaTest(driverLoad('ha_load'), rounds).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
