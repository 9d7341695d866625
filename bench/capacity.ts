import type { Tier } from './stacks';

/** CPU µs per request of each tier (replicas of a tier added up), as one scenario measured it. */
export type TierCost = Partial<Record<Tier, number>>;

export interface CapacityInput {
  /** Requests per second to size for. */
  lookups: number;
  buys: number;
  /** The share of lookups the frontend cache answers. */
  hitRatio: number;
  /** Per-request costs and the scenario each came from. */
  hit: { scenario: string; cost: TierCost };
  miss: { scenario: string; cost: TierCost };
  buy: { scenario: string; cost: TierCost };
}

export interface TierPlan {
  tier: Tier;
  /** CPU µs each second of the given load takes, as cores. */
  cores: number;
  /** Processes (one core each) at the target utilisation. */
  replicas: number;
  /** What one replica at the target utilisation sustains of each kind alone; null: not on that kind's path. */
  perReplica: { hits: number | null; misses: number | null; buys: number | null };
}

export interface CapacityModel {
  input: Omit<CapacityInput, 'hit' | 'miss' | 'buy'> & { from: Record<'hit' | 'miss' | 'buy', string> };
  utilisation: number;
  coresPerMachine: number;
  tiers: TierPlan[];
  machines: number;
  notes: string[];
}

/** Busy share a replica is sized for: headroom for bursts, GC pauses and a replica failing over to the others. */
export const UTILISATION = 0.7;

/**
 * Replicas of each tier for a given load, from the CPU each request costs each tier: a Node.js service runs its
 * JavaScript on one core, so one replica is one core; PostgreSQL is one primary that uses as many cores as it has.
 */
export function capacityModel(input: CapacityInput, coresPerMachine: number): CapacityModel {
  const tiers: Tier[] = ['frontend', 'catalog', 'order', 'postgres'];
  const rates = {
    hit: input.lookups * input.hitRatio,
    miss: input.lookups * (1 - input.hitRatio),
    buy: input.buys,
  };
  const plans = tiers.map((tier): TierPlan => {
    const us = { hit: input.hit.cost[tier] ?? 0, miss: input.miss.cost[tier] ?? 0, buy: input.buy.cost[tier] ?? 0 };
    const cores = (rates.hit * us.hit + rates.miss * us.miss + rates.buy * us.buy) / 1e6;
    const per = (cost: number) => (cost > 0 ? Math.floor((UTILISATION * 1e6) / cost) : null);
    return {
      tier,
      cores,
      replicas: Math.max(1, Math.ceil(cores / UTILISATION)),
      perReplica: { hits: per(us.hit), misses: per(us.miss), buys: per(us.buy) },
    };
  });
  const totalCores = plans.reduce((sum, p) => sum + p.replicas, 0);
  const pg = plans.find((p) => p.tier === 'postgres')!;
  const notes = [
    'CPU per request was measured with every server on one core, so context switches between them are included: an upper bound.',
    'A durable buy is also bounded by the database\'s commit latency (its fsync), not only by CPU: group commit shares one fsync among the buys waiting for it.',
  ];
  if (pg.replicas > coresPerMachine) {
    notes.push(`PostgreSQL needs ${pg.replicas} cores: more than one machine like this; writes do not scale out with standbys.`);
  }
  return {
    input: {
      lookups: input.lookups,
      buys: input.buys,
      hitRatio: input.hitRatio,
      from: { hit: input.hit.scenario, miss: input.miss.scenario, buy: input.buy.scenario },
    },
    utilisation: UTILISATION,
    coresPerMachine,
    tiers: plans,
    machines: Math.ceil(totalCores / coresPerMachine),
    notes,
  };
}
