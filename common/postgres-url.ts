/**
 * PostgreSQL URLs as libpq writes them, including its multi-host form
 * (`postgres://user:pass@h1:5432,h2:5432/db?target_session_attrs=read-write`), which node-postgres cannot parse.
 * One parser, used by the config check at start and by the connection code.
 */

export interface PostgresHost {
  host: string;
  port: number;
}

/**
 * Which of the listed servers to settle on (libpq's target_session_attrs). The services write, so only the
 * choices that find a server accepting writes: `any` (the first that answers), `read-write` (not a standby and
 * not read-only by default), `primary` (not a standby).
 */
export type TargetSessionAttrs = 'any' | 'read-write' | 'primary';

export interface PostgresTarget {
  hosts: PostgresHost[];
  database: string;
  user?: string;
  password?: string;
  targetSessionAttrs: TargetSessionAttrs;
  /** libpq sslmode: disable (default here), require (encrypt, trust any certificate), verify-full. */
  sslmode: 'disable' | 'require' | 'verify-full';
  applicationName?: string;
}

export class PostgresUrlError extends Error {}

const URL_SHAPE = /^postgres(?:ql)?:\/\/(?:([^@/?#]*)@)?([^/?#]*)\/([^/?#]+)(?:\?([^#]*))?$/;
const HOST_SHAPE = /^(?:([A-Za-z0-9._-]+)|\[([0-9A-Fa-f:.]+)\])(?::(\d{1,5}))?$/;
const TARGETS: TargetSessionAttrs[] = ['any', 'read-write', 'primary'];
const SSL_MODES: PostgresTarget['sslmode'][] = ['disable', 'require', 'verify-full'];

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new PostgresUrlError(`has a badly escaped ${what}`);
  }
}

/** Parses `url`, or throws a PostgresUrlError saying what is wrong (never quoting the password). */
export function parsePostgresUrl(url: string): PostgresTarget {
  const match = URL_SHAPE.exec(url);
  if (!match) throw new PostgresUrlError('must be a postgres:// or postgresql:// URL with a host and a database name');
  const [, userinfo, hostList, database, query] = match;
  const hosts = hostList.split(',').map((entry) => {
    const host = HOST_SHAPE.exec(entry);
    const port = Number(host?.[3] ?? 5432);
    if (!host || port < 1 || port > 65535) {
      throw new PostgresUrlError(`has a bad host '${entry}' (write host or host:port, comma-separated)`);
    }
    return { host: host[1] ?? host[2], port };
  });
  const target: PostgresTarget = { hosts, database: decode(database, 'database name'), targetSessionAttrs: 'any', sslmode: 'disable' };
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    target.user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'user name');
    if (colon >= 0) target.password = decode(userinfo.slice(colon + 1), 'password');
  }
  for (const [key, value] of new URLSearchParams(query ?? '')) {
    if (key === 'target_session_attrs' && TARGETS.includes(value as TargetSessionAttrs)) {
      target.targetSessionAttrs = value as TargetSessionAttrs;
    } else if (key === 'target_session_attrs') {
      throw new PostgresUrlError(`has target_session_attrs=${value}; the services write, so use one of ${TARGETS.join(', ')}`);
    } else if (key === 'sslmode' && SSL_MODES.includes(value as PostgresTarget['sslmode'])) {
      target.sslmode = value as PostgresTarget['sslmode'];
    } else if (key === 'sslmode') {
      throw new PostgresUrlError(`has sslmode=${value}; use one of ${SSL_MODES.join(', ')}`);
    } else if (key === 'application_name') {
      target.applicationName = value;
    } else {
      throw new PostgresUrlError(`has the parameter '${key}'; only target_session_attrs, sslmode and application_name are understood`);
    }
  }
  return target;
}

/** The URL with its password hidden, for messages and logs; also when the URL is malformed. */
export function redactPostgresUrl(url: string): string {
  // Up to the last '@': a password someone forgot to escape may itself hold '@', '/' or ':'.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)(.*)@/i, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return `${scheme}${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`}@`;
  });
}
