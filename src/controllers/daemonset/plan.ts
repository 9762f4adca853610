// The DaemonSet controller's pure decisions, as upstream's pkg/controller/daemon: which nodes
// should run the daemon pod (node selector, node affinity, taints against the pod's tolerations
// plus the daemon tolerations), the pod for a node (pinned by node affinity on metadata.name),
// what to create and delete per node, the rolling update within maxUnavailable (or, with maxSurge,
// new pods beside old ones, each old pod going once its replacement is available), and the status.
import type { Obj } from '../../api/resource.ts';
import { matchesNodeSelectorAndAffinity, tolerated } from '../../scheduler/filters.ts';
import { availableAt, isPodActive, isPodAvailable, isPodReady, scaledValue } from '../workloads/pods.ts';

export const REVISION_HASH_LABEL = 'controller-revision-hash';
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/** Tolerations upstream gives every daemon pod, so node conditions never keep or push it off its node. */
export function daemonTolerations(hostNetwork: boolean): Obj[] {
  const t = (key: string, effect: string) => ({ key, operator: 'Exists', effect });
  const out = [
    t('node.kubernetes.io/not-ready', 'NoExecute'),
    t('node.kubernetes.io/unreachable', 'NoExecute'),
    t('node.kubernetes.io/disk-pressure', 'NoSchedule'),
    t('node.kubernetes.io/memory-pressure', 'NoSchedule'),
    t('node.kubernetes.io/pid-pressure', 'NoSchedule'),
    t('node.kubernetes.io/unschedulable', 'NoSchedule'),
  ];
  if (hostNetwork) out.push(t('node.kubernetes.io/network-unavailable', 'NoSchedule'));
  return out;
}

function withDaemonTolerations(spec: Obj): Obj[] {
  const own: Obj[] = spec.tolerations ?? [];
  const extra = daemonTolerations(!!spec.hostNetwork).filter((d) => !own.some((t) => t.key === d.key && t.effect === d.effect && t.operator === d.operator));
  return [...own, ...extra];
}

/** Upstream NodeShouldRunDaemonPod: selector and affinity admit the node, and its NoSchedule/NoExecute taints are tolerated. */
export function nodeShouldRun(ds: Obj, node: Obj): boolean {
  const spec = ds.spec?.template?.spec ?? {};
  if (!matchesNodeSelectorAndAffinity({ spec }, node)) return false;
  const tolerations = withDaemonTolerations(spec);
  return (node.spec?.taints ?? []).filter((t: Obj) => t.effect === 'NoSchedule' || t.effect === 'NoExecute').every((t: Obj) => tolerated(t, tolerations));
}

/** The node-name affinity term that pins a daemon pod to its node (upstream ReplaceDaemonSetPodNodeNameNodeAffinity). */
export function pinToNode(spec: Obj, nodeName: string): void {
  const affinity = (spec.affinity ??= {});
  const nodeAffinity = (affinity.nodeAffinity ??= {});
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
  };
}

export function daemonPod(ds: Obj, nodeName: string, hash: string): Obj {
  const meta = ds.spec.template?.metadata ?? {};
  const spec = structuredClone(ds.spec.template?.spec ?? {});
  spec.tolerations = withDaemonTolerations(spec);
  pinToNode(spec, nodeName);
  const pod: Obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name}-`,
      labels: { ...(meta.labels ?? {}), [REVISION_HASH_LABEL]: hash, [TEMPLATE_GENERATION_LABEL]: String(ds.metadata.generation ?? 1) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name, uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  return pod;
}

/** The node a daemon pod is bound or pinned to. */
export function podNode(pod: Obj): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  return undefined;
}

/** Upstream's AllowsSurge: a RollingUpdate whose maxSurge is above zero (a percentage of one node rounds up). */
export function allowsSurge(ds: Obj): boolean {
  const us = ds.spec?.updateStrategy;
  return us?.type === 'RollingUpdate' && scaledValue(us.rollingUpdate?.maxSurge ?? 0, 1, true) > 0;
}

/** Upstream's podByCreationTimestampAndPhase: scheduled pods first, then oldest first, then by name. */
function byCreation(a: Obj, b: Obj): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  if (sa !== sb) return sa - sb;
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  return String(a.metadata.name).localeCompare(String(b.metadata.name));
}

export interface DaemonPlan {
  createOn: string[];
  delete: Obj[];
  status: Obj;
  /** When a Ready pod turns available (minReadySeconds), if one will: a surging rollout moves on then. */
  recheckAt?: number;
}

/** One sync: `pods` are the set's pods, `hash` the current template's revision hash. */
export function planDaemonSet(ds: Obj, nodes: Obj[], pods: Obj[], hash: string, now: number): DaemonPlan {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const byNode = new Map<string, Obj[]>();
  for (const p of pods) {
    const n = podNode(p);
    if (!n) continue;
    if (!byNode.has(n)) byNode.set(n, []);
    byNode.get(n)!.push(p);
  }
  const isUpdated = (p: Obj) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash;
  const surge = allowsSurge(ds);
  const surgeNodes: { node: string; running: Obj[] }[] = [];
  const createOn: string[] = [];
  const del: Obj[] = [];
  let desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
  const oldOnNodes: { node: string; pod: Obj; available: boolean }[] = [];
  let unavailableNodes = 0;
  for (const node of nodes) {
    const name = node.metadata.name;
    const here = byNode.get(name) ?? [];
    byNode.delete(name);
    const active = here.filter(isPodActive);
    const should = nodeShouldRun(ds, node);
    if (!should) {
      if (active.length) misscheduled++;
      del.push(...active);
      continue;
    }
    desired++;
    // Failed pods are deleted and replaced.
    del.push(...here.filter((p) => p.status?.phase === 'Failed' && !p.metadata.deletionTimestamp));
    if (surge) {
      const running = [...active].sort(byCreation);
      // Surging needs a live pod on every node: one is created even while another terminates.
      if (!running.length) {
        createOn.push(name);
        unavailableNodes++;
        continue;
      }
      del.push(...surplusWhileSurging(running, isUpdated, minReady, now));
      surgeNodes.push({ node: name, running });
      // Status looks at the oldest pod of the node, as upstream's does.
      const oldest = running[0];
      current++;
      if (isPodReady(oldest)) ready++;
      if (isPodAvailable(oldest, minReady, now)) available++;
      if (isUpdated(oldest)) updated++;
      continue;
    }
    const running = active.sort((a, b) => (isUpdated(b) ? 1 : 0) - (isUpdated(a) ? 1 : 0) || String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    if (!running.length) {
      if (!here.some((p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Failed')) createOn.push(name);
      unavailableNodes++;
      continue;
    }
    current++;
    // One daemon pod per node: extras go (newest-template and oldest kept first).
    del.push(...running.slice(1));
    const pod = running[0];
    const avail = isPodAvailable(pod, minReady, now);
    if (isPodReady(pod)) ready++;
    if (avail) available++;
    else unavailableNodes++;
    if (isUpdated(pod)) updated++;
    else oldOnNodes.push({ node: name, pod, available: avail });
  }
  // Pods pinned to nodes that no longer exist.
  for (const rest of byNode.values()) del.push(...rest.filter((p) => !p.metadata.deletionTimestamp));

  const us = ds.spec?.updateStrategy ?? {};
  // As upstream, the rolling update only runs in a sync whose node-by-node pass changed nothing.
  if (surge && !createOn.length && !del.length) {
    const step = surgeStep(surgeNodes, isUpdated, scaledValue(us.rollingUpdate?.maxSurge ?? 0, desired, true), minReady, now);
    createOn.push(...step.createOn);
    del.push(...step.delete);
  }
  if (!surge && us.type === 'RollingUpdate' && oldOnNodes.length) {
    const maxUnavailable = Math.max(1, scaledValue(us.rollingUpdate?.maxUnavailable ?? 1, desired, true));
    // Unavailable old pods go first and cost nothing extra; available ones only within the budget.
    let budget = maxUnavailable - unavailableNodes;
    for (const o of oldOnNodes) if (!o.available) del.push(o.pod);
    for (const o of oldOnNodes) {
      if (!o.available || budget <= 0) continue;
      del.push(o.pod);
      budget--;
    }
  }
  const status: Obj = {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    observedGeneration: ds.metadata.generation,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: Math.max(0, desired - available),
  };
  if (ds.status?.collisionCount !== undefined) status.collisionCount = ds.status.collisionCount;
  if (ds.status?.conditions) status.conditions = ds.status.conditions;
  let recheckAt: number | undefined;
  if (surge && minReady) {
    for (const { running } of surgeNodes) {
      for (const p of running) {
        const at = availableAt(p, minReady);
        if (at !== undefined && at > now && (recheckAt === undefined || at < recheckAt)) recheckAt = at;
      }
    }
  }
  return { createOn, delete: [...new Set(del)], status, ...(recheckAt !== undefined && { recheckAt }) };
}

/**
 * Upstream's pruning of a node's pods when surging: the oldest updated and the oldest old pod may
 * both stay, the old one only while it is Ready and the updated one is not yet available
 * (minReadySeconds); every other pod goes. `running` is sorted by byCreation.
 */
export function surplusWhileSurging(running: Obj[], isUpdated: (p: Obj) => boolean, minReady = 0, now = Date.now()): Obj[] {
  if (running.length <= 1) return [];
  const out: Obj[] = [];
  let oldestNew: Obj | undefined;
  let oldestOld: Obj | undefined;
  for (const p of running) {
    if (isUpdated(p) && !oldestNew) oldestNew = p;
    else if (!isUpdated(p) && !oldestOld) oldestOld = p;
    else out.push(p);
  }
  if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, minReady, now))) out.push(oldestOld);
  return out;
}

/**
 * Upstream's rolling update with maxSurge (pkg/controller/daemon/update.go): a node whose old pod
 * is unavailable gets its new pod at once; a node whose old pod is available gets one only within
 * maxSurge, counting new pods not yet available; an old pod goes once the new one beside it is
 * available. Nodes with more than one old or new pod are left to the node-by-node pass.
 */
export function surgeStep(nodes: { node: string; running: Obj[] }[], isUpdated: (p: Obj) => boolean, maxSurge: number, minReady: number, now: number): { createOn: string[]; delete: Obj[] } {
  const allowed: string[] = [];
  const candidates: string[] = [];
  const del: Obj[] = [];
  let inFlight = 0;
  for (const { node, running } of nodes) {
    const fresh = running.filter(isUpdated);
    const old = running.filter((p) => !isUpdated(p));
    if (fresh.length > 1 || old.length > 1) {
      inFlight++;
      continue;
    }
    const [newPod] = fresh;
    const [oldPod] = old;
    if (!oldPod) continue;
    if (!newPod) {
      if (!isPodAvailable(oldPod, minReady, now)) allowed.push(node);
      else candidates.push(node);
      continue;
    }
    if (!isPodAvailable(newPod, minReady, now)) inFlight++;
    else del.push(oldPod);
  }
  const room = Math.min(Math.max(0, maxSurge - inFlight), candidates.length);
  return { createOn: [...allowed, ...candidates.slice(0, room)], delete: del };
}
