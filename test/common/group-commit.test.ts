import { expect } from 'chai';
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { GroupCommit } from '../../common/group-commit';
import { openDatabase } from '../../common/sqlite';
import { tempDir } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

describe('GroupCommit', () => {
  it('when writes are submitted in one turn, then they share one transaction, each gets its own result, and one failure rolls back only itself', async () => {
    const tmp = tempDir();
    const db = openDatabase(join(tmp.dir, 'g.db'));
    try {
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      const insert = db.prepare<[number, string | null]>('INSERT INTO t (id, v) VALUES (?, ?)');
      const pair = db.transaction((id: number, v: string | null) => {
        insert.run(id, 'first');
        insert.run(id + 100, v); // NOT NULL fails for null, after the first insert ran
        return id;
      });
      const batches: number[] = [];
      const commits = new GroupCommit(db, { onBatch: (size) => batches.push(size) });
      const results = await Promise.allSettled([1, 2, 3, 4].map((id) => commits.run(() => pair(id, id === 3 ? null : `v${id}`))));
      expect(batches).to.deep.equal([4]);
      expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((results[0] as PromiseFulfilledResult<number>).value).to.equal(1);
      const ids = db.prepare('SELECT id FROM t ORDER BY id').pluck().all();
      expect(ids).to.deep.equal([1, 2, 4, 101, 102, 104]);

      // A later turn gets its own batch.
      await commits.run(() => pair(5, 'v5'));
      expect(batches).to.deep.equal([4, 1]);
    } finally {
      db.close();
      tmp.remove();
    }
  });

  it('when more than maxBatch writes are waiting, then they are committed in several batches and all succeed', async () => {
    await withTable(async (db, insert) => {
    const batches: number[] = [];
    const commits = new GroupCommit(db, { maxBatch: 3, onBatch: (size) => batches.push(size) });
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((id) => commits.run(() => insert.run(id))));
    expect(batches).to.deep.equal([3, 3, 1]);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).to.equal(7);
    });
  });

  it('when a group is being synced, then its writers are not answered yet, and writes arriving meanwhile are committed as the next group', async () => {
    await withTable(async (db, insert) => {
    const batches: number[] = [];
    const syncs: Array<() => void> = [];
    const commits = new GroupCommit(db, {
      onBatch: (size) => batches.push(size),
      fsync: (_fd, done) => syncs.push(() => done(null)),
    });
    const answered: number[] = [];
    const first = [1, 2].map((id) => commits.run(() => insert.run(id)).then(() => answered.push(id)));
    await waitFor('a sync to start', () => syncs.length === 1);
    // Committed (a read sees the rows) but not yet durable: nobody has been told.
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).to.equal(2);
    const second = [3, 4, 5].map((id) => commits.run(() => insert.run(id)).then(() => answered.push(id)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered, 'no answer before the sync').to.deep.equal([]);
    expect(batches, 'the second group waits for the first sync').to.deep.equal([2]);
    syncs.shift()!();
    await Promise.all(first);
    expect(answered).to.deep.equal([1, 2]);
    await waitFor('a sync to start', () => syncs.length === 1);
    expect(batches).to.deep.equal([2, 3]);
    syncs.shift()!();
    await Promise.all(second);
    expect(answered).to.deep.equal([1, 2, 3, 4, 5]);
    });
  });

  it('when the sync fails, then its writers get the error and every later write is refused', async () => {
    await withTable(async (db, insert) => {
    const failure = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    const commits = new GroupCommit(db, { fsync: (_fd, done) => done(failure) });
    const results = await Promise.allSettled([1, 2].map((id) => commits.run(() => insert.run(id))));
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).to.equal(failure);
    let ran = false;
    await commits.run(() => (ran = true)).then(
      () => expect.fail('a write after a failed sync was accepted'),
      (err: unknown) => expect(err).to.equal(failure),
    );
    expect(ran, 'the refused write never ran').to.equal(false);
    });
  });
});

/** A fresh database file with a table t (id INTEGER PRIMARY KEY), and an insert into it; removed afterwards. */
async function withTable(test: (db: Database.Database, insert: Database.Statement<[number]>) => Promise<void>): Promise<void> {
  const tmp = tempDir();
  const db = openDatabase(join(tmp.dir, 'g.db'));
  try {
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    await test(db, db.prepare<[number]>('INSERT INTO t (id) VALUES (?)'));
  } finally {
    db.close();
    tmp.remove();
  }
}
