// Pod predicates and orderings shared by the ReplicaSet, Deployment, DaemonSet and Job controllers,
// as upstream's controller utilities (pkg/controller/controller_utils.go, podutil). All pure.
import type { Obj } from '../../api/resource.ts';

const condition = (pod: Obj, type: string): Obj | undefined => (pod.status?.conditions ?? []).find((c: Obj) => c.type === type);

/** Not finished and not being deleted: the pods a controller counts towards its replicas. */
export function isPodActive(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function isPodReady(pod: Obj): boolean {
  return condition(pod, 'Ready')?.status === 'True';
}

/** Ready for at least minReadySeconds at `now` (ms). */
export function isPodAvailable(pod: Obj, minReadySeconds: number, now: number): boolean {
  const ready = condition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** When a ready pod will turn available, if it is not yet: the time a sync should look again. */
export function availableAt(pod: Obj, minReadySeconds: number): number | undefined {
  const ready = condition(pod, 'Ready');
  if (ready?.status !== 'True' || !minReadySeconds) return undefined;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  return Number.isFinite(since) ? since + minReadySeconds * 1000 : undefined;
}

/** The owner reference marked controller, if any. */
export function controllerRef(obj: Obj): Obj | undefined {
  return (obj.metadata?.ownerReferences ?? []).find((r: Obj) => r.controller === true);
}

export function ownerRefTo(owner: Obj, apiVersion: string, kind: string): Obj {
  return { apiVersion, kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export type ClaimDecision = 'owned' | 'release' | 'adopt' | 'ignore';

/**
 * Upstream's controller-ref manager for one object: owned objects that still match stay, owned
 * ones that stopped matching are released, matching orphans are adopted (unless either side is
 * being deleted).
 */
export function claim(owner: Obj, matches: boolean, obj: Obj): ClaimDecision {
  const ref = controllerRef(obj);
  if (ref) {
    if (ref.uid !== owner.metadata.uid) return 'ignore';
    if (matches) return 'owned';
    return owner.metadata.deletionTimestamp ? 'ignore' : 'release';
  }
  if (!matches || owner.metadata.deletionTimestamp || obj.metadata.deletionTimestamp) return 'ignore';
  return 'adopt';
}

export function adoptPatch(ownerRef: Obj, obj: Obj): Obj {
  return { metadata: { ownerReferences: [ownerRef], uid: obj.metadata.uid } };
}

export function releasePatch(owner: Obj, obj: Obj): Obj {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: owner.metadata.uid }], uid: obj.metadata.uid } };
}

const phaseRank = (pod: Obj): number => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[pod.status?.phase] ?? 0;
const restarts = (pod: Obj): number => Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c: Obj) => c.restartCount ?? 0));
const ms = (t: string | undefined): number | undefined => (t ? Date.parse(t) : undefined);

/** floor(log2(seconds since t)): upstream's LogarithmicScaleDown buckets, so pods of similar age rank alike. */
function logBucket(t: number | undefined, now: number): number {
  if (t === undefined) return -Infinity;
  const s = Math.max(1, Math.floor((now - t) / 1000));
  return Math.floor(Math.log2(s));
}

/**
 * Pods to delete first come first (upstream's ActivePodsWithRanks): unassigned, then pending,
 * unknown, running; not ready before ready; lower controller.kubernetes.io/pod-deletion-cost; more
 * pods of the same owner on its node; ready for less time; more restarts; newer.
 * `rank` gives each pod's count of related pods on its node.
 */
export function compareForDeletion(a: Obj, b: Obj, rank: (p: Obj) => number, now: number): number {
  const assigned = (p: Obj) => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const cost = (p: Obj) => Number(p.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0) || 0;
  if (cost(a) !== cost(b)) return cost(a) - cost(b);
  if (rank(a) !== rank(b)) return rank(b) - rank(a);
  if (ra && rb) {
    const ta = logBucket(ms(condition(a, 'Ready')?.lastTransitionTime), now);
    const tb = logBucket(ms(condition(b, 'Ready')?.lastTransitionTime), now);
    if (ta !== tb) return ta - tb;
  }
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const ca = logBucket(ms(a.metadata.creationTimestamp), now);
  const cb = logBucket(ms(b.metadata.creationTimestamp), now);
  if (ca !== cb) return ca - cb;
  return 0;
}

/** The `count` pods to delete, chosen as upstream ranks them (related pods share nodes with them). */
export function podsToDelete(pods: Obj[], related: Obj[], count: number, now: number): Obj[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) if (p.spec?.nodeName && isPodActive(p)) onNode.set(p.spec.nodeName, (onNode.get(p.spec.nodeName) ?? 0) + 1);
  const rank = (p: Obj) => (p.spec?.nodeName ? (onNode.get(p.spec.nodeName) ?? 0) : 0);
  return [...pods].sort((a, b) => compareForDeletion(a, b, rank, now)).slice(0, count);
}

/** Upstream's slow start: batches of 1, 2, 4, ... until `count` are done or one fails. */
export async function slowStartBatch(count: number, fn: () => Promise<void>): Promise<{ done: number; error?: unknown }> {
  let done = 0;
  for (let batch = Math.min(1, count); done < count; batch = Math.min(2 * batch, count - done)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    done += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { done, error: failed.reason };
  }
  return { done };
}

/** Pod template → pod, as upstream's GetPodFromTemplate: labels, annotations and finalizers copied, generateName `<prefix>-`. */
export function podFromTemplate(template: Obj, generateName: string, ownerRef: Obj): Obj {
  const meta = template.metadata ?? {};
  const pod: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName, ownerReferences: [ownerRef] },
    spec: structuredClone(template.spec ?? {}),
  };
  if (meta.labels) pod.metadata.labels = { ...meta.labels };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

/** Go's rounding of a percentage of `total` (intstr.GetScaledValueFromIntOrPercent). */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const pct = parseInt(v.slice(0, -1), 10);
    const exact = (pct * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  if (typeof v === 'string' && /^\d+$/.test(v)) return parseInt(v, 10);
  return 0;
}

export const nowIso = (now: number): string => new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
