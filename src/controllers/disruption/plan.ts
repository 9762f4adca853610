// What kube-controller-manager's disruption controller computes for a PodDisruptionBudget, as a pure
// function of the budget, the pods it selects and the scale of their controllers. The eviction
// subresource trusts this status: without it every eviction of a budgeted pod is refused.
import type { Obj } from '../../api/resource.ts';
import { isPodReady } from '../endpoints/compute.ts';
import { selectorMatchesLabels } from '../../apiserver/filter.ts';

/** An eviction recorded in status.disruptedPods counts as pending for this long, then expires. */
export const DISRUPTION_TIMEOUT_MS = 2 * 60 * 1000;

/** The pods a budget covers: policy/v1 treats a missing selector as none, an empty one as all. */
export function selectsPod(pdb: Obj, pod: Obj): boolean {
  if (pdb.spec?.selector == null) return false;
  return pod.metadata.namespace === pdb.metadata.namespace && selectorMatchesLabels(pdb.spec.selector, pod.metadata.labels ?? {});
}

/** An int-or-percent against a total; percentages round up, as the controller does. */
export function scaledValue(value: unknown, total: number): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const m = /^(\d+)%$/.exec(value);
    if (m) return Math.ceil((Number(m[1]) * total) / 100);
    if (/^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

/** Resolves a pod's controller to its desired replica count, or says why it cannot. */
export type ScaleOf = (pod: Obj) => { uid: string; replicas: number } | { error: string };

export interface BudgetStatus {
  expectedPods: number;
  desiredHealthy: number;
  currentHealthy: number;
  disruptionsAllowed: number;
  disruptedPods?: Record<string, string>;
  /** Set when the budget cannot be evaluated (e.g. a pod without a controller under a percentage). */
  syncError?: string;
  /** When the next recorded eviction expires, if any: the controller looks again then. */
  recheckAtMs?: number;
}

/** Recorded evictions still pending: the pod exists, is not yet being deleted, and the record is fresh. */
export function pendingDisruptions(recorded: Record<string, string> | undefined, pods: Map<string, Obj>, now: number): { kept: Record<string, string>; recheckAtMs?: number } {
  const kept: Record<string, string> = {};
  let recheckAtMs: number | undefined;
  for (const [name, at] of Object.entries(recorded ?? {})) {
    const pod = pods.get(name);
    if (!pod || pod.metadata.deletionTimestamp) continue;
    const expires = Date.parse(at) + DISRUPTION_TIMEOUT_MS;
    if (!(expires > now)) continue;
    kept[name] = at;
    recheckAtMs = recheckAtMs === undefined ? expires : Math.min(recheckAtMs, expires);
  }
  return { kept, recheckAtMs };
}

export function budgetStatus(pdb: Obj, pods: Obj[], scaleOf: ScaleOf, now: number): BudgetStatus {
  const byName = new Map(pods.map((p) => [p.metadata.name as string, p]));
  const { kept, recheckAtMs } = pendingDisruptions(pdb.status?.disruptedPods, byName, now);

  let currentHealthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (kept[pod.metadata.name] !== undefined) continue;
    if (isPodReady(pod)) currentHealthy++;
  }

  const spec = pdb.spec ?? {};
  let expectedPods = pods.length;
  let desiredHealthy = 0;
  const fromControllers = (): number | { error: string } => {
    const seen = new Map<string, number>();
    for (const pod of pods) {
      const s = scaleOf(pod);
      if ('error' in s) return s;
      seen.set(s.uid, s.replicas);
    }
    let sum = 0;
    for (const n of seen.values()) sum += n;
    return sum;
  };
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const scale = fromControllers();
    if (typeof scale !== 'number') return { expectedPods: 0, desiredHealthy: 0, currentHealthy, disruptionsAllowed: 0, disruptedPods: kept, syncError: scale.error, recheckAtMs };
    expectedPods = scale;
    desiredHealthy = Math.max(0, expectedPods - (scaledValue(spec.maxUnavailable, expectedPods) ?? 0));
  } else if (typeof spec.minAvailable === 'number' || (typeof spec.minAvailable === 'string' && /^\d+$/.test(spec.minAvailable))) {
    desiredHealthy = scaledValue(spec.minAvailable, 0) ?? 0;
  } else if (typeof spec.minAvailable === 'string') {
    const scale = fromControllers();
    if (typeof scale !== 'number') return { expectedPods: 0, desiredHealthy: 0, currentHealthy, disruptionsAllowed: 0, disruptedPods: kept, syncError: scale.error, recheckAtMs };
    expectedPods = scale;
    desiredHealthy = scaledValue(spec.minAvailable, expectedPods) ?? 0;
  }
  return {
    expectedPods,
    desiredHealthy,
    currentHealthy,
    disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy),
    disruptedPods: kept,
    recheckAtMs,
  };
}

/** The status object to write: upstream's fields and its DisruptionAllowed condition. */
export function statusObject(pdb: Obj, s: BudgetStatus, nowIso: string): Obj {
  const status: Obj = {
    ...(Object.keys(s.disruptedPods ?? {}).length ? { disruptedPods: s.disruptedPods } : {}),
    disruptionsAllowed: s.disruptionsAllowed,
    currentHealthy: s.currentHealthy,
    desiredHealthy: s.desiredHealthy,
    expectedPods: s.expectedPods,
    observedGeneration: pdb.metadata.generation ?? 1,
  };
  const allowed = !s.syncError && s.disruptionsAllowed > 0;
  const condition: Obj = {
    type: 'DisruptionAllowed',
    status: allowed ? 'True' : 'False',
    observedGeneration: status.observedGeneration,
    reason: s.syncError ? 'SyncFailed' : allowed ? 'SufficientPods' : 'InsufficientPods',
    message: s.syncError ?? '',
  };
  const previous = (pdb.status?.conditions ?? []).find((c: Obj) => c.type === 'DisruptionAllowed');
  condition.lastTransitionTime = previous && previous.status === condition.status ? previous.lastTransitionTime : nowIso;
  status.conditions = [...(pdb.status?.conditions ?? []).filter((c: Obj) => c.type !== 'DisruptionAllowed'), condition];
  return status;
}
