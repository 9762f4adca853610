// The node's part of a volume expansion, as the kubelet does it after NodeExpandVolume: once the
// volume (PV) has grown and the resizer handed the claim to the node (FileSystemResizePending,
// allocatedResourceStatuses NodeResizePending), a node running a pod that mounts the claim records
// the volume's size as the claim's capacity and clears the resize state. Local-path volumes are
// directories on the node's own filesystem, so there is no filesystem of their own to grow: the
// mount a running pod holds is all the node needs, on the simulated runtime as with containerd.
import type { Obj } from '../api/resource.ts';
import { compareQuantity, parseQuantity } from '../api/validation/quantity.ts';
import { FS_RESIZE_PENDING, NODE_RESIZE_IN_PROGRESS, NODE_RESIZE_PENDING, RESIZING } from '../controllers/volume/resize-plan.ts';

/** The claims a pod mounts, by name. */
export function podClaimNames(pod: Obj): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) if (v?.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
  return out;
}

/** A pod whose volumes are mounted: running, not on its way out. */
export const mountsItsVolumes = (pod: Obj): boolean => pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;

/** Whether the claim waits for a node to finish its expansion. */
export function awaitsNodeExpansion(claim: Obj): boolean {
  const state = claim.status?.allocatedResourceStatuses?.storage;
  if (state === NODE_RESIZE_PENDING || state === NODE_RESIZE_IN_PROGRESS) return true;
  return (claim.status?.conditions ?? []).some((c: Obj) => c?.type === FS_RESIZE_PENDING && c.status === 'True');
}

/**
 * The claim's status with the expansion finished on this node, or undefined when there is nothing
 * to finish: the claim is not waiting for a node, is bound to another volume, or the volume is not
 * larger than the capacity already recorded.
 */
export function finishedExpansionStatus(claim: Obj, volume: Obj | undefined): Obj | undefined {
  if (!volume || !awaitsNodeExpansion(claim)) return undefined;
  if (claim.spec?.volumeName !== volume.metadata?.name) return undefined;
  const size = parseQuantity(volume.spec?.capacity?.storage);
  if (!size) return undefined;
  const recorded = parseQuantity(claim.status?.capacity?.storage);
  const status: Obj = { ...(claim.status ?? {}) };
  if (!recorded || compareQuantity(recorded, size) < 0) status.capacity = { ...(status.capacity ?? {}), storage: volume.spec.capacity.storage };
  status.conditions = (status.conditions ?? []).filter((c: Obj) => c?.type !== FS_RESIZE_PENDING && c?.type !== RESIZING);
  if (!status.conditions.length) delete status.conditions;
  const states = { ...(status.allocatedResourceStatuses ?? {}) };
  delete states.storage;
  if (Object.keys(states).length) status.allocatedResourceStatuses = states;
  else delete status.allocatedResourceStatuses;
  return status;
}

/**
 * How long a claim waits before its next look. A node cannot watch claims (the Node authorizer
 * lets it get only those of its pods), so it reads them: soon after a look that found an expansion
 * under way (`busy`), otherwise twice as long as the last time, up to `maxMs` (default a minute:
 * the kubelet's pod resync, at which it re-reads the claims of each pod's volumes), and never so
 * often that the node's claims together cost more than `perSecond` reads a second.
 */
export function nextLookMs(lastMs: number | undefined, busy: boolean, claims: number, o: { baseMs?: number; maxMs?: number; perSecond?: number } = {}): number {
  const base = o.baseMs ?? 2000;
  const floor = Math.ceil((claims / (o.perSecond ?? 100)) * 1000);
  if (busy || lastMs === undefined) return Math.max(base, floor);
  return Math.max(Math.min(2 * lastMs, o.maxMs ?? 60_000), floor);
}

/** Whether a claim has an expansion under way: asked for more than it has, or waiting for a node. */
export function expansionUnderWay(claim: Obj): boolean {
  if (awaitsNodeExpansion(claim)) return true;
  const askedText = claim.spec?.resources?.requests?.storage;
  const hasText = claim.status?.capacity?.storage;
  // The same text is the same quantity: the common case of a claim that has what it asked for needs no parsing.
  if (typeof askedText === 'string' && askedText === hasText) return false;
  const asked = parseQuantity(askedText);
  const has = parseQuantity(hasText);
  return !!asked && !!has && compareQuantity(has, asked) < 0;
}
