/**
 * What a database driver's error means for the caller: "the server, or our connection to it, went away" (a
 * restart, a failover) rather than "bad statement". Its own module, without the driver, because the error handler
 * of every service asks it.
 */

const LOST_CODES = new Set([
  'NO_SERVER', // PgDatabase found no server that suits the URL (common/postgres.ts)
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, or still in recovery
  '25006', // read_only_sql_transaction: the server we reached is (now) a standby
]);
const LOST_MESSAGES = /^(Connection terminated|Client has encountered a connection error|Client was closed)/;

/**
 * True when a query failed because its connection or server went away. The statement may or may not have
 * committed: only a write that is idempotent may be sent again.
 */
export function isConnectionLost(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (LOST_CODES.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && LOST_MESSAGES.test(message);
}
