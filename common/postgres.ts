import pg from 'pg';
import { isConnectionLost } from './connection-lost';
import { parsePostgresUrl, type PostgresTarget } from './postgres-url';

/** A named statement: PostgreSQL prepares it once per connection; after that only its parameters travel. */
export interface Statement {
  name: string;
  text: string;
}

export interface Queryable {
  query<R extends pg.QueryResultRow>(statement: Statement | string, values?: unknown[]): Promise<R[]>;
}

export interface PgDatabaseOptions {
  /** Connections this process keeps to the server (default 10). */
  max?: number;
  /** Limit on opening one connection, and on waiting for a free one (default 5000 ms). */
  connectTimeoutMs?: number;
}

const toQuery = (statement: Statement | string, values?: unknown[]): pg.QueryConfig =>
  typeof statement === 'string' ? { text: statement, values } : { ...statement, values };

/**
 * A pool of connections to the one server of a (possibly multi-host) PostgreSQL URL that suits it: with
 * `target_session_attrs=read-write` the first listed host that is not a standby and accepts writes, as libpq
 * would choose. node-postgres cannot read such URLs, so the choice is made here: the hosts are probed in order
 * when the pool is first needed and again after any sign that the server went away (a dead connection, a
 * refused one, "read-only transaction"), so after a failover the next query finds the promoted server.
 */
export class PgDatabase implements Queryable {
  private pool: pg.Pool | undefined;
  private finding: Promise<pg.Pool> | undefined;
  private closed = false;
  private readonly target: PostgresTarget;

  constructor(
    url: string,
    private readonly options: PgDatabaseOptions = {},
  ) {
    this.target = parsePostgresUrl(url);
  }

  async query<R extends pg.QueryResultRow>(statement: Statement | string, values?: unknown[]): Promise<R[]> {
    const pool = this.pool ?? (await this.server());
    try {
      return (await pool.query<R>(toQuery(statement, values))).rows;
    } catch (err) {
      this.check(pool, err);
      throw err;
    }
  }

  /** Runs `work` in one transaction under READ COMMITTED on one connection; rolls back if it throws. */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const pool = this.pool ?? (await this.server());
    const client = await pool.connect().catch((err: unknown) => {
      this.check(pool, err);
      throw err;
    });
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await work({ query: async (statement, values) => (await client.query(toQuery(statement, values))).rows });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (isConnectionLost(err)) broken = err as Error;
      else await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      this.check(pool, err);
      throw err;
    } finally {
      // A broken connection is closed rather than handed to the next caller.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool ?? (await this.finding?.catch(() => undefined));
    this.pool = undefined;
    await pool?.end();
  }

  private server(): Promise<pg.Pool> {
    if (this.closed) return Promise.reject(new Error('the database connection was closed'));
    this.finding ??= this.findServer().finally(() => (this.finding = undefined));
    return this.finding;
  }

  /** After an error: if it says the server went away, drop this pool, so the next query looks for the server again. */
  private check(pool: pg.Pool, err: unknown): void {
    if (isConnectionLost(err)) this.drop(pool);
  }

  private drop(pool: pg.Pool): void {
    if (this.pool !== pool) return;
    this.pool = undefined;
    pool.end().catch(() => undefined);
  }

  private async findServer(): Promise<pg.Pool> {
    const { hosts, targetSessionAttrs } = this.target;
    const refusals: string[] = [];
    for (const { host, port } of hosts) {
      const probe = new pg.Client({ ...this.settings(), host, port });
      probe.on('error', () => undefined); // a probe that dies is a refusal, reported below
      try {
        await probe.connect();
        const [state] = (
          await probe.query<{ standby: boolean; read_only: string }>(
            "SELECT pg_is_in_recovery() AS standby, current_setting('default_transaction_read_only') AS read_only",
          )
        ).rows;
        if (targetSessionAttrs !== 'any' && state.standby) refusals.push(`${host}:${port} is a standby`);
        else if (targetSessionAttrs === 'read-write' && state.read_only === 'on') refusals.push(`${host}:${port} is read-only`);
        else return this.openPool(host, port);
      } catch (err) {
        refusals.push(`${host}:${port}: ${(err as Error).message}`);
      } finally {
        await probe.end().catch(() => undefined);
      }
    }
    const wanted = targetSessionAttrs === 'any' ? 'that answers' : `that is ${targetSessionAttrs}`;
    throw Object.assign(new Error(`no PostgreSQL server ${wanted} (${refusals.join('; ')})`), { code: 'NO_SERVER' });
  }

  private openPool(host: string, port: number): pg.Pool {
    if (this.closed) throw new Error('the database connection was closed');
    const pool = new pg.Pool({ ...this.settings(), host, port, max: this.options.max ?? 10, keepAlive: true });
    // A connection that dies emits 'error' (on the pool while idle, on its client while checked out); unheard,
    // either would end the process. Both mean the server went away: look for it again on the next query.
    pool.on('error', () => this.drop(pool));
    pool.on('connect', (client) => client.on('error', () => this.drop(pool)));
    this.pool = pool;
    return pool;
  }

  private settings(): pg.ClientConfig {
    const { database, user, password, sslmode, applicationName } = this.target;
    return {
      database,
      user,
      password,
      ssl: sslmode === 'disable' ? false : { rejectUnauthorized: sslmode === 'verify-full' },
      application_name: applicationName ?? 'bazar',
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
    };
  }
}

/**
 * Applies numbered schema steps once each, in one transaction, recording them in schema_migrations. A
 * transaction-scoped advisory lock (named per service) serialises replicas that start at the same moment: the
 * second waits, then finds every step applied. `afterwards` runs inside the same transaction and lock (seeding).
 */
export async function migrate(
  db: PgDatabase,
  lockName: string,
  steps: string[],
  afterwards?: (tx: Queryable) => Promise<void>,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockName]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
                      version    integer     PRIMARY KEY,
                      applied_at timestamptz NOT NULL DEFAULT now()
                    )`);
    const applied = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    for (let version = 1; version <= steps.length; version++) {
      if (applied.has(version)) continue;
      await tx.query(steps[version - 1]);
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
    }
    await afterwards?.(tx);
  });
}
