import { Client, request, type Dispatcher } from 'undici';
import type { FastifyBaseLogger } from 'fastify';
import { authHeaders } from '../../common/auth';
import type { ChangeEvent, ChangeHello } from '../../common/change-event';
import { AppError } from '../../common/errors';
import type { CatalogClient } from '../clients/catalog-client';

export interface ChangeSubscriberOptions {
  /** The catalog replica whose changes this follows. */
  origin: string;
  token?: string;
  /** For the acknowledgements, sent to `origin` over the frontend's ordinary keep-alive pool to it. */
  catalog: CatalogClient;
  log: FastifyBaseLogger;
  /** A stream silent for this long (the catalog sends a heartbeat every 5 s) is taken for dead. */
  idleTimeoutMs?: number;
  /** Tests may pass a dispatcher; by default the stream gets its own connection, outside the request pool. */
  dispatcher?: Dispatcher;
  /** `ackTimeoutMs`: how long the catalog waits for our ack before cutting us off. */
  onConnect(ackTimeoutMs: number): void;
  onDisconnect(): void;
  onChange(event: ChangeEvent): void;
}

/**
 * Keeps one server-sent-events stream open to one catalog replica's GET /events, applies each change through onChange and
 * acknowledges it (POST /events/ack): the catalog holds the write's answer until every subscriber has done so.
 * Acks are coalesced: at most one is in flight, and it carries the latest sequence number applied.
 */
export class ChangeSubscriber {
  private readonly abort = new AbortController();
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private stream?: AbortController;
  private subscriber?: string;
  private applied = 0;
  private acked = 0;
  private acking = false;
  private retryMs = 100;
  private running?: Promise<void>;

  constructor(private readonly options: ChangeSubscriberOptions) {
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ?? new Client(options.origin, { bodyTimeout: 0, headersTimeout: 5000, connect: { timeout: 1000 } });
  }

  /** True from the stream's hello until it is lost. */
  get connected(): boolean {
    return this.subscriber !== undefined;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.stream?.abort();
    await this.running;
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.follow();
      } catch (err) {
        if (!this.abort.signal.aborted) this.options.log.warn({ err: String(err) }, 'change stream lost; cache off until it is back');
      }
      this.disconnected();
      if (this.abort.signal.aborted) return;
      await sleep(this.retryMs, this.abort.signal);
      this.retryMs = Math.min(this.retryMs * 2, 2000);
    }
  }

  private async follow(): Promise<void> {
    const stream = (this.stream = new AbortController());
    const idleMs = this.options.idleTimeoutMs ?? 15_000;
    let idle: NodeJS.Timeout | undefined;
    const resetIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => stream.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
    };
    resetIdle();
    try {
      const res = await request(`${this.options.origin}/events`, {
        dispatcher: this.dispatcher,
        headers: { ...authHeaders(this.options.token), accept: 'text/event-stream' },
        signal: stream.signal,
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`GET /events answered ${res.statusCode}`);
      }
      res.body.setEncoding('utf8');
      let buffer = '';
      for await (const chunk of res.body as AsyncIterable<string>) {
        resetIdle();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.onFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.ack();
      }
      throw new Error('the catalog ended the change stream');
    } finally {
      clearTimeout(idle);
    }
  }

  private onFrame(frame: string): void {
    let event = 'message';
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (event === 'hello') {
      const hello = JSON.parse(data) as Partial<ChangeHello> & Pick<ChangeHello, 'subscriber' | 'seq'>;
      this.subscriber = hello.subscriber;
      this.applied = this.acked = hello.seq;
      this.retryMs = 100;
      this.options.onConnect(hello.ackTimeoutMs ?? 300);
      this.options.log.info({ subscriber: hello.subscriber, seq: hello.seq }, 'change stream connected');
    } else if (event === 'change' && this.subscriber) {
      const change = JSON.parse(data) as ChangeEvent;
      // TCP keeps order, so a gap means a bug somewhere; dropping everything is the safe answer.
      if (change.seq !== this.applied + 1) {
        this.options.log.warn({ expected: this.applied + 1, got: change.seq }, 'change stream gap; flushing');
        change.ids = 'all';
      }
      this.options.onChange(change);
      this.applied = Math.max(this.applied, change.seq);
    }
  }

  private ack(): void {
    if (this.acking || !this.subscriber || this.applied <= this.acked) return;
    const subscriber = this.subscriber;
    const seq = this.applied;
    this.acking = true;
    this.options.catalog
      .ack(this.options.origin, subscriber, seq, { log: this.options.log, requestId: `ack-${seq}` })
      .then(
        () => {
          if (this.subscriber === subscriber) this.acked = Math.max(this.acked, seq);
        },
        (err: unknown) => {
          // Cut off (404) or unreachable: drop the stream; we flush and subscribe again.
          if (!(err instanceof AppError && err.statusCode === 404)) this.options.log.warn({ err: String(err) }, 'change ack failed');
          if (this.subscriber === subscriber) this.stream?.abort(new Error('ack refused'));
        },
      )
      .finally(() => {
        this.acking = false;
        if (this.subscriber === subscriber) this.ack();
      });
  }

  private disconnected(): void {
    if (this.subscriber !== undefined || this.applied > 0) this.options.log.info('change stream closed; cache off');
    this.subscriber = undefined;
    this.options.onDisconnect();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}
