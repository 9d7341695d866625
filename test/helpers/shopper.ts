import { Agent, request } from 'undici';

export interface Attempt {
  /** When the request was sent and when its answer (or the failure) came, ms since the epoch. */
  sentAt: number;
  at: number;
  /** HTTP status, or 0 when no answer came (timeout, refused, reset). */
  status: number;
  code?: string;
  orderId?: string;
}

export interface BuyHistory {
  key: string;
  item: number;
  attempts: Attempt[];
  /** 'confirmed' (a 201), 'rejected' (a definite 4xx such as out_of_stock), 'unknown' (gave up after retries). */
  outcome: 'confirmed' | 'rejected' | 'unknown';
}

export interface ShopperOptions {
  /**
   * Every frontend's origin: each operation goes to the next one and each retry to the one after, as a browser
   * falls over to the next address of a name (or a load balancer to the next backend).
   */
  urls: string[];
  /** A request not answered within this is given up and counts as no answer. */
  timeoutMs: number;
  /** A buy tries once and then up to this many times again with the same key. */
  maxRetries: number;
  /** Retry pauses are jittered over 200, 400, 800 … ms up to this (default 2000 ms). */
  maxBackoffMs?: number;
}

/** Answers a careful client retries with the same key: the outcome is not known yet, or the store asked to wait. */
const RETRYABLE_CODES = new Set(['upstream_unavailable', 'request_in_progress', 'rate_limited']);

/** No answer or a 5xx: a read worth trying once more (a 404, the unknown topic, is an answer). */
const readFailed = (status: number) => status === 0 || status >= 500;

/**
 * A client of the store's public API as a careful shopper uses it: each buy with its own Idempotency-Key, retried
 * with that same key on no answer (timeout, refused, reset), 503, "in progress" or "rate limited", after a jittered
 * pause; every other answer is final. A read that got no answer or a 5xx is tried once more. Used by the chaos
 * suite (both modes) and the HA test.
 */
export class Shopper {
  /** Milliseconds of every request that got an answer. */
  readonly latenciesMs: number[] = [];
  /** Operations take turns at the frontends. */
  private nextFrontend = 0;
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4000, connect: { timeout: 2000 } });

  constructor(private readonly options: ShopperOptions) {}

  async buy(item: number, key: string): Promise<BuyHistory> {
    const history: BuyHistory = { key, item, attempts: [], outcome: 'unknown' };
    const first = this.nextFrontend++;
    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      if (attempt > 0) {
        const cap = Math.min(this.options.maxBackoffMs ?? 2000, 200 * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
      }
      const sentAt = Date.now();
      const answer = await this.send('POST', `/buy/${item}`, { 'idempotency-key': key }, first + attempt);
      const body = answer.json as { order_id?: string; error?: { code?: string } } | undefined;
      history.attempts.push({ sentAt, at: Date.now(), status: answer.status, code: body?.error?.code, orderId: body?.order_id });
      if (answer.status === 201) {
        history.outcome = 'confirmed';
        break;
      }
      const retryable = answer.status === 0 || answer.status === 503 || RETRYABLE_CODES.has(body?.error?.code ?? '');
      if (!retryable) {
        history.outcome = 'rejected';
        break;
      }
    }
    return history;
  }

  /** A GET tried once more, on the next frontend, when it got no answer or a 5xx; `retried` says whether it was. */
  async read(path: string): Promise<{ status: number; json: unknown; ok: boolean; retried: boolean }> {
    const first = this.nextFrontend++;
    let answer = await this.send('GET', path, {}, first);
    const retried = readFailed(answer.status);
    if (retried) answer = await this.send('GET', path, {}, first + 1);
    return { ...answer, ok: !readFailed(answer.status), retried };
  }

  /**
   * One request to frontend number `frontend` (modulo how many there are; by default the next one); status 0 when
   * no answer came in time.
   */
  async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string> = {},
    frontend = this.nextFrontend++,
  ): Promise<{ status: number; json: unknown }> {
    const started = performance.now();
    const url = this.options.urls[frontend % this.options.urls.length];
    try {
      const res = await request(`${url}${path}`, {
        method,
        headers: { accept: 'application/json', ...headers },
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await res.body.text();
      this.latenciesMs.push(performance.now() - started);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.statusCode, json };
    } catch {
      return { status: 0, json: undefined };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
