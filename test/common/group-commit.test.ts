import { expect } from 'chai';
import { join } from 'node:path';
import { GroupCommit } from '../../common/group-commit';
import { openDatabase } from '../../common/sqlite';
import { tempDir } from '../helpers/stack';

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
    const tmp = tempDir();
    const db = openDatabase(join(tmp.dir, 'g.db'));
    try {
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      const insert = db.prepare<[number]>('INSERT INTO t (id) VALUES (?)');
      const batches: number[] = [];
      const commits = new GroupCommit(db, { maxBatch: 3, onBatch: (size) => batches.push(size) });
      await Promise.all([1, 2, 3, 4, 5, 6, 7].map((id) => commits.run(() => insert.run(id))));
      expect(batches).to.deep.equal([3, 3, 1]);
      expect(db.prepare('SELECT count(*) FROM t').pluck().get()).to.equal(7);
    } finally {
      db.close();
      tmp.remove();
    }
  });
});
