import type Database from 'better-sqlite3';

interface Queued {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for a better-sqlite3 database: write transactions submitted during one turn of the event loop run
 * together inside one outer transaction, so N concurrent writes cost one fsync instead of N (with
 * synchronous=FULL an fsync is ~1 ms here, and it blocks the event loop). Each piece of work should itself be a
 * db.transaction() function: nested, it becomes a SAVEPOINT, so one that throws is rolled back alone and only its
 * caller sees the error. No caller hears "done" before the outer COMMIT has returned, so durability is unchanged.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;
  private readonly runBatch: Database.Transaction<(batch: Queued[]) => { ok: boolean; value: unknown }[]>;

  constructor(
    db: Database.Database,
    private readonly options: { maxBatch?: number; onBatch?: (size: number, seconds: number) => void } = {},
  ) {
    this.runBatch = db.transaction((batch: Queued[]) =>
      batch.map(({ work }) => {
        try {
          return { ok: true, value: work() };
        } catch (err) {
          return { ok: false, value: err };
        }
      }),
    );
  }

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: requests already read from the sockets in this turn join the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const max = this.options.maxBatch ?? 256;
    const batch = this.queue.splice(0, max);
    this.scheduled = this.queue.length > 0;
    if (this.scheduled) setImmediate(() => this.flush());
    const started = performance.now();
    let results: { ok: boolean; value: unknown }[];
    try {
      results = this.runBatch.immediate(batch);
    } catch (err) {
      // The COMMIT itself failed (disk full, I/O error): nothing in the batch is durable.
      for (const item of batch) item.reject(err);
      return;
    }
    this.options.onBatch?.(batch.length, (performance.now() - started) / 1000);
    batch.forEach((item, i) => (results[i].ok ? item.resolve(results[i].value) : item.reject(results[i].value)));
  }
}
