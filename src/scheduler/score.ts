// Ranking of the nodes a pod fits on. Upstream sums weighted plugin scores; we compare in a fixed
// order of importance instead, which gives the same choices for the cases that matter here:
// avoid PreferNoSchedule taints, honour preferred (anti-)affinity, then spread pods across nodes.
import type { Obj } from '../api/resource.ts';
import { labelSelectorFromObject, matchesLabels } from '../api/selectors/labels.ts';
import { requestedOn, tolerated, type NodeState } from './filters.ts';
import { nodeSelectorTermMatches } from '../api/selectors/node-selector.ts';
import { cachedNodeAllocatable } from './resources.ts';

export interface NodeScore {
  name: string;
  preferNoScheduleTaints: number;
  nodeAffinity: number;
  podAffinity: number;
  pods: number;
  /** Average fraction of allocatable CPU and memory requested, 0..1. */
  utilisation: number;
}

function preferredNodeAffinity(pod: Obj, node: Obj): number {
  const preferred: Obj[] | undefined = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  if (!preferred) return 0;
  let sum = 0;
  for (const p of preferred) {
    if (p.preference && nodeSelectorTermMatches(p.preference, node)) sum += p.weight ?? 0;
  }
  return sum;
}

function preferredPodAffinity(pod: Obj, candidate: NodeState, all: NodeState[]): number {
  const affinity = pod.spec?.affinity;
  if (!affinity?.podAffinity && !affinity?.podAntiAffinity) return 0;
  let sum = 0;
  const score = (terms: Obj[] | undefined, sign: number) => {
    for (const w of terms ?? []) {
      const term = w.podAffinityTerm ?? {};
      const key = term.topologyKey;
      const value = candidate.node.metadata?.labels?.[key];
      if (!key || value === undefined) continue;
      let selector;
      try {
        selector = labelSelectorFromObject(term.labelSelector);
      } catch {
        continue;
      }
      const namespaces: string[] = term.namespaces?.length ? term.namespaces : [pod.metadata.namespace];
      const matched = all
        .filter((n) => n.node.metadata?.labels?.[key] === value)
        .some((n) => n.pods.some((p) => p.metadata.uid !== pod.metadata.uid && (term.namespaceSelector || namespaces.includes(p.metadata.namespace)) && matchesLabels(selector, p.metadata.labels)));
      if (matched) sum += sign * (w.weight ?? 0);
    }
  };
  score(pod.spec?.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution, 1);
  score(pod.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, -1);
  return sum;
}

export function scoreNode(pod: Obj, state: NodeState, all: NodeState[]): NodeScore {
  return scoreInto(blankScore(), pod, state, all);
}

const blankScore = (): NodeScore => ({ name: '', preferNoScheduleTaints: 0, nodeAffinity: 0, podAffinity: 0, pods: 0, utilisation: 0 });

/** scoreNode, written into `out` (bestNode reuses two objects instead of making one per node). */
function scoreInto(out: NodeScore, pod: Obj, state: NodeState, all: NodeState[]): NodeScore {
  const taints: Obj[] = state.node.spec?.taints ?? [];
  out.preferNoScheduleTaints = taints.length ? taints.filter((t) => t.effect === 'PreferNoSchedule' && !tolerated(t, pod.spec?.tolerations ?? [])).length : 0;
  out.nodeAffinity = preferredNodeAffinity(pod, state.node);
  out.podAffinity = preferredPodAffinity(pod, state, all);
  spreadInto(out, state, pod.metadata.uid);
  return out;
}

/** The part of a node's score that does not depend on the pod: where spreading puts it. */
export interface SpreadScore {
  name: string;
  pods: number;
  utilisation: number;
}

/** Writes the node's spread score (name, pods, utilisation) into `out`. */
export function spreadInto<T extends SpreadScore>(out: T, state: NodeState, excludeUid?: string): T {
  const alloc = state.allocatable ?? cachedNodeAllocatable(state.node);
  const used = requestedOn(state, excludeUid);
  out.name = state.node.metadata.name;
  out.pods = used.pods;
  out.utilisation = (frac(used.cpu, alloc.cpu) + frac(used.memory, alloc.memory)) / 2;
  return out;
}

const frac = (u: number, a: number) => (a > 0 ? Math.min(1, u / a) : 0);

/** The tail of compareScores: fewer pods, then lower utilisation, then the name. Negative when `a` is better. */
export function compareSpread(a: SpreadScore, b: SpreadScore): number {
  return a.pods - b.pods || a.utilisation - b.utilisation || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Whether every term of compareScores before the spread is the same (zero) for this pod on each of
 * `nodes`: no preferred node or pod (anti-)affinity, and no node with a PreferNoSchedule taint.
 * Then the best feasible node is the first feasible one in spread order.
 */
export function ranksBySpreadOnly(pod: Obj, nodes: readonly NodeState[]): boolean {
  const affinity = pod.spec?.affinity;
  if (affinity) {
    if ((affinity.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0) return false;
    if ((affinity.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0) return false;
    if ((affinity.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0) return false;
  }
  for (const n of nodes) {
    const taints: Obj[] | undefined = n.node.spec?.taints;
    if (taints?.length) for (const t of taints) if (t.effect === 'PreferNoSchedule') return false;
  }
  return true;
}

/** Negative when `a` is the better node. */
export function compareScores(a: NodeScore, b: NodeScore): number {
  return (
    a.preferNoScheduleTaints - b.preferNoScheduleTaints ||
    b.nodeAffinity - a.nodeAffinity ||
    b.podAffinity - a.podAffinity ||
    compareSpread(a, b)
  );
}

/** The feasible nodes, best first. */
export function rankNodes(pod: Obj, feasible: NodeState[], all: NodeState[]): NodeScore[] {
  return feasible.map((n) => scoreNode(pod, n, all)).sort(compareScores);
}

/**
 * The name of the best feasible node: rankNodes(...)[0] without ranking the rest. compareScores is
 * a total order (names break ties), so the minimum is the same node a sort puts first.
 */
export function bestNode(pod: Obj, feasible: NodeState[], all: NodeState[]): string {
  let best = scoreNode(pod, feasible[0]!, all);
  let next = blankScore();
  for (let i = 1; i < feasible.length; i++) {
    scoreInto(next, pod, feasible[i]!, all);
    if (compareScores(next, best) < 0) {
      const was = best;
      best = next;
      next = was;
    }
  }
  return best.name;
}
