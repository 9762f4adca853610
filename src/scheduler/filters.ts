// The scheduler's filters, as pure functions of a pod and one node's state, in upstream's plugin
// order. Each returns the upstream reason strings that rule the node out (empty: it fits) and
// whether preemption could ever help there.
import type { Obj } from '../api/resource.ts';
import { nodeSelectorMatches } from '../api/selectors/node-selector.ts';
import { labelSelectorFromObject, matchesLabels, SelectorError } from '../api/selectors/labels.ts';
import { cachedNodeAllocatable, cachedPodRequests, emptyResources, holdsResources, type NodeAllocatable, type Resources } from './resources.ts';

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** One node as the scheduler sees it: the node and the pods assigned (or assumed) to it. */
export interface NodeState {
  node: Obj;
  pods: readonly Obj[];
  /** Optional caches a long-lived scheduler keeps current, so a decision need not walk every pod. */
  requested?: Resources & { pods: number };
  /** The pods here that carry required anti-affinity terms (a subset of `pods`). */
  withAntiAffinity?: readonly Obj[];
  /** cachedNodeAllocatable(node) and blockingTaints(node), kept at hand by a long-lived scheduler. */
  readonly allocatable?: Readonly<NodeAllocatable>;
  readonly blockingTaints?: readonly Obj[];
}

export interface FilterResult {
  reasons: string[];
  /** Upstream's UnschedulableAndUnresolvable: removing other pods would not make the pod fit. */
  unresolvable: boolean;
}

const fits: FilterResult = { reasons: [], unresolvable: false };
const reject = (reason: string | string[], unresolvable: boolean): FilterResult => ({ reasons: Array.isArray(reason) ? reason : [reason], unresolvable });

export const reasons = {
  unschedulable: 'node(s) were unschedulable',
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  taint: (t: Obj) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
  tooManyPods: 'Too many pods',
  insufficient: (name: string) => `Insufficient ${name}`,
  volumeNodeConflict: 'node(s) had volume node affinity conflict',
  antiAffinity: "node(s) didn't match pod anti-affinity rules",
  existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules",
  affinity: "node(s) didn't match pod affinity rules",
} as const;

// ------------------------------------------------------------------------------- tolerations

/** Whether one toleration tolerates one taint (upstream's ToleratesTaint). */
export function toleratesTaint(tol: Obj, taint: Obj): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key && tol.key !== taint.key) return false;
  // An empty key with Exists matches every taint.
  const op = tol.operator ?? 'Equal';
  if (op === 'Exists') return true;
  if (op === 'Equal') return (tol.value ?? '') === (taint.value ?? '');
  return false;
}

export const tolerated = (taint: Obj, tolerations: Obj[]): boolean => tolerations.some((t) => toleratesTaint(t, taint));

/**
 * The node's taints including the ones its conditions imply: a node that is not Ready counts as
 * tainted not-ready (or unreachable when its state is unknown), as the node lifecycle controller
 * would taint it, so pods that tolerate that taint may still go there.
 */
export function effectiveTaints(node: Obj): Obj[] {
  return [...blockingTaints(node)];
}

// Node objects are replaced, never changed, on updates: each version's taints are worked out once,
// not once per pod decided.
const taintsByNode = new WeakMap<Obj, readonly Obj[]>();

/** effectiveTaints, computed once per node object. Shared: do not modify it. */
export function blockingTaints(node: Obj): readonly Obj[] {
  let t = taintsByNode.get(node);
  if (!t) taintsByNode.set(node, (t = computeEffectiveTaints(node)));
  return t;
}

function computeEffectiveTaints(node: Obj): Obj[] {
  const taints: Obj[] = [...(node.spec?.taints ?? [])];
  const ready = (node.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const key = ready?.status === 'Unknown' ? 'node.kubernetes.io/unreachable' : 'node.kubernetes.io/not-ready';
    if (!taints.some((t) => t.key === key && t.effect === 'NoSchedule')) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

// ------------------------------------------------------------------------------- node affinity

export function matchesNodeSelectorAndAffinity(pod: Obj, node: Obj): boolean {
  const selector = pod.spec?.nodeSelector;
  if (selector) {
    const labels = node.metadata?.labels ?? {};
    for (const k in selector) if (labels[k] !== selector[k]) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return required ? nodeSelectorMatches(required, node) : true;
}

// ------------------------------------------------------------------------------- pod (anti-)affinity

interface AffinityTerm {
  selector: ReturnType<typeof labelSelectorFromObject>;
  namespaces: Set<string> | 'all';
  topologyKey: string;
}

function compileTerm(term: Obj, podNamespace: string): AffinityTerm | undefined {
  let selector;
  try {
    selector = labelSelectorFromObject(term.labelSelector);
  } catch (err) {
    if (err instanceof SelectorError) return undefined;
    throw err;
  }
  const listed: string[] = term.namespaces ?? [];
  // An empty namespaceSelector selects every namespace; selectors with terms are approximated the same way.
  const namespaces = term.namespaceSelector ? 'all' : new Set(listed.length ? listed : [podNamespace]);
  return { selector, namespaces, topologyKey: term.topologyKey };
}

const termMatchesPod = (t: AffinityTerm, pod: Obj): boolean =>
  (t.namespaces === 'all' || t.namespaces.has(pod.metadata.namespace)) && matchesLabels(t.selector, pod.metadata.labels);

// Compiled once per pod object (objects are replaced, never changed, on updates): every decision
// checks the terms of every existing pod with anti-affinity.
const compiled = { podAffinity: new WeakMap<Obj, AffinityTerm[]>(), podAntiAffinity: new WeakMap<Obj, AffinityTerm[]>() };
const noTerms: AffinityTerm[] = [];

function requiredTerms(pod: Obj, kind: 'podAffinity' | 'podAntiAffinity'): AffinityTerm[] {
  const terms: Obj[] | undefined = pod.spec?.affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!terms?.length) return noTerms;
  let out = compiled[kind].get(pod);
  if (!out) {
    out = terms.map((t) => compileTerm(t, pod.metadata.namespace)).filter((t): t is AffinityTerm => !!t && !!t.topologyKey);
    compiled[kind].set(pod, out);
  }
  return out;
}

export const hasRequiredAntiAffinity = (pod: Obj): boolean => (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).length > 0;

/** A pod's required (anti-)affinity term with the topology domains (values of its key) it finds matching pods in. */
interface TermDomains {
  term: AffinityTerm;
  domains: Set<string>;
  /** A matching pod exists on some node, labelled with the key or not. */
  anywhere: boolean;
}

/**
 * What the inter-pod affinity filter needs to know about the cluster for one pod, gathered once per
 * decision (upstream's PreFilter) so that judging each node is a few lookups instead of a walk over
 * every node and its pods.
 */
export interface AffinityPrep {
  affinity: TermDomains[];
  antiAffinity: TermDomains[];
  /** Topology pairs where an existing pod's required anti-affinity term matches the incoming pod. */
  existingAnti: Map<string, Set<string>>;
}

// Terminating pods still count until they are gone: two pods with one identity never overlap.
const isOther = (pod: Obj) => (p: Obj) => p.metadata.uid !== pod.metadata.uid && holdsResources(p);

function termDomains(terms: AffinityTerm[], all: NodeState[], other: (p: Obj) => boolean): TermDomains[] {
  return terms.map((term) => {
    const domains = new Set<string>();
    let anywhere = false;
    for (const n of all) {
      if (!n.pods.some((p) => other(p) && termMatchesPod(term, p))) continue;
      anywhere = true;
      const v = n.node.metadata?.labels?.[term.topologyKey];
      if (v !== undefined) domains.add(v);
    }
    return { term, domains, anywhere };
  });
}

export function prepareInterPodAffinity(pod: Obj, all: NodeState[]): AffinityPrep {
  const other = isOther(pod);
  const existingAnti = new Map<string, Set<string>>();
  for (const n of all) {
    const candidates = n.withAntiAffinity ?? n.pods;
    if (candidates.length === 0) continue;
    for (const existing of candidates) {
      if (!other(existing)) continue;
      for (const t of requiredTerms(existing, 'podAntiAffinity')) {
        const v = n.node.metadata?.labels?.[t.topologyKey];
        if (v === undefined || !termMatchesPod(t, pod)) continue;
        let values = existingAnti.get(t.topologyKey);
        if (!values) existingAnti.set(t.topologyKey, (values = new Set()));
        values.add(v);
      }
    }
  }
  return {
    affinity: termDomains(requiredTerms(pod, 'podAffinity'), all, other),
    antiAffinity: termDomains(requiredTerms(pod, 'podAntiAffinity'), all, other),
    existingAnti,
  };
}

/**
 * Inter-pod affinity for `pod` on `candidate`, checked in upstream's order: its required affinity (a
 * matching pod in the same domain, or none anywhere when it matches its own term), its own required
 * anti-affinity (no matching pod in the same domain), then existing pods' anti-affinity against it.
 * `prep` is what prepareInterPodAffinity(pod, all) gathered; pass it when judging many nodes.
 */
export function interPodAffinity(pod: Obj, candidate: NodeState, all: NodeState[], prep: AffinityPrep = prepareInterPodAffinity(pod, all)): FilterResult {
  const labels = candidate.node.metadata?.labels ?? {};
  for (const { term, domains, anywhere } of prep.affinity) {
    const v = labels[term.topologyKey];
    if (v !== undefined && domains.has(v)) continue;
    // The first pod of a group that must be together may go anywhere with the topology label.
    if (!anywhere && termMatchesPod(term, pod) && v !== undefined) continue;
    return reject(reasons.affinity, true);
  }
  for (const { term, domains } of prep.antiAffinity) {
    const v = labels[term.topologyKey];
    if (v !== undefined && domains.has(v)) return reject(reasons.antiAffinity, false);
  }
  for (const [key, values] of prep.existingAnti) {
    const v = labels[key];
    if (v !== undefined && values.has(v)) return reject(reasons.existingAntiAffinity, false);
  }
  return fits;
}

// ------------------------------------------------------------------------------- the filter chain

/** Requests of the pods already on a node (terminal pods free theirs). */
export function requestedOn(state: NodeState, excludeUid?: string): Resources & { pods: number } {
  // A cache never counts the pod being scheduled: the scheduler drops its assumption before deciding again.
  if (state.requested) return state.requested;
  const total = { ...emptyResources(), pods: 0 };
  for (const p of state.pods) {
    if (!holdsResources(p) || p.metadata.uid === excludeUid) continue;
    const r = cachedPodRequests(p);
    total.cpu += r.cpu;
    total.memory += r.memory;
    total['ephemeral-storage'] += r['ephemeral-storage'];
    total.pods++;
  }
  return total;
}

export function resourcesFit(pod: Obj, state: NodeState): FilterResult {
  const alloc = state.allocatable ?? cachedNodeAllocatable(state.node);
  const used = requestedOn(state, pod.metadata.uid);
  const want = cachedPodRequests(pod);
  const short = (name: 'cpu' | 'memory' | 'ephemeral-storage') => want[name] > 0 && want[name] > alloc[name] - used[name];
  // Reasons are collected only for a node that does not fit: most nodes fit.
  if (used.pods + 1 <= alloc.pods && !short('cpu') && !short('memory') && !short('ephemeral-storage')) return fits;
  const out: string[] = [];
  if (used.pods + 1 > alloc.pods) out.push(reasons.tooManyPods);
  for (const name of ['cpu', 'memory', 'ephemeral-storage'] as const) if (short(name)) out.push(reasons.insufficient(name));
  return reject(out, false);
}

/**
 * All filters for one node, stopping at the first that fails as upstream's framework does.
 * `volumeAffinities` are the node affinities of the persistent volumes the pod's claims are bound to;
 * `prep` is prepareInterPodAffinity(pod, all), shared by the nodes of one decision.
 */
export function filterNode(pod: Obj, state: NodeState, all: NodeState[], volumeAffinities: Obj[] = [], prep?: AffinityPrep): FilterResult {
  // Usually nothing has pod (anti-)affinity, and then no node fails for it.
  if (prep && prep.affinity.length === 0 && prep.antiAffinity.length === 0 && prep.existingAnti.size === 0) return filterWithoutAffinity(pod, state, volumeAffinities) ?? fits;
  return filterWithoutAffinity(pod, state, volumeAffinities) ?? interPodAffinity(pod, state, all, prep);
}

/** The filters before inter-pod affinity: the first failure, or undefined when they all pass. */
function filterWithoutAffinity(pod: Obj, state: NodeState, volumeAffinities: Obj[]): FilterResult | undefined {
  const node = state.node;
  const tolerations: Obj[] = pod.spec?.tolerations ?? [];
  if (node.spec?.unschedulable && !tolerated({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, tolerations)) {
    return reject(reasons.unschedulable, true);
  }
  if (pod.spec?.nodeName && pod.spec.nodeName !== node.metadata.name) return reject("node(s) didn't match the requested node name", true);
  for (const taint of state.blockingTaints ?? blockingTaints(node)) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerated(taint, tolerations)) return reject(reasons.taint(taint), true);
  }
  if (!matchesNodeSelectorAndAffinity(pod, node)) return reject(reasons.nodeAffinity, true);
  const res = resourcesFit(pod, state);
  if (res.reasons.length) return res;
  if (!volumesAllow(volumeAffinities, node)) return reject(reasons.volumeNodeConflict, true);
  return undefined;
}

/** Whether the bound volumes' node affinities allow the node (upstream's VolumeBinding filter for bound claims). */
export function volumesAllow(volumeAffinities: readonly Obj[], node: Obj): boolean {
  for (const a of volumeAffinities) if (a?.required && !nodeSelectorMatches(a.required, node)) return false;
  return true;
}
