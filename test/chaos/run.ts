/**
 * The chaos suite (`npm run test:chaos`, after `npm run build`): the compiled services as processes on loopback,
 * fault proxies in front of every catalog and order process, shoppers buying with idempotency keys, and a seeded
 * schedule of crashes, freezes, delays, blackholes, resets and restocks. After healing and settling, the databases
 * and the shoppers' answers must agree (test/helpers/invariants.ts). Exit code 1 and the seed on any violation.
 *
 * CHAOS_TOPOLOGY=replicated (`npm run test:chaos:replicated`): two catalog, two order and two frontend processes
 * over a throwaway PostgreSQL, each fault hitting one replica, plus a database restart; while one replica of a tier
 * is faulted, at least 99 % of reads and of buys must succeed.
 *   CHAOS_SEED=123 npm run test:chaos        replays a schedule
 *   CHAOS_FAULTS=20 CHAOS_MIN_LOAD_MS=60000 CHAOS_CLIENTS=16
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { missingPostgresMessage, postgresInstalled, startThrowawayCluster, type PgCluster } from '../../support/postgres-server';
import { auditStore, type Seeded, type StoreDatabases, type Violation } from '../helpers/invariants';
import { tempDir } from '../helpers/stack';
import { startCluster, type Cluster } from './cluster';
import { ALL_FAULTS, REPLICATED_FAULTS, inject, schedule, scopeOf, seeded, targetOf, type FaultRecord } from './faults';
import { Load, sleep } from './load';
import { calmPauseMs, printFigures, ratio, successByFault, successByKind } from './report';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

const TOPOLOGY = process.env.CHAOS_TOPOLOGY ?? 'single';
const REPLICAS = TOPOLOGY === 'replicated' ? 2 : 1;
const SEED = envInt('CHAOS_SEED', randomBytes(4).readUInt32BE());
const FAULTS = Math.max(20, envInt('CHAOS_FAULTS', 22));
const MIN_LOAD_MS = envInt('CHAOS_MIN_LOAD_MS', 60_000);
const CLIENTS = Math.max(16, envInt('CHAOS_CLIENTS', 16));
const RECOVERY_LIMIT_MS = 30_000;
/** After a database restart, how long the replicas may take to find the server again (probes run every second). */
const DATABASE_SETTLE_MS = 3000;
/** While one replica of a tier is faulted, at least this share of reads, and of buys, must succeed. */
const REPLICA_FAULT_SUCCESS = 0.99;

function say(line: string): void {
  process.stdout.write(`[chaos] ${line}\n`);
}

async function waitForNoPending(cluster: Cluster, token: string, limitMs: number): Promise<number> {
  const deadline = Date.now() + limitMs;
  let pending = -1;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${cluster.orders[0].url}/orders?status=pending&limit=1000`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(2000),
      });
      pending = ((await res.json()) as { orders: unknown[] }).orders.length;
      if (pending === 0) return 0;
    } catch {
      // order server busy; ask again
    }
    await sleep(500);
  }
  return pending;
}

/** Where this topology keeps its data: SQLite files in the run's folder, or two databases on a throwaway cluster. */
async function storage(dir: string): Promise<{ storage: StoreDatabases; pg?: PgCluster }> {
  if (REPLICAS === 1) return { storage: { sqliteDir: dir } };
  // Six services with a pool of 10 each, and the audit's.
  const pg = await startThrowawayCluster({ maxConnections: 100 });
  const [catalog, orders] = [await pg.createDatabase('chaos_catalog'), await pg.createDatabase('chaos_orders')];
  return { storage: { catalogUrl: pg.url(catalog), ordersUrl: pg.url(orders) }, pg };
}

async function main(): Promise<number> {
  const started = Date.now();
  if (TOPOLOGY !== 'single' && TOPOLOGY !== 'replicated') {
    say(`CHAOS_TOPOLOGY must be 'single' or 'replicated', not '${TOPOLOGY}'`);
    return 2;
  }
  if (REPLICAS > 1 && !postgresInstalled()) {
    if (process.env.CI === 'true') {
      say(`FAILED: ${missingPostgresMessage()}; CI must run the replicated chaos suite`);
      return 1;
    }
    say(`SKIPPED (replicated chaos suite): ${missingPostgresMessage()}`);
    return 0;
  }
  const topology = REPLICAS > 1 ? `replicated: ${REPLICAS} catalog, ${REPLICAS} order, ${REPLICAS} frontend processes over PostgreSQL` : 'single: one process per service over SQLite';
  say(`seed ${SEED} (replay with CHAOS_SEED=${SEED}); ${topology}; ${FAULTS} faults, >= ${MIN_LOAD_MS / 1000} s of load, ${CLIENTS} clients`);
  const random = seeded(SEED);
  const tmp = tempDir('bazar-chaos-');
  const token = randomBytes(24).toString('hex');
  const seedBooks = JSON.parse(readFileSync(DEFAULT_SEED_PATH, 'utf8')) as Seeded[];
  const { storage: where, pg } = await storage(tmp.dir);
  // Ports come from Math.random, not the seed: a busy port on replay must not shift the fault schedule.
  const cluster = await startCluster(REPLICAS, where, token, Math.random, {
    order: { RECONCILE_INTERVAL_MS: '1000' },
    frontend: { BUY_RATE_LIMIT_MAX: '1000000' },
  }).catch((err: unknown) => {
    pg?.stop();
    throw err;
  });
  const ports = (list: { label: string; port: number }[]) => list.map((s) => `${s.label} ${s.port}`).join(', ');
  say(`services: ${ports([...cluster.catalogs, ...cluster.orders, ...cluster.frontends])}; data in ${pg ? `PostgreSQL on 127.0.0.1:${pg.primary.port}` : tmp.dir}`);
  const load = new Load({
    urls: cluster.frontends.map((f) => f.url),
    clients: CLIENTS,
    books: seedBooks.map((b) => b.id),
    hotBook: seedBooks[0].id,
    topics: ['distributed systems', 'graduate-school', 'no such topic'],
    maxRetries: 5,
    timeoutMs: 4000,
  });
  const faults: FaultRecord[] = [];
  let exitCode = 1;
  // Interrupted (Ctrl-C): take down what this run started, the database included, rather than leave it running.
  const interrupted = () => {
    say('interrupted: stopping the services and the database');
    void Promise.all([...cluster.catalogs, ...cluster.orders, ...cluster.frontends].map((s) => s.kill())).finally(() => {
      pg?.stop();
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    load.start();
    const loadStarted = Date.now();
    const plan = schedule(random, FAULTS, pg ? REPLICATED_FAULTS : ALL_FAULTS, REPLICAS);
    for (const [i, step] of plan.entries()) {
      await sleep(step.gapMs);
      const record: FaultRecord = { kind: step.kind, scope: scopeOf(step.kind), startedAt: Date.now(), endedAt: 0 };
      record.detail = await inject(cluster, step, token, pg && { restart: () => pg.primary.restart('immediate') });
      record.endedAt = Date.now();
      faults.push(record);
      const on = REPLICAS > 1 && record.scope === 'replica' ? ` on ${targetOf(cluster, step.kind, step.replica).label}` : '';
      say(`fault ${i + 1}/${plan.length} at +${((record.startedAt - loadStarted) / 1000).toFixed(1)} s: ${step.kind}${on} (${record.detail})`);
    }
    // Keep the shoppers busy for the minimum load time even when the faults ran faster.
    while (Date.now() - loadStarted < MIN_LOAD_MS) await sleep(250);
    [...cluster.catalogProxies, ...cluster.orderProxies].forEach((proxy) => proxy.heal());
    // Measured from the moment the last fault was healed (service restarted, SIGCONT sent, proxy back to normal).
    const lastFault = faults[faults.length - 1].endedAt;
    // The shoppers finish their current buys (with retries) while a probe shows buys work again: within 30 s of
    // the last fault (restock first, so "out of stock" cannot hide a failure).
    const stopping = load.stop();
    await fetch(`${cluster.catalogs[0].url}/restock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stock: 20 }),
      signal: AbortSignal.timeout(5000),
    }).catch(() => undefined);
    let recoveredAfterMs = NaN;
    for (let probe = 0; Date.now() - lastFault < RECOVERY_LIMIT_MS; probe++) {
      const h = await load.buy(seedBooks[1].id, `probe-${SEED}-${probe}`);
      if (h.outcome === 'confirmed') {
        recoveredAfterMs = h.attempts[h.attempts.length - 1].at - lastFault;
        break;
      }
    }
    await stopping;
    const loadMs = Date.now() - loadStarted;
    say(`load stopped after ${(loadMs / 1000).toFixed(1)} s`);

    const pending = await waitForNoPending(cluster, token, 30_000);
    say(`pending orders after settling: ${pending}`);
    await cluster.stop();
    await load.close();

    const { violations, figures } = await auditStore(where, seedBooks, load.stats.histories);
    if (!(recoveredAfterMs <= RECOVERY_LIMIT_MS)) {
      violations.push({ rule: 'buys succeed within 30 s of the last fault', detail: `no buy succeeded in ${RECOVERY_LIMIT_MS} ms` });
    }
    for (const seen of load.stats.negativeStockSeen) {
      violations.push({ rule: 'stock never negative', detail: `lookup of ${seen.item} showed ${seen.stock}` });
    }
    const success = successByFault(load.stats.operations, faults, DATABASE_SETTLE_MS);
    if (REPLICAS > 1) violations.push(...replicaFaultViolations(success));

    const summary = { seed: SEED, topology, runMs: Date.now() - started, loadMs, clients: CLIENTS, stats: load.stats, faults, figures };
    const byKind = successByKind(load.stats.operations, faults, load.stats.histories, DATABASE_SETTLE_MS);
    const calm = calmPauseMs(faults, load.stats.histories, DATABASE_SETTLE_MS);
    printFigures(say, { ...summary, success, byKind, calmPauseMs: calm, recoveredAfterMs, recoveryLimitMs: RECOVERY_LIMIT_MS });
    say(`violations ${violations.length}`);
    if (violations.length > 0) {
      say(`FAILED with seed ${SEED} (replay: CHAOS_SEED=${SEED}${REPLICAS > 1 ? ' CHAOS_TOPOLOGY=replicated' : ''} npm run test:chaos)`);
      for (const v of violations.slice(0, 50)) {
        say(`violation: ${v.rule}: ${v.detail}`);
        for (const key of v.keys ?? []) say(`  history of ${key}: ${JSON.stringify(load.stats.histories.find((x) => x.key === key))}`);
      }
      say('fault log:');
      for (const f of faults) say(`  ${new Date(f.startedAt).toISOString()} ${f.kind} (${f.detail})`);
      for (const s of [...cluster.catalogs, ...cluster.orders, ...cluster.frontends]) s.tail.slice(-20).forEach((l) => say(l));
    } else {
      exitCode = 0;
      tmp.remove();
    }
  } catch (err) {
    say(`FAILED with seed ${SEED}: ${err instanceof Error ? err.stack : String(err)}`);
    await cluster.stop().catch(() => undefined);
  } finally {
    pg?.stop();
  }
  return exitCode;
}

function replicaFaultViolations(success: ReturnType<typeof successByFault>): Violation[] {
  return (['read', 'buy'] as const)
    .filter((kind) => ratio(success.replica[kind]) < REPLICA_FAULT_SUCCESS)
    .map((kind) => ({
      rule: `at least ${REPLICA_FAULT_SUCCESS * 100} % of ${kind}s succeed while one replica of a tier is faulted`,
      detail: `${success.replica[kind].ok} of ${success.replica[kind].total}`,
    }));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
