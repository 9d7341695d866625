import { DEFAULT_PORTS, localUrl, readCommon, readPositiveInt, readSwitch, readUrl, type CommonConfig, type Env } from '../common/config';

export interface FrontendConfig extends CommonConfig {
  catalogUrl: string;
  orderUrl: string;
  /** Deadline for one upstream call; above the order server's own (1000 ms) so its 503 reaches us first. */
  upstreamTimeoutMs: number;
  graceMs: number;
  /** Per-client (IP) limit on POST /buy: BUY_RATE_LIMIT_MAX buys per BUY_RATE_LIMIT_WINDOW_MS. */
  buyRateLimit: { max: number; windowMs: number };
  /** CACHE=off sends every lookup and search to the catalog (for measurements); default on. */
  cache: boolean;
  cacheMaxEntries: number;
  /** Safety net behind push invalidation. */
  cacheTtlMs: number;
}

/** The only place the frontend reads its environment. */
export function readFrontendConfig(env: Env = process.env): FrontendConfig {
  return {
    ...readCommon(env, DEFAULT_PORTS.frontend),
    catalogUrl: readUrl(env, 'CATALOG_URL', localUrl(DEFAULT_PORTS.catalog)),
    orderUrl: readUrl(env, 'ORDER_URL', localUrl(DEFAULT_PORTS.order)),
    upstreamTimeoutMs: readPositiveInt(env, 'UPSTREAM_TIMEOUT_MS', 1500),
    graceMs: readPositiveInt(env, 'SHUTDOWN_GRACE_MS', 5000),
    buyRateLimit: {
      max: readPositiveInt(env, 'BUY_RATE_LIMIT_MAX', 60),
      windowMs: readPositiveInt(env, 'BUY_RATE_LIMIT_WINDOW_MS', 60_000),
    },
    cache: readSwitch(env, 'CACHE', true),
    cacheMaxEntries: readPositiveInt(env, 'CACHE_MAX_ENTRIES', 10_000),
    cacheTtlMs: readPositiveInt(env, 'CACHE_TTL_MS', 60_000),
  };
}
