// Pods grouped by their controller's uid, and the orphans of each namespace: a workload controller
// looks up its own pods without scanning the namespace, and only orphans are matched against
// selectors for adoption.
import type { Obj } from '../../api/resource.ts';
import { objectKey } from '../../client/informer.ts';
import { controllerRef } from './pods.ts';

export class OwnerIndex {
  /** Which objects the index holds: e.g. only pods a ReplicaSet controls, and orphans. Others cost a lookup, not an entry. */
  private readonly keep: (obj: Obj) => boolean;
  constructor(keep: (obj: Obj) => boolean = () => true) {
    this.keep = keep;
  }

  private readonly byOwner = new Map<string, Map<string, Obj>>();
  private readonly orphans = new Map<string, Map<string, Obj>>();
  private readonly where = new Map<string, { owner?: string; ns: string }>();

  upsert(obj: Obj): void {
    if (!this.keep(obj)) {
      this.remove(obj);
      return;
    }
    const key = objectKey(obj);
    const owner = controllerRef(obj)?.uid as string | undefined;
    this.remove(obj);
    const ns: string = obj.metadata.namespace ?? '';
    this.where.set(key, { owner, ns });
    put(owner ? this.byOwner : this.orphans, owner ?? ns, key, obj);
  }

  remove(obj: Obj): void {
    if (!this.where.size) return;
    const key = objectKey(obj);
    const w = this.where.get(key);
    if (!w) return;
    this.where.delete(key);
    drop(w.owner ? this.byOwner : this.orphans, w.owner ?? w.ns, key);
  }

  owned(uid: string): Obj[] {
    const m = this.byOwner.get(uid);
    return m ? [...m.values()] : [];
  }

  orphansIn(namespace: string): Obj[] {
    const m = this.orphans.get(namespace);
    return m ? [...m.values()] : [];
  }
}

/** An index of the objects controlled by `kind`, and of orphans when the controller adopts. */
export function controlledBy(kind: string, orphans: boolean): (obj: Obj) => boolean {
  return (obj) => {
    const ref = controllerRef(obj);
    return ref ? ref.kind === kind : orphans;
  };
}

function put(m: Map<string, Map<string, Obj>>, k: string, key: string, obj: Obj) {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Map()));
  s.set(key, obj);
}

function drop(m: Map<string, Map<string, Obj>>, k: string, key: string) {
  const s = m.get(k);
  s?.delete(key);
  if (s && !s.size) m.delete(k);
}

/**
 * Upstream's controller expectations: after creating or deleting pods a controller waits until its
 * informer has seen them before it counts again, so a lagging cache never makes it act twice.
 * Expectations expire (upstream: 5 minutes) so a lost event cannot wedge a controller.
 */
export class Expectations {
  private readonly pending = new Map<string, { adds: number; dels: Set<string>; at: number }>();
  private readonly ttlMs: number;
  constructor(ttlMs = 60_000) {
    this.ttlMs = ttlMs;
  }

  expectCreations(key: string, n: number): void {
    const e = this.entry(key);
    e.adds += n;
  }

  expectDeletions(key: string, podKeys: string[]): void {
    const e = this.entry(key);
    for (const k of podKeys) e.dels.add(k);
  }

  creationObserved(key: string): void {
    const e = this.pending.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  /** A create that failed will never be observed. */
  lowerCreations(key: string, n: number): void {
    const e = this.pending.get(key);
    if (e) e.adds = Math.max(0, e.adds - n);
  }

  deletionObserved(key: string, podKey: string): void {
    this.pending.get(key)?.dels.delete(podKey);
  }

  satisfied(key: string, now = Date.now()): boolean {
    const e = this.pending.get(key);
    if (!e) return true;
    if ((e.adds <= 0 && e.dels.size === 0) || now - e.at > this.ttlMs) {
      this.pending.delete(key);
      return true;
    }
    return false;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }

  private entry(key: string) {
    let e = this.pending.get(key);
    if (!e) this.pending.set(key, (e = { adds: 0, dels: new Set(), at: Date.now() }));
    e.at = Date.now();
    return e;
  }
}
