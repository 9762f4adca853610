// The Deployment controller's pure decisions, as upstream's pkg/controller/deployment (rolling.go,
// recreate.go, sync.go, progress.go) and its util package: which ReplicaSet is new, how far each
// ReplicaSet is scaled, which old ones are cleaned up, and the status and conditions to write.
import type { Obj } from '../../api/resource.ts';
import { deepEqual } from '../../api/validation/fields.ts';
import { fnv1, goJson, safeEncode } from '../history/history.ts';
import { nowIso, scaledValue } from '../workloads/pods.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';

/** Deployment annotations a new ReplicaSet does not inherit. */
const SKIP_COPY = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

export const replicasOf = (o: Obj): number => o.spec?.replicas ?? 0;
const utf8 = new TextEncoder();

/** The pod-template-hash: the template's canonical JSON hashed with FNV, salted with the collision count. */
export function templateHash(template: Obj, collisionCount?: number): string {
  let h = fnv1(utf8.encode(goJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) h = fnv1(utf8.encode(String(collisionCount)), h);
  return safeEncode(String(h));
}

function withoutHash(template: Obj | undefined): Obj {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[HASH_LABEL];
    if (!Object.keys(t.metadata.labels).length) delete t.metadata.labels;
  }
  return t;
}

/** Templates equal but for the pod-template-hash label (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: Obj | undefined, b: Obj | undefined): boolean {
  return deepEqual(withoutHash(a), withoutHash(b));
}

const byCreation = (a: Obj, b: Obj): number => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
};

export function revisionOf(rs: Obj): number {
  const v = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION]);
  return Number.isFinite(v) ? v : 0;
}

/** The oldest ReplicaSet whose template is the Deployment's, and the rest. */
export function splitReplicaSets(d: Obj, rss: Obj[]): { newRS?: Obj; oldRSs: Obj[] } {
  const sorted = [...rss].sort(byCreation);
  const newRS = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
  return { newRS, oldRSs: sorted.filter((rs) => rs !== newRS) };
}

export function maxRevision(rss: Obj[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

export const isRollingUpdate = (d: Obj): boolean => d.spec?.strategy?.type === 'RollingUpdate';

/** maxSurge rounded up, maxUnavailable rounded down; both zero makes maxUnavailable 1. */
export function resolveFenceposts(d: Obj): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const desired = replicasOf(d);
  const surge = scaledValue(ru.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxUnavailable(d: Obj): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicasOf(d));
}

export function maxSurge(d: Obj): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

/** Upstream NewRSNewReplicas: how far the new ReplicaSet may grow now. */
export function newRSNewReplicas(d: Obj, allRSs: Obj[], newRS: Obj): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const current = allRSs.reduce((n, rs) => n + replicasOf(rs), 0);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

/** The replica annotations a ReplicaSet carries once scaled for the Deployment. */
export function replicasAnnotations(d: Obj): Record<string, string> {
  return { [DESIRED_REPLICAS_ANNOTATION]: String(replicasOf(d)), [MAX_REPLICAS_ANNOTATION]: String(replicasOf(d) + maxSurge(d)) };
}

/** The ReplicaSet to create for the Deployment's current template (its replicas still to be set). */
export function newReplicaSetFor(d: Obj, revision: number): Obj {
  const hash = templateHash(d.spec.template, d.status?.collisionCount);
  const template = structuredClone(d.spec.template);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
  const selector = structuredClone(d.spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries((d.metadata.annotations ?? {}) as Record<string, string>)) if (!SKIP_COPY.has(k)) annotations[k] = v;
  annotations[REVISION_ANNOTATION] = String(revision);
  Object.assign(annotations, replicasAnnotations(d));
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: template.metadata.labels,
      annotations,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
  };
}

export interface Scale {
  rs: Obj;
  replicas: number;
}

/** Upstream reconcileOldReplicaSets for a rolling update: first unhealthy old pods, then healthy ones within maxUnavailable. */
export function scaleDownOld(d: Obj, oldRSs: Obj[], newRS: Obj | undefined): Scale[] {
  const oldPods = oldRSs.reduce((n, rs) => n + replicasOf(rs), 0);
  if (oldPods === 0) return [];
  const all = newRS ? [...oldRSs, newRS] : oldRSs;
  const allPods = all.reduce((n, rs) => n + replicasOf(rs), 0);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = newRS ? replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0) : 0;
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];
  const target = new Map<Obj, number>(oldRSs.map((rs) => [rs, replicasOf(rs)]));
  // Unhealthy replicas go first: they do not count towards availability anyway.
  let cleaned = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (cleaned >= maxScaledDown) break;
    const cur = target.get(rs)!;
    if (cur === 0) continue;
    const unhealthy = cur - (rs.status?.availableReplicas ?? 0);
    if (unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    target.set(rs, cur - n);
    cleaned += n;
  }
  // Then healthy ones, as far as the available count allows.
  const available = all.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
  const total = available - minAvailable;
  // Replicas already cut as unhealthy were not available, so they do not reduce this budget.
  if (total > 0) {
    let done = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (done >= total) break;
      const cur = target.get(rs)!;
      if (cur === 0) continue;
      const n = Math.min(cur, total - done);
      target.set(rs, cur - n);
      done += n;
    }
  }
  return oldRSs.filter((rs) => target.get(rs) !== replicasOf(rs)).map((rs) => ({ rs, replicas: target.get(rs)! }));
}

const isActive = (rs: Obj) => replicasOf(rs) > 0;

/**
 * Upstream scale(): a Deployment scaled while not rolling scales its one active ReplicaSet; during
 * a rollout the change is spread over the active ReplicaSets in proportion to their size.
 */
export function proportionalScale(d: Obj, newRS: Obj | undefined, oldRSs: Obj[]): Scale[] {
  const active = [...oldRSs, ...(newRS ? [newRS] : [])].filter(isActive);
  const want = replicasOf(d);
  let single: Obj | undefined;
  if (active.length === 0) single = newRS ?? [...oldRSs].sort(byCreation).at(-1);
  else if (active.length === 1) single = active[0];
  if (single || active.length <= 1) {
    if (!single || replicasOf(single) === want) return [];
    return [{ rs: single, replicas: want }];
  }
  // Saturated: the new ReplicaSet alone is enough.
  if (newRS && replicasOf(newRS) === want && newRS.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] === String(want) && (newRS.status?.availableReplicas ?? 0) === want) {
    return oldRSs.filter(isActive).map((rs) => ({ rs, replicas: 0 }));
  }
  if (!isRollingUpdate(d)) return [];
  const current = active.reduce((n, rs) => n + replicasOf(rs), 0);
  const allowed = want > 0 ? want + maxSurge(d) : 0;
  const toAdd = allowed - current;
  if (toAdd === 0) return [];
  // Larger first; ties go to the newer when growing and to the older when shrinking.
  const sorted = [...active].sort((a, b) => {
    if (replicasOf(a) !== replicasOf(b)) return replicasOf(b) - replicasOf(a);
    return toAdd > 0 ? byCreation(b, a) : byCreation(a, b);
  });
  let added = 0;
  const size = new Map<Obj, number>();
  for (const rs of sorted) {
    let proportion = 0;
    if (replicasOf(rs) > 0 && toAdd !== added) {
      const fraction = rsFraction(rs, d);
      const left = toAdd - added;
      proportion = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
    }
    size.set(rs, replicasOf(rs) + proportion);
    added += proportion;
  }
  if (added !== toAdd) size.set(sorted[0], Math.max(0, size.get(sorted[0])! + toAdd - added));
  return sorted.filter((rs) => size.get(rs) !== replicasOf(rs)).map((rs) => ({ rs, replicas: size.get(rs)! }));
}

function rsFraction(rs: Obj, d: Obj): number {
  if (replicasOf(d) === 0) return -replicasOf(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION]);
  const base = Number.isFinite(annotated) && annotated > 0 ? annotated : (d.status?.replicas ?? 0);
  if (!base) return 0;
  return Math.round((replicasOf(rs) * deploymentReplicas) / base) - replicasOf(rs);
}

/** Whether some ReplicaSet was scaled for an older replica count (upstream isScalingEvent). */
export function isScalingEvent(d: Obj, rss: Obj[]): boolean {
  return rss.filter(isActive).some((rs) => {
    const desired = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
    return desired !== undefined && desired !== String(replicasOf(d));
  });
}

/** Old ReplicaSets beyond revisionHistoryLimit that may go: scaled to zero, settled, not being deleted, lowest revisions first. */
export function replicaSetsToCleanUp(d: Obj, oldRSs: Obj[]): Obj[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit === undefined || limit === null) return [];
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return sorted
    .slice(0, diff)
    .filter((rs) => (rs.status?.replicas ?? 0) === 0 && replicasOf(rs) === 0 && (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0));
}

// ---------------------------------------------------------------- status

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

/** Upstream SetDeploymentCondition: the same status and reason changes nothing; the same status keeps its transition time. */
export function setCondition(conditions: Obj[], c: Condition, now: number): Obj[] {
  const cur = conditions.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return conditions;
  const t = nowIso(now);
  const next = { ...c, lastUpdateTime: c.lastUpdateTime ?? t, lastTransitionTime: cur && cur.status === c.status ? cur.lastTransitionTime : (c.lastTransitionTime ?? t) };
  return [...conditions.filter((x) => x.type !== c.type), next];
}

export function getCondition(status: Obj | undefined, type: string): Obj | undefined {
  return (status?.conditions ?? []).find((c: Obj) => c.type === type);
}

/** Counts and the Available condition (upstream calculateStatus). */
export function calculateStatus(d: Obj, allRSs: Obj[], newRS: Obj | undefined, now: number): Obj {
  const sum = (f: (rs: Obj) => number) => allRSs.reduce((n, rs) => n + f(rs), 0);
  const available = sum((rs) => rs.status?.availableReplicas ?? 0);
  const status: Obj = {
    observedGeneration: d.metadata.generation,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sum(replicasOf) - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  let conditions: Obj[] = [...(d.status?.conditions ?? [])];
  conditions =
    available >= replicasOf(d) - maxUnavailable(d)
      ? setCondition(conditions, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, now)
      : setCondition(conditions, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, now);
  status.conditions = conditions;
  return status;
}

export function deploymentComplete(d: Obj, s: Obj): boolean {
  const want = replicasOf(d);
  return s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

function progressing(d: Obj, s: Obj): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

function timedOut(d: Obj, s: Obj, now: number): boolean {
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === 'NewReplicaSetAvailable') return false;
  if (c.reason === 'ProgressDeadlineExceeded') return true;
  const deadline = d.spec?.progressDeadlineSeconds;
  if (deadline === undefined || deadline === null) return false;
  return Date.parse(c.lastUpdateTime) + deadline * 1000 < now;
}

/**
 * Upstream syncRolloutStatus: the counts, Available, and the Progressing condition (complete,
 * progressing, or past progressDeadlineSeconds). `requeueAfter` is when the deadline would pass.
 */
export function rolloutStatus(d: Obj, allRSs: Obj[], newRS: Obj | undefined, now: number): { status: Obj; requeueAfterMs?: number } {
  const s = calculateStatus(d, allRSs, newRS, now);
  const deadline = d.spec?.progressDeadlineSeconds;
  let requeueAfterMs: number | undefined;
  if (!d.spec?.paused && deadline !== undefined && deadline !== null && deadline !== 2147483647) {
    const cur = getCondition(s, 'Progressing');
    if (newRS && deploymentComplete(d, s)) {
      s.conditions = setCondition(s.conditions, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${newRS.metadata.name}" has successfully progressed.` }, now);
    } else if (progressing(d, s)) {
      const t = nowIso(now);
      const c = {
        type: 'Progressing',
        status: 'True',
        reason: 'ReplicaSetUpdated',
        message: newRS ? `ReplicaSet "${newRS.metadata.name}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`,
        lastUpdateTime: t,
        lastTransitionTime: cur?.status === 'True' ? cur.lastTransitionTime : t,
      };
      // Progress refreshes lastUpdateTime even when the reason stays the same.
      s.conditions = [...s.conditions.filter((x: Obj) => x.type !== 'Progressing'), c];
    } else if (timedOut(d, s, now)) {
      s.conditions = setCondition(
        s.conditions,
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: newRS ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.` },
        now,
      );
    }
    const after = getCondition(s, 'Progressing');
    if (after && after.reason !== 'NewReplicaSetAvailable' && after.reason !== 'ProgressDeadlineExceeded' && !deploymentComplete(d, s)) {
      requeueAfterMs = Math.max(0, Date.parse(after.lastUpdateTime) + deadline * 1000 - now) + 1000;
    }
  }
  // A ReplicaSet that cannot create pods makes the Deployment report ReplicaFailure.
  const failure = newRS ? (newRS.status?.conditions ?? []).find((c: Obj) => c.type === 'ReplicaFailure') : undefined;
  if (failure) s.conditions = setCondition(s.conditions, { type: 'ReplicaFailure', status: failure.status, reason: failure.reason, message: failure.message }, now);
  else s.conditions = s.conditions.filter((c: Obj) => c.type !== 'ReplicaFailure');
  return { status: s, requeueAfterMs };
}

/** Upstream checkPausedConditions: Progressing Unknown while paused, DeploymentResumed after. */
export function pausedConditions(d: Obj, now: number): Obj[] | undefined {
  const conditions: Obj[] = d.status?.conditions ?? [];
  const cur = conditions.find((c) => c.type === 'Progressing');
  if (cur?.reason === 'ProgressDeadlineExceeded') return undefined;
  const pausedSet = cur?.reason === 'DeploymentPaused';
  if (d.spec?.paused && !pausedSet) {
    return setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, now);
  }
  if (!d.spec?.paused && pausedSet) {
    return setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' }, now);
  }
  return undefined;
}

/** Status equality that ignores condition times when nothing else changed. */
export function sameDeploymentStatus(a: Obj | undefined, b: Obj): boolean {
  return deepEqual(a ?? {}, b);
}
