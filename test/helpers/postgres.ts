/**
 * Throwaway PostgreSQL clusters for mocha suites (support/postgres-cluster.ts makes them): a suite is skipped loudly
 * when the PostgreSQL binaries are missing, and fails instead under CI=true.
 */
import { BIN_DIRS, PG_BIN, startCluster, type PgCluster } from '../../support/postgres-cluster';

export type { PgCluster, PgNode } from '../../support/postgres-cluster';

/**
 * Starts a cluster, or skips the calling suite loudly when the PostgreSQL binaries are missing; under CI=true
 * their absence is a failure, not a skip. Call from a `before` hook with its `this`.
 */
export async function startPostgres(
  context: Mocha.Context,
  options: { standby?: boolean; maxConnections?: number } = {},
): Promise<PgCluster> {
  if (!PG_BIN) {
    const message = `PostgreSQL binaries not found in ${BIN_DIRS.join(', ')} (Debian: apt-get install postgresql)`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI must run the PostgreSQL tests`);
    process.stderr.write(`\n  SKIPPED (${context.test?.parent?.fullTitle()}): ${message}\n\n`);
    context.skip();
  }
  return startCluster(options);
}

/**
 * One cluster for the enclosing describe block: started before its first test, stopped after its last. Returns
 * a getter, because the cluster exists only once the `before` hook has run.
 */
export function usePostgres(options: { standby?: boolean; maxConnections?: number } = {}): () => PgCluster {
  let cluster: PgCluster | undefined;
  before(async function () {
    this.timeout(120_000);
    cluster = await startPostgres(this, options);
  });
  after(() => cluster?.stop());
  return () => cluster!;
}
