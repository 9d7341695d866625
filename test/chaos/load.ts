import { Shopper, type BuyHistory } from '../helpers/shopper';

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

/**
 * Clients that behave like careful shoppers (test/helpers/shopper.ts): 80 % lookups and searches, 20 % buys (half
 * of them the hot book), each buy with its own Idempotency-Key, retried with that key on timeout, connection
 * failure, 503 or "in progress"; a read that got no answer or a 5xx is tried once more. With several frontends each
 * try goes to the next one.
 */
export class Load {
  private readonly shopper: Shopper;
  readonly stats: LoadStats;
  private running = false;
  private readonly workers: Promise<void>[] = [];

  constructor(private readonly options: LoadOptions) {
    this.shopper = new Shopper({ urls: options.urls, timeoutMs: options.timeoutMs, maxRetries: options.maxRetries });
    this.stats = {
      reads: 0,
      readRetries: 0,
      buys: 0,
      retries: 0,
      negativeStockSeen: [],
      histories: [],
      latenciesMs: this.shopper.latenciesMs,
      operations: [],
    };
  }

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
    const startedAt = Date.now();
    this.stats.buys++;
    const history = await this.shopper.buy(item, key);
    this.stats.retries += history.attempts.length - 1;
    this.stats.histories.push(history);
    this.stats.operations.push({ kind: 'buy', startedAt, endedAt: Date.now(), ok: history.outcome !== 'unknown' });
    return history;
  }

  close(): Promise<void> {
    return this.shopper.close();
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

  private async read(path: string): Promise<{ status: number; json: unknown }> {
    const startedAt = Date.now();
    this.stats.reads++;
    const answer = await this.shopper.read(path);
    if (answer.retried) this.stats.readRetries++;
    this.stats.operations.push({ kind: 'read', startedAt, endedAt: Date.now(), ok: answer.ok });
    return answer;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
