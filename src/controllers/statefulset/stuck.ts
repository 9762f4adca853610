// Rollouts that do not get stuck (kubernetes/kubernetes#67250), opt-in per set.
//
// Upstream's OrderedReady walk stops at the first pod that is not Running and Ready before it ever
// looks at revisions, so a template that yields a pod which never becomes Ready blocks the set for
// good: fixing or reverting the template changes nothing until someone deletes that pod by hand
// (the "forced rollback" of the StatefulSet docs). KEP-3541 and OpenKruise answer it by letting
// the controller replace such pods itself; we take the narrowest form of that: once the template
// has moved on, a pod that is not Ready and sits at a revision that is neither the current nor the
// update revision can only be a leftover of a superseded rollout, so it is replaced at once.
// Pods at the current revision are never touched early (they are what the set falls back on), nor
// pods at the update revision (they may still become Ready), nor pods below the partition.
//
// Off by default, because upstream waits: every manifest behaves as upstream unless the set carries
// the annotation below.
import type { Obj } from '../../api/resource.ts';
import type { PodFacts } from './memo.ts';

export const REPLACE_STUCK_PODS_ANNOTATION = 'ordinal.dev/replace-stuck-pods';

/** What the decision needs of the set and its revisions, computed once per walk. */
export interface StuckPolicy {
  currentRevision: string;
  updateRevision: string;
  /** Slots below this index (the partition) keep their revision and are left alone. */
  minIndex: number;
}

/** The policy for a walk, or undefined when the set has not opted in or does not roll pods itself (OnDelete). */
export function stuckPolicy(set: Obj, currentRevision: string, updateRevision: string): StuckPolicy | undefined {
  if (set.metadata?.annotations?.[REPLACE_STUCK_PODS_ANNOTATION] !== 'true') return undefined;
  const strategy = set.spec?.updateStrategy ?? {};
  // OnDelete leaves replacement to whoever deletes pods; an absent type defaults to RollingUpdate.
  if (strategy.type === 'OnDelete') return undefined;
  return { currentRevision, updateRevision, minIndex: strategy.rollingUpdate?.partition ?? 0 };
}

/**
 * Whether the pod in slot `index` is a stuck leftover to replace now: it exists, is not on its way
 * out or finished (those have their own handling), is not Running and Ready, and is at neither revision.
 */
export function isStuckLeftover(policy: StuckPolicy, f: PodFacts, index: number): boolean {
  return (
    index >= policy.minIndex &&
    f.created &&
    !f.terminating &&
    !f.terminal &&
    !f.runningAndReady &&
    f.revision !== policy.currentRevision &&
    f.revision !== policy.updateRevision
  );
}

/** The event that says why a pod went without anyone deleting it. */
export function stuckPodMessage(set: Obj, pod: Obj): string {
  const revision = pod.metadata?.labels?.['controller-revision-hash'] || '<none>';
  return `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is replacing Pod ${pod.metadata.name}: it is not Ready and its revision ${revision} has been superseded`;
}
