import { join } from 'node:path';
import { projectRoot } from '../common/paths';
import { DEFAULT_PORTS, readCommon, readDatabaseUrl, readPath, readPositiveInt, type CommonConfig, type Env } from '../common/config';

export interface CatalogConfig extends CommonConfig {
  /** SQLite file; used when databaseUrl is not set. */
  dbPath: string;
  /** PostgreSQL (this service's own database); when set, dbPath is not used. */
  databaseUrl: string | undefined;
  /** The books a brand-new database starts with. */
  seedPath: string;
  graceMs: number;
  /** How long a write waits for every subscribed frontend to apply its change event before cutting it off. */
  eventsAckTimeoutMs: number;
}

export const DEFAULT_SEED_PATH = join(projectRoot(), 'catalog-server', 'seed', 'books.json');

/** The only place the catalog reads its environment. */
export function readCatalogConfig(env: Env = process.env): CatalogConfig {
  return {
    ...readCommon(env, DEFAULT_PORTS.catalog),
    dbPath: readPath(env, 'DB_PATH', 'data/catalog.db'),
    databaseUrl: readDatabaseUrl(env, 'DATABASE_URL'),
    seedPath: readPath(env, 'SEED_PATH', DEFAULT_SEED_PATH),
    graceMs: readPositiveInt(env, 'SHUTDOWN_GRACE_MS', 5000),
    eventsAckTimeoutMs: readPositiveInt(env, 'EVENTS_ACK_TIMEOUT_MS', 300),
  };
}
