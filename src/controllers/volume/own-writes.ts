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
import type { Obj } from '../../api/resource.ts';

export class OwnWrites {
  /** Tracked writes in flight, per key. */
  private readonly writing = new Map<string, number>();
  /** resourceVersions of events that arrived while a tracked write to the key was in flight. */
  private readonly held = new Map<string, string[]>();
  /** resourceVersions our tracked writes produced whose echo has not arrived yet. */
  private readonly written = new Map<string, string[]>();

  /**
   * Whether an informer event for `key` needs no sync of its own: it is the echo of a tracked
   * write, or it arrived while one is in flight (the write's completion decides then).
   */
  absorbs(key: string, obj: Obj): boolean {
    const rv: string | undefined = obj.metadata?.resourceVersion;
    if (rv === undefined) return false;
    if (take(this.written, key, rv)) return true;
    if (!this.writing.has(key)) return false;
    push(this.held, key, rv);
    return true;
  }

  /**
   * Makes a write whose result the caller carries on to its end. `foreign` is called once the
   * write is answered if an event held meanwhile was not its echo (somebody else's change, or the
   * write failed): that event then gets the sync it was held back from.
   */
  async track(key: string, write: () => Promise<Obj>, foreign: () => void): Promise<Obj> {
    this.writing.set(key, (this.writing.get(key) ?? 0) + 1);
    let rv: string | undefined;
    try {
      const result = await write();
      rv = result.metadata?.resourceVersion;
      return result;
    } finally {
      const n = this.writing.get(key)! - 1;
      if (n > 0) this.writing.set(key, n);
      else this.writing.delete(key);
      if (rv !== undefined) push(this.written, key, rv);
      const held = n === 0 ? this.held.get(key) : undefined;
      if (held) {
        this.held.delete(key);
        let others = false;
        for (const h of held) if (!take(this.written, key, h)) others = true;
        if (others) foreign();
      }
    }
  }

  /** Forgets an object that is gone. */
  forget(key: string): void {
    this.written.delete(key);
  }
}

function push(m: Map<string, string[]>, key: string, rv: string): void {
  const list = m.get(key);
  if (list) list.push(rv);
  else m.set(key, [rv]);
}

function take(m: Map<string, string[]>, key: string, rv: string): boolean {
  const list = m.get(key);
  const i = list ? list.indexOf(rv) : -1;
  if (i < 0) return false;
  list!.splice(i, 1);
  if (list!.length === 0) m.delete(key);
  return true;
}
