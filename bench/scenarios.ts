import type { Load } from './measure';
import type { StackName } from './stacks';

export interface Scenario {
  name: string;
  label: string;
  stack: StackName;
  /** Which of the stack's servers takes the load. */
  target: 'baseline' | 'frontend' | 'frontendNoCache';
  requests: Load['requests'];
  /** Targets, checked and printed, never asserted: absolute speed depends on the hardware the bench runs on. */
  target_min_ratio?: number;
  target_max_p99_ms?: number;
  /** A target relative to another scenario of the same run (PostgreSQL's buy against SQLite's). */
  versus?: { scenario: string; min_ratio: number };
}

const lookup = (id: number) => ({ method: 'GET' as const, path: `/lookup/${id}` });
const buy = (id: number) => ({ method: 'POST' as const, path: `/buy/${id}` });
const search = { method: 'GET' as const, path: '/search/distributed-systems' };

/** In the order they run: scenarios of one stack run together, and each stack is stopped before the next starts. */
export const SCENARIOS: Scenario[] = [
  { name: 'baseline', label: 'baseline (bare Fastify)', stack: 'baseline', target: 'baseline', requests: [{ method: 'GET', path: '/hello' }] },
  { name: 'lookup-cache-hit', label: 'lookup, cache hit', stack: 'sqlite', target: 'frontend', requests: [lookup(1)], target_min_ratio: 0.85, target_max_p99_ms: 5 },
  { name: 'lookup-cache-off', label: 'lookup, CACHE=off', stack: 'sqlite', target: 'frontendNoCache', requests: [lookup(1)], target_min_ratio: 0.35, target_max_p99_ms: 5 },
  { name: 'search-cache-hit', label: 'search, cache hit', stack: 'sqlite', target: 'frontend', requests: [search] },
  { name: 'search-cache-off', label: 'search, CACHE=off', stack: 'sqlite', target: 'frontendNoCache', requests: [search] },
  { name: 'buy', label: 'buy (durable)', stack: 'sqlite', target: 'frontend', requests: [buy(3)], target_min_ratio: 0.15, target_max_p99_ms: 25 },
  {
    name: 'mix-90-10',
    label: 'mix 90% lookup / 10% buy',
    stack: 'sqlite',
    target: 'frontend',
    requests: [lookup(1), lookup(2), lookup(3), lookup(4), lookup(1), lookup(2), lookup(3), lookup(4), lookup(1), buy(4)],
  },
  { name: 'pg-lookup-cache-off', label: 'PostgreSQL: lookup, CACHE=off', stack: 'pg1', target: 'frontendNoCache', requests: [lookup(1)], target_max_p99_ms: 5 },
  {
    name: 'pg-buy',
    label: 'PostgreSQL: buy (durable)',
    stack: 'pg1',
    target: 'frontend',
    requests: [buy(3)],
    target_max_p99_ms: 25,
    versus: { scenario: 'buy', min_ratio: 0.5 },
  },
  { name: 'pg2-lookup-cache-off', label: 'PostgreSQL, 2 replicas: lookup, CACHE=off', stack: 'pg2', target: 'frontendNoCache', requests: [lookup(1)] },
  {
    name: 'pg2-buy',
    label: 'PostgreSQL, 2 replicas: buy',
    stack: 'pg2',
    target: 'frontend',
    requests: [buy(3)],
    versus: { scenario: 'buy', min_ratio: 0.5 },
  },
];
