// Claims that grow with their template (KEP-4650, volumeClaimUpdatePolicy: InPlace). When a
// volumeClaimTemplates entry asks for more storage than an existing claim of the set has, the
// controller raises the claim's request, one ordinal at a time from the highest down (as a rolling
// update replaces pods), and waits for each ordinal's claims to be expanded (capacity at least the
// smaller of the template's and the claim's request, the KEP's readiness) before the next.
//
// What the KEP says and this follows: OnClaimDelete (or no policy) touches no existing claim; a
// claim is never shrunk; RollingUpdate honours the partition (ordinals below it keep their claims);
// OnDelete grows a claim only when its pod is gone or going (deleted by someone, about to be made
// again). Left out: the KEP's controller-revision-hash label on claims and volumeClaimTemplates in
// ControllerRevisions (revisions stay those of the pod template), and claims of ordinals outside
// the replica range, which have no pod.
import type { Obj } from '../../api/resource.ts';
import { compareQuantity, parseQuantity, type Quantity } from '../../api/validation/quantity.ts';
import { claimName, podName, replicasOf, startOrdinal } from './identity.ts';

export interface ClaimGrowth {
  claim: Obj;
  /** The template's request, which the claim's request becomes. */
  storage: string;
}

export type ClaimUpdateStep =
  | { kind: 'none' }
  /** The claims of `ordinal` were grown and are not expanded yet. */
  | { kind: 'wait'; ordinal: number; claims: string[] }
  | { kind: 'grow'; ordinal: number; pod: string; claims: ClaimGrowth[] };

const storageOf = (o: Obj): unknown => o?.spec?.resources?.requests?.storage;
const min = (a: Quantity, b: Quantity): Quantity => (compareQuantity(a, b) <= 0 ? a : b);

/** Whether the ordinals below the partition are left alone, and which ordinals may be touched now. */
function eligible(set: Obj, ordinal: number, pods: Map<string, Obj>): boolean {
  const strategy = set.spec?.updateStrategy ?? {};
  if (strategy.type === 'OnDelete') {
    const pod = pods.get(podName(set, ordinal));
    return !pod || !!pod.metadata?.deletionTimestamp;
  }
  const partition = strategy.rollingUpdate?.partition ?? 0;
  return ordinal - startOrdinal(set) >= partition;
}

/** A bound claim's expansion is done when its capacity reaches the smaller of the template's and its own request. */
export function claimExpanded(claim: Obj, template: Obj): boolean {
  const want = parseQuantity(storageOf(template));
  const asked = parseQuantity(storageOf(claim));
  const has = parseQuantity(claim.status?.capacity?.storage);
  if (!want || !asked) return true;
  return !!has && compareQuantity(has, min(want, asked)) >= 0;
}

/** The next step of growing the set's claims, from the set, a claim lookup by name and the set's pods. */
export function planClaimUpdate(set: Obj, claims: (name: string) => Obj | undefined, pods: Obj[]): ClaimUpdateStep {
  if (set.spec?.volumeClaimUpdatePolicy !== 'InPlace' || set.metadata?.deletionTimestamp) return { kind: 'none' };
  const templates: Obj[] = (set.spec?.volumeClaimTemplates ?? []).filter((t: Obj) => parseQuantity(storageOf(t)));
  if (!templates.length) return { kind: 'none' };
  const byName = new Map(pods.map((p) => [p.metadata.name as string, p]));
  const start = startOrdinal(set);
  for (let ordinal = start + replicasOf(set) - 1; ordinal >= start; ordinal--) {
    if (!eligible(set, ordinal, byName)) continue;
    const grow: ClaimGrowth[] = [];
    const waiting: string[] = [];
    for (const t of templates) {
      const claim = claims(claimName(set, t, ordinal));
      // Missing claims are made from the template as it is now; unbound ones cannot be expanded
      // (upstream admission) and are left to be bound at the size they asked for.
      if (!claim || claim.metadata?.deletionTimestamp || claim.status?.phase !== 'Bound') continue;
      const asked = parseQuantity(storageOf(claim));
      if (asked && compareQuantity(asked, parseQuantity(storageOf(t))!) < 0) grow.push({ claim, storage: storageOf(t) as string });
      else if (!claimExpanded(claim, t)) waiting.push(claim.metadata.name);
    }
    if (grow.length) return { kind: 'grow', ordinal, pod: podName(set, ordinal), claims: grow };
    if (waiting.length) return { kind: 'wait', ordinal, claims: waiting };
  }
  return { kind: 'none' };
}

/** A claim change the growth of claims waits for: its request or its recorded capacity moved. */
export function claimSizeChanged(old: Obj, claim: Obj): boolean {
  // Becoming bound (no capacity before) is not a resize, and happens for every new claim.
  if (!old.status?.capacity?.storage) return false;
  return storageOf(old) !== storageOf(claim) || old.status.capacity.storage !== claim.status?.capacity?.storage;
}

/** The claim with its request raised to `storage`; everything else as it is. */
export function grownClaim(claim: Obj, storage: string): Obj {
  return {
    ...claim,
    spec: { ...claim.spec, resources: { ...claim.spec.resources, requests: { ...claim.spec.resources.requests, storage } } },
  };
}
