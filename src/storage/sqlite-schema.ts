// The SQLite file layout, shared by the store (reads) and its writer thread (writes).
//
// Each value is written once: as the log row of the change that made it. The kv table is only an
// index from key to the revision of its current value (and its creation), and a change's previous
// value is the log row at its prev_mod_rev. An earlier layout also kept the value in kv and a copy
// of the previous value in the log: three copies of every object per write, which made the writer
// thread's CPU per write (and the WAL) about three times what one copy costs.
// The kv index is brought up to date in bulk (meta 'indexed' says to which revision), not on every
// write: a write then appends one log row, where updating kv as well dirtied one more page, at a
// random place in its B-tree, per write and per commit. Whoever reads the index replays the log
// after 'indexed' (a few thousand rows at most).
// Compaction therefore keeps, as etcd's does, each key's last value at or before the compacted
// revision (unless that is a deletion): it is the key's current value, or the previous value of a
// change that can still be replayed.
import { DatabaseSync, type StatementSync } from 'node:sqlite';

/** One change as written: its row of the change log that watchers resume from (kv indexes it later). */
export interface Row {
  rev: number;
  type: 0 | 1; // 0 put, 1 delete
  key: string;
  /** The value put; for a delete, '' (the deleted value is the log row at prevModRev). */
  value: string;
  createRev: number;
  /** The revision of the value replaced (its log row holds it), null for creations. */
  prevModRev: number | null;
}

/** The file layout this code writes, in meta 'format' (files without one have kv.value and log.prev copies). */
const FORMAT = 2;

export function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS log (rev INTEGER PRIMARY KEY, type INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, create_rev INTEGER NOT NULL, prev TEXT, prev_mod_rev INTEGER);
    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `);
  if (hasColumn(db, 'kv', 'value')) upgradeFormat1(db); // (which indexes everything logged)
  else db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID');
  db.prepare('INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)').run('format', FORMAT);
  return db;
}

export function hasColumn(db: DatabaseSync, table: string, column: string): boolean {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
}

/**
 * A file of the first layout: current values move to the log (a value compacted from it is put
 * back at its revision) and kv keeps only revisions. Its old log rows keep their copies of
 * previous values (prev), which reads prefer when present.
 */
function upgradeFormat1(db: DatabaseSync): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`
      INSERT OR IGNORE INTO log (rev, type, key, value, create_rev, prev, prev_mod_rev) SELECT mod_rev, 0, key, value, create_rev, NULL, NULL FROM kv;
      CREATE TABLE kv_revisions (key TEXT PRIMARY KEY, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO kv_revisions (key, create_rev, mod_rev) SELECT key, create_rev, mod_rev FROM kv;
      DROP TABLE kv;
      ALTER TABLE kv_revisions RENAME TO kv;
      INSERT OR REPLACE INTO meta (name, value) SELECT 'indexed', COALESCE(MAX(rev), 0) FROM log;
    `);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/**
 * Log rows as changes: `value` is the deleted value for a delete, `prev` the value replaced (the
 * old layout's copy, else the log row it points at). Append the WHERE clause and order.
 */
export const SELECT_CHANGES =
  'SELECT l.rev AS rev, l.type AS type, l.key AS key, l.value AS value, l.create_rev AS create_rev, COALESCE(l.prev, p.value) AS prev, l.prev_mod_rev AS prev_mod_rev FROM log l LEFT JOIN log p ON p.rev = l.prev_mod_rev';

/** Current values with their revisions; append a WHERE clause on k.key if needed. */
export const SELECT_CURRENT = 'SELECT k.key AS key, l.value AS value, k.create_rev AS create_rev, k.mod_rev AS mod_rev FROM kv k JOIN log l ON l.rev = k.mod_rev';

export interface IndexEntry {
  createRev: number;
  modRev: number;
}

function metaValue(db: DatabaseSync, name: string): number {
  return (db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: number } | undefined)?.value ?? 0;
}

/** The changes logged after the kv index's revision, in order (key, type and revisions only). */
function changesSinceIndexed(db: DatabaseSync): Iterable<{ rev: number; type: number; key: string; create_rev: number }> {
  return db.prepare('SELECT rev, type, key, create_rev FROM log WHERE rev > ? ORDER BY rev').iterate(metaValue(db, 'indexed')) as Iterable<{ rev: number; type: number; key: string; create_rev: number }>;
}

/** Every current key with its revisions: the kv index, and the changes logged after it. */
export function readIndex(db: DatabaseSync): Map<string, IndexEntry> {
  const index = new Map<string, IndexEntry>();
  const select = db.prepare('SELECT key, create_rev, mod_rev FROM kv');
  // Rows as arrays: a quarter less time than rows as objects, over every key at each start.
  select.setReturnArrays(true);
  for (const row of select.iterate()) {
    const [key, createRev, modRev] = row as unknown as [string, number, number];
    index.set(key, { createRev, modRev });
  }
  for (const r of changesSinceIndexed(db)) {
    if (r.type === 0) index.set(r.key, { createRev: r.create_rev, modRev: r.rev });
    else index.delete(r.key);
  }
  return index;
}

/** A key's last change not yet in the kv index. */
interface Unindexed {
  type: number;
  createRev: number;
  rev: number;
}

/** How many changes the writer logs before it brings the kv index up to date (see the top). */
const INDEX_EVERY = 4096;

/**
 * The writer thread's side of the file: commits batches of rows, one transaction (one fsync)
 * each, and compacts the log. It remembers each key's last change since the kv index's revision,
 * so that bringing the index up to date reads nothing back from the log.
 */
export class LogWriter {
  private readonly db: DatabaseSync;
  private readonly log: StatementSync;
  private readonly upsert: StatementSync;
  private readonly remove: StatementSync;
  private readonly setMeta: StatementSync;
  private readonly replaced: StatementSync;
  private readonly deletions: StatementSync;
  private indexed: number;
  /** Committed changes after `indexed`, the last one per key. */
  private unindexed = new Map<string, Unindexed>();
  private lastRev: number;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.log = db.prepare('INSERT INTO log (rev, type, key, value, create_rev, prev_mod_rev) VALUES (?, ?, ?, ?, ?, ?)');
    this.upsert = db.prepare('INSERT OR REPLACE INTO kv (key, create_rev, mod_rev) VALUES (?, ?, ?)');
    this.remove = db.prepare('DELETE FROM kv WHERE key = ?');
    this.setMeta = db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)');
    this.replaced = db.prepare('DELETE FROM log WHERE rev IN (SELECT prev_mod_rev FROM log WHERE rev > ? AND rev <= ? AND prev_mod_rev IS NOT NULL)');
    this.deletions = db.prepare('DELETE FROM log WHERE rev > ? AND rev <= ? AND type = 1');
    this.indexed = this.lastRev = metaValue(db, 'indexed');
    for (const r of changesSinceIndexed(db)) {
      this.unindexed.set(r.key, { type: r.type, createRev: r.create_rev, rev: r.rev });
      this.lastRev = r.rev;
    }
  }

  /** Commits the rows (in revision order) in one transaction. */
  write(rows: Row[]): void {
    // The revision is the log's last (or the compacted one, if compaction took the last row):
    // writing it to meta as well cost one more page per commit.
    const last = rows[rows.length - 1]!.rev;
    const fold = last - this.indexed >= INDEX_EVERY;
    // What the index takes, or will, once the commit succeeded (a failed batch is not in the log).
    const changes = fold ? new Map(this.unindexed) : new Map<string, Unindexed>();
    for (const r of rows) changes.set(r.key, { type: r.type, createRev: r.createRev, rev: r.rev });
    this.transaction(() => {
      for (const r of rows) this.log.run(r.rev, r.type, r.key, r.value, r.createRev, r.prevModRev);
      // In this batch's transaction: its commit is the only fsync.
      if (fold) this.index(changes, last);
    });
    this.lastRev = last;
    if (fold) {
      this.unindexed.clear();
      this.indexed = last;
    } else for (const [key, c] of changes) this.unindexed.set(key, c);
  }

  /**
   * Forgets history up to `to` (after `from`, the previous compaction): every value replaced or
   * deleted by a change in (from, to], and those deletions themselves. A value still current, or
   * replaced only after `to`, stays: it is read as a current value or as a replayed change's
   * previous one. `to` must be committed.
   */
  compact(from: number, to: number): void {
    // Deletions leave the log here: the index must have seen them first.
    const fold = this.indexed < to;
    this.transaction(() => {
      if (fold) this.index(this.unindexed, this.lastRev);
      this.replaced.run(from, to);
      this.deletions.run(from, to);
      this.setMeta.run('compacted', to);
    });
    if (fold) {
      this.unindexed = new Map();
      this.indexed = this.lastRev;
    }
  }

  /** Applies the changes to the kv index, which is then up to date at `upTo`. */
  private index(changes: Map<string, Unindexed>, upTo: number): void {
    // In key order: neighbouring keys share the index's pages.
    for (const key of [...changes.keys()].sort()) {
      const c = changes.get(key)!;
      if (c.type === 0) this.upsert.run(key, c.createRev, c.rev);
      else this.remove.run(key);
    }
    this.setMeta.run('indexed', upTo);
  }

  private transaction(fn: () => void): void {
    this.db.exec('BEGIN');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }
}
