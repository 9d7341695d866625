interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for a networked database: items submitted while a batch is on its way are sent together as the
 * next batch, one at a time. With one round trip and one commit per batch, the commit's WAL flush is shared by
 * every item in it, and a hot row (the last copies of one book) is locked once per batch, not once per item.
 * `run` must answer each item in order, or throw for the whole batch (nothing of it committed).
 */
export class Batcher<I, O> {
  private queue: Waiting<I, O>[] = [];
  private busy = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 256,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        // The next turn: whatever else arrives from the sockets in this one joins the batch.
        setImmediate(() => this.next());
      }
    });
  }

  private next(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) {
      this.busy = false;
      return;
    }
    this.run(batch.map((waiting) => waiting.item))
      .then(
        (outs) => batch.forEach((waiting, i) => waiting.resolve(outs[i])),
        (err: unknown) => batch.forEach((waiting) => waiting.reject(err)),
      )
      .finally(() => this.next());
  }
}
