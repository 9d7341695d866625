/**
 * Throwaway PostgreSQL clusters for mocha suites (support/postgres-server.ts makes them): a suite is skipped loudly
 * when the PostgreSQL binaries are missing, and fails instead under CI=true.
 */
import {
  missingPostgresMessage,
  postgresInstalled,
  startThrowawayCluster,
  type PgCluster,
  type ThrowawayOptions,
} from '../../support/postgres-server';

export type { PgCluster, PgNode } from '../../support/postgres-server';

/**
 * Skips the calling suite loudly when the PostgreSQL binaries are missing; under CI=true their absence is a
 * failure, not a skip. Call from a `before` hook with its `this`.
 */
export function requirePostgres(context: Mocha.Context): void {
  if (postgresInstalled()) return;
  const message = missingPostgresMessage();
  if (process.env.CI === 'true') throw new Error(`${message}; CI must run the PostgreSQL tests`);
  process.stderr.write(`\n  SKIPPED (${context.test?.parent?.fullTitle()}): ${message}\n\n`);
  context.skip();
}

/** Starts a cluster, or skips the calling suite as `requirePostgres` does. Call from a `before` hook with its `this`. */
export async function startPostgres(context: Mocha.Context, options: ThrowawayOptions = {}): Promise<PgCluster> {
  requirePostgres(context);
  return startThrowawayCluster(options);
}

/**
 * One cluster for the enclosing describe block: started before its first test, stopped after its last. Returns
 * a getter, because the cluster exists only once the `before` hook has run.
 */
export function usePostgres(options: ThrowawayOptions = {}): () => PgCluster {
  let cluster: PgCluster | undefined;
  before(async function () {
    this.timeout(120_000);
    cluster = await startPostgres(this, options);
  });
  after(() => cluster?.stop());
  return () => cluster!;
}
