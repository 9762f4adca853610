// The embedded store: one SQLite file in WAL mode. Writes are applied to an in-memory index at
// once (so guarded writes see each other) and made durable in batches by a writer thread:
// everything written while the previous batch was being committed goes into the next
// transaction, with one fsync (group commit). Callers are answered, and watchers told, only after
// their batch is on disk, and the fsync never blocks the event loop.
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type KV, type ListResult, type Store, type StoreEvent, StoreError } from './types.ts';
import { openDatabase, type Row } from './sqlite-schema.ts';

interface Pending {
  event: StoreEvent;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface SqliteOptions {
  /** How many recent changes to keep in the log for watchers that resume (older ones are compacted). */
  historyLimit?: number;
}

export class SqliteStore implements Store {
  readonly driver = 'sqlite';
  /** Used on this thread for start-up and for replaying history to resuming watchers. */
  private readonly reader: DatabaseSync;
  private readonly writer: Worker;
  private readonly data = new Map<string, KV>();
  private rev = 0;
  private committedRev = 0;
  private compacted = 0;
  private pending: Pending[] = [];
  private inFlight: Pending[] | null = null;
  private flushScheduled = false;
  private nextMessageId = 1;
  private readonly replies = new Map<number, (error?: string) => void>();
  private readonly watchers = new Set<(events: StoreEvent[]) => void>();
  private readonly historyLimit: number;

  constructor(path: string, opts: SqliteOptions = {}) {
    mkdirSync(dirname(path), { recursive: true });
    this.historyLimit = opts.historyLimit ?? 100_000;
    this.reader = openDatabase(path);
    for (const row of this.reader.prepare('SELECT key, value, create_rev, mod_rev FROM kv').iterate()) {
      const r = row as { key: string; value: string; create_rev: number; mod_rev: number };
      this.data.set(r.key, { key: r.key, value: r.value, createRev: r.create_rev, modRev: r.mod_rev });
    }
    const meta = (name: string) => (this.reader.prepare('SELECT value FROM meta WHERE name = ?').get(name) as { value: number } | undefined)?.value ?? 0;
    const lastLogged = (this.reader.prepare('SELECT MAX(rev) AS r FROM log').get() as { r: number | null }).r ?? 0;
    this.rev = this.committedRev = Math.max(meta('rev'), lastLogged);
    this.compacted = meta('compacted');
    this.writer = new Worker(new URL('./sqlite-writer.ts', import.meta.url), { workerData: { path } });
    this.writer.on('message', (m: { id: number; error?: string }) => {
      const reply = this.replies.get(m.id);
      this.replies.delete(m.id);
      // The writer keeps the process alive only while a commit is outstanding.
      if (!this.replies.size) this.writer.unref();
      reply?.(m.error);
    });
    this.writer.on('error', (err) => {
      for (const reply of this.replies.values()) reply(String(err));
      this.replies.clear();
    });
    this.writer.unref();
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
    if (fromRev < this.committedRev) {
      // Only committed history comes from the file; later changes reach the watcher when their batch commits.
      const rows = this.reader.prepare('SELECT rev, type, key, value, create_rev, prev, prev_mod_rev FROM log WHERE rev > ? AND rev <= ? ORDER BY rev').all(fromRev, this.committedRev);
      if (rows.length) onEvents(rows.map((r) => rowToEvent(r as unknown as LogRow)));
    }
    this.watchers.add(onEvents);
    return () => this.watchers.delete(onEvents);
  }

  async compact(rev: number): Promise<void> {
    if (rev <= this.compacted) return;
    this.compacted = rev;
    await this.send({ compactTo: rev });
  }

  async close(): Promise<void> {
    while (this.inFlight || this.pending.length) {
      if (!this.inFlight) this.flush();
      await new Promise((r) => setTimeout(r, 1));
    }
    this.watchers.clear();
    await this.writer.terminate();
    this.reader.close();
  }

  private send(msg: { rows?: Row[]; compactTo?: number }): Promise<void> {
    const id = this.nextMessageId++;
    return new Promise((resolve, reject) => {
      this.replies.set(id, (error) => (error ? reject(new Error(error)) : resolve()));
      this.writer.ref();
      this.writer.postMessage({ id, ...msg });
    });
  }

  private enqueue(event: StoreEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      if (!this.flushScheduled && !this.inFlight) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends the pending changes as one batch; the next batch waits for this one (order = revision order). */
  private flush(): void {
    this.flushScheduled = false;
    if (this.inFlight || !this.pending.length) return;
    const batch = (this.inFlight = this.pending);
    this.pending = [];
    const rows: Row[] = batch.map(({ event: e }) => ({
      rev: e.rev,
      type: e.type === 'put' ? 0 : 1,
      key: e.key,
      value: e.value,
      createRev: e.createRev,
      prev: e.prev ?? null,
      prevModRev: e.prevModRev ?? null,
    }));
    this.send({ rows }).then(
      () => {
        this.inFlight = null;
        this.committedRev = batch[batch.length - 1].event.rev;
        const events = batch.map((p) => p.event);
        for (const w of this.watchers) w(events);
        for (const p of batch) p.resolve();
        const horizon = this.rev - this.historyLimit;
        if (horizon > this.compacted + this.historyLimit / 10) void this.compact(horizon);
        if (this.pending.length) this.flush();
      },
      (err: Error) => {
        // The disk refused the batch: nothing in it is durable, so none of it is acknowledged.
        this.inFlight = null;
        for (const p of batch) p.reject(err);
        if (this.pending.length) this.flush();
      },
    );
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
