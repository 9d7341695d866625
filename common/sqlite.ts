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

/** One schema step: SQL, or a function for a step that needs application code (computing a column's values). */
export type MigrationStep = string | ((db: Database.Database) => void);

/**
 * Applies numbered schema steps once each, all in one transaction, recording progress in PRAGMA user_version.
 * Foreign keys are off while the steps run, so a step may rebuild a table that others reference (SQLite's way to
 * change a column); every reference is checked before the commit. The pragma is set outside the transaction, since
 * SQLite ignores it inside one.
 */
export function migrate(db: Database.Database, steps: MigrationStep[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current >= steps.length) return;
  db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      for (let version = current; version < steps.length; version++) {
        const step = steps[version];
        if (typeof step === 'string') db.exec(step);
        else step(db);
      }
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`schema step ${steps.length} broke ${broken.length} references: ${JSON.stringify(broken[0])}`);
      db.pragma(`user_version = ${steps.length}`);
    })();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}
