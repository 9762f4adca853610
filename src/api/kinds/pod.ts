// core/v1 Pod: defaults, the create-time admission mutations a default cluster applies,
// registry preparation (phase Pending, QoS class) and validation, as upstream v1.32.
// Pods carry no metadata.generation in v1.32 (that arrived with PodObservedGenerationTracking, 1.33).
import type { Obj, Strategy } from '../resource.ts';
import { forbidden, invalid, required } from '../field-errors.ts';
import { type Errs, asArray, asObj, deepEqual, isObj, validateImmutableField } from '../validation/fields.ts';
import { inclusiveRangeError, isDNS1123Subdomain, isValidIP, nameIsDNSSubdomain } from '../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { type Quantity, addQuantity, compareQuantity, parseQuantity, zeroQuantity } from '../validation/quantity.ts';
import { defaultPodSpec, validatePodSpec, validateTolerations } from './podspec.ts';
import { keepGeneration } from './generic.ts';
import { specDiff } from './storage.ts';
import { podSpecWarnings } from './warnings.ts';
import { cloneJson } from '../../util/json.ts';

// ---------------------------------------------------------------- defaults

export function defaultPod(pod: Obj): void {
  if (!isObj(pod.spec)) pod.spec = {};
  const spec = pod.spec;
  defaultPodSpec(spec);
  // Pod-only defaults (not applied to templates): requests default to limits, service links on.
  for (const c of [...asArray(spec.containers), ...asArray(spec.initContainers)]) {
    if (!isObj(c) || !isObj(c.resources) || !isObj(c.resources.limits)) continue;
    if (!isObj(c.resources.requests)) c.resources.requests = {};
    for (const [k, v] of Object.entries(c.resources.limits)) if (!(k in c.resources.requests)) c.resources.requests[k] = v;
  }
  if (spec.enableServiceLinks === undefined || spec.enableServiceLinks === null) spec.enableServiceLinks = true;
  if (spec.hostNetwork === true) {
    for (const c of [...asArray(spec.containers), ...asArray(spec.initContainers)]) {
      for (const p of asArray(asObj(c).ports)) if (isObj(p) && !p.hostPort) p.hostPort = p.containerPort;
    }
  }
}

// ---------------------------------------------------------------- admission-time mutations

/**
 * DefaultTolerationSeconds admission (kube-apiserver's --default-not-ready-toleration-seconds and
 * --default-unreachable-toleration-seconds, 300 each): a pod tolerates a not-ready or unreachable
 * node for that long unless it has a toleration of its own for the key (an empty key counts) with
 * effect NoExecute or none.
 */
export function addDefaultTolerations(spec: Obj, notReadySeconds = 300, unreachableSeconds = 300): void {
  const tolerations = asArray(spec.tolerations).map(asObj);
  const tolerates = (key: string) => tolerations.some((t) => (t.key === key || !t.key) && (!t.effect || t.effect === 'NoExecute'));
  const add = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReadySeconds },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: unreachableSeconds },
  ].filter((d) => !tolerates(d.key));
  if (add.length) spec.tolerations = [...tolerations, ...add];
}

/** Priority admission with no PriorityClass objects: priority 0, preempt lower priority. */
export function applyDefaultPriority(spec: Obj): void {
  if (spec.priority === undefined || spec.priority === null) spec.priority = 0;
  if (!spec.preemptionPolicy) spec.preemptionPolicy = 'PreemptLowerPriority';
}

// ---------------------------------------------------------------- QoS

function sumResources(containers: Obj[], field: 'requests' | 'limits', onContainer?: (found: Set<string>) => void): Map<string, Quantity> {
  const total = new Map<string, Quantity>();
  for (const c of containers) {
    const found = new Set<string>();
    for (const [name, v] of Object.entries(asObj(asObj(c.resources)[field]))) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = parseQuantity(v);
      if (!q || compareQuantity(q, zeroQuantity) <= 0) continue;
      found.add(name);
      const prev = total.get(name);
      total.set(name, prev ? addQuantity(prev, q) : q);
    }
    onContainer?.(found);
  }
  return total;
}

/** Upstream ComputePodQOS over regular and init containers (cpu and memory only). */
export function computeQOSClass(spec: unknown): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const s = asObj(spec);
  const containers = [...asArray(s.containers), ...asArray(s.initContainers)].map(asObj);
  let guaranteed = true;
  const requests = sumResources(containers, 'requests');
  const limits = sumResources(containers, 'limits', (found) => {
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  });
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || compareQuantity(lim, req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

// ---------------------------------------------------------------- registry preparation

export function preparePodForCreate(pod: Obj): void {
  const spec = asObj(pod.spec);
  // Default tolerations come from admission (src/apiserver/admission.ts), which knows the server's flags.
  applyDefaultPriority(spec);
  pod.status = { phase: 'Pending', qosClass: computeQOSClass(spec) };
  if (asArray(spec.schedulingGates).length > 0) {
    pod.status.conditions = [
      { type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates', lastProbeTime: null, lastTransitionTime: null },
    ];
  }
  if (pod.metadata) delete pod.metadata.generation;
}

export function preparePodForUpdate(pod: Obj, old: Obj): void {
  keepGeneration(pod, old);
  if (old.status === undefined) delete pod.status;
  else pod.status = old.status;
}

export function preparePodForStatusUpdate(pod: Obj, old: Obj): void {
  keepGeneration(pod, old);
  pod.spec = old.spec;
  // Old kubelets corrupted owner references through /status; upstream never takes them from there.
  if (old.metadata?.ownerReferences === undefined) delete pod.metadata.ownerReferences;
  else pod.metadata.ownerReferences = old.metadata.ownerReferences;
  if (isObj(pod.status) && !pod.status.qosClass && asObj(old.status).qosClass) pod.status.qosClass = old.status.qosClass;
}

// ---------------------------------------------------------------- validation

export function validatePod(pod: Obj): Errs {
  return [...validateObjectMeta(pod.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validatePodSpec(pod.spec, 'spec')];
}

/** The fields a pod update may change, as upstream lists them in its refusal. */
export const updatablePodSpecFields = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function validateContainerUpdates(newList: unknown, oldList: unknown, path: string): { errs: Errs; stop: boolean } {
  const a = asArray(newList);
  const b = asArray(oldList);
  if (a.length !== b.length) return { errs: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: Errs = [];
  a.forEach((raw, i) => {
    const image = typeof asObj(raw).image === 'string' ? asObj(raw).image : '';
    if (!image) errs.push(required(`${path}[${i}].image`));
    if (image.trim().length !== image.length) errs.push(invalid(`${path}[${i}].image`, image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

function validateOnlyAddedTolerations(newT: unknown, oldT: unknown, path: string): Errs {
  const news = asArray(newT).map(asObj);
  for (const o of asArray(oldT).map(asObj)) {
    const found = news.some((n) => deepEqual({ ...o, tolerationSeconds: n.tolerationSeconds }, n));
    if (!found) return [forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(newT, path);
}

export function validatePodUpdate(pod: Obj, old: Obj): Errs {
  const errs = [...validateObjectMetaUpdate(pod.metadata, old.metadata), ...validatePod(pod)];
  const spec = asObj(pod.spec);
  const oldSpec = asObj(old.spec);
  for (const f of ['containers', 'initContainers']) {
    const r = validateContainerUpdates(spec[f], oldSpec[f], `spec.${f}`);
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = spec.activeDeadlineSeconds;
  const oldAds = oldSpec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (ads < 0 || ads > 2147483647) return [...errs, invalid('spec.activeDeadlineSeconds', ads, inclusiveRangeError(0, 2147483647))];
    if (typeof oldAds === 'number' && oldAds < ads) return [...errs, invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value')];
  } else if (oldAds !== undefined && oldAds !== null) {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(spec.tolerations, oldSpec.tolerations, 'spec.tolerations'));
  const oldGates = asArray(oldSpec.schedulingGates).map((g) => asObj(g).name);
  for (const g of asArray(spec.schedulingGates)) {
    if (!oldGates.includes(asObj(g).name)) {
      errs.push(forbidden('spec.schedulingGates', `only deletion is allowed, but found new scheduling gate '${asObj(g).name}'`));
    }
  }
  if (deepEqual(spec, oldSpec)) return errs;

  // Put back everything that may change, then anything still different is forbidden.
  const munged = cloneJson(spec);
  const copyImages = (f: string) => {
    asArray(munged[f]).forEach((c, i) => {
      if (isObj(c)) c.image = asObj(asArray(oldSpec[f])[i]).image;
    });
  };
  copyImages('containers');
  copyImages('initContainers');
  if (oldAds === undefined) delete munged.activeDeadlineSeconds;
  else munged.activeDeadlineSeconds = oldAds;
  if (oldSpec.schedulingGates === undefined) delete munged.schedulingGates;
  else munged.schedulingGates = oldSpec.schedulingGates;
  if (oldSpec.tolerations === undefined) delete munged.tolerations;
  else munged.tolerations = oldSpec.tolerations;
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  // Gated pods may gain nodeSelector entries.
  if (oldGates.length > 0 && isObj(munged.nodeSelector)) {
    const oldSel = asObj(oldSpec.nodeSelector);
    const keepsOld = Object.entries(oldSel).every(([k, v]) => munged.nodeSelector[k] === v);
    if (keepsOld) {
      if (oldSpec.nodeSelector === undefined) delete munged.nodeSelector;
      else munged.nodeSelector = oldSpec.nodeSelector;
    }
  }
  if (!deepEqual(munged, oldSpec)) {
    errs.push(forbidden('spec', `pod updates may not change fields other than ${updatablePodSpecFields.join(',')}\n${specDiff(oldSpec, munged)}`));
  }
  return errs;
}

export function validatePodStatusUpdate(pod: Obj, old: Obj): Errs {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  const s = asObj(pod.status);
  const o = asObj(old.status);
  if (asObj(pod.spec).nodeName !== asObj(old.spec).nodeName) errs.push(forbidden('status.nodeName', 'may not be changed directly'));
  if (s.nominatedNodeName && s.nominatedNodeName !== o.nominatedNodeName) {
    for (const m of isDNS1123Subdomain(String(s.nominatedNodeName))) errs.push(invalid('status.nominatedNodeName', s.nominatedNodeName, m));
  }
  errs.push(...validateImmutableField(s.qosClass ?? '', o.qosClass ?? '', 'status.qosClass'));
  const ips = asArray(s.podIPs).map(asObj);
  ips.forEach((ip, i) => {
    for (const m of isValidIP(String(ip.ip ?? ''))) errs.push(invalid(`status.podIPs[${i}]`, ip.ip ?? '', m));
  });
  if (ips.length > 2) errs.push(invalid('status.podIPs', ips.length, 'may specify no more than one IP for each IP family'));
  return errs;
}

export function podWarnings(pod: Obj, old?: Obj): string[] {
  if (old && deepEqual(pod.spec, old.spec)) return [];
  return podSpecWarnings(pod.spec, 'spec');
}

export const podStrategy: Strategy = {
  default: defaultPod,
  prepareForCreate: preparePodForCreate,
  prepareForUpdate: preparePodForUpdate,
  prepareForStatusUpdate: preparePodForStatusUpdate,
  validate: validatePod,
  validateUpdate: validatePodUpdate,
  validateStatusUpdate: validatePodStatusUpdate,
  warnings: podWarnings,
  defaultPropagation: 'Background',
};

export type { Quantity };
