import type { Cluster, ManagedService } from './cluster';
import { sleep } from './load';

export type FaultKind =
  | 'kill:catalog'
  | 'kill:order'
  | 'kill:frontend'
  | 'kill-after-201:order'
  | 'stop:catalog'
  | 'stop:order'
  | 'stop:frontend'
  | 'delay:order->catalog'
  | 'delay:frontend->order'
  | 'blackhole:order->catalog'
  | 'blackhole:frontend->order'
  | 'reset:order->catalog'
  | 'reset:frontend->order'
  | 'restock';

export const ALL_FAULTS: FaultKind[] = [
  'kill:catalog',
  'kill:order',
  'kill:frontend',
  'kill-after-201:order',
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

export interface FaultRecord {
  kind: FaultKind;
  startedAt: number;
  endedAt: number;
  detail?: string;
}

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
 * only on refusals), then random kinds up to `count`, shuffled; gaps of 1–2 s between faults.
 */
export function schedule(random: () => number, count: number): Array<{ kind: FaultKind; gapMs: number; value: number }> {
  const kinds: FaultKind[] = [...ALL_FAULTS, 'restock', 'restock'];
  while (kinds.length < count) kinds.push(ALL_FAULTS[Math.floor(random() * ALL_FAULTS.length)]);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  return kinds.map((kind) => ({ kind, gapMs: 1000 + Math.floor(random() * 1000), value: random() }));
}

/** Applies one fault and heals it (restart, SIGCONT, proxy back to normal) before returning. */
export async function inject(cluster: Cluster, kind: FaultKind, value: number, token: string): Promise<string> {
  const [what, target] = kind.split(':') as [string, string];
  const service = (cluster as unknown as Record<string, ManagedService>)[target];
  const proxy = target === 'order->catalog' ? cluster.catalogProxy : cluster.orderProxy;
  switch (what) {
    case 'kill':
      await service.kill();
      await service.start();
      return `restarted as start #${service.starts}`;
    case 'kill-after-201': {
      // SIGKILL the moment a buy's 201 leaves the order server: its confirm is written behind the answer, so it may
      // not have reached the file; the order must still end confirmed (reconcile), never lost.
      let killed = false;
      const seen = new Promise<void>((resolve) => {
        cluster.orderProxy.onReply = (chunk) => {
          if (killed || !chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 201')) return;
          killed = true;
          service.signal('SIGKILL');
          resolve();
        };
      });
      await Promise.race([seen, sleep(5000)]);
      cluster.orderProxy.onReply = undefined;
      await service.kill();
      await service.start();
      return `${killed ? 'killed as a 201 left it' : 'no 201 within 5 s, killed'}; restarted as start #${service.starts}`;
    }
    case 'stop':
      service.signal('SIGSTOP');
      await sleep(3000);
      service.signal('SIGCONT');
      return 'frozen 3 s';
    case 'delay':
      proxy.delayMs = 200;
      await sleep(5000);
      proxy.heal();
      return '+200 ms for 5 s';
    case 'blackhole':
      proxy.mode = 'blackhole';
      await sleep(5000);
      proxy.heal();
      // Connections that lost bytes are useless now; reset them as a middlebox timing them out would.
      return `5 s, then reset ${proxy.resetAll()} connections`;
    case 'reset':
      return `reset ${proxy.resetAll()} connections`;
    case 'restock': {
      const stock = 100 + Math.floor(value * 300);
      const res = await fetch(`${cluster.catalog.url}/restock`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ stock }),
        signal: AbortSignal.timeout(3000),
      }).catch(() => undefined);
      return `all books to ${stock}: ${res?.status ?? 'no answer'}`;
    }
  }
  throw new Error(`unknown fault ${kind}`);
}
