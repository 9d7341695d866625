import { DEFAULT_PORTS, localUrl, readCommon, readPositiveInt, readSwitch, readUrls, type CommonConfig, type Env } from '../common/config';

export interface FrontendConfig extends CommonConfig {
  /** Every catalog replica (CATALOG_URL, comma-separated); the frontend balances across them and subscribes to each. */
  catalogUrl: string[];
  /** Every order replica (ORDER_URL, comma-separated). */
  orderUrl: string[];
  /** Deadline for one upstream call; above the order server's own (1000 ms) so its 503 reaches us first. */
  upstreamTimeoutMs: number;
  /** How often each upstream replica's /readyz is probed: an ejected replica returns after one passing probe. */
  upstreamProbeIntervalMs: number;
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
    catalogUrl: readUrls(env, 'CATALOG_URL', localUrl(DEFAULT_PORTS.catalog)),
    orderUrl: readUrls(env, 'ORDER_URL', localUrl(DEFAULT_PORTS.order)),
    upstreamTimeoutMs: readPositiveInt(env, 'UPSTREAM_TIMEOUT_MS', 1500),
    upstreamProbeIntervalMs: readPositiveInt(env, 'UPSTREAM_PROBE_INTERVAL_MS', 1000),
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
