/** Talking to the Bazar services: one JSON call, and every way it can fail turned into a CliError with an exit code. */
import { ERROR_STATUS, isErrorCode, type ErrorCode } from '../common/errors';
import type { ErrorBody } from '../common/schemas';

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3 } as const;

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** What to do next, per error code the services answer with. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  out_of_stock: "pick another book, or bring new stock with 'bazar restock'",
  book_not_found: "find item numbers with 'bazar search <topic>'",
  topic_not_found: "list the topics with 'bazar topics'",
  order_not_found: "list orders with 'bazar orders'",
  unauthorized: 'set BAZAR_TOKEN to the token the services were started with',
  invalid_item_number: 'item numbers are positive integers',
  validation_failed: "check the arguments (see 'bazar --help')",
  rate_limited: 'wait a little before buying again',
  upstream_unavailable: 'try again in a few seconds',
};

/** Statuses that mean "the store said no" (exit 1), as opposed to "the command was wrong" (2) or "away" (3). */
const REFUSED = new Set([401, 403, 404, 409, 422, 429]);

function exitFor(status: number): number {
  if (REFUSED.has(status)) return EXIT.refused;
  return status >= 400 && status < 500 ? EXIT.usage : EXIT.unavailable;
}

export interface Target {
  /** "frontend", "catalog" or "order": named in messages so the user knows which URL to fix. */
  service: string;
  origin: string;
  /** The option and variable that set this origin, for the "what to do" part of messages. */
  setting: string;
  token?: string;
}

function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if ((err as Error).name === 'TimeoutError') return 'no answer in time';
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

export async function callJson<T>(
  target: Target,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(target.origin + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    throw new CliError(
      EXIT.unavailable,
      `cannot reach the ${target.service} at ${target.origin} (${reasonOf(err)}); start the store ('npm start') or set ${target.setting}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(
      EXIT.unavailable,
      `the server at ${target.origin} answered ${res.status} but not as a Bazar ${target.service} does; check ${target.setting}`,
    );
  }
  if (res.ok) return json as T;
  const error = (json as Partial<ErrorBody> | null)?.error;
  // A code this CLI knows is judged by its declared status; anything else (a newer service) by the answer's.
  const code = isErrorCode(error?.code) ? error.code : undefined;
  const message = error?.message ?? `HTTP ${res.status}`;
  if (code === 'not_found') {
    throw new CliError(EXIT.usage, `the server at ${target.origin} has no ${method} ${path}; is ${target.setting} the ${target.service}?`);
  }
  const hint = code && HINTS[code];
  const exit = exitFor(code ? ERROR_STATUS[code] : res.status);
  const line = `${message}${hint ? `; ${hint}` : ''}`;
  throw new CliError(exit, exit === EXIT.unavailable && !hint ? `${line}; try again shortly` : line);
}
