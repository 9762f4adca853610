// The embedded store: one SQLite file in WAL mode. Writes are applied to an in-memory index at
// once (so guarded writes see each other) and made durable in batches: everything written during
// one turn of the event loop commits in one transaction with one fsync (group commit), and
// callers are answered, and watchers told, only after that commit.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type KV, type ListResult, type Store, type StoreEvent, StoreError } from './types.ts';

interface Pending {
  event: StoreEvent;
  resolve: () => void;
}

export interface SqliteOptions {
  /** How many recent changes to keep in the log for watchers that resume (older ones are compacted). */
  historyLimit?: number;
}

export class SqliteStore implements Store {
  readonly driver = 'sqlite';
  private readonly db: DatabaseSync;
  private readonly data = new Map<string, KV>();
  private rev = 0;
  private compacted = 0;
  private pending: Pending[] = [];
  private flushScheduled = false;
  private readonly watchers = new Set<(events: StoreEvent[]) => void>();
  private readonly historyLimit: number;
  private readonly stmt: Record<'upsert' | 'remove' | 'log' | 'setMeta', StatementSync>;

  constructor(path: string, opts: SqliteOptions = {}) {
    mkdirSync(dirname(path), { recursive: true });
    this.historyLimit = opts.historyLimit ?? 100_000;
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS log (rev INTEGER PRIMARY KEY, type INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, create_rev INTEGER NOT NULL, prev TEXT, prev_mod_rev INTEGER);
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    this.stmt = {
      upsert: this.db.prepare('INSERT OR REPLACE INTO kv (key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)'),
      remove: this.db.prepare('DELETE FROM kv WHERE key = ?'),
      log: this.db.prepare('INSERT INTO log (rev, type, key, value, create_rev, prev, prev_mod_rev) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      setMeta: this.db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)'),
    };
    for (const row of this.db.prepare('SELECT key, value, create_rev, mod_rev FROM kv').iterate()) {
      const r = row as { key: string; value: string; create_rev: number; mod_rev: number };
      this.data.set(r.key, { key: r.key, value: r.value, createRev: r.create_rev, modRev: r.mod_rev });
    }
    const meta = (name: string) => (this.db.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: number } | undefined)?.value ?? 0;
    const lastLogged = (this.db.prepare('SELECT MAX(rev) AS r FROM log').get() as { r: number | null }).r ?? 0;
    this.rev = Math.max(meta('rev'), lastLogged);
    this.compacted = meta('compacted');
  }

  currentRevision(): number {
    return this.rev;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  async get(key: string): Promise<KV | undefined> {
    return this.data.get(key);
  }

  async list(prefix: string): Promise<ListResult> {
    const kvs: KV[] = [];
    for (const [k, v] of this.data) if (k.startsWith(prefix)) kvs.push(v);
    kvs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { kvs, rev: this.rev };
  }

  create(key: string, value: string): Promise<KV> {
    if (this.data.has(key)) return Promise.reject(new StoreError('exists', `key ${key} already exists`));
    const rev = ++this.rev;
    const kv: KV = { key, value, createRev: rev, modRev: rev };
    this.data.set(key, kv);
    return this.enqueue({ type: 'put', rev, key, value, createRev: rev }).then(() => kv);
  }

  update(key: string, value: string, expectedModRev: number): Promise<KV> {
    const old = this.data.get(key);
    if (!old) return Promise.reject(new StoreError('notfound', `key ${key} not found`));
    if (old.modRev !== expectedModRev) return Promise.reject(new StoreError('conflict', `key ${key} was modified`));
    const rev = ++this.rev;
    const kv: KV = { key, value, createRev: old.createRev, modRev: rev };
    this.data.set(key, kv);
    return this.enqueue({ type: 'put', rev, key, value, createRev: old.createRev, prev: old.value, prevModRev: old.modRev }).then(() => kv);
  }

  delete(key: string, expectedModRev?: number): Promise<{ prev: KV; rev: number }> {
    const old = this.data.get(key);
    if (!old) return Promise.reject(new StoreError('notfound', `key ${key} not found`));
    if (expectedModRev !== undefined && old.modRev !== expectedModRev) return Promise.reject(new StoreError('conflict', `key ${key} was modified`));
    const rev = ++this.rev;
    this.data.delete(key);
    return this.enqueue({ type: 'delete', rev, key, value: old.value, createRev: old.createRev, prev: old.value, prevModRev: old.modRev }).then(() => ({ prev: old, rev }));
  }

  watch(fromRev: number, onEvents: (events: StoreEvent[]) => void): () => void {
    if (fromRev < this.compacted) throw new StoreError('compacted', `revision ${fromRev} has been compacted`);
    if (fromRev < this.rev) {
      const rows = this.db.prepare('SELECT rev, type, key, value, create_rev, prev, prev_mod_rev FROM log WHERE rev > ? ORDER BY rev').all(fromRev);
      const history = rows.map((r) => rowToEvent(r as unknown as LogRow));
      // Changes still waiting for their commit are delivered by the flush, not from the log.
      const committed = history.filter((e) => !this.pending.some((p) => p.event.rev === e.rev));
      if (committed.length) onEvents(committed);
    }
    this.watchers.add(onEvents);
    return () => this.watchers.delete(onEvents);
  }

  async compact(rev: number): Promise<void> {
    if (rev <= this.compacted) return;
    this.db.prepare('DELETE FROM log WHERE rev <= ?').run(rev);
    this.stmt.setMeta.run('compacted', rev);
    this.compacted = rev;
  }

  async close(): Promise<void> {
    this.flush();
    this.watchers.clear();
    this.db.close();
  }

  private enqueue(event: StoreEvent): Promise<void> {
    return new Promise((resolve) => {
      this.pending.push({ event, resolve });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (!batch.length) return;
    this.pending = [];
    this.db.exec('BEGIN');
    try {
      for (const { event: e } of batch) {
        if (e.type === 'put') this.stmt.upsert.run(e.key, e.value, e.createRev, e.rev);
        else this.stmt.remove.run(e.key);
        this.stmt.log.run(e.rev, e.type === 'put' ? 0 : 1, e.key, e.value, e.createRev, e.prev ?? null, e.prevModRev ?? null);
      }
      this.stmt.setMeta.run('rev', batch[batch.length - 1].event.rev);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    const events = batch.map((p) => p.event);
    for (const w of this.watchers) w(events);
    for (const p of batch) p.resolve();
    const horizon = this.rev - this.historyLimit;
    if (horizon > this.compacted + this.historyLimit / 10) void this.compact(horizon);
  }
}

interface LogRow {
  rev: number;
  type: number;
  key: string;
  value: string;
  create_rev: number;
  prev: string | null;
  prev_mod_rev: number | null;
}

function rowToEvent(r: LogRow): StoreEvent {
  const e: StoreEvent = { type: r.type === 0 ? 'put' : 'delete', rev: r.rev, key: r.key, value: r.value, createRev: r.create_rev };
  if (r.prev !== null) {
    e.prev = r.prev;
    e.prevModRev = r.prev_mod_rev ?? undefined;
  }
  return e;
}
