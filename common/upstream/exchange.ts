import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';

/** An HTTP answer from an upstream, its body read to the end (so the connection goes back to the pool). */
export interface Answer {
  statusCode: number;
  json: unknown;
  retryAfter?: string;
}

/**
 * No HTTP answer: refused, reset, timed out. `reason` is short and safe to show on /status (no bodies, no headers);
 * the original error stays in `cause` for the log.
 */
export class TransportError extends Error {
  constructor(
    readonly reason: string,
    override readonly cause: unknown,
  ) {
    super(reason);
  }
}

/**
 * A call's deadline, in the EventEmitter form of `signal` that undici accepts (it reads `aborted` and listens for
 * "abort"; with no `reason` it fails the call with its own RequestAbortedError). An AbortController plus the
 * listener undici adds to it cost ~5 µs per call (EventTarget); this costs ~0.1 µs.
 */
class Deadline extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/**
 * One request to one origin within `timeoutMs` (connect, queueing, headers and body). Positional arguments, not an
 * options object: this runs for every upstream call, and the hot path avoids allocations it can.
 */
export async function exchange(
  dispatcher: Dispatcher,
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
): Promise<Answer> {
  // Not AbortSignal.timeout(): its timer cannot be cancelled, so every call would leave one behind that fires
  // (building a DOMException) long after the answer; profiling showed it on the hot path.
  const deadline = new Deadline();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  try {
    const res = await dispatcher.request({ origin, path, method, headers, body, signal: deadline });
    const text = await res.body.text();
    const retryAfter = res.headers['retry-after'];
    return {
      statusCode: res.statusCode,
      json: parseJson(text),
      retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    };
  } catch (err) {
    throw new TransportError(shortReason(err, timeoutMs), err);
  } finally {
    clearTimeout(timer);
  }
}

/** What went wrong, in a few words fit for a status page. */
export function shortReason(err: unknown, timeoutMs: number): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'UND_ERR_ABORTED':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `no answer within ${timeoutMs} ms`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return typeof code === 'string' ? `transport error (${code.slice(0, 40)})` : 'transport error';
  }
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return text.slice(0, 200);
  }
}
