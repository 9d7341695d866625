/** Talking to the Bazar services: one JSON call, and every way it can fail turned into a CliError with an exit code. */

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3 } as const;

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** What to do next, per error code the services answer with (common/errors.ts). */
const HINTS: Record<string, string> = {
  out_of_stock: "pick another book, or bring new stock with 'bazar restock'",
  book_not_found: "find item numbers with 'bazar search <topic>'",
  topic_not_found: "list the topics with 'bazar topics'",
  order_not_found: "list orders with 'bazar orders'",
  unauthorized: 'set BAZAR_TOKEN to the token the services were started with',
  invalid_item_number: 'item numbers are positive integers',
  validation_failed: "check the arguments (see 'bazar --help')",
  upstream_unavailable: 'try again in a few seconds',
};

const REFUSED = new Set([401, 403, 404, 409, 422]);

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
  const error = (json as { error?: { code?: string; message?: string } }).error ?? {};
  const code = error.code ?? 'unknown';
  const message = error.message ?? `HTTP ${res.status}`;
  if (code === 'not_found') {
    throw new CliError(EXIT.usage, `the server at ${target.origin} has no ${method} ${path}; is ${target.setting} the ${target.service}?`);
  }
  const hint = HINTS[code];
  const line = `${message}${hint ? `; ${hint}` : ''}`;
  if (REFUSED.has(res.status)) throw new CliError(EXIT.refused, line);
  if (res.status >= 400 && res.status < 500) throw new CliError(EXIT.usage, line);
  throw new CliError(EXIT.unavailable, `${line}${hint ? '' : '; try again shortly'}`);
}
