// Which pods the pod garbage collector force-deletes, as pure functions of the pods and nodes it
// sees (upstream's gcTerminated, gcTerminating, gcOrphaned and gcUnscheduledTerminating).
import type { Obj } from '../../api/resource.ts';
import { OUT_OF_SERVICE } from '../nodelifecycle/taints.ts';

export const isTerminated = (pod: Obj): boolean => !['Pending', 'Running', 'Unknown'].includes(pod.status?.phase ?? 'Pending');
const isEvicted = (pod: Obj): boolean => pod.status?.phase === 'Failed' && pod.status?.reason === 'Evicted';
const nodeReady = (node: Obj): boolean => (node.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');

/** Evicted pods first, then the oldest, names breaking ties. */
export function byEvictionAndCreation(a: Obj, b: Obj): number {
  const ea = isEvicted(a);
  const eb = isEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ca = a.metadata.creationTimestamp ?? '';
  const cb = b.metadata.creationTimestamp ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** Terminated (Succeeded/Failed) pods beyond the threshold; a threshold of 0 or less keeps them all. */
export function terminatedToDelete(pods: Obj[], threshold: number): Obj[] {
  if (threshold <= 0) return [];
  const terminated = pods.filter(isTerminated);
  const excess = terminated.length - threshold;
  return excess > 0 ? terminated.sort(byEvictionAndCreation).slice(0, excess) : [];
}

/**
 * Terminating pods on a node that is not Ready and carries the out-of-service taint (any value,
 * any effect): the operator said the node is shut down, so nothing will ever confirm them.
 */
export function outOfServiceTerminating(pods: Obj[], nodeByName: (name: string) => Obj | undefined): Obj[] {
  return pods
    .filter((p) => {
      if (!p.metadata.deletionTimestamp) return false;
      const node = nodeByName(p.spec?.nodeName ?? '');
      return !!node && !nodeReady(node) && (node.spec?.taints ?? []).some((t: Obj) => t.key === OUT_OF_SERVICE);
    })
    .sort(byEvictionAndCreation);
}

/** Names of nodes pods are bound to that do not exist (candidates for the orphan quarantine). */
export function missingNodes(pods: Obj[], nodeNames: Set<string>): Set<string> {
  const missing = new Set<string>();
  for (const p of pods) if (p.spec?.nodeName && !nodeNames.has(p.spec.nodeName)) missing.add(p.spec.nodeName);
  return missing;
}

/** Terminating pods never bound to a node: no node will ever finish their deletion. */
export const unscheduledTerminating = (pods: Obj[]): Obj[] => pods.filter((p) => p.metadata.deletionTimestamp && !p.spec?.nodeName);
