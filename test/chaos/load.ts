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

export interface LoadStats {
  reads: number;
  readFailures: number;
  buys: number;
  retries: number;
  negativeStockSeen: Array<{ item: number; stock: number; at: number }>;
  histories: BuyHistory[];
  latenciesMs: number[];
}

export interface LoadOptions {
  url: string;
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
 * buy with its own Idempotency-Key, retried with that key on timeout, connection failure, 503 or "in progress".
 */
export class Load {
  readonly stats: LoadStats = {
    reads: 0,
    readFailures: 0,
    buys: 0,
    retries: 0,
    negativeStockSeen: [],
    histories: [],
    latenciesMs: [],
  };
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
    this.stats.buys++;
    for (let attempt = 0; attempt <= this.options.maxRetries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await sleep(Math.random() * Math.min(2000, 200 * 2 ** attempt));
      }
      const answer = await this.send('POST', `/buy/${item}`, { 'idempotency-key': key });
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
        const answer = await this.send('GET', `/lookup/${item}`);
        this.read(answer.status);
        const stock = (answer.json as { stock?: number } | undefined)?.stock;
        if (typeof stock === 'number' && stock < 0) this.stats.negativeStockSeen.push({ item, stock, at: Date.now() });
      } else {
        const topic = topics[Math.floor(Math.random() * topics.length)];
        this.read((await this.send('GET', `/search/${encodeURIComponent(topic)}`)).status);
      }
      await sleep(5 + Math.random() * 20);
    }
  }

  private read(status: number): void {
    this.stats.reads++;
    // A 404 (the unknown topic) is an answer; no answer or a 5xx is a failure.
    if (status === 0 || status >= 500) this.stats.readFailures++;
  }

  private async send(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) {
    const started = performance.now();
    try {
      const res = await request(`${this.options.url}${path}`, {
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
