// The garbage collector's decision for one object, as a pure function of the ownership graph.
import type { Obj } from '../../api/resource.ts';
import type { Node, OwnerGraph } from './graph.ts';

export type GcAction =
  /** Owner deleted with propagation Orphan: strip its ownerReference from these dependents. */
  | { kind: 'orphanDependents'; dependents: Node[] }
  /**
   * Owner deleted with propagation Foreground: these dependents are not being deleted yet. Each
   * is judged on its own (upstream queues them for attemptToDelete), and deletes itself.
   */
  | { kind: 'deleteDependents'; dependents: Node[] }
  /** Dependents are handled: drop this finalizer so the owner goes. */
  | { kind: 'removeFinalizer'; finalizer: 'orphan' | 'foregroundDeletion' }
  /**
   * No owner keeps the object: it goes, with this propagation. `owners` are the ones the graph no
   * longer holds, to be confirmed gone with the API first; the others wait for their dependents.
   */
  | { kind: 'deleteObject'; owners: OwnerRef[]; propagation: Propagation }
  /** Some owners remain: forget the gone ones, and those waiting for their dependents to go. */
  | { kind: 'dropOwnerReferences'; uids: string[] }
  | { kind: 'none' };

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

const deleting = (o: Obj) => !!o.metadata.deletionTimestamp;
const hasFinalizer = (o: Obj, f: string) => (o.metadata.finalizers as string[] | undefined)?.includes(f) ?? false;
/** Whether an owner is being deleted in the foreground: it waits for its blocking dependents. */
const waitsForDependents = (o: Obj) => deleting(o) && hasFinalizer(o, 'foregroundDeletion');
/** Whether `dependent` holds up the foreground deletion of owner `uid` (blockOwnerDeletion on its reference). */
const blocks = (dependent: Obj, uid: string) => ((dependent.metadata.ownerReferences ?? []) as OwnerRef[]).some((r) => r.uid === uid && r.blockOwnerDeletion === true);

/**
 * As upstream's attemptToDeleteItem and processDeletingDependentsItem. `known(ref)` tells whether
 * the owner's kind is one this collector watches; unknown owners are never judged gone.
 */
export function planFor(obj: Obj, graph: OwnerGraph, known: (ref: OwnerRef) => boolean): GcAction {
  const meta = obj.metadata;
  if (deleting(obj)) {
    if (hasFinalizer(obj, 'orphan')) {
      const deps = graph.dependentsOf(meta.uid);
      return deps.length ? { kind: 'orphanDependents', dependents: deps } : { kind: 'removeFinalizer', finalizer: 'orphan' };
    }
    if (hasFinalizer(obj, 'foregroundDeletion')) {
      // Only dependents whose reference blocks owner deletion hold the owner; every dependent is
      // deleted, those that do not block also after the owner has gone (then as dangling).
      let blocking = false;
      const pending: Node[] = [];
      for (const d of graph.dependentsOf(meta.uid)) {
        if (!blocking && blocks(d.obj, meta.uid)) blocking = true;
        if (!deleting(d.obj)) pending.push(d);
      }
      if (!blocking) return { kind: 'removeFinalizer', finalizer: 'foregroundDeletion' };
      return pending.length ? { kind: 'deleteDependents', dependents: pending } : { kind: 'none' };
    }
    return { kind: 'none' };
  }
  const refs: OwnerRef[] = meta.ownerReferences ?? [];
  if (!refs.length) return { kind: 'none' };
  let solid = false;
  const dangling: OwnerRef[] = [];
  const waiting: OwnerRef[] = [];
  for (const ref of refs) {
    if (!known(ref)) {
      solid = true;
      continue;
    }
    const owner = graph.get(ref.uid);
    if (!owner) dangling.push(ref);
    else if (waitsForDependents(owner.obj)) waiting.push(ref);
    else solid = true;
  }
  if (!dangling.length && !waiting.length) return { kind: 'none' };
  // A live owner keeps the object; references to owners gone, or waiting for their dependents
  // (which this one would otherwise hold up forever), are dropped.
  if (solid) return { kind: 'dropOwnerReferences', uids: [...dangling, ...waiting].map((r) => r.uid) };
  // An owner waits for its dependents: this one goes in the foreground too when it has dependents
  // of its own, so that they go first. Otherwise a finalizer it already has says how it goes.
  let propagation: Propagation = 'Background';
  if (waiting.length && graph.hasDependents(meta.uid)) propagation = 'Foreground';
  else if (hasFinalizer(obj, 'orphan')) propagation = 'Orphan';
  else if (hasFinalizer(obj, 'foregroundDeletion')) propagation = 'Foreground';
  return { kind: 'deleteObject', owners: dangling, propagation };
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
