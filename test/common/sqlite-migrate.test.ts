import { expect } from 'chai';
import type Database from 'better-sqlite3';
import { migrate, openDatabase } from '../../common/sqlite';

const PARENT_AND_CHILD = `CREATE TABLE parent (id INTEGER PRIMARY KEY) STRICT;
  CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id)) STRICT;
  INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);`;

/** Rebuilds `parent` the way SQLite changes a column: new table, copy, drop, rename. */
const rebuildParent = (keep: string) => (db: Database.Database) =>
  db.exec(`CREATE TABLE parent_new (id INTEGER PRIMARY KEY) STRICT;
    INSERT INTO parent_new SELECT id FROM parent WHERE ${keep};
    DROP TABLE parent; ALTER TABLE parent_new RENAME TO parent;`);

describe('common: numbered schema steps (migrate)', () => {
  let db: Database.Database;
  beforeEach(() => {
    db = openDatabase(':memory:');
  });
  afterEach(() => db.close());

  it('when a step rebuilds a table others reference, then it succeeds and foreign keys are enforced afterwards', () => {
    migrate(db, [PARENT_AND_CHILD, rebuildParent('1')]);
    expect(db.pragma('user_version', { simple: true })).to.equal(2);
    expect(db.prepare('SELECT parent_id FROM child').pluck().all()).to.deep.equal([1]);
    expect(db.pragma('foreign_keys', { simple: true })).to.equal(1);
    expect(() => db.prepare('INSERT INTO child VALUES (2, 42)').run()).to.throw(/FOREIGN KEY/);
  });

  it('when a step leaves a reference dangling, then the whole run is rolled back and foreign keys are on again', () => {
    migrate(db, [PARENT_AND_CHILD]);
    expect(() => migrate(db, [PARENT_AND_CHILD, rebuildParent('0')])).to.throw(/broke 1 references/);
    expect(db.pragma('user_version', { simple: true })).to.equal(1);
    expect(db.prepare('SELECT id FROM parent').pluck().all()).to.deep.equal([1]);
    expect(db.pragma('foreign_keys', { simple: true })).to.equal(1);
  });

  it('when every step was applied before, then running them again changes nothing', () => {
    migrate(db, [PARENT_AND_CHILD]);
    migrate(db, [PARENT_AND_CHILD]);
    expect(db.prepare('SELECT count(*) FROM parent').pluck().get()).to.equal(1);
  });
});
