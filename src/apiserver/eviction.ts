// The eviction subresource's decision, as upstream's pod eviction REST storage makes it: a
// budget-aware delete. Evicting a budgeted pod spends one of the budget's disruptionsAllowed and
// records the pod in status.disruptedPods, so that two evictions racing each other cannot both
// spend the same disruption before the disruption controller has seen the pod go.
import type { Obj } from '../api/resource.ts';
import { ApiError, forbidden, internalError } from './errors.ts';
import { isPodReady } from '../controllers/endpoints/compute.ts';

/** More pending evictions than this in one budget means the controller is not keeping up. */
export const MAX_DISRUPTED_PODS = 2000;

export type EvictionDecision =
  | { kind: 'delete' }
  | { kind: 'refuse'; error: ApiError }
  | { kind: 'charge'; pdb: Obj; status: Obj };

const tooManyRequests = (cause: string) =>
  new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", { causes: [{ reason: 'DisruptionBudget', message: cause }] });

const budgetForbidden = (pdb: Obj, why: string) => forbidden({ group: 'policy', resource: 'poddisruptionbudget' }, pdb.metadata.name, why);

/** Finished, not yet running, or already going: a budget has nothing to protect. */
export function canIgnoreBudget(pod: Obj): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp;
}

/** `budgets` are the budgets whose selector matches the pod. */
export function decideEviction(pod: Obj, budgets: Obj[], nowIso: string): EvictionDecision {
  if (canIgnoreBudget(pod) || budgets.length === 0) return { kind: 'delete' };
  if (budgets.length > 1) {
    return { kind: 'refuse', error: internalError(new Error('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.')) };
  }
  const pdb = budgets[0];
  const st = pdb.status ?? {};
  if (!isPodReady(pod)) {
    // An unhealthy pod adds nothing to the budget: it may go when the budget is met without it
    // (IfHealthyBudget, the default), or always (AlwaysAllow).
    if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return { kind: 'delete' };
    if ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0) return { kind: 'delete' };
  }
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) {
    return { kind: 'refuse', error: tooManyRequests(`The disruption budget ${pdb.metadata.name} is still being processed by the server.`) };
  }
  const allowed: number = st.disruptionsAllowed ?? 0;
  if (allowed < 0) return { kind: 'refuse', error: budgetForbidden(pdb, 'pdb disruptions allowed is negative') };
  if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    return { kind: 'refuse', error: budgetForbidden(pdb, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller') };
  }
  if (allowed === 0) {
    return { kind: 'refuse', error: tooManyRequests(`The disruption budget ${pdb.metadata.name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`) };
  }
  const status = { ...st, disruptionsAllowed: allowed - 1, disruptedPods: { ...(st.disruptedPods ?? {}), [pod.metadata.name]: nowIso } };
  return { kind: 'charge', pdb, status };
}
