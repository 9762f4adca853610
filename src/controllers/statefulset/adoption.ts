// Which pods a set owns, as upstream's controller-ref manager decides: its own pods that still
// match stay, its own pods that stopped matching are released, and orphans that match are
// adopted. "Match" for a StatefulSet is the selector plus the name `<set>-<ordinal>`.
import type { Obj } from '../../api/resource.ts';
import type { LabelSelector } from '../../api/selectors/index.ts';
import { controllerOf } from '../history/history.ts';
import { isMemberOf, setControllerRef } from './identity.ts';

export type ClaimDecision = 'owned' | 'release' | 'adopt' | 'ignore';

export function claimDecision(set: Obj, selector: LabelSelector, pod: Obj): ClaimDecision {
  const matches = selector.matches(pod.metadata.labels) && isMemberOf(set, pod);
  const ref = controllerOf(pod);
  if (ref) {
    if (ref.uid !== set.metadata.uid) return 'ignore';
    if (matches) return 'owned';
    // A set being deleted keeps what it has; releasing is a change it no longer makes.
    return set.metadata.deletionTimestamp ? 'ignore' : 'release';
  }
  if (set.metadata.deletionTimestamp || !matches) return 'ignore';
  if (pod.metadata.deletionTimestamp) return 'ignore';
  if (pod.metadata.namespace !== set.metadata.namespace) return 'ignore';
  return 'adopt';
}

/**
 * Pods a set was found to own, remembered per pod object: a pod object found owned stays owned
 * while the set's uid, name, namespace, selector and deletion are as they were (claimDecision
 * reads nothing else of the set), and informer objects never change in place.
 */
export class OwnedMemo {
  private key = '';
  private owned = new WeakMap<Obj, string>();

  /** Call once per claim pass, before isOwned/remember. */
  begin(set: Obj): void {
    const key = JSON.stringify([set.metadata.uid, set.metadata.name, set.metadata.namespace, set.spec?.selector ?? null, !!set.metadata.deletionTimestamp]);
    // Kept as the same string while equal, so the per-pod comparison is a pointer comparison.
    if (key !== this.key) this.key = key;
  }

  isOwned(pod: Obj): boolean {
    return this.owned.get(pod) === this.key;
  }

  remember(pod: Obj): void {
    this.owned.set(pod, this.key);
  }
}

/** Strategic-merge patches; the uid makes the write fail if the object was replaced by a namesake. */
export function adoptPatch(set: Obj, obj: Obj): Obj {
  return { metadata: { ownerReferences: [setControllerRef(set)], uid: obj.metadata.uid } };
}

export function releasePatch(set: Obj, obj: Obj): Obj {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: set.metadata.uid }], uid: obj.metadata.uid } };
}

/** Revisions that belong to the set: matching the selector, and controlled by it or by no one. */
export function ownedOrOrphanRevisions(set: Obj, selector: LabelSelector, revisions: readonly Obj[]): Obj[] {
  return revisions.filter((r) => {
    if (r.metadata.namespace !== set.metadata.namespace || !selector.matches(r.metadata.labels)) return false;
    const ref = controllerOf(r);
    return !ref || ref.uid === set.metadata.uid;
  });
}
