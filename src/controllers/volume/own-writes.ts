// Tells the informer's echo of one of the controller's own writes from a change somebody else made.
//
// Binding a provisioned claim is a chain of writes (volume create, volume phase, claim bind, claim
// phase) made by one sync, which carries each result on to the next step and ends with the claim
// and its volume in their final state. The informer then brings every one of those states back,
// and each used to queue a sync: two volume syncs (each asking for the claim again) and one more
// claim sync, all of which found nothing to do. A state this controller wrote itself and already
// took to its end needs no sync; anything else still gets one.
//
// A write's echo may arrive before its result (in one process the watch is told before the caller
// is answered) or after it (over HTTP), so both orders are recognized: events that arrive while a
// tracked write to the same object is in flight are held until it is answered, and results are
// remembered until their echo arrives. Only resourceVersions are compared, as each names one write.
//
// Bounded: a watch delivers one object's versions in order, so once any version of an object
// arrives, remembered results older than it will never be echoed and are dropped; and at most
// MAX_KEYS objects are remembered at once, the oldest idle one dropped first. Dropping one costs at
// most a sync that finds nothing to do, never a missed one.
import type { Obj } from '../../api/resource.ts';

/** Far above the writes in flight at once (two queues of 64 workers): only lost echoes reach it. */
const MAX_KEYS = 4096;

interface Entry {
  /** Tracked writes in flight. */
  writing: number;
  /** resourceVersions of events that arrived while a tracked write was in flight. */
  held: string[] | undefined;
  /** resourceVersions our tracked writes produced whose echo has not arrived yet. */
  written: string[] | undefined;
}

export class OwnWrites {
  /** Per object key; insertion order is age, for the bound. */
  private readonly entries = new Map<string, Entry>();

  /** How many objects have something remembered (for tests). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Whether an informer event for `key` needs no sync of its own: it is the echo of a tracked
   * write, or it arrived while one is in flight (the write's completion decides then).
   */
  absorbs(key: string, obj: Obj): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    const rv: string | undefined = obj.metadata?.resourceVersion;
    if (rv === undefined) return false;
    if (e.written !== undefined) {
      const echo = take(e.written, rv);
      dropOlder(e.written, rv);
      if (e.written.length === 0) e.written = undefined;
      if (echo) {
        this.tidy(key, e);
        return true;
      }
    }
    if (e.writing === 0) {
      this.tidy(key, e);
      return false;
    }
    if (e.held === undefined) e.held = [rv];
    else e.held.push(rv);
    return true;
  }

  /**
   * Marks a write to `key` as begun: events for the key are held from now on. Each begin is
   * followed by exactly one end, whatever the write's outcome.
   */
  begin(key: string): void {
    const e = this.entries.get(key);
    if (e !== undefined) e.writing++;
    else {
      this.entries.set(key, { writing: 1, held: undefined, written: undefined });
      if (this.entries.size > MAX_KEYS) this.evictOne();
    }
  }

  /**
   * Marks the write as answered with `result` (undefined when it failed). True when an event held
   * meanwhile was not its echo (somebody else's change, or the write failed): the caller then owes
   * the object the sync that event was held back from.
   */
  end(key: string, result: Obj | undefined): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    e.writing--;
    const rv: string | undefined = result?.metadata?.resourceVersion;
    if (rv !== undefined) {
      if (e.written === undefined) e.written = [rv];
      else e.written.push(rv);
    }
    let others = false;
    if (e.writing === 0 && e.held !== undefined) {
      const held = e.held;
      e.held = undefined;
      for (const h of held) {
        if (e.written !== undefined && take(e.written, h)) continue;
        others = true;
        // A newer version was seen: results older than it will not be echoed any more.
        if (e.written !== undefined) dropOlder(e.written, h);
      }
      if (e.written !== undefined && e.written.length === 0) e.written = undefined;
    }
    this.tidy(key, e);
    return others;
  }

  /**
   * Makes a write whose result the caller carries on to its end. `foreign` is called once the
   * write is answered if an event held meanwhile was not its echo (somebody else's change, or the
   * write failed): that event then gets the sync it was held back from.
   */
  async track(key: string, write: () => Promise<Obj>, foreign: () => void): Promise<Obj> {
    this.begin(key);
    let result: Obj | undefined;
    try {
      result = await write();
      return result;
    } finally {
      if (this.end(key, result)) foreign();
    }
  }

  /** Forgets an object that is gone. */
  forget(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    // A write still in flight keeps its entry for its end; what it remembered goes.
    if (e.writing > 0) e.written = undefined;
    else this.entries.delete(key);
  }

  private tidy(key: string, e: Entry): void {
    if (e.writing === 0 && e.held === undefined && e.written === undefined) this.entries.delete(key);
  }

  /** Drops the oldest entry with no write in flight (writes in flight are few, so the scan is short). */
  private evictOne(): void {
    for (const [key, e] of this.entries) {
      if (e.writing === 0) {
        this.entries.delete(key);
        return;
      }
    }
  }
}

function take(list: string[], rv: string): boolean {
  const i = list.indexOf(rv);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** Removes the versions older than `rv` (decimal versions only; others cannot be ordered and stay). */
function dropOlder(list: string[], rv: string): void {
  for (let i = list.length - 1; i >= 0; i--) if (olderThan(list[i]!, rv)) list.splice(i, 1);
}

const DIGITS = /^[1-9][0-9]*$/;

/** a < b as the numbers they spell; false unless both are plain decimal numbers. */
export function olderThan(a: string, b: string): boolean {
  if (a.length !== b.length) return a.length < b.length && DIGITS.test(a) && DIGITS.test(b);
  return a < b && DIGITS.test(a) && DIGITS.test(b);
}
