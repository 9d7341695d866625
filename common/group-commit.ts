import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

interface Queued {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** A piece of work that ran in a committed transaction, waiting for the fsync that makes it durable. */
interface Done {
  item: Queued;
  ok: boolean;
  value: unknown;
}

export interface GroupCommitOptions {
  /** Most pieces of work in one transaction (more wait for the next one, in the same turn). Default 256. */
  maxBatch?: number;
  /** Called after each COMMIT with the number of pieces of work in it and the seconds it took. */
  onBatch?: (size: number, seconds: number) => void;
  /** Syncs the WAL file (default fs.fsync); tests hold or fail it here. */
  fsync?: (fd: number, done: (err: Error | null) => void) => void;
}

/**
 * Group commit for a better-sqlite3 database in WAL mode, with the fsync off the event loop.
 *
 * Writes submitted while the previous group was being synced run together in one transaction, each in its own
 * SAVEPOINT (each piece of work should itself be a db.transaction() function: nested, it becomes one, so a piece
 * that throws is rolled back alone and only its caller sees the error). The COMMIT itself does not sync
 * (synchronous=NORMAL: SQLite appends the group's pages to the WAL file, in the OS's cache); then the WAL file is
 * fsynced on libuv's thread pool while the event loop goes on reading requests, and the writes that arrive
 * meanwhile form the next group. Nobody hears "done" (or an error) before an fsync that began after their COMMIT
 * has returned, so an answered write survives power loss exactly as with synchronous=FULL, which syncs inside the
 * COMMIT and blocks the event loop for it (~1 ms here). The argument, and what it does not cover (a read may see a
 * commit up to one fsync before it is durable), is in docs/design/exactly-once.md.
 *
 * Once a GroupCommit owns a database, every write to it must go through run(): a write made beside it would be
 * answered without being synced.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;
  private syncing = false;
  /** Set when an fsync failed: what was written may be lost, so nothing more is promised (restart the process). */
  private failed?: Error;
  private readonly runBatch: Database.Transaction<(batch: Queued[]) => { ok: boolean; value: unknown }[]>;
  /** The WAL file to sync; undefined for an in-memory database (nothing to make durable). */
  private readonly wal?: string;

  constructor(
    db: Database.Database,
    private readonly options: GroupCommitOptions = {},
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
    if (!db.memory && db.pragma('journal_mode', { simple: true }) === 'wal') {
      this.wal = `${db.name}-wal`;
      // From here on the COMMIT only writes; the fsync is ours (below).
      db.pragma('synchronous = NORMAL');
      // The WAL file exists now (the pragma above read the database) and stays while this connection is open;
      // its directory entry is made durable once, as SQLite itself does on its first sync of a new WAL.
      const dir = openSync(dirname(db.name), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
  }

  run<T>(work: () => T): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // While a sync runs, its end starts the next group; otherwise the next turn does (setImmediate, not a
      // microtask: requests already read from the sockets in this turn join the group).
      if (!this.scheduled && !this.syncing) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued (in transactions of at most maxBatch), then syncs once for all of it. */
  private flush(): void {
    this.scheduled = false;
    const done: Done[] = [];
    const max = this.options.maxBatch ?? 256;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, max);
      const started = performance.now();
      let results: { ok: boolean; value: unknown }[];
      try {
        results = this.runBatch.immediate(batch);
      } catch (err) {
        // The COMMIT itself failed (disk full, I/O error): nothing in this batch happened.
        for (const item of batch) item.reject(err);
        continue;
      }
      this.options.onBatch?.(batch.length, (performance.now() - started) / 1000);
      batch.forEach((item, i) => done.push({ item, ok: results[i].ok, value: results[i].value }));
    }
    if (done.length > 0) this.sync(done);
  }

  private sync(done: Done[]): void {
    const settle = (err: Error | null) => {
      this.syncing = false;
      if (err) this.failed = err;
      for (const { item, ok, value } of done) {
        if (err) item.reject(err);
        else if (ok) item.resolve(value);
        else item.reject(value);
      }
      if (this.queue.length > 0) this.flush();
    };
    let fd: number | undefined;
    try {
      fd = this.openWal();
    } catch (err) {
      return settle(err as Error);
    }
    if (fd === undefined) return settle(null);
    this.syncing = true;
    const opened = fd;
    (this.options.fsync ?? fsync)(opened, (err) => {
      closeSync(opened);
      settle(err);
    });
  }

  /**
   * The WAL file, opened afresh for each sync so it is always the file SQLite writes to. None: an in-memory
   * database, or SQLite removed the WAL after checkpointing everything in it into the (synced) database file.
   */
  private openWal(): number | undefined {
    if (!this.wal) return undefined;
    try {
      return openSync(this.wal, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
