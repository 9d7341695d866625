import type { FastifyInstance } from 'fastify';

export interface ListenOptions {
  host: string;
  port: number;
  /** How long in-flight requests may take to finish after SIGTERM/SIGINT before the process exits anyway. */
  graceMs?: number;
}

/**
 * Listens, then closes with grace on SIGTERM/SIGINT: stop accepting, let in-flight requests finish, run the app's
 * onClose hooks (pools, database), exit. Past the grace deadline the process exits anyway.
 */
export async function runServer(app: FastifyInstance, { host, port, graceMs = 5000 }: ListenOptions): Promise<void> {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches every process in the group and pm2 forwards its own signal: one shutdown is enough.
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.log.error({ graceMs }, 'in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, graceMs).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  try {
    await app.listen({ host, port });
  } catch (err) {
    app.log.fatal({ err }, 'could not listen');
    process.exit(1);
  }
}

/**
 * Opens what a service cannot run without (its database) before it listens; if that fails, one clear line on
 * stderr and exit code 1, and the supervisor (pm2, systemd) starts it again later.
 */
export async function openOrExit<T>(what: string, open: () => T | Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    process.stderr.write(`could not open ${what}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
