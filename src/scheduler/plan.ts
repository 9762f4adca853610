// The scheduling decision for one pod, as a pure function of the cluster as the scheduler sees it:
// bind it to a node, ask for its delayed-binding claims to be provisioned on a node first, wait for
// its claims, or report why no node fits (in upstream's words, for the event and the condition).
import type { Obj } from '../api/resource.ts';
import { filterNode, prepareInterPodAffinity, volumesAllow, type AffinityPrep, type NodeState } from './filters.ts';
import { bestNode, ranksBySpreadOnly } from './score.ts';

export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

export interface ClusterView {
  /** Every node, with the pods assigned or assumed to it. */
  nodes: NodeState[];
  claim(namespace: string, name: string): Obj | undefined;
  volume(name: string): Obj | undefined;
  storageClass(name: string): Obj | undefined;
  storageClasses(): Obj[];
  /** Optional index: the nodes (of `nodes`) whose label `key` is `value`. */
  nodesWithLabel?(key: string, value: string): readonly NodeState[];
  /**
   * Optional order: the first of `nodes` that `accept` takes, walking them by compareSpread (fewest
   * pods, lowest utilisation, name) as of now. See NodeOrder.
   */
  firstBySpread?(accept: (node: NodeState) => boolean): NodeState | undefined;
}

export type Decision =
  | { kind: 'bind'; node: string }
  /** Delayed-binding claims must be provisioned on `node` first: annotate `claims` (names) with it. */
  | { kind: 'selectNode'; node: string; claims: string[] }
  /** Claims were asked for on `node`; wait until they are bound. */
  | { kind: 'waitForClaims'; node: string; claims: string[] }
  | { kind: 'unschedulable'; message: string };

/** The names of the claims a pod uses, including generic ephemeral volumes (`<pod>-<volume>`). */
export function claimNames(pod: Obj): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(`${pod.metadata.name}-${v.name}`);
  }
  return out;
}

export function defaultStorageClass(classes: Obj[]): Obj | undefined {
  const defaults = classes.filter((c) => {
    const a = c.metadata?.annotations ?? {};
    return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
  });
  // Upstream picks the newest default when several are marked.
  defaults.sort((a, b) => String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
  return defaults[0];
}

/** Whether an unbound claim waits for its first consumer to be scheduled before it is provisioned. */
export function isDelayedBinding(claim: Obj, view: ClusterView): boolean {
  const given: string | null | undefined = claim.spec?.storageClassName;
  // No class at all means the default class; an explicit "" means none.
  const className = given === undefined || given === null ? defaultStorageClass(view.storageClasses())?.metadata.name : given;
  if (!className) return false;
  return view.storageClass(className)?.volumeBindingMode === 'WaitForFirstConsumer';
}

const isBound = (claim: Obj) => !!claim.spec?.volumeName && claim.status?.phase === 'Bound';

/**
 * Everything schedulePod reads from a claim, as a comparable string: a claim update that leaves it
 * unchanged (e.g. the binder writing volumeName before the claim reads Bound) cannot change the
 * decision for the pods using the claim, so they need not be retried for it.
 */
export function claimSchedulingInputs(claim: Obj): string {
  const bound = isBound(claim);
  return JSON.stringify([
    !!claim.metadata?.deletionTimestamp,
    bound ? claim.spec.volumeName : null,
    // Only an unbound claim's class and selected node matter (delayed binding).
    bound ? null : (claim.spec?.storageClassName ?? null),
    bound ? null : (claim.metadata?.annotations?.[SELECTED_NODE_ANNOTATION] ?? null),
  ]);
}

/** claimSchedulingInputs(a) === claimSchedulingInputs(b), without building either string (every claim update asks). */
export function sameClaimSchedulingInputs(a: Obj, b: Obj): boolean {
  const bound = isBound(a);
  if (bound !== isBound(b) || !a.metadata?.deletionTimestamp !== !b.metadata?.deletionTimestamp) return false;
  if (bound) return a.spec.volumeName === b.spec.volumeName;
  return (a.spec?.storageClassName ?? null) === (b.spec?.storageClassName ?? null) && (a.metadata?.annotations?.[SELECTED_NODE_ANNOTATION] ?? null) === (b.metadata?.annotations?.[SELECTED_NODE_ANNOTATION] ?? null);
}

/**
 * The claim's new selected node when that is all that changed of what schedulePod reads (the echo
 * of the scheduler's own request to provision there), else undefined. Pods already waiting on that
 * node would be decided the same way again, so they need no retry for it.
 */
export function selectedNodeOnlyChange(old: Obj, claim: Obj): string | undefined {
  if (isBound(old) || isBound(claim) || !!old.metadata?.deletionTimestamp !== !!claim.metadata?.deletionTimestamp) return undefined;
  if ((old.spec?.storageClassName ?? null) !== (claim.spec?.storageClassName ?? null)) return undefined;
  const before = old.metadata?.annotations?.[SELECTED_NODE_ANNOTATION];
  const after = claim.metadata?.annotations?.[SELECTED_NODE_ANNOTATION];
  return after && after !== before ? after : undefined;
}

/** Whether a persistent volume is read when scheduling pods that use `claim`: only the volume it is bound to is. */
export const claimReadsVolume = (claim: Obj, volumeName: string): boolean => isBound(claim) && claim.spec.volumeName === volumeName;

/** Upstream's FitError text: `0/N nodes are available: <why>. preemption: ...`. */
export function fitErrorMessage(pod: Obj, numNodes: number, diagnosis: { preFilter?: string; reasons?: Map<string, string[]>; unresolvable?: Set<string> }): string {
  let msg = `0/${numNodes} nodes are available:`;
  if (diagnosis.preFilter) msg += ` ${diagnosis.preFilter}.`;
  else {
    const counts = new Map<string, number>();
    for (const rs of diagnosis.reasons?.values() ?? []) for (const r of rs) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  // The preemption pass finds nothing to evict: every pod here has the same (default) priority.
  if (pod.spec?.preemptionPolicy === 'Never') return `${msg} preemption: not eligible due to preemptionPolicy=Never.`;
  if (numNodes === 0) return msg;
  let notHelpful = numNodes;
  if (!diagnosis.preFilter) notHelpful = diagnosis.unresolvable?.size ?? 0;
  const parts: string[] = [];
  if (notHelpful > 0) parts.push(`${notHelpful} Preemption is not helpful for scheduling`);
  if (numNodes - notHelpful > 0) parts.push(`${numNodes - notHelpful} No preemption victims found for incoming pod`);
  return `${msg} preemption: 0/${numNodes} nodes are available: ${parts.sort().join(', ')}.`;
}

/** Decides where `pod` goes. The pod is expected to be unassigned and not being deleted. */
export function schedulePod(pod: Obj, view: ClusterView): Decision {
  const ns = pod.metadata.namespace;
  const unschedulable = (preFilter: string): Decision => ({ kind: 'unschedulable', message: fitErrorMessage(pod, view.nodes.length, { preFilter }) });

  // PreFilter (volume binding): every claim must exist; bound ones pin the pod to their volume's nodes.
  const volumeAffinities: Obj[] = [];
  const delayed: Obj[] = [];
  for (const name of claimNames(pod)) {
    const claim = view.claim(ns, name);
    if (!claim) return unschedulable(`persistentvolumeclaim "${name}" not found`);
    if (claim.metadata.deletionTimestamp) return unschedulable(`persistentvolumeclaim "${name}" is being deleted`);
    if (isBound(claim)) {
      const pv = view.volume(claim.spec.volumeName);
      if (!pv) return unschedulable(`persistentvolume "${claim.spec.volumeName}" not found`);
      if (pv.spec?.nodeAffinity) volumeAffinities.push(pv.spec.nodeAffinity);
      continue;
    }
    if (!isDelayedBinding(claim, view)) return unschedulable('pod has unbound immediate PersistentVolumeClaims');
    delayed.push(claim);
  }
  if (view.nodes.length === 0) return { kind: 'unschedulable', message: 'no nodes available to schedule pods' };

  const affinity = prepareInterPodAffinity(pod, view.nodes);
  const fits = (n: NodeState) => filterNode(pod, n, view.nodes, volumeAffinities, affinity).reasons.length === 0;
  // When only spreading ranks the nodes for this pod, the best feasible node is the first feasible
  // one in spread order: the same node bestNode would pick from all the feasible ones. Only when
  // none fits are all nodes judged (below), for upstream's per-node reasons.
  if (view.firstBySpread && volumeAffinities.length === 0 && ranksBySpreadOnly(pod, view.nodes)) {
    const best = view.firstBySpread(fits);
    if (best) return decide(delayed, best.node.metadata.name, (name) => name === best.node.metadata.name || view.nodes.some((n) => n.node.metadata.name === name && fits(n)));
  }
  // A bound volume's node affinity usually names one node (a local volume): judge only the nodes it
  // allows. Every other node fails the volume filter anyway, so the feasible set is the same; when
  // none of them fits, all nodes are judged again for upstream's per-node reasons.
  let feasible = volumeAffinities.length ? fitting(pod, volumeCandidates(volumeAffinities, view).filter((n) => volumesAllow(volumeAffinities, n.node)), view.nodes, volumeAffinities, affinity) : undefined;
  let diagnosis: { reasons: Map<string, string[]>; unresolvable: Set<string> } | undefined;
  if (!feasible?.length) {
    diagnosis = { reasons: new Map(), unresolvable: new Set() };
    feasible = fitting(pod, view.nodes, view.nodes, volumeAffinities, affinity, diagnosis);
  }
  if (feasible.length === 0) {
    return { kind: 'unschedulable', message: fitErrorMessage(pod, view.nodes.length, diagnosis!) };
  }

  const found = feasible;
  return decide(delayed, bestNode(pod, found, view.nodes), (name) => found.some((n) => n.node.metadata.name === name));
}

/**
 * The decision once a best feasible node is known: bind there, or, with delayed-binding claims,
 * have them provisioned there first. `isFeasible` says whether another node passes the filters.
 */
function decide(delayed: Obj[], best: string, isFeasible: (name: string) => boolean): Decision {
  if (!delayed.length) return { kind: 'bind', node: best };
  // A node already asked of the provisioner stays the choice while it still fits, so a pod never
  // has its volumes provisioned in two places.
  const asked = delayed.map((c) => c.metadata.annotations?.[SELECTED_NODE_ANNOTATION]).find((n) => n && isFeasible(n));
  const node = asked ?? best;
  const toAnnotate = delayed.filter((c) => c.metadata.annotations?.[SELECTED_NODE_ANNOTATION] !== node).map((c) => c.metadata.name);
  const names = delayed.map((c) => c.metadata.name);
  return toAnnotate.length ? { kind: 'selectNode', node, claims: toAnnotate } : { kind: 'waitForClaims', node, claims: names };
}

/**
 * The nodes that can satisfy the first volume's node affinity, by the view's label index when that
 * affinity is one term with an `In` requirement (a node without one of its values cannot match),
 * else every node. Callers still check each candidate in full.
 */
function volumeCandidates(volumeAffinities: Obj[], view: ClusterView): readonly NodeState[] {
  const terms: Obj[] | undefined = volumeAffinities[0]?.required?.nodeSelectorTerms;
  if (!view.nodesWithLabel || terms?.length !== 1) return view.nodes;
  const req = (terms[0].matchExpressions as Obj[] | undefined)?.find((e) => e.operator === 'In' && typeof e.key === 'string' && Array.isArray(e.values));
  if (!req) return view.nodes;
  if (req.values.length === 1) return view.nodesWithLabel(req.key, req.values[0]);
  const out: NodeState[] = [];
  for (const v of new Set<string>(req.values)) out.push(...view.nodesWithLabel(req.key, v));
  return out;
}

/** The candidates that pass every filter; with `diagnosis`, why each other one does not. */
function fitting(pod: Obj, candidates: readonly NodeState[], all: NodeState[], volumeAffinities: Obj[], affinity: AffinityPrep, diagnosis?: { reasons: Map<string, string[]>; unresolvable: Set<string> }): NodeState[] {
  const feasible: NodeState[] = [];
  for (const state of candidates) {
    const r = filterNode(pod, state, all, volumeAffinities, affinity);
    if (r.reasons.length === 0) feasible.push(state);
    else if (diagnosis) {
      diagnosis.reasons.set(state.node.metadata.name, r.reasons);
      if (r.unresolvable) diagnosis.unresolvable.add(state.node.metadata.name);
    }
  }
  return feasible;
}
