import { Shopper, type BuyHistory } from '../helpers/shopper';

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

/**
 * Clients that behave like careful shoppers: 80 % lookups and searches, 20 % buys (half of them the hot book), each
 * buy with its own Idempotency-Key, retried with that key on timeout, connection failure, 503 or "in progress".
 */
export class Load {
  private readonly shopper: Shopper;
  readonly stats: LoadStats;
  private running = false;
  private readonly workers: Promise<void>[] = [];

  constructor(private readonly options: LoadOptions) {
    this.shopper = new Shopper({ url: options.url, timeoutMs: options.timeoutMs, maxRetries: options.maxRetries });
    this.stats = {
      reads: 0,
      readFailures: 0,
      buys: 0,
      retries: 0,
      negativeStockSeen: [],
      histories: [],
      latenciesMs: this.shopper.latenciesMs,
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
    this.stats.buys++;
    const history = await this.shopper.buy(item, key);
    this.stats.retries += history.attempts.length - 1;
    this.stats.histories.push(history);
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
        const answer = await this.shopper.send('GET', `/lookup/${item}`);
        this.read(answer.status);
        const stock = (answer.json as { stock?: number } | undefined)?.stock;
        if (typeof stock === 'number' && stock < 0) this.stats.negativeStockSeen.push({ item, stock, at: Date.now() });
      } else {
        const topic = topics[Math.floor(Math.random() * topics.length)];
        this.read((await this.shopper.send('GET', `/search/${encodeURIComponent(topic)}`)).status);
      }
      await sleep(5 + Math.random() * 20);
    }
  }

  private read(status: number): void {
    this.stats.reads++;
    // A 404 (the unknown topic) is an answer; no answer or a 5xx is a failure.
    if (status === 0 || status >= 500) this.stats.readFailures++;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
