// persistentVolumeClaimRetentionPolicy: which ownerReferences a pod's claims should carry so that
// the garbage collector deletes them when the set is deleted (whenDeleted: Delete → the set
// controls the claim) or when the pod is scaled away (whenScaled: Delete → the condemned pod
// controls it). Pure decisions; pod control applies them.
import type { Obj } from '../../api/resource.ts';
import { POD_KIND, SET_KIND, claimNamesFor, getOrdinal, inOrdinalRange } from './identity.ts';

type Kind = { apiVersion: string; kind: string };
type Ref = Obj;

export function retentionPolicy(set: Obj): { whenDeleted: string; whenScaled: string } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted ?? 'Retain', whenScaled: p.whenScaled ?? 'Retain' };
}

const refsOf = (obj: Obj): Ref[] => obj.metadata?.ownerReferences ?? [];
const uidOf = (obj: Obj): string => obj.metadata?.uid ?? '';

/** Same kind and name as the owner (whatever the uid). */
const matchesRef = (ref: Ref, owner: Obj, kind: Kind) => ref.apiVersion === kind.apiVersion && ref.kind === kind.kind && ref.name === owner.metadata.name;

export const hasOwnerRef = (target: Obj, owner: Obj): boolean => refsOf(target).some((r) => r.uid === uidOf(owner));

/** The first ref naming this owner carries another uid: it belongs to an earlier object of that name. */
export function hasStaleOwnerRef(target: Obj, owner: Obj, kind: Kind): boolean {
  const ref = refsOf(target).find((r) => matchesRef(r, owner, kind));
  return !!ref && ref.uid !== uidOf(owner);
}

/** Some other controller (or a stale copy of us) controls the claim; only matters under a Delete policy. */
export function hasUnexpectedController(claim: Obj, set: Obj, pod: Obj): boolean {
  const p = retentionPolicy(set);
  if (p.whenScaled === 'Retain' && p.whenDeleted === 'Retain') return false;
  for (const ref of refsOf(claim)) {
    if (matchesRef(ref, set, SET_KIND)) {
      if (ref.uid !== uidOf(set)) return true;
      continue;
    }
    if (matchesRef(ref, pod, POD_KIND)) {
      if (ref.uid !== uidOf(pod)) return true;
      continue;
    }
    if (ref.controller === true) return true;
  }
  return false;
}

const hasNonControllerOwner = (claim: Obj, set: Obj, pod: Obj) =>
  refsOf(claim).some((r) => (r.uid === uidOf(set) || r.uid === uidOf(pod)) && r.controller !== true);

/** Whether the claim's refs already say what the policy wants (stale or foreign states are left alone). */
export function isClaimOwnerUpToDate(claim: Obj, set: Obj, pod: Obj): boolean {
  if (hasStaleOwnerRef(claim, set, SET_KIND) || hasStaleOwnerRef(claim, pod, POD_KIND)) return true;
  if (hasUnexpectedController(claim, set, pod)) return !(hasOwnerRef(claim, set) || hasOwnerRef(claim, pod));
  if (hasNonControllerOwner(claim, set, pod)) return false;
  const p = retentionPolicy(set);
  const setRef = hasOwnerRef(claim, set);
  const podRef = hasOwnerRef(claim, pod);
  const scaledDown = !inOrdinalRange(pod, set);
  if (p.whenScaled === 'Delete' && p.whenDeleted === 'Delete') return scaledDown !== setRef && scaledDown === podRef;
  if (p.whenScaled === 'Delete') return !setRef && scaledDown === podRef;
  if (p.whenDeleted === 'Delete') return setRef && !podRef;
  return !setRef && !podRef;
}

const controllerRef = (owner: Obj, kind: Kind): Ref => ({ ...kind, name: owner.metadata.name, uid: uidOf(owner), controller: true, blockOwnerDeletion: true });

/**
 * The ownerReferences the claim should have: our refs scrubbed, then the controller ref the
 * policy wants appended after any unrelated refs. Under a foreign controller ours are only removed.
 */
export function desiredClaimRefs(claim: Obj, set: Obj, pod: Obj): Ref[] {
  const unexpected = hasUnexpectedController(claim, set, pod);
  const refs = refsOf(claim).filter((r) => !(matchesRef(r, set, SET_KIND) || matchesRef(r, pod, POD_KIND)));
  if (unexpected) return refs;
  const p = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(pod, set);
  const add = (owner: Obj, kind: Kind) => {
    if (!refs.some((r) => r.uid === uidOf(owner))) refs.push(controllerRef(owner, kind));
  };
  if (p.whenScaled === 'Delete' && p.whenDeleted === 'Delete') add(scaledDown ? pod : set, scaledDown ? POD_KIND : SET_KIND);
  else if (p.whenScaled === 'Delete') {
    if (scaledDown) add(pod, POD_KIND);
  } else if (p.whenDeleted === 'Delete') add(set, SET_KIND);
  return refs;
}

export type ClaimLookup = (name: string) => Obj | undefined;

/** A claim of this pod still carries a ref to an earlier pod of its name (whenScaled: Delete only): wait for the collector. */
export function podClaimIsStale(set: Obj, pod: Obj, claims: ClaimLookup): boolean {
  if (retentionPolicy(set).whenScaled === 'Retain') return false;
  return claimNamesFor(set, getOrdinal(pod)).some((name) => {
    const existing = claims(name);
    return !!existing && hasStaleOwnerRef(existing, pod, POD_KIND);
  });
}

/** True when every existing claim of the pod is as the policy wants (missing claims are picked up later). */
export function claimsMatchRetentionPolicy(set: Obj, pod: Obj, claims: ClaimLookup): boolean {
  return claimNamesFor(set, getOrdinal(pod)).every((name) => {
    const existing = claims(name);
    return !existing || isClaimOwnerUpToDate(existing, set, pod);
  });
}

export interface ClaimRefUpdate {
  /** The claim as cached, with the ownerReferences it should get. */
  claim: Obj;
  ownerReferences: Ref[];
}

/** The claim writes that bring the pod's claims in line with the policy, and the claims that get a ConflictingController event. */
export function claimRefUpdates(set: Obj, pod: Obj, claims: ClaimLookup): { updates: ClaimRefUpdate[]; conflicts: string[] } {
  const updates: ClaimRefUpdate[] = [];
  const conflicts: string[] = [];
  for (const name of claimNamesFor(set, getOrdinal(pod))) {
    const existing = claims(name);
    if (!existing) continue;
    if (hasUnexpectedController(existing, set, pod)) conflicts.push(existing.metadata.name);
    if (!isClaimOwnerUpToDate(existing, set, pod)) updates.push({ claim: existing, ownerReferences: desiredClaimRefs(existing, set, pod) });
  }
  return { updates, conflicts };
}
