// Per-Service memory of what each selected pod contributes to the Service's endpoints. Informer
// objects are never modified in place (a change arrives as a new object), so a pod seen as the
// same object as at the last sync contributes exactly what it did then: a sync during a burst of
// pod changes recomputes only the pods that changed, and re-sorts only when the set changed
// (and then a nearly sorted array, which the engine's merge sort finishes in about one pass).
import type { Obj } from '../../api/resource.ts';
import { jsonEqual } from './equal.ts';

interface Slot<V> {
  pod: Obj;
  value: V | undefined;
  /** The call that last looked at the pod; -1 once the pod is gone. */
  seen: number;
  /** Whether the slot is in `ordered`. */
  placed: boolean;
}

/** What one values() call changed: per pod whose value differs, its value before and after (undefined: none). */
export interface MemoDelta<V> {
  /** The array the previous call returned: the changes lead from it to the new one. */
  from: readonly V[];
  changes: { before: V | undefined; after: V | undefined }[];
}

export class PodMemo<V> {
  private readonly compare: (a: V, b: V) => number;
  /**
   * The last call's changes, for a consumer that holds the previous result and would rather apply
   * the few differences than walk the whole new array; undefined after a new context (all new).
   */
  delta: MemoDelta<V> | undefined = undefined;
  private readonly slots = new Map<string, Slot<V>>();
  private context: unknown = undefined;
  private ordered: Slot<V>[] = [];
  private out: V[] = [];
  private gen = 0;

  private readonly track: boolean;

  /** With `trackChanges`, each call leaves its changes in `delta`. */
  constructor(compare: (a: V, b: V) => number, trackChanges = false) {
    this.compare = compare;
    this.track = trackChanges;
  }

  /**
   * The values of `pods` (keyed by namespace/name), without those computed as undefined, sorted by
   * `compare`. `compute` must depend only on the pod and on `context` (the Service object): a new
   * context forgets everything. `changed`, when known, names the only keys that may differ from
   * the last call (see ServicePods.changes). The same array comes back while nothing changed.
   */
  values(context: unknown, pods: ReadonlyMap<string, Obj>, compute: (pod: Obj) => V | undefined, changed: ReadonlySet<string> | 'all' = 'all'): V[] {
    const reset = context !== this.context;
    if (reset) {
      this.slots.clear();
      this.ordered = [];
      this.out = [];
      this.context = context;
      changed = 'all';
    }
    const changes: MemoDelta<V>['changes'] | undefined = this.track ? [] : undefined;
    this.delta = reset || !changes ? undefined : { from: this.out, changes };
    const gen = ++this.gen;
    let any = false;
    /** Whether a placed value may now sort elsewhere. */
    let moved = false;
    /** Whether a value was dropped (its pod gone or contributing none now): else every placed slot stays. */
    let dropped = false;
    const fresh: Slot<V>[] = [];
    const visit = (key: string, pod: Obj) => {
      let slot = this.slots.get(key);
      if (slot && slot.pod === pod) {
        slot.seen = gen;
        return;
      }
      if (!slot) this.slots.set(key, (slot = { pod, value: undefined, seen: gen, placed: false }));
      const was = slot.value;
      slot.pod = pod;
      slot.seen = gen;
      const value = compute(pod);
      // Most pod updates (scheduling, status details) leave what the pod contributes as it was:
      // keeping the old value then keeps the result, and the work after it, unchanged.
      if (value === undefined ? was === undefined : was !== undefined && jsonEqual(was, value)) return;
      any = true;
      changes?.push({ before: was, after: value });
      slot.value = value;
      if (value === undefined) {
        dropped = true;
        return;
      }
      if (!slot.placed) fresh.push(slot);
      else if (!moved && was !== undefined && this.compare(was, value) !== 0) moved = true;
    };
    if (changed === 'all') {
      for (const [key, pod] of pods) visit(key, pod);
      if (this.slots.size > pods.size) {
        for (const [key, slot] of this.slots) {
          if (slot.seen === gen) continue;
          if (slot.value !== undefined) changes?.push({ before: slot.value, after: undefined });
          slot.seen = -1;
          this.slots.delete(key);
          any = true;
          dropped = true;
        }
      }
    } else {
      for (const key of changed) {
        const pod = pods.get(key);
        if (pod) visit(key, pod);
        else if (this.slots.has(key)) {
          const slot = this.slots.get(key)!;
          if (slot.value !== undefined) {
            changes?.push({ before: slot.value, after: undefined });
            dropped = true;
          }
          slot.seen = -1;
          this.slots.delete(key);
          any = true;
        }
      }
    }
    if (!any) return this.out;
    const cmp = (a: Slot<V>, b: Slot<V>) => this.compare(a.value!, b.value!);
    // At thousands of pods each pass over them counts: the placed slots are copied only when some left.
    let kept = this.ordered;
    if (dropped) {
      kept = [];
      for (const slot of this.ordered) {
        if (slot.seen !== -1 && slot.value !== undefined) kept.push(slot);
        else slot.placed = false;
      }
    }
    for (const slot of fresh) slot.placed = true;
    // Leaving keeps the order; the few that came are sorted and merged in, the values taken on the way.
    if (moved) this.ordered = kept.concat(fresh).sort(cmp);
    else if (fresh.length) {
      const values: V[] = [];
      this.ordered = merge(kept, fresh.sort(cmp), cmp, values);
      return (this.out = values);
    } else this.ordered = kept;
    const values: V[] = new Array(this.ordered.length);
    for (let i = 0; i < values.length; i++) values[i] = this.ordered[i]!.value!;
    return (this.out = values);
  }
}

/**
 * The stable merge of sorted slots `a` with a few sorted `b` (ties: `a` first), their values pushed
 * to `values` in the same order: each of `b` finds its place by binary search, so the comparisons
 * are about |b|·log|a| rather than |a|.
 */
function merge<V>(a: Slot<V>[], b: Slot<V>[], cmp: (x: Slot<V>, y: Slot<V>) => number, values: V[]): Slot<V>[] {
  const out: Slot<V>[] = [];
  let i = 0;
  for (const x of b) {
    let lo = i;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(a[mid]!, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    while (i < lo) {
      const s = a[i++]!;
      out.push(s);
      values.push(s.value!);
    }
    out.push(x);
    values.push(x.value!);
  }
  while (i < a.length) {
    const s = a[i++]!;
    out.push(s);
    values.push(s.value!);
  }
  return out;
}
