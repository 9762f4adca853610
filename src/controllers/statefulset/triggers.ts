// Which changes to a set's pods and claims can lead to a different decision. The controller syncs
// a set on every change either way (it is level-triggered), but a change that can only move the
// status counts of a steady set (see SyncPlan.steady) need not be looked at right away: during a
// burst of a thousand pods starting, each becoming Ready would otherwise cost a walk of the set.
import type { Obj } from '../../api/resource.ts';

/** Equal as JSON values (absent and null alike at the top); key order does not matter. Runs on every pod event, so no stringifying. */
function same(a: unknown, b: unknown): boolean {
  return jsonEqual(a ?? null, b ?? null);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/**
 * The pod changed only in ways the walk of a steady Parallel set reads for its status: readiness,
 * node, addresses, container states, and leaving Pending for Running (which only drops the claim
 * checks a Pending pod gets). Identity, ownership, storage, deletion and every other phase change
 * can lead to an action and are not status-only.
 */
export function podChangeIsStatusOnly(old: Obj, pod: Obj): boolean {
  const o = old.metadata ?? {};
  const n = pod.metadata ?? {};
  if (o.uid !== n.uid || o.name !== n.name || o.namespace !== n.namespace || o.deletionTimestamp !== n.deletionTimestamp) return false;
  const from = old.status?.phase;
  const to = pod.status?.phase;
  if (from !== to && !(from === 'Pending' && to === 'Running')) return false;
  return same(o.labels, n.labels) && same(o.ownerReferences, n.ownerReferences) && sameClaimVolumes(old.spec?.volumes, pod.spec?.volumes);
}

/** Volume names and the claims they name: all of the volumes the walk reads (storageMatches). The API keeps them fixed anyway. */
function sameClaimVolumes(a: Obj[] | undefined, b: Obj[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name !== b[i]!.name || a[i]!.persistentVolumeClaim?.claimName !== b[i]!.persistentVolumeClaim?.claimName) return false;
    if (!!a[i]!.persistentVolumeClaim !== !!b[i]!.persistentVolumeClaim) return false;
  }
  return true;
}

/** A claim change the walk can notice: the claim was replaced, is being deleted, or has other owners. Status and binding are not read. */
export function claimChangeMatters(old: Obj, claim: Obj): boolean {
  const o = old.metadata ?? {};
  const n = claim.metadata ?? {};
  return o.uid !== n.uid || o.deletionTimestamp !== n.deletionTimestamp || !same(o.ownerReferences, n.ownerReferences);
}

/**
 * The set changed only in status, and not in the collision count (which names the revisions): for
 * a steady set (SyncPlan.steady) the next walk can only report new counts, as when the change is
 * the status this controller just wrote.
 */
export function setChangeIsStatusOnly(old: Obj, set: Obj): boolean {
  const o = old.metadata ?? {};
  const n = set.metadata ?? {};
  if (o.uid !== n.uid || o.generation !== n.generation || o.deletionTimestamp !== n.deletionTimestamp) return false;
  if ((old.status?.collisionCount ?? 0) !== (set.status?.collisionCount ?? 0)) return false;
  return same(o.labels, n.labels) && same(o.annotations, n.annotations) && same(o.ownerReferences, n.ownerReferences) && same(old.spec, set.spec);
}
