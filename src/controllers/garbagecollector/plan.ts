// The garbage collector's decision for one object, as a pure function of the ownership graph.
import type { Obj } from '../../api/resource.ts';
import type { Node, OwnerGraph } from './graph.ts';

export type GcAction =
  /** Owner deleted with propagation Orphan: strip its ownerReference from these dependents. */
  | { kind: 'orphanDependents'; dependents: Node[] }
  /** Owner deleted with propagation Foreground: delete these dependents first. */
  | { kind: 'deleteDependents'; dependents: Node[] }
  /** Dependents are handled: drop this finalizer so the owner goes. */
  | { kind: 'removeFinalizer'; finalizer: 'orphan' | 'foregroundDeletion' }
  /** Every owner is gone: the object goes too. */
  | { kind: 'deleteObject'; owners: OwnerRef[] }
  /** Some owners are gone, some remain: forget the gone ones. */
  | { kind: 'dropOwnerReferences'; uids: string[] }
  | { kind: 'none' };

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** `known(ref)` tells whether the owner's kind is one this collector watches; unknown owners are never judged gone. */
export function planFor(obj: Obj, graph: OwnerGraph, known: (ref: OwnerRef) => boolean): GcAction {
  const meta = obj.metadata;
  const finalizers: string[] = meta.finalizers ?? [];
  if (meta.deletionTimestamp) {
    if (finalizers.includes('orphan')) {
      const deps = graph.dependentsOf(meta.uid);
      return deps.length ? { kind: 'orphanDependents', dependents: deps } : { kind: 'removeFinalizer', finalizer: 'orphan' };
    }
    if (finalizers.includes('foregroundDeletion')) {
      const deps = graph.dependentsOf(meta.uid);
      if (!deps.length) return { kind: 'removeFinalizer', finalizer: 'foregroundDeletion' };
      const pending = deps.filter((d) => !d.obj.metadata.deletionTimestamp);
      return pending.length ? { kind: 'deleteDependents', dependents: pending } : { kind: 'none' };
    }
    return { kind: 'none' };
  }
  const refs: OwnerRef[] = meta.ownerReferences ?? [];
  if (!refs.length) return { kind: 'none' };
  const gone = refs.filter((ref) => known(ref) && !graph.get(ref.uid));
  if (!gone.length) return { kind: 'none' };
  if (gone.length === refs.length) return { kind: 'deleteObject', owners: gone };
  return { kind: 'dropOwnerReferences', uids: gone.map((r) => r.uid) };
}

/**
 * Whether a change to obj (from `old`; none for a new object) can change planFor's answer for it,
 * so that it is worth a sync. planFor reads the object's owner references, and its finalizers once
 * it is being deleted; its owners' comings and goings queue it from their side. Upstream's graph
 * builder too acts on an update only when the owner references or the deletion state change: a
 * status write (most of a workload's writes) needs nothing from the collector.
 */
export function changeNeedsSync(old: Obj | undefined, obj: Obj): boolean {
  const meta = obj.metadata;
  if (meta.deletionTimestamp) return true;
  const refs: OwnerRef[] | undefined = meta.ownerReferences;
  if (!refs?.length) return false;
  return old === undefined || !sameOwners(old.metadata?.ownerReferences, refs);
}

function sameOwners(a: OwnerRef[] | undefined, b: OwnerRef[]): boolean {
  // The watch cache's copy of a version shares unchanged parts with the version before: usually the very array.
  if (a === b) return true;
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.uid !== y.uid || x.apiVersion !== y.apiVersion || x.kind !== y.kind || x.name !== y.name || x.controller !== y.controller || x.blockOwnerDeletion !== y.blockOwnerDeletion) return false;
  }
  return true;
}
