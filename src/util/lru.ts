// A Map bounded to its most recently used entries.

/**
 * A Map kept in recency order. One touch (found: moved to the end; else added) replaces a get and
 * a set, each of which moved the entry: half the deletes and re-insertions of a Map that churns
 * thousands of entries a second, as the event correlator's caches do (each of its calls uses an
 * entry of each cache once).
 */
export class Lru<V> {
  private readonly m = new Map<string, V>();
  private readonly size: number;
  constructor(size: number) {
    this.size = size;
  }
  /** The entry for k, now the most recent one; or, when there is none, `make()`'s value added as such. */
  touch(k: string, make: () => V): V {
    let v = this.m.get(k);
    if (v !== undefined) this.m.delete(k);
    else v = make();
    this.m.set(k, v);
    if (this.m.size > this.size) this.m.delete(this.m.keys().next().value!);
    return v;
  }
  /** Gives the entry for k, just touched (so the most recent already), a new value. */
  replace(k: string, v: V): void {
    this.m.set(k, v);
  }
  /** Whether k has an entry, which is then the most recent one. */
  has(k: string): boolean {
    const v = this.m.get(k);
    if (v === undefined) return false;
    this.m.delete(k);
    this.m.set(k, v);
    return true;
  }
}
