// The SQLite file layout, shared by the store (reads) and its writer thread (writes).
import { DatabaseSync } from 'node:sqlite';

/** One change as written: the current value (kv) and the change log that watchers resume from. */
export interface Row {
  rev: number;
  type: 0 | 1; // 0 put, 1 delete
  key: string;
  value: string;
  createRev: number;
  /** The revision of the value replaced (the value itself is read from the file), null for creations. */
  prevModRev: number | null;
}

export function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS log (rev INTEGER PRIMARY KEY, type INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, create_rev INTEGER NOT NULL, prev TEXT, prev_mod_rev INTEGER);
    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `);
  return db;
}

/** Returns a function that commits a batch of rows in one transaction (one fsync). */
export function writeBatch(db: DatabaseSync): (rows: Row[]) => void {
  const upsert = db.prepare('INSERT OR REPLACE INTO kv (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)');
  const remove = db.prepare('DELETE FROM kv WHERE key = ?');
  // A change logs as its previous value the one in the file, which is that value: rows are
  // applied in revision order, each batch after the one before.
  const log = db.prepare('INSERT INTO log (rev, type, key, value, create_rev, prev, prev_mod_rev) VALUES (?, ?, ?, ?, ?, (SELECT value FROM kv WHERE key = ?), ?)');
  const setMeta = db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)');
  return (rows) => {
    db.exec('BEGIN');
    try {
      for (const r of rows) {
        log.run(r.rev, r.type, r.key, r.value, r.createRev, r.key, r.prevModRev);
        if (r.type === 0) upsert.run(r.key, r.value, r.createRev, r.rev);
        else remove.run(r.key);
      }
      setMeta.run('rev', rows[rows.length - 1].rev);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  };
}
