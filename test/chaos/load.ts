import { Agent, request } from 'undici';

export interface Attempt {
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

/** One shopper's operation as a whole (a read with its retry, a buy with all its retries), for success ratios. */
export interface Operation {
  kind: 'read' | 'buy';
  startedAt: number;
  endedAt: number;
  /** A read answered without a 5xx; a buy that ended confirmed or with a definite no (out of stock). */
  ok: boolean;
}

export interface LoadStats {
  reads: number;
  /** Reads whose first try got no answer or a 5xx (each was tried once more). */
  readRetries: number;
  buys: number;
  retries: number;
  negativeStockSeen: Array<{ item: number; stock: number; at: number }>;
  histories: BuyHistory[];
  latenciesMs: number[];
  operations: Operation[];
}

export interface LoadOptions {
  /** Every frontend: a shopper sends each operation to the next one, and a retry to the one after. */
  urls: string[];
  clients: number;
  books: number[];
  hotBook: number;
  topics: string[];
  /** Buys try once and then up to this many times again with the same key. */
  maxRetries: number;
  timeoutMs: number;
}

const RETRYABLE_CODES = new Set(['upstream_unavailable', 'request_in_progress', 'rate_limited']);

/**
 * Clients that behave like careful shoppers: 80 % lookups and searches, 20 % buys (half of them the hot book), each
 * buy with its own Idempotency-Key, retried with that key on timeout, connection failure, 503 or "in progress"; a
 * read that got no answer or a 5xx is tried once more. With several frontends each try goes to the next one, as a
 * browser falls over to the next address of a name (or a load balancer to the next backend).
 */
export class Load {
  readonly stats: LoadStats = {
    reads: 0,
    readRetries: 0,
    buys: 0,
    retries: 0,
    negativeStockSeen: [],
    histories: [],
    latenciesMs: [],
    operations: [],
  };
  /** Operations take turns at the frontends. */
  private nextFrontend = 0;
  private running = false;
  private readonly workers: Promise<void>[] = [];
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4000, connect: { timeout: 2000 } });

  constructor(private readonly options: LoadOptions) {}

  start(): void {
    this.running = true;
    for (let c = 0; c < this.options.clients; c++) this.workers.push(this.client(c));
  }

  /** Lets every client finish its current operation (a buy with all its retries), then returns. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** One buy with its retries; also used after the faults to show buys succeed again. */
  async buy(item: number, key: string): Promise<BuyHistory> {
    const history: BuyHistory = { key, item, attempts: [], outcome: 'unknown' };
    const startedAt = Date.now();
    const first = this.nextFrontend++;
    this.stats.buys++;
    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await sleep(Math.random() * Math.min(2000, 200 * 2 ** attempt));
      }
      const answer = await this.send(first + attempt, 'POST', `/buy/${item}`, { 'idempotency-key': key });
      const body = answer.json as { order_id?: string; error?: { code?: string } } | undefined;
      history.attempts.push({ at: Date.now(), status: answer.status, code: body?.error?.code, orderId: body?.order_id });
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
    this.stats.histories.push(history);
    this.stats.operations.push({ kind: 'buy', startedAt, endedAt: Date.now(), ok: history.outcome !== 'unknown' });
    return history;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async client(id: number): Promise<void> {
    const { books, hotBook, topics } = this.options;
    let seq = 0;
    while (this.running) {
      if (Math.random() < 0.2) {
        const item = Math.random() < 0.5 ? hotBook : books[Math.floor(Math.random() * books.length)];
        await this.buy(item, `chaos-${process.pid}-${id}-${seq++}`);
      } else if (Math.random() < 0.5) {
        const item = books[Math.floor(Math.random() * books.length)];
        const answer = await this.read(`/lookup/${item}`);
        const stock = (answer.json as { stock?: number } | undefined)?.stock;
        if (typeof stock === 'number' && stock < 0) this.stats.negativeStockSeen.push({ item, stock, at: Date.now() });
      } else {
        const topic = topics[Math.floor(Math.random() * topics.length)];
        await this.read(`/search/${encodeURIComponent(topic)}`);
      }
      await sleep(5 + Math.random() * 20);
    }
  }

  /** A read, tried once more (on the next frontend) when it got no answer or a 5xx; a 404 is an answer. */
  private async read(path: string): Promise<{ status: number; json: unknown }> {
    const startedAt = Date.now();
    const failed = (status: number) => status === 0 || status >= 500;
    const first = this.nextFrontend++;
    this.stats.reads++;
    let answer = await this.send(first, 'GET', path);
    if (failed(answer.status)) {
      this.stats.readRetries++;
      answer = await this.send(first + 1, 'GET', path);
    }
    this.stats.operations.push({ kind: 'read', startedAt, endedAt: Date.now(), ok: !failed(answer.status) });
    return answer;
  }

  /** One request to frontend number `frontend` (modulo how many there are). */
  private async send(frontend: number, method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) {
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
      this.stats.latenciesMs.push(performance.now() - started);
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
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
