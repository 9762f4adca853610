// The storage contract every driver (sqlite now, etcd later) fulfils: a flat key space with one
// global, monotonically increasing revision, guarded writes and a replayable change stream.

export interface KV {
  key: string;
  /** Serialized object, without metadata.resourceVersion (the revision is the version). */
  value: string;
  createRev: number;
  modRev: number;
}

export interface StoreEvent {
  type: 'put' | 'delete';
  rev: number;
  key: string;
  /**
   * Value after the change; for a delete, the last value before it, which a live delete event may
   * leave empty (''): the SQLite store does not read a committed value back from its file for its
   * watcher, the watch cache, which holds the object deleted. Replays from the log carry it.
   */
  value: string;
  createRev: number;
  /** The previous value, absent for creations; live events may leave it out (then only replays from the log carry it). */
  prev?: string;
  prevModRev?: number;
  /** Live events only: the writer's own decoded form of value, passed along untouched (see Decoded). */
  decoded?: Decoded;
}

/**
 * What a writer that built the value from an object hands the store with it, so that the watch
 * cache takes this copy instead of parsing the value back.
 */
export interface Decoded {
  /**
   * Plain JSON data equal to JSON.parse(value), made for the cache: nothing else holds any part of
   * it, but for parts of the cached object it replaces (which are never mutated; see cacheCopy).
   */
  obj: Record<string, any>;
  /**
   * Built by in-process code (a controller's event, pod or claim), whose strings are those of the
   * objects it was made from or literals, not copies decoded from a request body: interning them
   * would find little to share (about 2 % of a 10,000-pod scale-up's main thread, events mostly).
   */
  builtInProcess?: boolean;
}

export interface ListResult {
  kvs: KV[];
  rev: number;
}

export class StoreError extends Error {
  readonly code: 'exists' | 'notfound' | 'conflict' | 'compacted';
  constructor(code: StoreError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface Store {
  readonly driver: string;
  currentRevision(): number;
  compactedRevision(): number;
  /** Fails with 'exists' if the key is present. Resolves once durable. `decoded` rides along on the live event. */
  create(key: string, value: string, decoded?: Decoded): Promise<KV>;
  get(key: string): Promise<KV | undefined>;
  list(prefix: string): Promise<ListResult>;
  /**
   * Optional: what list(prefix) gives, handed over one key at a time and in no particular order,
   * so that the caller can let each value go once it has used it; gives the revision they are at
   * (SQLite synchronously, etcd once its last page is read). The watch cache loads through it at
   * start: holding every value until the last was read kept them all alive past young-generation
   * collections, to be copied and then collected as old garbage.
   */
  scan?(prefix: string, each: (kv: KV) => void): number | Promise<number>;
  /** Fails with 'conflict' unless the key's modRev equals expectedModRev, 'notfound' if absent. */
  update(key: string, value: string, expectedModRev: number, decoded?: Decoded): Promise<KV>;
  /** Fails with 'conflict' if expectedModRev is given and differs, 'notfound' if absent. Resolves with the delete revision. */
  delete(key: string, expectedModRev?: number): Promise<{ rev: number }>;
  /**
   * Every change after `fromRev`, in order, then live ones; fails with 'compacted' if history before fromRev is gone.
   * A store whose revisions also count changes it does not pass on (etcd: keys outside Ordinal's
   * layout) reports progressRev: every revision up to it has been delivered, events or not.
   */
  watch(fromRev: number, onEvents: (events: StoreEvent[], progressRev?: number) => void): () => void;
  /**
   * Optional: the store's current revision read through its quorum, for consistent reads when
   * several servers share the store (the cache waits until it has seen this revision).
   */
  consistentRevision?(): Promise<number>;
  /**
   * Optional, synchronous: committed changes with afterRev < rev <= toRev (only keys under prefix
   * if given), or undefined when compacted or not yet committed. Lets the watch cache keep only
   * recent events in memory and read older ones back for watchers that resume from far behind.
   */
  history?(afterRev: number, toRev: number, prefix?: string): StoreEvent[] | undefined;
  /** Forget history up to and including rev. */
  compact(rev: number): Promise<void>;
  close(): Promise<void>;
}
