// Which slice holds each endpoint of a Service, kept from one sync to the next so that a sync
// plans from the pods that changed instead of from all of them. planSlices walks every endpoint
// of every slice on every sync: at 10,000 pods behind one Service that was the endpointslice
// controller's largest cost. Upstream's reconciler, too, leaves untouched slices alone.
//
// The book covers the usual shape only: every endpoint in one port group, its slices all of that
// group, none empty, each endpoint in exactly one slice, as planSlices leaves them. planFromChanges
// then gives exactly the plan planSlices would (same slices written, same endpoints in the same
// order); for anything else it answers undefined and the caller plans in full.
import type { Obj } from '../../api/resource.ts';
import { jsonEqual } from '../endpoints/equal.ts';
import { compareSliceEntries, endpointKey, metadataCurrent, newSlice, portsKey, refreshed, type SliceEntry, type SlicePlan } from './reconcile.ts';

interface Held {
  slice: string;
  endpoint: Obj;
}

const byName = (a: Obj, b: Obj) => (a.metadata.name < b.metadata.name ? -1 : 1);

export class SliceBook {
  readonly portsKey: string;
  /** Endpoint key → the slice holding it, and the endpoint object as last desired. */
  private readonly held = new Map<string, Held>();
  /** Slice name → its endpoints, in order, as last desired. */
  private readonly lists = new Map<string, Obj[]>();

  private constructor(key: string) {
    this.portsKey = key;
  }

  /**
   * The book of `slices` as a sync left them for `entries` (its desired entries), or undefined
   * when they are not in the shape the book covers or do not hold exactly those entries (then
   * planSlices would have something to change, and should). `endpointsOf` gives a slice's
   * endpoints (those we sent into its current version, else the stored ones).
   */
  static build(svc: Obj, entries: readonly SliceEntry[], slices: readonly Obj[], endpointsOf: (slice: Obj) => Obj[], max: number): SliceBook | undefined {
    if (entries.length === 0 || slices.length === 0) return undefined;
    const key = entries[0].portsKey;
    const want = new Map<string, Obj>();
    for (const e of entries) {
      if (e.portsKey !== key) return undefined;
      want.set(endpointKey(e.endpoint), e.endpoint);
    }
    if (want.size !== entries.length) return undefined;
    const book = new SliceBook(key);
    for (const s of slices) {
      const name: string = s.metadata.name;
      const eps = endpointsOf(s);
      if (!name || book.lists.has(name) || portsKey(s.ports) !== key || eps.length === 0 || eps.length > max || !metadataCurrent(s, svc)) return undefined;
      const list: Obj[] = [];
      for (const e of eps) {
        const k = endpointKey(e);
        const w = want.get(k);
        if (!w || book.held.has(k) || !jsonEqual(e, w)) return undefined;
        book.held.set(k, { slice: name, endpoint: w });
        list.push(w);
      }
      book.lists.set(name, list);
    }
    return book.held.size === want.size ? book : undefined;
  }

  /**
   * The writes that bring `slices` (those the book was kept for) to the entries after `changes`
   * (`total` of them), as planSlices would plan them; the book is updated to match, except for the
   * slices to create, which the caller records with `created` once it knows their names. Undefined
   * when the changes leave the shape the book covers: plan in full then, and drop the book.
   */
  planFromChanges(
    svc: Obj,
    slices: readonly Obj[],
    changes: readonly { before: SliceEntry | undefined; after: SliceEntry | undefined }[],
    total: number,
    triggerTime: string | undefined,
    max: number,
  ): SlicePlan | undefined {
    if (total === 0 || slices.length !== this.lists.size) return undefined;
    for (const s of slices) if (!this.lists.has(s.metadata.name)) return undefined;
    const gone = new Set<string>();
    const came = new Map<string, SliceEntry>();
    for (const { before, after } of changes) {
      if (before) {
        if (before.portsKey !== this.portsKey) return undefined;
        gone.add(endpointKey(before.endpoint));
      }
      if (after) {
        if (after.portsKey !== this.portsKey) return undefined;
        const k = endpointKey(after.endpoint);
        if (came.has(k)) return undefined;
        came.set(k, after);
      }
    }
    // Per slice touched: its endpoints leaving, and those replaced in place (same key, new content).
    const touched = new Map<string, { leave: Set<string>; replace: Map<string, Obj> }>();
    const touch = (slice: string) => {
      let t = touched.get(slice);
      if (!t) touched.set(slice, (t = { leave: new Set(), replace: new Map() }));
      return t;
    };
    for (const k of gone) {
      if (came.has(k)) continue;
      const h = this.held.get(k);
      if (!h) return undefined;
      touch(h.slice).leave.add(k);
    }
    const rest: SliceEntry[] = [];
    for (const [k, e] of came) {
      const h = this.held.get(k);
      if (!h) {
        rest.push(e);
        continue;
      }
      // Held and not listed as gone: the entry would be desired twice.
      if (!gone.has(k)) return undefined;
      if (!jsonEqual(h.endpoint, e.endpoint)) touch(h.slice).replace.set(k, e.endpoint);
      else if (h.endpoint !== e.endpoint) {
        // Same content, new object: the slice stays as it is, but a later write of it sends the
        // newest object, as planSlices would. (The lists may be arrays we sent: never changed in place.)
        const list = this.lists.get(h.slice)!.slice();
        list[list.indexOf(h.endpoint)] = e.endpoint;
        this.lists.set(h.slice, list);
        h.endpoint = e.endpoint;
      }
    }
    rest.sort(compareSliceEntries);

    const ordered = [...slices].sort(byName);
    const next = new Map<string, Obj[]>();
    for (const s of ordered) {
      const t = touched.get(s.metadata.name);
      if (!t) continue;
      const list: Obj[] = [];
      for (const e of this.lists.get(s.metadata.name)!) {
        const k = endpointKey(e);
        if (t.leave.has(k)) continue;
        list.push(t.replace.get(k) ?? e);
      }
      next.set(s.metadata.name, list);
    }
    // New endpoints go first into slices being written anyway, then into others with room.
    let i = 0;
    const fill = (name: string, list: Obj[]) => {
      while (i < rest.length && list.length < max) list.push(rest[i++].endpoint);
    };
    for (const s of ordered) {
      const list = next.get(s.metadata.name);
      if (list && list.length > 0) fill(s.metadata.name, list);
    }
    for (const s of ordered) {
      if (i >= rest.length) break;
      const name = s.metadata.name;
      if (next.has(name) || this.lists.get(name)!.length >= max) continue;
      const list = this.lists.get(name)!.slice();
      fill(name, list);
      next.set(name, list);
    }

    const plan: SlicePlan = { create: [], update: [], delete: [] };
    for (const s of ordered) {
      const name = s.metadata.name;
      const list = next.get(name);
      if (!list) continue;
      if (list.length === 0) {
        plan.delete.push(s);
        this.lists.delete(name);
      } else {
        plan.update.push(refreshed(s, svc, list, triggerTime));
        this.lists.set(name, list);
        for (const e of list) this.hold(name, e);
      }
    }
    for (const k of gone) if (!came.has(k)) this.held.delete(k);
    for (let j = i; j < rest.length; j += max) {
      const chunk = rest.slice(j, j + max);
      plan.create.push(newSlice(svc, chunk[0].ports, chunk.map((e) => e.endpoint), triggerTime));
    }
    return plan;
  }

  /** A slice of the plan was created under `name` with these endpoints. */
  created(name: string, endpoints: Obj[]): void {
    this.lists.set(name, endpoints);
    for (const e of endpoints) this.hold(name, e);
  }

  private hold(slice: string, endpoint: Obj): void {
    const k = endpointKey(endpoint);
    const h = this.held.get(k);
    if (h) {
      h.slice = slice;
      h.endpoint = endpoint;
    } else this.held.set(k, { slice, endpoint });
  }
}
