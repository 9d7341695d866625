import type { Dispatcher } from 'undici';

/** An HTTP answer from an upstream, its body read to the end (so the connection goes back to the pool). */
export interface Answer {
  statusCode: number;
  /** The body parsed as JSON; the text itself (up to 200 characters) when it is not JSON; undefined when empty. */
  json: unknown;
  /** The body as sent: a relay may pass it on as it is instead of serializing `json` again. */
  text: string;
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

/** The deadline's own error, named like undici's when a request is aborted. */
class DeadlineError extends Error {
  readonly code = 'UND_ERR_ABORTED';
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/**
 * Collects one answer through undici's dispatch interface: the chunks of the body into one string, the status and
 * the one header we use. undici's request() would wrap the body in a Readable stream that the caller then reads
 * back; this is the same work without the stream, one object per call.
 *
 * The deadline covers everything (queueing for a connection, connecting, headers, body): when it passes, the call
 * fails at once and the request is aborted, now if it has started, or as soon as it would start.
 */
class AnswerCollector implements Dispatcher.DispatchHandler {
  private statusCode = 0;
  private retryAfter?: string;
  private chunks: Buffer[] = [];
  private controller?: Dispatcher.DispatchController;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (err: TransportError) => void,
    private readonly timeoutMs: number,
  ) {
    // Not AbortSignal.timeout(): its timer cannot be cancelled, so every call would leave one behind that fires
    // (building a DOMException) long after the answer; profiling showed it on the hot path.
    this.timer = setTimeout(() => this.fail(new DeadlineError(timeoutMs)), timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new DeadlineError(this.timeoutMs));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.statusCode = statusCode;
    const retryAfter = headers['retry-after'];
    if (typeof retryAfter === 'string') this.retryAfter = retryAfter;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const text = this.chunks.length === 1 ? this.chunks[0].toString() : Buffer.concat(this.chunks).toString();
    this.chunks = [];
    this.resolve({ statusCode: this.statusCode, json: parseJson(text), text, retryAfter: this.retryAfter });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.controller?.abort(err);
    this.reject(new TransportError(shortReason(err, this.timeoutMs), err));
  }
}

/**
 * One request to one origin within `timeoutMs` (connect, queueing, headers and body). Positional arguments, not an
 * options object: this runs for every upstream call, and the hot path avoids allocations it can.
 */
export function exchange(
  dispatcher: Dispatcher,
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const collector = new AnswerCollector(resolve, reject, timeoutMs);
    try {
      dispatcher.dispatch({ origin, path, method: method as Dispatcher.HttpMethod, headers, body }, collector);
    } catch (err) {
      // A closed or destroyed dispatcher throws here rather than calling back.
      collector.onResponseError(undefined as unknown as Dispatcher.DispatchController, err as Error);
    }
  });
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
