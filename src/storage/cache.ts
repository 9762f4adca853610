// The API server's view of the store: every object decoded once, kept current by the store's
// change stream, with recent history for watchers. LIST, GET and WATCH are answered from here;
// the store only backs writes, restarts and resumption.
import type { Store, StoreEvent } from './types.ts';

export type Obj = Record<string, any>;

export interface CachedObject {
  key: string;
  /** Decoded object with metadata.resourceVersion set; shared, never mutate. */
  obj: Obj;
  modRev: number;
}

export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  rev: number;
  key: string;
  /** The object after the change (for DELETED: its last state, at the delete revision). */
  obj: Obj;
  prevObj?: Obj;
}

type Listener = (e: CacheEvent) => void;

const jsonCache = new WeakMap<Obj, string>();

/** Encodes an object once per change however many watchers and readers want it. */
export function encode(obj: Obj): string {
  let s = jsonCache.get(obj);
  if (s === undefined) {
    s = JSON.stringify(obj);
    jsonCache.set(obj, s);
  }
  return s;
}

export function decode(value: string, rev: number): Obj {
  const obj = JSON.parse(value) as Obj;
  (obj.metadata ??= {}).resourceVersion = String(rev);
  return obj;
}

/** Keys of one resource type (e.g. '/registry/core/pods/') kept for listing in key order. */
class Bucket {
  readonly items = new Map<string, CachedObject>();
  private sorted: string[] | null = null;
  /** Secondary indexes: field name → value → keys. */
  readonly indexes = new Map<string, Map<string, Set<string>>>();

  sortedKeys(): string[] {
    if (!this.sorted) this.sorted = [...this.items.keys()].sort();
    return this.sorted;
  }

  invalidate(): void {
    this.sorted = null;
  }
}

export type IndexFn = (obj: Obj) => string | undefined;

export class WatchCache {
  private readonly buckets = new Map<string, Bucket>();
  private readonly history: CacheEvent[] = [];
  private historyStart = 0;
  private rev = 0;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly indexFns = new Map<string, Map<string, IndexFn>>();
  private stop: (() => void) | null = null;
  private waiters: { rev: number; resolve: () => void }[] = [];

  private readonly store: Store;
  private readonly historyCapacity: number;

  constructor(store: Store, historyCapacity = 50_000) {
    this.store = store;
    this.historyCapacity = historyCapacity;
  }

  /** Registers a secondary index on a resource bucket (e.g. pods by spec.nodeName). Call before start(). */
  addIndex(bucket: string, field: string, fn: IndexFn): void {
    let m = this.indexFns.get(bucket);
    if (!m) this.indexFns.set(bucket, (m = new Map()));
    m.set(field, fn);
  }

  async start(): Promise<void> {
    const { kvs, rev } = await this.store.list('/registry/');
    for (const kv of kvs) this.put(kv.key, decode(kv.value, kv.modRev), kv.modRev);
    this.rev = rev;
    this.historyStart = rev;
    this.stop = this.store.watch(rev, (events) => this.apply(events));
  }

  close(): void {
    this.stop?.();
  }

  revision(): number {
    return this.rev;
  }

  /** The oldest revision a watch may resume from (exclusive): older ones get 410 Gone. */
  oldestResumable(): number {
    return this.historyStart;
  }

  /** Resolves once the cache has caught up with `rev` (read-your-writes for any driver). */
  waitFor(rev: number): Promise<void> {
    if (this.rev >= rev) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ rev, resolve }));
  }

  get(key: string): CachedObject | undefined {
    return this.buckets.get(bucketOf(key))?.items.get(key);
  }

  /** Objects under a bucket (and optional sub-prefix such as a namespace), in key order. */
  list(bucket: string, prefix = bucket, afterKey?: string): CachedObject[] {
    const b = this.buckets.get(bucket);
    if (!b) return [];
    const keys = b.sortedKeys();
    let i = afterKey !== undefined ? upperBound(keys, afterKey) : lowerBound(keys, prefix);
    const out: CachedObject[] = [];
    for (; i < keys.length && keys[i].startsWith(prefix); i++) out.push(b.items.get(keys[i])!);
    return out;
  }

  /** Keys whose indexed field equals value, or undefined when the field is not indexed. */
  lookup(bucket: string, field: string, value: string): CachedObject[] | undefined {
    const b = this.buckets.get(bucket);
    if (!this.indexFns.get(bucket)?.has(field)) return undefined;
    const keys = b?.indexes.get(field)?.get(value);
    if (!b || !keys) return [];
    return [...keys].sort().map((k) => b.items.get(k)!);
  }

  count(bucket: string): number {
    return this.buckets.get(bucket)?.items.size ?? 0;
  }

  /** Events after `rev` still in history, or undefined when that history is gone. */
  eventsSince(rev: number): CacheEvent[] | undefined {
    if (rev < this.historyStart) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  subscribe(bucket: string, fn: Listener): () => void {
    let s = this.listeners.get(bucket);
    if (!s) this.listeners.set(bucket, (s = new Set()));
    s.add(fn);
    return () => s.delete(fn);
  }

  private apply(events: StoreEvent[]): void {
    for (const e of events) {
      const bucket = bucketOf(e.key);
      const prevObj = this.get(e.key)?.obj;
      let ev: CacheEvent;
      if (e.type === 'put') {
        const obj = decode(e.value, e.rev);
        this.put(e.key, obj, e.rev);
        ev = { type: prevObj ? 'MODIFIED' : 'ADDED', rev: e.rev, key: e.key, obj, prevObj };
      } else {
        const obj = decode(e.value, e.rev);
        this.remove(e.key);
        ev = { type: 'DELETED', rev: e.rev, key: e.key, obj, prevObj };
      }
      this.rev = e.rev;
      this.history.push(ev);
      const ls = this.listeners.get(bucket);
      if (ls) for (const l of ls) l(ev);
    }
    if (this.history.length > this.historyCapacity) {
      const drop = this.history.length - this.historyCapacity;
      this.historyStart = this.history[drop - 1].rev;
      this.history.splice(0, drop);
    }
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.rev <= this.rev);
      this.waiters = this.waiters.filter((w) => w.rev > this.rev);
      for (const w of ready) w.resolve();
    }
  }

  private put(key: string, obj: Obj, modRev: number): void {
    const name = bucketOf(key);
    let b = this.buckets.get(name);
    if (!b) this.buckets.set(name, (b = new Bucket()));
    const old = b.items.get(key);
    if (!old) b.invalidate();
    else this.unindex(name, b, old);
    const entry = { key, obj, modRev };
    b.items.set(key, entry);
    this.index(name, b, entry);
  }

  private remove(key: string): void {
    const name = bucketOf(key);
    const b = this.buckets.get(name);
    const old = b?.items.get(key);
    if (!b || !old) return;
    this.unindex(name, b, old);
    b.items.delete(key);
    b.invalidate();
  }

  private index(name: string, b: Bucket, entry: CachedObject): void {
    const fns = this.indexFns.get(name);
    if (!fns) return;
    for (const [field, fn] of fns) {
      const v = fn(entry.obj);
      if (v === undefined) continue;
      let m = b.indexes.get(field);
      if (!m) b.indexes.set(field, (m = new Map()));
      let s = m.get(v);
      if (!s) m.set(v, (s = new Set()));
      s.add(entry.key);
    }
  }

  private unindex(name: string, b: Bucket, entry: CachedObject): void {
    const fns = this.indexFns.get(name);
    if (!fns) return;
    for (const [field, fn] of fns) {
      const v = fn(entry.obj);
      if (v !== undefined) b.indexes.get(field)?.get(v)?.delete(entry.key);
    }
  }
}

/** '/registry/core/pods/default/web-0' → '/registry/core/pods/' */
export function bucketOf(key: string): string {
  let slashes = 0;
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '/' && ++slashes === 4) return key.slice(0, i + 1);
  }
  return key;
}

function lowerBound(keys: string[], x: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(keys: string[], x: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
