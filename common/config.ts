/**
 * Parsing helpers for the per-service config modules. Each service reads `process.env` in exactly one place
 * (its own config.ts) and hands the environment to these helpers, which fail fast with a message that names the
 * variable, the bad value and what would be accepted.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { PostgresUrlError, parsePostgresUrl, redactPostgresUrl, type PostgresTarget } from './postgres-url';

export type Env = Record<string, string | undefined>;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Where a service keeps its data: SQLite at DB_PATH, or PostgreSQL when DATABASE_URL is set. */
export type DatabaseBackend = 'sqlite' | 'postgres';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Where each service listens when PORT is not set; also the address its OpenAPI document names by default. */
export const DEFAULT_PORTS = { frontend: 3000, catalog: 3001, order: 3002 } as const;
export type ServiceName = keyof typeof DEFAULT_PORTS;

export function localUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export interface CommonConfig {
  host: string;
  port: number;
  /** The address clients use (PUBLIC_URL), named in the service's OpenAPI document; by default the bound address. */
  publicUrl: string | undefined;
  logLevel: LogLevel;
  /** Shared secret between the three services; undefined only when bound to loopback. */
  token: string | undefined;
}

function present(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function readPort(env: Env, name: string, fallback: number): number {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new ConfigError(`${name} must be a TCP port number between 0 and 65535, got '${raw}'`);
  }
  return Number(raw);
}

export function readPositiveInt(env: Env, name: string, fallback: number): number {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^[1-9]\d{0,8}$/.test(raw)) throw new ConfigError(`${name} must be a positive integer, got '${raw}'`);
  return Number(raw);
}

/** An on/off switch: on, true, 1, yes / off, false, 0, no (any case); anything else is a ConfigError. */
export function readSwitch(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be on or off, got '${env[name]}'`);
}

/** Replicas one service may list for another: a call's "already tried" set is a 31-bit mask. */
export const MAX_ORIGINS = 31;

/**
 * One origin (`http://10.0.0.5:3001`, reduced to its origin) or a comma-separated list of them: the replicas of one
 * upstream. The same origin twice is a ConfigError (it would get twice the traffic).
 */
export function readUrls(env: Env, name: string, fallback: string): string[] {
  const raw = present(env, name) ?? fallback;
  const origins = raw.split(',').map((part) => {
    if (part.trim() === '') throw new ConfigError(`${name} must be a comma-separated list of origins, got an empty entry in '${raw}'`);
    return parseOrigin(name, part.trim());
  });
  const repeated = origins.find((origin, i) => origins.indexOf(origin) !== i);
  if (repeated) throw new ConfigError(`${name} lists ${repeated} more than once`);
  if (origins.length > MAX_ORIGINS) throw new ConfigError(`${name} lists ${origins.length} origins; at most ${MAX_ORIGINS}`);
  return origins;
}

function parseOrigin(name: string, raw: string): string {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an absolute http:// URL such as http://127.0.0.1:3001, got '${raw}'`);
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError(`${name} must be an origin without a path (like http://127.0.0.1:3001), got '${raw}'`);
  }
  return url.origin;
}

/**
 * A PostgreSQL URL as libpq writes it, one host or several (`postgres://u:p@h1:5432,h2:5432/db?target_session_attrs=read-write`);
 * undefined when the variable is unset. Checked here so a typo stops the service at start with a message that
 * names the variable, never shows the password, and says what is accepted. With DATABASE_PASSWORD_FILE the URL
 * carries no password and the file's contents become it: a deployment host keeps the secret out of its env file,
 * pm2's saved dump and the process environment, as it does the token (BAZAR_TOKEN_FILE).
 */
export function readDatabaseUrl(env: Env, name: string): string | undefined {
  const raw = present(env, name);
  if (raw === undefined) return undefined;
  let target: PostgresTarget;
  try {
    target = parsePostgresUrl(raw);
  } catch (err) {
    if (!(err instanceof PostgresUrlError)) throw err;
    throw new ConfigError(`${name} ${err.message}, got '${redactPostgresUrl(raw)}' (e.g. postgres://bazar@127.0.0.1:5432/catalog)`);
  }
  const passwordFile = present(env, 'DATABASE_PASSWORD_FILE');
  if (passwordFile === undefined) return raw;
  if (target.password !== undefined) throw new ConfigError(`${name} has a password and DATABASE_PASSWORD_FILE is set: use one`);
  if (target.user === undefined) throw new ConfigError(`${name} names no user, whose password DATABASE_PASSWORD_FILE would be`);
  const password = readSecretFile('DATABASE_PASSWORD_FILE', passwordFile);
  // The URL's user part as given, then the password escaped: the parser decodes both.
  return raw.replace(/^(postgres(?:ql)?:\/\/[^@/?#:]*)@/, (_all, head: string) => `${head}:${encodeURIComponent(password)}@`);
}

export function readPath(env: Env, name: string, fallback: string): string {
  return present(env, name) ?? fallback;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export function readCommon(env: Env, defaultPort: number): CommonConfig {
  const host = present(env, 'HOST') ?? '127.0.0.1';
  if (host !== 'localhost' && isIP(host) === 0) {
    throw new ConfigError(`HOST must be an IP address to bind (e.g. 127.0.0.1 or 0.0.0.0), got '${host}'`);
  }
  const logLevel = (present(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }
  const token = readToken(env);
  if (token !== undefined && !/^[\x21-\x7e]{16,256}$/.test(token)) {
    throw new ConfigError('BAZAR_TOKEN must be 16 to 256 visible ASCII characters (try: openssl rand -hex 32)');
  }
  if (token === undefined && !isLoopback(host)) {
    throw new ConfigError(
      `HOST is ${host}, which other machines can reach, so BAZAR_TOKEN must be set ` +
        '(the same value on all three services; try: openssl rand -hex 32)',
    );
  }
  const rawPublicUrl = present(env, 'PUBLIC_URL');
  const publicUrl = rawPublicUrl === undefined ? undefined : parseOrigin('PUBLIC_URL', rawPublicUrl);
  return { host, port: readPort(env, 'PORT', defaultPort), publicUrl, logLevel: logLevel as LogLevel, token };
}

/**
 * BAZAR_TOKEN, or the contents of the file BAZAR_TOKEN_FILE names. A deployment host uses the file, so the secret is
 * neither in the environment pm2 saves with `pm2 save` nor in anything a package install script could read.
 */
function readToken(env: Env): string | undefined {
  const inline = present(env, 'BAZAR_TOKEN');
  const file = present(env, 'BAZAR_TOKEN_FILE');
  if (file === undefined) return inline;
  if (inline !== undefined) throw new ConfigError('set BAZAR_TOKEN or BAZAR_TOKEN_FILE, not both');
  return readSecretFile('BAZAR_TOKEN_FILE', file);
}

/** A secret kept in a file (the token, the database password): its contents without surrounding white space. */
function readSecretFile(name: string, file: string): string {
  let contents: string;
  try {
    contents = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const secret = contents.trim();
  if (secret === '') throw new ConfigError(`${name} ${file} is empty`);
  return secret;
}

/** Runs a config reader and turns a ConfigError into one clear line on stderr and exit code 78 (EX_CONFIG). */
export function loadOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
