import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens a SQLite database the way both stores need it: WAL so readers never wait for the writer, and
 * synchronous=FULL so a committed purchase or order survives power loss, not just a process crash.
 * `:memory:` is accepted for tests.
 */
export function openDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Applies numbered schema steps once each, recording progress in PRAGMA user_version. */
export function migrate(db: Database.Database, steps: string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  db.transaction(() => {
    for (let version = current; version < steps.length; version++) db.exec(steps[version]);
    db.pragma(`user_version = ${steps.length}`);
  })();
}
