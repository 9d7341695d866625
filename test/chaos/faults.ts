import type { FaultProxy } from '../helpers/fault-proxy';
import type { Cluster, ManagedService } from './cluster';
import { sleep } from './load';

export type FaultKind =
  | 'kill:catalog'
  | 'kill:order'
  | 'kill:frontend'
  | 'stop:catalog'
  | 'stop:order'
  | 'stop:frontend'
  | 'delay:order->catalog'
  | 'delay:frontend->order'
  | 'blackhole:order->catalog'
  | 'blackhole:frontend->order'
  | 'reset:order->catalog'
  | 'reset:frontend->order'
  | 'restock'
  | 'restart:postgres';

export const ALL_FAULTS: FaultKind[] = [
  'kill:catalog',
  'kill:order',
  'kill:frontend',
  'stop:catalog',
  'stop:order',
  'stop:frontend',
  'delay:order->catalog',
  'delay:frontend->order',
  'blackhole:order->catalog',
  'blackhole:frontend->order',
  'reset:order->catalog',
  'reset:frontend->order',
  'restock',
];

/** What a fault takes away: one replica of a tier (the whole tier when it has one), the database, or nothing. */
export type FaultScope = 'replica' | 'database' | 'none';

export function scopeOf(kind: FaultKind): FaultScope {
  if (kind === 'restock') return 'none';
  return kind === 'restart:postgres' ? 'database' : 'replica';
}

export interface FaultStep {
  kind: FaultKind;
  gapMs: number;
  value: number;
  /** Which replica of the tier (or which proxy in front of one) it hits. */
  replica: number;
}

export interface FaultRecord {
  kind: FaultKind;
  scope: FaultScope;
  startedAt: number;
  endedAt: number;
  detail?: string;
}

/** The replicated mode adds a restart of the database every replica depends on. */
export const REPLICATED_FAULTS: FaultKind[] = [...ALL_FAULTS, 'restart:postgres'];

/** mulberry32: a tiny seeded PRNG, so a printed seed replays the same fault schedule. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every kind once and restocks three times (so every run has stock to sell and exactly-once is tested on sales, not
 * only on refusals), then random kinds up to `count`, shuffled; gaps of 1–2 s between faults. With replicas, each
 * fault hits one of them, drawn too.
 */
export function schedule(random: () => number, count: number, kinds: FaultKind[] = ALL_FAULTS, replicas = 1): FaultStep[] {
  const plan: FaultKind[] = [...kinds, 'restock', 'restock'];
  while (plan.length < count) plan.push(kinds[Math.floor(random() * kinds.length)]);
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }
  // One replica: no draw for it, so a seed replays the schedule it made before replicas existed.
  return plan.map((kind) => ({
    kind,
    gapMs: 1000 + Math.floor(random() * 1000),
    value: random(),
    replica: replicas > 1 ? Math.floor(random() * replicas) : 0,
  }));
}

/** The service, or the proxy in front of one, that a fault of `kind` hits, and how reports name it. */
export function targetOf(cluster: Cluster, kind: FaultKind, replica: number): { service?: ManagedService; proxy?: FaultProxy; label: string } {
  const target = kind.split(':')[1] ?? '';
  const tiers: Record<string, ManagedService[]> = { catalog: cluster.catalogs, order: cluster.orders, frontend: cluster.frontends };
  if (tiers[target]) return { service: tiers[target][replica], label: tiers[target][replica].label };
  if (target === 'order->catalog') return { proxy: cluster.catalogProxies[replica], label: `order->${cluster.catalogs[replica].label}` };
  if (target === 'frontend->order') return { proxy: cluster.orderProxies[replica], label: `frontend->${cluster.orders[replica].label}` };
  return { label: target };
}

/** Applies one fault and heals it (restart, SIGCONT, proxy back to normal, database up) before returning. */
export async function inject(cluster: Cluster, step: FaultStep, token: string, database?: { restart(): Promise<void> }): Promise<string> {
  const what = step.kind.split(':')[0];
  const { service, proxy } = targetOf(cluster, step.kind, step.replica);
  if (service && what === 'kill') {
    await service.kill();
    await service.start();
    return `restarted as start #${service.starts}`;
  }
  if (service && what === 'stop') {
    service.signal('SIGSTOP');
    await sleep(3000);
    service.signal('SIGCONT');
    return 'frozen 3 s';
  }
  if (proxy && what === 'delay') {
    proxy.delayMs = 200;
    await sleep(5000);
    proxy.heal();
    return '+200 ms for 5 s';
  }
  if (proxy && what === 'blackhole') {
    proxy.mode = 'blackhole';
    await sleep(5000);
    proxy.heal();
    // Connections that lost bytes are useless now; reset them as a middlebox timing them out would.
    return `5 s, then reset ${proxy.resetAll()} connections`;
  }
  if (proxy && what === 'reset') return `reset ${proxy.resetAll()} connections`;
  if (database && step.kind === 'restart:postgres') {
    // pg_ctl restart -m immediate: every connection of every replica dies at once, and the server recovers.
    const started = Date.now();
    await database.restart();
    return `pg_ctl restart -m immediate, accepting again after ${Date.now() - started} ms`;
  }
  if (step.kind === 'restock') {
    const stock = 100 + Math.floor(step.value * 300);
    const res = await fetch(`${cluster.catalogs[step.replica].url}/restock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stock }),
      signal: AbortSignal.timeout(3000),
    }).catch(() => undefined);
    return `all books to ${stock}: ${res?.status ?? 'no answer'}`;
  }
  throw new Error(`cannot apply fault ${step.kind}`);
}
