// The ReplicaSet controller's pure decisions (upstream manageReplicas and calculateStatus): how many
// pods to create or which to delete, and the status the set should show.
import type { Obj } from '../../api/resource.ts';
import { availableAt, isPodActive, isPodAvailable, isPodReady, podsToDelete } from '../workloads/pods.ts';
import { nowIso } from '../workloads/pods.ts';

/** Upstream's burstReplicas: the most pods created or deleted in one sync. */
export const BURST_REPLICAS = 500;

export type ManagePlan = { create: number } | { delete: Obj[] } | { none: true };

/** `active` are the set's owned active pods; `related` the active pods of its siblings (same owner), for node ranks. */
export function planReplicas(rs: Obj, active: Obj[], related: Obj[], now: number): ManagePlan {
  const want = rs.spec?.replicas ?? 1;
  const diff = active.length - want;
  if (diff < 0) return { create: Math.min(-diff, BURST_REPLICAS) };
  if (diff > 0) return { delete: podsToDelete(active, related, Math.min(diff, BURST_REPLICAS), now) };
  return { none: true };
}

export interface StatusResult {
  status: Obj;
  /** When a ready pod turns available (minReadySeconds), so the status changes without an event. */
  recheckAt?: number;
}

/** `pods` are every pod the set owns (active or not); `createError` a failure of the last manage pass. */
export function replicaSetStatus(rs: Obj, pods: Obj[], now: number, createError?: { reason: string; message: string }): StatusResult {
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
  let replicas = 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  let recheckAt: number | undefined;
  for (const pod of pods) {
    if (!isPodActive(pod)) continue;
    replicas++;
    const labels = pod.metadata.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
      else {
        const at = availableAt(pod, minReady);
        if (at !== undefined && (recheckAt === undefined || at < recheckAt)) recheckAt = at;
      }
    }
  }
  const status: Obj = { replicas, fullyLabeledReplicas: fullyLabeled, readyReplicas: ready, availableReplicas: available, observedGeneration: rs.metadata.generation };
  // ReplicaFailure reports pods the set could not create (e.g. quota or validation), and goes once they can be.
  const old: Obj | undefined = (rs.status?.conditions ?? []).find((c: Obj) => c.type === 'ReplicaFailure');
  const conditions = (rs.status?.conditions ?? []).filter((c: Obj) => c.type !== 'ReplicaFailure');
  if (createError) {
    const same = old && old.reason === createError.reason && old.message === createError.message;
    conditions.push(same ? old : { type: 'ReplicaFailure', status: 'True', lastTransitionTime: nowIso(now), reason: createError.reason, message: createError.message });
  }
  if (conditions.length) status.conditions = conditions;
  return { status, recheckAt };
}

/** Status fields compare equal whatever their key order. */
export function sameStatus(a: Obj | undefined, b: Obj): boolean {
  const keys = ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'];
  if (keys.some((k) => (a?.[k] ?? 0) !== (b[k] ?? 0))) return false;
  return JSON.stringify(a?.conditions ?? []) === JSON.stringify(b.conditions ?? []);
}
