// StatefulSet pod identity: ordinals parsed from names, the names of pods and claims, the labels,
// hostname, subdomain and volumes every pod of a set carries, and how a pod is built from a
// revision of the template. Pure functions over plain JSON objects; inputs are never mutated.
import type { Obj } from '../../api/resource.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

export const SET_KIND = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;
export const POD_KIND = { apiVersion: 'v1', kind: 'Pod' } as const;

/**
 * Parent set name and ordinal of a pod name; ordinal -1 (and parent '' if no match) otherwise.
 * The last '-' followed only by digits splits them ("web-1-2" is ordinal 2 of set "web-1"). Parsed
 * by hand: this runs for every pod on every sync of a set, where a regular expression showed up in profiles.
 */
export function parentAndOrdinal(name: string): { parent: string; ordinal: number } {
  let i = name.length - 1;
  while (i >= 0) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i--;
  }
  if (i < 0 || i === name.length - 1 || name.charCodeAt(i) !== 45 /* - */) return { parent: '', ordinal: -1 };
  const n = Number(name.slice(i + 1));
  // Upstream parses a 32-bit integer; anything larger is not an ordinal.
  return { parent: name.slice(0, i), ordinal: n <= 2 ** 31 - 1 ? n : -1 };
}

// A sync asks for the ordinal of every pod several times; pods from informers are immutable per
// version, so the parse is remembered per object (and re-done if its name was changed since).
const ordinals = new WeakMap<Obj, { name: string; ordinal: number }>();

export function getOrdinal(pod: Obj): number {
  const name: string = pod.metadata.name;
  const hit = ordinals.get(pod);
  if (hit && hit.name === name) return hit.ordinal;
  const ordinal = parentAndOrdinal(name).ordinal;
  ordinals.set(pod, { name, ordinal });
  return ordinal;
}
export const isMemberOf = (set: Obj, pod: Obj): boolean => parentAndOrdinal(pod.metadata.name).parent === set.metadata.name;

export const replicasOf = (set: Obj): number => set.spec?.replicas ?? 1;
export const startOrdinal = (set: Obj): number => set.spec?.ordinals?.start ?? 0;
export const endOrdinal = (set: Obj): number => startOrdinal(set) + replicasOf(set) - 1;

export function inOrdinalRange(pod: Obj, set: Obj): boolean {
  const o = getOrdinal(pod);
  return o >= startOrdinal(set) && o <= endOrdinal(set);
}

export const podName = (set: Obj, ordinal: number): string => `${set.metadata.name}-${ordinal}`;
export const claimName = (set: Obj, template: Obj, ordinal: number): string => `${template.metadata?.name}-${set.metadata.name}-${ordinal}`;

/** The names of the claims a pod of `ordinal` uses, in template order (claimsFor without building the claims). */
export function claimNamesFor(set: Obj, ordinal: number): string[] {
  const templates: Obj[] = set.spec?.volumeClaimTemplates ?? [];
  const names = new Array<string>(templates.length);
  for (let i = 0; i < templates.length; i++) names[i] = claimName(set, templates[i]!, ordinal);
  return names;
}

export const podRevision = (pod: Obj): string => pod.metadata.labels?.[REVISION_LABEL] ?? '';

export function setControllerRef(set: Obj): Obj {
  return { ...SET_KIND, name: set.metadata.name, uid: set.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/**
 * The claims a pod of `ordinal` uses, one per claim template in template order: the template with
 * the pod's claim name, the set's namespace, and the selector's matchLabels laid over its labels.
 * The claim's spec is the template's own object, not a copy: these claims are only read before the
 * API server copies what it is asked to create.
 */
export function claimsFor(set: Obj, ordinal: number): { template: string; claim: Obj }[] {
  const matchLabels: Record<string, string> = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((t: Obj) => {
    // A template's status (defaulted to Pending by the server) is not the new claim's business.
    const { status: _status, ...claim } = t;
    claim.apiVersion = 'v1';
    claim.kind = 'PersistentVolumeClaim';
    const { creationTimestamp: _created, ...meta } = t.metadata ?? {};
    meta.name = claimName(set, t, ordinal);
    meta.namespace = set.metadata.namespace;
    const labels = { ...(meta.labels ?? {}), ...matchLabels };
    if (Object.keys(labels).length) meta.labels = labels;
    else delete meta.labels;
    claim.metadata = meta;
    return { template: t.metadata?.name, claim };
  });
}

/** Name, namespace and pod-name label as the set dictates. */
export function identityMatches(set: Obj, pod: Obj): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod.metadata.name);
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name
  );
}

/** Every claim template is mounted as the volume of its name, backed by the pod's claim. */
export function storageMatches(set: Obj, pod: Obj): boolean {
  const ordinal = getOrdinal(pod);
  if (ordinal < 0) return false;
  const volumes: Obj[] = pod.spec?.volumes ?? [];
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const name = t.metadata?.name;
    const v = volumes.find((x) => x.name === name);
    if (!v?.persistentVolumeClaim || v.persistentVolumeClaim.claimName !== claimName(set, t, ordinal)) return false;
  }
  return true;
}

/** Rewrites name, namespace and the identity labels of `pod` (a copy the caller owns). */
export function updateIdentity(set: Obj, pod: Obj): void {
  const ordinal = getOrdinal(pod);
  pod.metadata.name = podName(set, ordinal);
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: pod.metadata.name, [POD_INDEX_LABEL]: String(ordinal) };
}

/** Claim volumes first (template order), then the pod's other volumes; a same-named volume is replaced. */
export function updateStorage(set: Obj, pod: Obj): void {
  const volumes = storageVolumes(set, getOrdinal(pod), pod.spec.volumes);
  if (volumes) pod.spec.volumes = volumes;
}

/** The volumes updateStorage gives a pod of `ordinal` that has `current` (undefined: leave them as they are). */
function storageVolumes(set: Obj, ordinal: number, current: Obj[] | undefined): Obj[] | undefined {
  const templates: Obj[] = set.spec?.volumeClaimTemplates ?? [];
  if (!templates.length && current === undefined) return undefined;
  const names = new Set<string>();
  const volumes: Obj[] = [];
  for (const t of templates) {
    names.add(t.metadata?.name);
    volumes.push({ name: t.metadata?.name, persistentVolumeClaim: { claimName: claimName(set, t, ordinal) } });
  }
  for (const v of current ?? []) if (!names.has(v.name)) volumes.push(v);
  return volumes;
}

/**
 * `set` with its template replaced by the one a revision recorded (upstream's ApplyRevision). The
 * template shares the revision's inner objects: it is only read, by newPod, which copies what it
 * changes.
 */
export function applyRevision(set: Obj, revision: Obj): Obj {
  const { $patch: _patch, ...template } = revision.data?.spec?.template ?? set.spec.template;
  if (template.metadata) {
    const { creationTimestamp: _created, ...meta } = template.metadata;
    if (Object.keys(meta).length) template.metadata = meta;
    else delete template.metadata;
  }
  return { ...set, spec: { ...set.spec, template } };
}

/**
 * A new pod for `ordinal` from `set`'s template, with its full identity (not yet created: no
 * status). Only its metadata and the top level of its spec are its own; the spec's inner objects
 * (containers and the rest) are the template's, since a new pod is only read until the API server
 * copies it on create.
 */
export function newPod(set: Obj, ordinal: number): Obj {
  const t = set.spec.template ?? {};
  const name = podName(set, ordinal);
  const meta: Obj = { name, generateName: `${set.metadata.name}-`, namespace: set.metadata.namespace };
  meta.labels = { ...(t.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) };
  if (t.metadata?.annotations) meta.annotations = { ...t.metadata.annotations };
  if (t.metadata?.finalizers?.length) meta.finalizers = [...t.metadata.finalizers];
  meta.ownerReferences = [setControllerRef(set)];
  const spec: Obj = { ...(t.spec ?? {}) };
  const pod: Obj = { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec };
  ordinals.set(pod, { name, ordinal });
  // Hostname and subdomain are immutable on pods, so only a new pod gets them.
  spec.hostname = name;
  if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
  else delete spec.subdomain;
  const volumes = storageVolumes(set, ordinal, spec.volumes);
  if (volumes) spec.volumes = volumes;
  return pod;
}

/**
 * The pod a missing slot gets: from the current revision below the partition (or, with
 * RollingUpdate and no rollingUpdate object, below status.currentReplicas), else from the update
 * revision. The condition mirrors upstream's operator precedence exactly.
 */
export function newVersionedPod(currentSet: Obj, updateSet: Obj, currentRevision: string, updateRevision: string, ordinal: number): Obj {
  const strategy = currentSet.spec.updateStrategy ?? {};
  const ru = strategy.rollingUpdate;
  const start = startOrdinal(currentSet);
  const useCurrent =
    (strategy.type === 'RollingUpdate' && !ru && ordinal < start + (currentSet.status?.currentReplicas ?? 0)) ||
    (!!ru && ordinal < start + (ru.partition ?? 0));
  const pod = newPod(useCurrent ? currentSet : updateSet, ordinal);
  pod.metadata.labels[REVISION_LABEL] = useCurrent ? currentRevision : updateRevision;
  return pod;
}

// ---------------------------------------------------------------- health

export const isCreated = (pod: Obj): boolean => !!pod.status?.phase;
export const isPending = (pod: Obj): boolean => pod.status?.phase === 'Pending';
export const isFailed = (pod: Obj): boolean => pod.status?.phase === 'Failed';
export const isSucceeded = (pod: Obj): boolean => pod.status?.phase === 'Succeeded';
export const isTerminating = (pod: Obj): boolean => !!pod.metadata.deletionTimestamp;

const readyCondition = (pod: Obj): Obj | undefined => (pod.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');
export const isReady = (pod: Obj): boolean => readyCondition(pod)?.status === 'True';

export const isRunningAndReady = (pod: Obj): boolean => pod.status?.phase === 'Running' && isReady(pod);

/** Ready for at least minReadySeconds (upstream's IsPodAvailable: no phase check). */
export function isAvailable(pod: Obj, minReadySeconds: number, now: number): boolean {
  const c = readyCondition(pod);
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return !Number.isNaN(t) && t + minReadySeconds * 1000 < now;
}

export const isHealthy = (pod: Obj): boolean => isRunningAndReady(pod) && !isTerminating(pod);

/** What maxUnavailable counts: not available yet, or on its way out. */
export const isUnavailable = (pod: Obj, minReadySeconds: number, now: number): boolean => !isAvailable(pod, minReadySeconds, now) || isTerminating(pod);
