/**
 * Keyed writes under load for the HA test: every write carries a unique key and is retried under that same key
 * until it is acknowledged, so a write that failed during a failover may be sent twice but must land once. The
 * scenario only needs this interface; the first implementation writes through a plain driver client, and a later
 * one can buy through the services (keyed by idempotency key) without touching the scenario.
 */
import postgres from 'postgres';
import { sleep } from '../chaos/load';
import type { HaCluster } from '../helpers/ha-cluster';

export interface Ack {
  key: string;
  /** When the attempt that succeeded was sent, and when its answer came (ms since the epoch). */
  sentAt: number;
  ackedAt: number;
}

export interface KeyedLoad {
  /** What one write is, for the figures line ("writes", "buys"). */
  noun: string;
  start(): void;
  /** Stops sending new keys and waits for the writes in flight (each still retried until acknowledged). */
  stop(): Promise<void>;
  /** Acknowledged writes in the order their answers came. */
  readonly acks: Ack[];
  /** Attempts that failed and were retried. */
  readonly failures: number;
  /** How many rows the database holds for each acknowledged key (read after stop()). */
  rowsPerKey(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/** Builds a load once the cluster is up (and may start what it needs, e.g. the services). */
export type LoadFactory = (cluster: HaCluster) => Promise<KeyedLoad>;

const RETRY_PAUSE_MS = 100;

/**
 * `clients` loops, each inserting fresh keys with INSERT … ON CONFLICT DO NOTHING through one postgres.js pool on
 * the cluster's multi-host URL: the pool finds the primary and follows it after a promotion, as the services do.
 */
export function driverLoad(database: string, clients = 8): LoadFactory {
  return async (cluster) => {
    // target_session_attrs=primary, not read-write: postgres.js 3.4 decides read-write from the
    // default_transaction_read_only the server reports, which a PostgreSQL >= 14 hot standby reports as off, so it
    // would settle on a standby listed first. docs/ha.md has the details.
    const sql = postgres(cluster.url(database, 'primary'), { max: clients, connect_timeout: 2, onnotice: () => {} });
    await sql`CREATE TABLE IF NOT EXISTS ha_writes (key text PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now())`;
    const run = Date.now().toString(36);
    const acks: Ack[] = [];
    let failures = 0;
    let stopping = false;
    let loops: Promise<void[]> | undefined;

    const client = async (id: number) => {
      for (let i = 0; !stopping; i++) {
        const key = `${run}-${id}-${i}`;
        for (;;) {
          const sentAt = Date.now();
          try {
            await sql`INSERT INTO ha_writes (key) VALUES (${key}) ON CONFLICT (key) DO NOTHING`;
            acks.push({ key, sentAt, ackedAt: Date.now() });
            break;
          } catch {
            // Connection lost, read-only standby, server starting: the same key again, after a pause.
            failures++;
            await sleep(RETRY_PAUSE_MS);
          }
        }
      }
    };

    return {
      noun: 'writes',
      acks,
      get failures() {
        return failures;
      },
      start() {
        loops = Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
      },
      async stop() {
        stopping = true;
        await loops;
      },
      async rowsPerKey() {
        const rows = await sql<{ key: string; n: number }[]>`
          SELECT key, count(*)::int AS n FROM ha_writes WHERE key LIKE ${`${run}-%`} GROUP BY key`;
        return new Map(rows.map((r) => [r.key, r.n]));
      },
      close: () => sql.end({ timeout: 2 }),
    };
  };
}
