// The API server's view of the store: every object decoded once, kept current by the store's
// change stream, with recent history for watchers. LIST, GET and WATCH are answered from here;
// the store only backs writes, restarts and resumption.
// Memory: only current objects stay decoded. History is a short tail of events in memory (bounded
// in count and in bytes, since one Endpoints version can be megabytes); a watcher resuming from
// further back gets older events read back from the store's log, when the store keeps one.
import type { Decoded, KV, Store, StoreEvent } from './types.ts';
import { prefixEnd } from './key-range.ts';
import { internStrings, shareParts } from './shared-parts.ts';
import { QUIET_SHARE_OF_PEAK, QUIET_WRITES_PER_SECOND } from '../util/idle-compaction.ts';

export type Obj = Record<string, any>;

export interface CachedObject {
  key: string;
  /** Decoded object with metadata.resourceVersion set; shared, never mutate. */
  obj: Obj;
  modRev: number;
}

/** A cached object as the cache keeps it. */
interface CacheEntry extends CachedObject {
  /** The length of its stored value: what a DELETED event keeps alive in the tail, whose value may not come with it. */
  size: number;
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

/**
 * Strings kept for recently changed objects, in two generations: a change fanned out to many
 * watchers is encoded once, but the strings of objects nobody asks for again do not stay (holding
 * one per object would cost as much as the objects). A generation turns over after its byte budget.
 */
class RecentStrings<T> {
  private young = new WeakMap<Obj, T>();
  private old = new WeakMap<Obj, T>();
  private youngBytes = 0;
  private readonly budget: number;
  private readonly size: (v: T) => number;

  constructor(budget: number, size: (v: T) => number) {
    this.budget = budget;
    this.size = size;
  }

  get(obj: Obj): T | undefined {
    const y = this.young.get(obj);
    if (y !== undefined) return y;
    const o = this.old.get(obj);
    if (o !== undefined) this.set(obj, o);
    return o;
  }

  set(obj: Obj, v: T): void {
    const bytes = this.size(v);
    if (this.youngBytes + bytes > this.budget) {
      this.old = this.young;
      this.young = new WeakMap();
      this.youngBytes = 0;
    }
    this.young.set(obj, v);
    this.youngBytes += bytes;
  }
}

/**
 * The cache hands a change to all its watchers back to back (and watch.ts shares the frame among
 * them), so a generation needs to outlast only the changes of a turn or two. The strings stay as
 * long as their objects do (weak keys), so after a burst both generations' worth stay in the heap.
 * 1 MiB instead of 8 (and 1 instead of 4 for stored forms below): live heap after full GC at
 * 10,000 pods 227 MiB instead of 234 (bench/memory.ts, two alternating runs); the 100-watcher
 * fan-out and Parallel 0 -> 10,000 did not change (p50 168 / 151 ms against 169 / 187; 739 / 686
 * pods/s against 665 / 706).
 */
const ENCODED_GENERATION_BYTES = 1024 * 1024;
const encoded = new RecentStrings<string>(ENCODED_GENERATION_BYTES, (s) => s.length);

/**
 * The stored value (without resourceVersion) of objects the cache took from their writer: the
 * next write of the object compares against it to detect a no-op, and serving the object derives
 * its encoding from it. Recent ones only, as for encodings.
 */
interface StoredForm {
  value: string;
  /** Offset of the '}' closing metadata in value, found when first needed (-1: not found). */
  metadataEnd?: number;
}
/** A no-op write or a watcher comes soon after a change, if at all (size: see ENCODED_GENERATION_BYTES). */
const STORED_GENERATION_BYTES = 1024 * 1024;
const storedForms = new RecentStrings<StoredForm>(STORED_GENERATION_BYTES, (f) => f.value.length);

/** Encodes an object once per change however many watchers and readers want it. */
export function encode(obj: Obj): string {
  let s = encoded.get(obj);
  if (s !== undefined) return s;
  const st = storedForms.get(obj);
  s = (st && withResourceVersion(obj, st)) ?? JSON.stringify(obj);
  encoded.set(obj, s);
  return s;
}

/** The stored value of an object the cache took from its writer (without resourceVersion), if still known. */
export function storedValueOf(obj: Obj): string | undefined {
  return storedForms.get(obj)?.value;
}

/**
 * JSON.stringify(obj) made from its stored value, which is the same text without the
 * resourceVersion that is metadata's last field (where the cache puts it, in copies and decoded objects);
 * undefined when metadata cannot be found in it.
 */
function withResourceVersion(obj: Obj, st: StoredForm): string | undefined {
  const rv = obj.metadata?.resourceVersion;
  if (typeof rv !== 'string') return undefined;
  const value = st.value;
  const end = (st.metadataEnd ??= metadataEnd(obj, value));
  if (end < 0) return undefined;
  const sep = value.charCodeAt(end - 1) === 123 /* { */ ? '' : ',';
  return `${value.slice(0, end)}${sep}"resourceVersion":${JSON.stringify(rv)}${value.slice(end)}`;
}

/** Where metadata's closing brace is in value, the JSON of obj: past the fields before it, then past its body. */
function metadataEnd(obj: Obj, value: string): number {
  let i = 1;
  for (const k in obj) {
    if (k === 'metadata') break;
    const v = JSON.stringify(obj[k]);
    if (v !== undefined) i += JSON.stringify(k).length + 1 + v.length + 1;
  }
  if (!value.startsWith('"metadata":{', i)) return -1;
  i += '"metadata":'.length;
  // Skip the object: count braces and brackets outside strings.
  let depth = 0;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < value.length; i++) {
        const d = value.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return c === 125 ? i : -1;
  }
  return -1;
}

/**
 * Serializes an object for the store: without metadata.resourceVersion (the revision is the
 * version). With it, when the object is plain JSON
 * data, a private copy of it for the cache to take instead of parsing the value back: copying
 * costs a fraction of parsing.
 */
export function storedForm(obj: Obj): { value: string; decoded?: Decoded } {
  const value = storedValue(obj);
  const decoded = cacheCopy(obj);
  return decoded ? { value, decoded } : { value };
}

/** The value stored for obj: its JSON without metadata.resourceVersion (the revision is the version). */
export function storedValue(obj: Obj): string {
  const meta = obj.metadata;
  const rv = meta !== null && typeof meta === 'object' ? meta.resourceVersion : undefined;
  // Left out as JSON leaves out undefined fields; not deleted, which would slow the object down.
  if (rv !== undefined) meta.resourceVersion = undefined;
  try {
    return JSON.stringify(obj);
  } finally {
    if (rv !== undefined) meta.resourceVersion = rv;
  }
}

/**
 * The copy of obj the cache takes in place of parsing its stored value (equal to that parse, less
 * resourceVersion), or undefined when obj is not plain JSON data (then the value is parsed).
 *
 * `prev`, when given, must be the cached object this write replaces: parts of obj that ARE parts
 * of prev (the same objects, as a status write keeps the stored spec) are taken as they are rather
 * than copied. They already equal their JSON, and cached objects are never mutated, so versions
 * may share them as a DELETED event's object shares its last version's. The top level and metadata
 * are always fresh: the cache sets resourceVersion on the copy it takes.
 *
 * Made after a write is known not to be a no-op, so an unchanged write copies nothing.
 */
export function cacheCopy(obj: Obj, prev?: Obj): Decoded | undefined {
  if (!isPlainObject(obj)) return undefined;
  const out = objectCopy(obj, isPlainObject(prev) ? prev : undefined, TOP);
  return out === NOT_JSON ? undefined : { obj: out };
}

function isPlainObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Where objectCopy copies: an inner object, the object itself (its metadata is never shared), or its metadata (less resourceVersion). */
const INNER = 0;
const TOP = 1;
const METADATA = 2;

/** jsonCopy of a non-array object, whose fields at the same place in `prev` are shared when they are the same objects. */
function objectCopy(v: Obj, prev: Obj | undefined, level: typeof INNER | typeof TOP | typeof METADATA): Obj | typeof NOT_JSON {
  const proto = Object.getPrototypeOf(v);
  if ((proto !== Object.prototype && proto !== null) || typeof v.toJSON === 'function') return NOT_JSON;
  const out: Obj = {};
  for (const k in v) {
    if (level === METADATA && k === 'resourceVersion') continue;
    if (k === '__proto__') return NOT_JSON;
    const child = v[k];
    const x =
      level === TOP && k === 'metadata' && isPlainObject(child)
        ? objectCopy(child, prev && isPlainObject(prev.metadata) ? prev.metadata : undefined, METADATA)
        : jsonCopy(child, prev?.[k]);
    if (x === NOT_JSON) return NOT_JSON;
    if (x !== undefined) out[k] = x;
  }
  return out;
}

const NOT_JSON = Symbol('not plain JSON');

/**
 * A deep copy equal to JSON.parse(JSON.stringify(v)) (undefined and function fields left out,
 * array slots that JSON cannot hold and non-finite numbers made null, -0 made 0), or NOT_JSON for
 * anything JSON would change otherwise (objects with toJSON or other prototypes, such as Date).
 * Objects that are the very objects at the same place in `prev` (a cached object, see cacheCopy)
 * are not copied.
 */
function jsonCopy(v: unknown, prev?: unknown): unknown {
  if (v === null) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v + 0 : null;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (v === prev) return v;
  const p = prev !== null && typeof prev === 'object' ? (prev as Obj) : undefined;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = jsonCopy(v[i], p?.[i]);
      if (x === NOT_JSON) return NOT_JSON;
      out[i] = x === undefined ? null : x;
    }
    return out;
  }
  return objectCopy(v as Obj, p, INNER);
}

export function decode(value: string, rev: number): Obj {
  const obj = JSON.parse(value) as Obj;
  (obj.metadata ??= {}).resourceVersion = String(rev);
  if (FREEZE) {
    shareParts(obj);
    deepFreeze(obj);
  }
  return obj;
}

/**
 * The writer's copy of the object as the cached one, at the event's revision (see Decoded), or
 * undefined when the event carries none. The copy shares its strings with the writer's object.
 */
function adopt(e: StoreEvent): Obj | undefined {
  const obj = e.decoded?.obj;
  if (!obj) return undefined;
  (obj.metadata ??= {}).resourceVersion = String(e.rev);
  if (FREEZE) {
    if (JSON.stringify(obj) !== JSON.stringify(decode(e.value, e.rev))) throw new Error(`watch cache: the object given for ${e.key} at revision ${e.rev} is not the value stored`);
    shareParts(obj);
    deepFreeze(obj);
  }
  storedForms.set(obj, { value: e.value });
  return obj;
}

/** A deleted object's last state at the delete revision, sharing all but the top and metadata with it. */
function atRevision(last: Obj, e: StoreEvent): Obj {
  const obj = { ...last, metadata: { ...last.metadata, resourceVersion: String(e.rev) } };
  if (FREEZE) {
    if (e.value && JSON.stringify(obj) !== JSON.stringify(decode(e.value, e.rev))) throw new Error(`watch cache: the object deleted at ${e.key} is not the one cached`);
    deepFreeze(obj);
  }
  return obj;
}

/**
 * ORDINAL_FREEZE_CACHE=1 freezes every cached object, so that code which mutates an object it was
 * handed by the cache (or an in-process informer, which shares them) fails loudly in tests.
 */
const FREEZE = process.env.ORDINAL_FREEZE_CACHE === '1';

function deepFreeze(v: Obj): void {
  Object.freeze(v);
  for (const k in v) {
    const x = v[k];
    if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) deepFreeze(x);
  }
}

/**
 * Decoded objects repeat the same short strings many thousand times (images, kinds, reasons,
 * node names, timestamps to the second), and JSON.parse makes a copy each time: one shared copy
 * saves about a tenth of the heap (see intern in shared-parts.ts). The cache interns a decoded
 * object's strings a little after it is stored, and only to objects still current then: in a
 * burst most versions are replaced within a second, and interning each would cost more CPU than
 * decoding. Swapping a string for an equal one is invisible to whoever holds the object.
 */
const INTERN_DELAY_MS = 1000;
const INTERN_BATCH = 5000;

/**
 * The parts of stored objects are made shared copies (shared-parts.ts) once the cache goes quiet,
 * and only for the versions current then: in a burst most versions are replaced within a second,
 * and sharing costs some 10 us per object (50 for a pod), which made a Parallel 0 -> 1,000
 * scale-up 10-15 % slower when done a second after each write. A cache that never goes quiet
 * still shares what waited SHARE_MAX_WAIT_MS, a slice a tick. Swapping a part for an equal one is
 * invisible to whoever holds the object, but for identity.
 */
const SHARE_TICK_MS = 1000;
// Quiet is as the idle compaction's (at most 50 changes a second, or 2 % of the burst's peak), so
// that the pass, which needs a second of it, is over before that compaction (ten seconds of it),
// which then frees the parts the pass let go.
const SHARE_MAX_WAIT_MS = 30_000;
/** A slice of the pass holds the event loop this long at most (a pod takes some 50 us). */
const SHARE_SLICE_MS = 20;

/** Keys of one resource type (e.g. '/registry/core/pods/') kept for listing in key order. */
class Bucket {
  readonly items = new Map<string, CacheEntry>();
  private sorted: string[] | null = null;
  /** Secondary indexes: field name → value → keys. */
  readonly indexes = new Map<string, Map<string, Set<string>>>();

  /**
   * The entries in key order, made by a whole list and kept until an entry changes: a LIST then
   * reads an array instead of looking each key up in the map (the lookups were about half of a
   * LIST's own CPU, at 10,000 pods). Only whole lists make it, so that the pages of a busy bucket
   * do not each pay for all of it.
   */
  private entries: CachedObject[] | null = null;

  sortedKeys(): string[] {
    if (!this.sorted) this.sorted = [...this.items.keys()].sort();
    return this.sorted;
  }

  sortedEntries(make: boolean): CachedObject[] | null {
    if (!this.entries && make) this.entries = this.sortedKeys().map((k) => this.items.get(k)!);
    return this.entries;
  }

  /** A key came or went. */
  invalidate(): void {
    this.sorted = null;
    this.entries = null;
  }

  /** A key's entry was replaced. */
  changed(): void {
    this.entries = null;
  }
}

export type IndexFn = (obj: Obj) => string | undefined;

/** Events kept decoded in memory when the store can replay older ones: at most this many… */
const TAIL_EVENTS = 1000;
/** …and at most about this many bytes of their serialized objects. */
const TAIL_BYTES = 8 * 1024 * 1024;

export class WatchCache {
  private readonly buckets = new Map<string, Bucket>();
  /** Recent events, oldest first; `tailFrom` is the revision just before the first. */
  private tail: CacheEvent[] = [];
  private tailHead = 0;
  private readonly tailSizes: number[] = [];
  private tailBytes = 0;
  private tailFrom = 0;
  /** Watches may resume after this revision (exclusive), when the store can replay (else tailFrom). */
  private startRev = 0;
  private rev = 0;
  private readonly listeners = new Map<string, Set<Listener>>();
  /**
   * Listeners that want only changes whose object had (before) or has (after) one value of an
   * indexed field: bucket → field → value → listeners. Upstream's cacher calls these "indexed
   * triggers": a node's watch of its own pods is not handed every other node's pod changes.
   */
  private readonly triggered = new Map<string, Map<string, Map<string, Set<Listener>>>>();
  private readonly indexFns = new Map<string, Map<string, IndexFn>>();
  private stop: (() => void) | null = null;
  private toIntern: CachedObject[] = [];
  private internTimer: NodeJS.Timeout | null = null;
  /** Keys whose current objects are to be shared, oldest change first; since when the oldest waits (ms, monotonic). */
  private toShare = new Set<string>();
  private shareSince = 0;
  private shareTimer: NodeJS.Timeout | null = null;
  /** Changes applied since the last share tick, at lastShareTick (ms, monotonic): the cache's write rate. */
  private changesSinceTick = 0;
  private lastShareTick = 0;
  /** The highest rate (changes a second) seen while objects waited to be shared. */
  private sharePeakRate = 0;
  /** No pass while the cache loads: it would only lengthen the start. */
  private loading = false;
  private waiters: { rev: number; resolve: () => void }[] = [];

  private readonly store: Store;
  private readonly historyCapacity: number;
  private readonly replays: boolean;
  private readonly tailEvents: number;
  private readonly tailMaxBytes: number;

  /** historyCapacity: how many events back a watch may resume (older revisions get 410 Gone). */
  constructor(store: Store, historyCapacity = 50_000) {
    this.store = store;
    this.historyCapacity = historyCapacity;
    // Without a store that replays its log, memory is the only history.
    const replays = (this.replays = typeof store.history === 'function');
    this.tailEvents = replays ? Math.min(historyCapacity, TAIL_EVENTS) : historyCapacity;
    this.tailMaxBytes = replays ? TAIL_BYTES : Infinity;
  }

  /** Registers a secondary index on a resource bucket (e.g. pods by spec.nodeName). Call before start(). */
  addIndex(bucket: string, field: string, fn: IndexFn): void {
    let m = this.indexFns.get(bucket);
    if (!m) this.indexFns.set(bucket, (m = new Map()));
    m.set(field, fn);
  }

  async start(): Promise<void> {
    let rev: number;
    // The store hands values over one at a time (scan), so each dies as soon as it is decoded.
    // What a start loads is current, not a burst's passing versions: interned at once (see
    // INTERN_DELAY_MS), so that the copies JSON.parse made of its strings die young as well, instead
    // of being promoted first. Together, at 10,000 pods: RSS after a restart about 400 MiB instead
    // of 515-546. Its other parts are shared once the cache is quiet, as a write's are.
    const load = (kv: KV) => {
      const obj = decode(kv.value, kv.modRev);
      if (!FREEZE) internStrings(obj);
      this.put(kv.key, obj, kv.modRev, kv.value.length, false);
    };
    this.loading = true;
    try {
      if (this.store.scan) rev = await this.store.scan('/registry/', load);
      else {
        const listed = await this.store.list('/registry/');
        for (const kv of listed.kvs) load(kv);
        rev = listed.rev;
      }
    } finally {
      this.loading = false;
    }
    this.scheduleShare(SHARE_TICK_MS);
    this.rev = rev;
    this.startRev = this.tailFrom = rev;
    this.stop = this.store.watch(rev, (events, progressRev) => this.apply(events, progressRev));
  }

  close(): void {
    this.stop?.();
    if (this.internTimer) clearTimeout(this.internTimer);
    this.internTimer = null;
    this.toIntern = [];
    if (this.shareTimer) clearTimeout(this.shareTimer);
    this.shareTimer = null;
    this.toShare.clear();
  }

  private internLater(entry: CachedObject): void {
    this.toIntern.push(entry);
    if (!this.internTimer) this.internTimer = setTimeout(() => this.internSettled(), INTERN_DELAY_MS).unref();
  }

  private internSettled(): void {
    this.internTimer = null;
    const batch = this.toIntern.splice(0, INTERN_BATCH);
    for (const entry of batch) if (this.get(entry.key) === entry) internStrings(entry.obj);
    // A long backlog goes in slices, so that no single pause is long.
    if (this.toIntern.length && !this.internTimer) this.internTimer = setTimeout(() => this.internSettled(), 0).unref();
  }

  private shareLater(key: string): void {
    if (!this.toShare.size) this.shareSince = performance.now();
    this.toShare.add(key);
    if (!this.shareTimer && !this.loading) this.scheduleShare(SHARE_TICK_MS);
  }

  private scheduleShare(ms: number): void {
    if (this.shareTimer || !this.toShare.size) return;
    this.lastShareTick = performance.now();
    this.changesSinceTick = 0;
    this.shareTimer = setTimeout(() => this.shareSettled(), ms).unref();
  }

  private shareSettled(): void {
    this.shareTimer = null;
    const now = performance.now();
    // Measured over at least 100 ms, so that the short gap between two slices says little.
    const rate = (this.changesSinceTick * 1000) / Math.max(100, now - this.lastShareTick);
    this.sharePeakRate = Math.max(this.sharePeakRate, rate);
    const quiet = rate <= Math.max(QUIET_WRITES_PER_SECOND, this.sharePeakRate * QUIET_SHARE_OF_PEAK);
    if (quiet || now - this.shareSince >= SHARE_MAX_WAIT_MS) {
      let n = 0;
      for (const key of this.toShare) {
        this.toShare.delete(key);
        const entry = this.get(key);
        if (entry) shareParts(entry.obj);
        if (++n % 64 === 0 && performance.now() - now >= SHARE_SLICE_MS) break;
      }
    }
    if (!this.toShare.size) this.sharePeakRate = 0;
    // While quiet, a long backlog goes in slices, so that no single pause is long.
    this.scheduleShare(quiet ? 0 : SHARE_TICK_MS);
  }

  revision(): number {
    return this.rev;
  }

  /** The oldest revision a watch may resume from (exclusive): older ones get 410 Gone. */
  oldestResumable(): number {
    // History the store has compacted is gone for every server alike, whatever this one remembers.
    if (!this.replays) return Math.max(this.tailFrom, this.store.compactedRevision());
    return Math.max(this.startRev, this.rev - this.historyCapacity, this.store.compactedRevision());
  }

  /** Resolves once the cache has caught up with `rev` (read-your-writes for any driver). */
  waitFor(rev: number): Promise<void> {
    if (this.rev >= rev) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ rev, resolve }));
  }

  /** `bucket`, when the caller knows it, is bucketOf(key) (one string per kind spares slicing and hashing a new one). */
  get(key: string, bucket = bucketOf(key)): CachedObject | undefined {
    return this.buckets.get(bucket)?.items.get(key);
  }

  /** Objects under a bucket (and optional sub-prefix such as a namespace), in key order; at most `limit` (a page). */
  list(bucket: string, prefix = bucket, afterKey?: string, limit = Infinity): CachedObject[] {
    const b = this.buckets.get(bucket);
    if (!b) return [];
    const keys = b.sortedKeys();
    let i = afterKey !== undefined ? upperBound(keys, afterKey) : lowerBound(keys, prefix);
    const entries = b.sortedEntries(limit === Infinity && afterKey === undefined);
    if (entries) {
      if (i < keys.length && !keys[i].startsWith(prefix)) return [];
      // Keys under the prefix run up to its successor (last character plus one), exclusive.
      const end = prefix === bucket ? keys.length : lowerBound(keys, prefixEnd(prefix));
      return entries.slice(i, Math.min(end, i + limit));
    }
    const out: CachedObject[] = [];
    for (; i < keys.length && out.length < limit && keys[i].startsWith(prefix); i++) out.push(b.items.get(keys[i])!);
    return out;
  }

  /** How many objects list() would give without a limit, counted without visiting them. */
  countAfter(bucket: string, prefix = bucket, afterKey?: string): number {
    const b = this.buckets.get(bucket);
    if (!b) return 0;
    const keys = b.sortedKeys();
    const start = afterKey !== undefined ? upperBound(keys, afterKey) : lowerBound(keys, prefix);
    if (start >= keys.length || !keys[start].startsWith(prefix)) return 0;
    // Keys under the prefix run up to its successor (last character plus one), exclusive.
    return lowerBound(keys, prefixEnd(prefix)) - start;
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

  /**
   * Events after `rev` (only keys under `prefix` when given; callers filter anyway), or undefined
   * when that history is gone. Recent ones are the very events watchers were sent; older ones are
   * decoded afresh from the store's log.
   */
  eventsSince(rev: number, prefix = ''): CacheEvent[] | undefined {
    if (rev < this.oldestResumable()) return undefined;
    const t = this.tail;
    let lo = this.tailHead;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid].rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    const recent = prefix ? t.slice(lo).filter((e) => e.key.startsWith(prefix)) : t.slice(lo);
    if (rev >= this.tailFrom) return recent;
    const older = this.store.history?.(rev, this.tailFrom, prefix);
    if (!older) return undefined;
    return [...older.map((e) => this.replayed(e)), ...recent];
  }

  /** A logged change as the cache event it was; the current object is shared when it is the one. */
  private replayed(e: StoreEvent): CacheEvent {
    const prevObj = e.prev !== undefined && e.prevModRev !== undefined ? decode(e.prev, e.prevModRev) : undefined;
    if (e.type === 'delete') return { type: 'DELETED', rev: e.rev, key: e.key, obj: decode(e.value, e.rev), prevObj };
    const cur = this.get(e.key);
    const obj = cur && cur.modRev === e.rev ? cur.obj : decode(e.value, e.rev);
    return { type: prevObj ? 'MODIFIED' : 'ADDED', rev: e.rev, key: e.key, obj, prevObj };
  }

  /** Whether `field` is indexed on `bucket` (lookup and triggered subscriptions work on it). */
  hasIndex(bucket: string, field: string): boolean {
    return this.indexFns.get(bucket)?.has(field) ?? false;
  }

  /**
   * Calls fn with every change in `bucket`, or with a trigger only with the changes whose object
   * had before or has after `trigger.value` in the indexed `trigger.field`: those are the only
   * changes that can enter, touch or leave a selection that pins the field to that value.
   */
  subscribe(bucket: string, fn: Listener, trigger?: { field: string; value: string }): () => void {
    if (trigger) {
      if (!this.hasIndex(bucket, trigger.field)) throw new Error(`${bucket} has no index on ${trigger.field}`);
      let byField = this.triggered.get(bucket);
      if (!byField) this.triggered.set(bucket, (byField = new Map()));
      let byValue = byField.get(trigger.field);
      if (!byValue) byField.set(trigger.field, (byValue = new Map()));
      let s = byValue.get(trigger.value);
      if (!s) byValue.set(trigger.value, (s = new Set()));
      s.add(fn);
      return () => {
        s.delete(fn);
        if (!s.size && byValue.get(trigger.value) === s) byValue.delete(trigger.value);
      };
    }
    let s = this.listeners.get(bucket);
    if (!s) this.listeners.set(bucket, (s = new Set()));
    s.add(fn);
    return () => s.delete(fn);
  }

  /** Hands a change to the listeners triggered by its object's indexed values, before and after. */
  private triggerListeners(bucket: string, ev: CacheEvent): void {
    const byField = this.triggered.get(bucket)!;
    const fns = this.indexFns.get(bucket)!;
    for (const [field, byValue] of byField) {
      if (!byValue.size) continue;
      const fn = fns.get(field)!;
      const now = fn(ev.obj);
      const before = ev.prevObj !== undefined ? fn(ev.prevObj) : undefined;
      if (now !== undefined) {
        const ls = byValue.get(now);
        if (ls) for (const l of ls) l(ev);
      }
      if (before !== undefined && before !== now) {
        const ls = byValue.get(before);
        if (ls) for (const l of ls) l(ev);
      }
    }
  }

  private apply(events: StoreEvent[], progressRev?: number): void {
    this.changesSinceTick += events.length;
    for (const e of events) {
      const bucket = bucketOf(e.key);
      // One look-up of the key serves the event, the put and the index (the maps hold thousands).
      let b = this.buckets.get(bucket);
      const prev = b?.items.get(e.key);
      const prevObj = prev?.obj;
      let ev: CacheEvent;
      if (e.type === 'put') {
        const adopted = adopt(e);
        const obj = adopted ?? decode(e.value, e.rev);
        // A copy made for a change shares its strings with the version before it; a new object's
        // strings may be its own (those of an HTTP request body), so it is interned as decoded ones
        // are, unless in-process code built it from objects it holds (strings shared already).
        if (!b) this.buckets.set(bucket, (b = new Bucket()));
        this.putIn(bucket, b, e.key, obj, e.rev, e.value.length, !adopted || (!prevObj && !e.decoded!.builtInProcess), prev);
        ev = { type: prevObj ? 'MODIFIED' : 'ADDED', rev: e.rev, key: e.key, obj, prevObj };
      } else {
        // The value deleted is the cached one (events apply in order): a copy at the new version will do.
        // The cache holds every key from its start, so a delete always finds its object; were it
        // not there, an event without the value (see StoreEvent.value) would have nothing to say.
        if (!prev && !e.value) {
          this.rev = e.rev;
          continue;
        }
        const obj = prevObj ? atRevision(prevObj, e) : decode(e.value, e.rev);
        if (b && prev) this.removeFrom(bucket, b, e.key, prev);
        ev = { type: 'DELETED', rev: e.rev, key: e.key, obj, prevObj };
      }
      this.rev = e.rev;
      // A DELETED event keeps its object (as prevObj too) alive: its size, value given or not.
      this.remember(ev, e.type === 'put' ? e.value.length + (prevObj ? (e.prev?.length ?? e.value.length) : 0) : (prev?.size ?? e.value.length));
      const ls = this.listeners.get(bucket);
      if (ls) for (const l of ls) l(ev);
      if (this.triggered.has(bucket)) this.triggerListeners(bucket, ev);
    }
    if (progressRev !== undefined && progressRev > this.rev) this.rev = progressRev;
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.rev <= this.rev);
      this.waiters = this.waiters.filter((w) => w.rev > this.rev);
      for (const w of ready) w.resolve();
    }
  }

  /** Appends to the tail, dropping the oldest events beyond its count or bytes. */
  private remember(ev: CacheEvent, bytes: number): void {
    this.tail.push(ev);
    this.tailSizes.push(bytes);
    this.tailBytes += bytes;
    while (this.tail.length - this.tailHead > this.tailEvents || (this.tailBytes > this.tailMaxBytes && this.tail.length - this.tailHead > 1)) {
      this.tailFrom = this.tail[this.tailHead].rev;
      this.tailBytes -= this.tailSizes[this.tailHead];
      this.tailHead++;
    }
    // Compact the arrays now and then rather than shifting on every event.
    if (this.tailHead > 1024 && this.tailHead * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailHead);
      this.tailSizes.splice(0, this.tailHead);
      this.tailHead = 0;
    }
  }

  /** intern: whether the object's strings are its own copies (parsed), worth interning soon. */
  private put(key: string, obj: Obj, modRev: number, size: number, intern: boolean): void {
    const name = bucketOf(key);
    let b = this.buckets.get(name);
    if (!b) this.buckets.set(name, (b = new Bucket()));
    this.putIn(name, b, key, obj, modRev, size, intern, b.items.get(key));
  }

  /** old: the key's entry in b now (looked up by the caller). */
  private putIn(name: string, b: Bucket, key: string, obj: Obj, modRev: number, size: number, intern: boolean, old: CacheEntry | undefined): void {
    if (!old) b.invalidate();
    else {
      this.unindex(name, b, old);
      b.changed();
    }
    const entry = { key, obj, modRev, size };
    b.items.set(key, entry);
    this.index(name, b, entry);
    // Frozen objects had their parts shared when they were decoded or adopted.
    if (!FREEZE) {
      if (intern) this.internLater(entry);
      this.shareLater(key);
    }
  }

  private removeFrom(name: string, b: Bucket, key: string, old: CachedObject): void {
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
  let i = -1;
  for (let slashes = 0; slashes < 4; slashes++) {
    i = key.indexOf('/', i + 1);
    if (i < 0) return key;
  }
  return key.slice(0, i + 1);
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
