import postgres from 'postgres';

/** A pool of connections to one PostgreSQL database (postgres.js): tagged templates become prepared statements. */
export type Sql = postgres.Sql;
export type TransactionSql = postgres.TransactionSql;

export interface OpenOptions {
  /** Connections in this process's pool. */
  max?: number;
  /** Seconds to wait for a connection, per host tried; a dead host must not hold a request past its deadline. */
  connectTimeoutS?: number;
}

/**
 * Opens a pool on `url`, which may name several hosts the way libpq does
 * (`postgres://h1:5432,h2:5432/db?target_session_attrs=read-write`): every new connection tries the hosts in turn
 * and keeps only one that accepts writes, so after a failover the pool finds the promoted server by itself.
 * Statements are prepared once per connection (postgres.js names and caches them by their text).
 */
export function openPostgres(url: string, options: OpenOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutS ?? 5,
    prepare: true,
    // A pooled connection that sat idle is closed, so a pool follows a failover within this many seconds even
    // when it was quiet during it.
    idle_timeout: 30,
    // Notices (e.g. "relation already exists, skipping") are not errors; the services log their own.
    onnotice: () => {},
    connection: { application_name: 'bazar' },
  });
}

/** Error codes meaning "the connection or the server went away", not "the statement was wrong". */
const CONNECTION_LOST = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '25006', // read_only_sql_transaction: the server we reached was demoted to a standby
]);

/**
 * True when a query failed because its connection or server went away (a restart, a failover). The statement may
 * or may not have committed; only an idempotent write may be sent again.
 */
export function isConnectionLost(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (CONNECTION_LOST.has(code) || code.startsWith('08'));
}

/**
 * Applies numbered schema steps once each, in one transaction, recording them in schema_migrations. A
 * transaction-scoped advisory lock (named per service) serialises replicas that start at the same moment: the
 * second waits, then finds every step applied. `afterwards` runs inside the same transaction and lock (seeding).
 */
export async function migrate(
  sql: Sql,
  lockName: string,
  steps: string[],
  afterwards?: (tx: TransactionSql) => Promise<void>,
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${lockName}))`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
               version    integer     PRIMARY KEY,
               applied_at timestamptz NOT NULL DEFAULT now()
             )`;
    const applied = new Set((await tx<{ version: number }[]>`SELECT version FROM schema_migrations`).map((r) => r.version));
    for (let version = 1; version <= steps.length; version++) {
      if (applied.has(version)) continue;
      await tx.unsafe(steps[version - 1]);
      await tx`INSERT INTO schema_migrations (version) VALUES (${version})`;
    }
    await afterwards?.(tx);
  });
}
