/**
 * Throwaway PostgreSQL clusters for tests (support/postgres-cluster.ts starts them): a suite that needs one skips
 * loudly when the PostgreSQL binaries are missing, and fails under CI=true.
 */
import { postgresMissing, startPgCluster, type PgCluster } from '../../support/postgres-cluster';

export type { PgCluster, PgNode } from '../../support/postgres-cluster';

/**
 * Starts a cluster, or skips the calling suite loudly when the PostgreSQL binaries are missing; under CI=true
 * their absence is a failure, not a skip. Call from a `before` hook with its `this`.
 */
export async function startPostgres(
  context: Mocha.Context,
  options: { standby?: boolean; maxConnections?: number } = {},
): Promise<PgCluster> {
  const missing = postgresMissing();
  if (missing) {
    if (process.env.CI === 'true') throw new Error(`${missing}; CI must run the PostgreSQL tests`);
    process.stderr.write(`\n  SKIPPED (${context.test?.parent?.fullTitle()}): ${missing}\n\n`);
    context.skip();
  }
  return startPgCluster(options);
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
