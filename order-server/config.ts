import { DEFAULT_PORTS, localUrl, readCommon, readDatabaseUrl, readPath, readPositiveInt, readUrls, type CommonConfig, type Env } from '../common/config';

export interface OrderConfig extends CommonConfig {
  /** SQLite file; used when databaseUrl is not set. */
  dbPath: string;
  /** PostgreSQL (this service's own database); when set, dbPath is not used. */
  databaseUrl: string | undefined;
  /** Every catalog replica (CATALOG_URL, comma-separated); purchases are balanced across them. */
  catalogUrl: string[];
  /** Deadline for one call to the catalog; shorter than the frontend's so the frontend hears our 503 first. */
  upstreamTimeoutMs: number;
  /** How often each catalog replica's /readyz is probed: an ejected replica returns after one passing probe. */
  upstreamProbeIntervalMs: number;
  /** How often pending orders (the catalog did not answer) are driven to a final state. */
  reconcileIntervalMs: number;
  graceMs: number;
}

/** The only place the order server reads its environment. */
export function readOrderConfig(env: Env = process.env): OrderConfig {
  return {
    ...readCommon(env, DEFAULT_PORTS.order),
    dbPath: readPath(env, 'DB_PATH', 'data/orders.db'),
    databaseUrl: readDatabaseUrl(env, 'DATABASE_URL'),
    catalogUrl: readUrls(env, 'CATALOG_URL', localUrl(DEFAULT_PORTS.catalog)),
    upstreamTimeoutMs: readPositiveInt(env, 'UPSTREAM_TIMEOUT_MS', 1000),
    upstreamProbeIntervalMs: readPositiveInt(env, 'UPSTREAM_PROBE_INTERVAL_MS', 1000),
    reconcileIntervalMs: readPositiveInt(env, 'RECONCILE_INTERVAL_MS', 5000),
    graceMs: readPositiveInt(env, 'SHUTDOWN_GRACE_MS', 5000),
  };
}
