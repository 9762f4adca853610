// Which NoExecute taints a pod tolerates, and for how long (upstream's GetMatchingTolerations and
// getMinTolerationTime, as the taint eviction controller uses them).
import type { Obj } from '../../api/resource.ts';
import { toleratesTaint } from '../../scheduler/filters.ts';

export const noExecuteTaints = (node: Obj | undefined): Obj[] => (node?.spec?.taints ?? []).filter((t: Obj) => t.effect === 'NoExecute');

/** Whether every taint is tolerated, and the first toleration matching each. */
export function matchingTolerations(taints: Obj[], tolerations: Obj[]): { all: boolean; used: Obj[] } {
  const used: Obj[] = [];
  for (const taint of taints) {
    const t = tolerations.find((tol) => toleratesTaint(tol, taint));
    if (!t) return { all: false, used: [] };
    used.push(t);
  }
  return { all: true, used };
}

/**
 * The shortest tolerationSeconds among the tolerations used, in ms: 0 when one is zero or less
 * (or none was needed), Infinity when none sets a limit (tolerated forever).
 */
export function minTolerationMs(used: Obj[]): number {
  if (used.length === 0) return 0;
  let min = Infinity;
  for (const t of used) {
    if (typeof t.tolerationSeconds !== 'number') continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds * 1000);
  }
  return min;
}

export type EvictionDecision = { kind: 'cancel' } | { kind: 'now' } | { kind: 'after'; ms: number };

/** What to do with a pod on a node with these NoExecute taints. */
export function evictionDecision(taints: Obj[], tolerations: Obj[] | undefined): EvictionDecision {
  if (taints.length === 0) return { kind: 'cancel' };
  const { all, used } = matchingTolerations(taints, tolerations ?? []);
  if (!all) return { kind: 'now' };
  const ms = minTolerationMs(used);
  return ms === Infinity ? { kind: 'cancel' } : { kind: 'after', ms };
}
