// The volume controller's decisions, pure: given a claim (or a volume) and what the caches hold,
// what to do next. The shape follows upstream's syncClaim / syncVolume so that claims and
// volumes pass through the same phases and events as on a real cluster.
import type { Obj } from '../../api/resource.ts';
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  HOSTNAME_LABEL,
  claimClass,
  claimClassUnset,
  defaultClass,
  findMatchingVolume,
  isVolumeBoundToClaim,
  nodeOrStub,
  volumeMismatch,
} from './match.ts';
import { cloneJson } from '../../util/json.ts';

export const PROVISIONER = 'ordinal.dev/local-path';
/**
 * Set by a node on itself: the directory of its machine where its local-path volumes go. Nodes
 * without it (those in the server's process) get volumes under the server's data dir.
 */
export const LOCAL_PATH_DIR_ANNOTATION = 'ordinal.dev/local-path-dir';
export const DEFAULT_CLASS_NAME = 'local-path';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
/** Held by volumes we provisioned with reclaim Delete until their directory is removed (HonorPVReclaimPolicy). */
export const PV_CONTROLLER_FINALIZER = 'kubernetes.io/pv-controller';

export interface World {
  classes: Obj[];
  volumes: Obj[];
  nodes: Obj[];
  /** The node of that name, when the caller can look one up without listing them all. */
  nodeNamed?: (name: string) => Obj | undefined;
  /** Where Immediate-mode volumes go; otherwise the first Ready node. */
  defaultNodeName?: string;
  /** Give class-less claims the default class after creation (upstream's RetroactiveDefaultStorageClass); default true. */
  retroactiveDefaultClass?: boolean;
}

export type ClaimAction =
  | { kind: 'none' }
  | { kind: 'bind'; volume: Obj }
  | { kind: 'assignDefaultClass'; className: string }
  | { kind: 'provision'; className: string; node: string }
  | { kind: 'event'; type: 'Normal' | 'Warning'; reason: string; message: string; requeue?: boolean }
  | { kind: 'lost'; reason: string; message: string };

const classNamed = (w: World, name: string) => w.classes.find((c) => c.metadata.name === name);

export const isDelayBinding = (claim: Obj, w: World): boolean => {
  const name = claimClass(claim);
  return !!name && classNamed(w, name)?.volumeBindingMode === 'WaitForFirstConsumer';
};

export const isNodeReady = (node: Obj): boolean =>
  (node.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True') && !node.spec?.unschedulable;

/**
 * What planClaim reads from a node, as a comparable string: its conditions' states and whether it
 * is schedulable (Immediate placement wants a Ready one) and its labels (a selected node's volume
 * affinity). Heartbeat and transition times are left out on purpose.
 */
export function nodePlanningInputs(node: Obj): string {
  return JSON.stringify([(node.status?.conditions ?? []).map((c: Obj) => [c.type, c.status]), !!node.spec?.unschedulable, node.metadata?.labels ?? {}]);
}

/** The node an Immediate-mode volume is placed on: the configured default, else the first Ready node. */
export function immediateNode(w: World): string | undefined {
  if (w.defaultNodeName) return w.defaultNodeName;
  return w.nodes.filter(isNodeReady).map((n) => n.metadata.name as string).sort()[0];
}

export const hasAnnotation = (o: Obj, key: string): boolean => Object.hasOwn(o.metadata?.annotations ?? {}, key);

/** One step of the claim's life, as upstream's syncClaim decides it. */
export function planClaim(claim: Obj, w: World): ClaimAction {
  if (!hasAnnotation(claim, ANN_BIND_COMPLETED)) return planUnboundClaim(claim, w);
  const volumeName: string = claim.spec?.volumeName ?? '';
  if (!volumeName) return { kind: 'lost', reason: 'ClaimLost', message: 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!' };
  const volume = w.volumes.find((v) => v.metadata.name === volumeName);
  if (!volume) return { kind: 'lost', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' };
  const ref = volume.spec?.claimRef;
  if (!ref || ref.uid === claim.metadata.uid) return { kind: 'bind', volume };
  return { kind: 'lost', reason: 'ClaimMisbound', message: 'Two claims are bound to the same volume, this one is bound incorrectly' };
}

function planUnboundClaim(claim: Obj, w: World): ClaimAction {
  const volumeName: string = claim.spec?.volumeName ?? '';
  if (volumeName) {
    // The user asked for a specific volume.
    const volume = w.volumes.find((v) => v.metadata.name === volumeName);
    if (!volume) return { kind: 'none' };
    if (!volume.spec?.claimRef) {
      const why = volumeMismatch(volume, claim);
      if (why) return { kind: 'event', type: 'Warning', reason: 'VolumeMismatch', message: `Cannot bind to requested volume "${volumeName}": ${why}` };
      return { kind: 'bind', volume };
    }
    if (isVolumeBoundToClaim(volume, claim)) return { kind: 'bind', volume };
    return { kind: 'none' };
  }
  const delay = isDelayBinding(claim, w);
  const selectedNode: string | undefined = claim.metadata?.annotations?.[ANN_SELECTED_NODE] || undefined;
  const node = selectedNode ? nodeOrStub(selectedNode, w.nodeNamed ?? w.nodes) : undefined;
  const volume = findMatchingVolume(claim, w.volumes, { delayBinding: delay, node });
  if (volume) return { kind: 'bind', volume };
  if (claimClassUnset(claim) && w.retroactiveDefaultClass !== false) {
    const def = defaultClass(w.classes);
    if (def) return { kind: 'assignDefaultClass', className: def.metadata.name };
  }
  if (delay && !selectedNode) {
    return { kind: 'event', type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' };
  }
  const className = claimClass(claim);
  if (!className) {
    return { kind: 'event', type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' };
  }
  const sc = classNamed(w, className);
  if (!sc) return { kind: 'event', type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io "${className}" not found` };
  if (sc.provisioner !== PROVISIONER) {
    return {
      kind: 'event',
      type: 'Normal',
      reason: 'ExternalProvisioning',
      message: `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    };
  }
  if (claim.spec?.selector) return { kind: 'event', type: 'Warning', reason: 'ProvisioningFailed', message: 'claim Selector is not supported' };
  if ((claim.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') {
    return { kind: 'event', type: 'Warning', reason: 'ProvisioningFailed', message: `volumeMode ${claim.spec.volumeMode} is not supported by ${PROVISIONER}` };
  }
  const target = selectedNode ?? immediateNode(w);
  if (!target) {
    return { kind: 'event', type: 'Warning', reason: 'ProvisioningFailed', message: 'no Ready node to place the volume on', requeue: true };
  }
  return { kind: 'provision', className, node: target };
}

// ---------------------------------------------------------------- provisioning

export function volumeNameFor(claim: Obj): string {
  return `pvc-${claim.metadata.uid}`;
}

export function claimRefOf(claim: Obj): Obj {
  return {
    kind: 'PersistentVolumeClaim',
    namespace: claim.metadata.namespace,
    name: claim.metadata.name,
    uid: claim.metadata.uid,
    apiVersion: 'v1',
    resourceVersion: claim.metadata.resourceVersion,
  };
}

/** The PersistentVolume our provisioner creates for a claim, on a node, backed by a directory. */
export function provisionedVolume(claim: Obj, sc: Obj, node: string, path: string): Obj {
  const reclaim = sc.reclaimPolicy ?? 'Delete';
  const spec: Obj = {
    capacity: { storage: claim.spec.resources.requests.storage },
    accessModes: [...(claim.spec.accessModes ?? [])],
    persistentVolumeReclaimPolicy: reclaim,
    storageClassName: sc.metadata.name,
    volumeMode: claim.spec.volumeMode ?? 'Filesystem',
    claimRef: claimRefOf(claim),
    local: { path },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [node] }] }] } },
  };
  if (sc.mountOptions?.length) spec.mountOptions = [...sc.mountOptions];
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: volumeNameFor(claim),
      annotations: { [ANN_PROVISIONED_BY]: PROVISIONER },
      finalizers: reclaim === 'Delete' ? [PV_CONTROLLER_FINALIZER] : [],
    },
    spec,
  };
}

// ---------------------------------------------------------------- binding (each step a no-op when done)

/** The volume with its claimRef pointing at the claim, or undefined when it already does. */
export function volumeBoundTo(volume: Obj, claim: Obj): Obj | undefined {
  const ref = volume.spec?.claimRef;
  if (ref && ref.uid === claim.metadata.uid && ref.name === claim.metadata.name && ref.namespace === claim.metadata.namespace) return undefined;
  // Copies of just the parts that change: the input is a shared cache object, and the rest is
  // copied by the API server anyway.
  const next: Obj = { ...volume, metadata: { ...volume.metadata }, spec: { ...volume.spec, claimRef: claimRefOf(claim) } };
  // Only a binding the controller chose is marked as such; a user's pre-binding stays the user's.
  if (!ref) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
  return next;
}

/**
 * The claim pointing at the volume with the bind annotations (plus `extra` ones, e.g. which
 * provisioner made the volume), or undefined when it already does.
 */
export function claimBoundTo(claim: Obj, volume: Obj, extra: Record<string, string> = {}): Obj | undefined {
  const ann = claim.metadata.annotations ?? {};
  const sameVolume = claim.spec?.volumeName === volume.metadata.name;
  if (sameVolume && ann[ANN_BIND_COMPLETED] === 'yes' && allSet(ann, extra)) return undefined;
  const next: Obj = { ...claim, metadata: { ...claim.metadata, annotations: { ...ann, ...extra, [ANN_BIND_COMPLETED]: 'yes' } }, spec: { ...claim.spec } };
  if (!sameVolume) {
    next.spec.volumeName = volume.metadata.name;
    next.metadata.annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
  }
  return next;
}

function allSet(ann: Record<string, string>, want: Record<string, string>): boolean {
  for (const k in want) if (ann[k] !== want[k]) return false;
  return true;
}

/**
 * The claim's status once bound, or undefined when it already reads so. The capacity is copied from
 * the volume only when the claim becomes Bound, as upstream's binder does: afterwards a volume
 * larger than the claim's capacity is an expansion the node has not finished yet.
 */
export function boundClaimStatus(claim: Obj, volume: Obj): Obj | undefined {
  const s = claim.status ?? {};
  const capacity = s.phase === 'Bound' && s.capacity?.storage ? s.capacity : (volume.spec?.capacity ?? {});
  const want = { phase: 'Bound', accessModes: volume.spec?.accessModes ?? [], capacity };
  if (s.phase === want.phase && JSON.stringify(s.accessModes ?? []) === JSON.stringify(want.accessModes) && JSON.stringify(s.capacity ?? {}) === JSON.stringify(want.capacity)) {
    return undefined;
  }
  return { ...s, ...want };
}

// ---------------------------------------------------------------- volumes

export type VolumeAction =
  | { kind: 'none' }
  | { kind: 'phase'; phase: 'Available' | 'Bound' | 'Released' | 'Failed'; message?: string; then?: VolumeAction }
  | { kind: 'deleteAsset' }
  | { kind: 'enqueueClaim'; namespace: string; name: string }
  | { kind: 'unbind'; keepClaimName: boolean }
  | { kind: 'event'; type: 'Normal' | 'Warning'; reason: string; message: string };

const ours = (pv: Obj) => pv.metadata.annotations?.[ANN_PROVISIONED_BY] === PROVISIONER;

/** What reclaiming a released volume means for it. */
export function planReclaim(pv: Obj): VolumeAction {
  const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy === 'Retain') return { kind: 'none' };
  if (policy === 'Delete') {
    const by = pv.metadata.annotations?.[ANN_PROVISIONED_BY];
    if (by === PROVISIONER) return { kind: 'deleteAsset' };
    // Another provisioner deletes its own volumes.
    if (by) return { kind: 'none' };
    if (pv.status?.phase === 'Failed') return { kind: 'none' };
    return {
      kind: 'phase',
      phase: 'Failed',
      message: `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched`,
      then: { kind: 'event', type: 'Warning', reason: 'VolumeFailedDelete', message: `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched` },
    };
  }
  if (pv.status?.phase === 'Failed') return { kind: 'none' };
  return { kind: 'phase', phase: 'Failed', message: 'No recycler plugin found for the volume!', then: { kind: 'event', type: 'Warning', reason: 'VolumeFailedRecycle', message: 'No recycler plugin found for the volume!' } };
}

/**
 * One step of a volume's life, as upstream's syncVolume: `claim` is the claim its claimRef names
 * (undefined when that claim is gone, confirmed with the API server by the caller).
 */
export function planVolume(pv: Obj, claim: Obj | undefined): VolumeAction {
  const ref = pv.spec?.claimRef;
  const phase = pv.status?.phase;
  const setPhase = (p: 'Available' | 'Bound' | 'Released'): VolumeAction => (phase === p ? { kind: 'none' } : { kind: 'phase', phase: p });
  if (!ref || !ref.uid) return setPhase('Available');
  if (claim && claim.metadata.uid !== ref.uid) claim = undefined;
  if (!claim) {
    const reclaim = planReclaim(pv);
    if (phase === 'Released' || phase === 'Failed') return reclaim;
    return { kind: 'phase', phase: 'Released', then: reclaim };
  }
  const claimVolume: string = claim.spec?.volumeName ?? '';
  if (!claimVolume) {
    if ((claim.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem')) {
      return { kind: 'event', type: 'Warning', reason: 'VolumeMismatch', message: `Cannot bind PersistentVolume to requested PersistentVolumeClaim "${claim.metadata.name}" due to incompatible volumeMode.` };
    }
    // The claim's own sync completes the binding.
    return { kind: 'enqueueClaim', namespace: claim.metadata.namespace, name: claim.metadata.name };
  }
  if (claimVolume === pv.metadata.name) return setPhase('Bound');
  // The claim went to another volume.
  if (ours(pv) && pv.spec?.persistentVolumeReclaimPolicy === 'Delete') {
    const reclaim = planReclaim(pv);
    if (phase === 'Released' || phase === 'Failed') return reclaim;
    return { kind: 'phase', phase: 'Released', then: reclaim };
  }
  return { kind: 'unbind', keepClaimName: !hasAnnotation(pv, ANN_BOUND_BY_CONTROLLER) };
}

/** The volume with its claim reference dropped (or, for a user's pre-binding, just its uid). */
export function unboundVolume(pv: Obj, keepClaimName: boolean): Obj {
  const next = cloneJson(pv);
  if (keepClaimName) {
    delete next.spec.claimRef.uid;
    delete next.spec.claimRef.resourceVersion;
  } else {
    delete next.spec.claimRef;
  }
  if (next.metadata.annotations) delete next.metadata.annotations[ANN_BOUND_BY_CONTROLLER];
  return next;
}

// ---------------------------------------------------------------- protection

const isTerminal = (pod: Obj) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Whether a scheduled, not yet terminated pod mounts the claim (upstream's pvc-protection rule). */
export function podUsesClaim(pod: Obj, claim: Obj): boolean {
  if (pod.metadata.namespace !== claim.metadata.namespace || !pod.spec?.nodeName || isTerminal(pod)) return false;
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName === claim.metadata.name) return true;
    // A generic ephemeral volume's claim is named <pod>-<volume>.
    if (v.ephemeral && `${pod.metadata.name}-${v.name}` === claim.metadata.name) return true;
  }
  return false;
}

/** Claims named by a pod's volumes, for re-judging their protection when the pod changes. */
export function claimNamesOf(pod: Obj): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    if (v.ephemeral) out.push(`${pod.metadata.name}-${v.name}`);
  }
  return out;
}

export type FinalizerChange = { add: string } | { remove: string } | undefined;

/** `pods`: at least every pod that names the claim (others are ignored). */
export function claimProtection(claim: Obj, pods: Iterable<Obj>): FinalizerChange {
  const has = (claim.metadata.finalizers ?? []).includes(PVC_PROTECTION);
  if (!claim.metadata.deletionTimestamp) return has ? undefined : { add: PVC_PROTECTION };
  if (!has) return undefined;
  for (const p of pods) if (podUsesClaim(p, claim)) return undefined;
  return { remove: PVC_PROTECTION };
}

export function volumeProtection(pv: Obj): FinalizerChange {
  const has = (pv.metadata.finalizers ?? []).includes(PV_PROTECTION);
  if (!pv.metadata.deletionTimestamp) return has ? undefined : { add: PV_PROTECTION };
  if (!has) return undefined;
  return pv.status?.phase === 'Bound' ? undefined : { remove: PV_PROTECTION };
}

/**
 * Whether the pv-controller finalizer can go: the volume is being deleted and is no longer bound
 * (its directory is removed first), or its policy stopped being Delete.
 */
export function releaseControllerFinalizer(pv: Obj): 'deleteAssetThenRelease' | 'release' | undefined {
  if (!(pv.metadata.finalizers ?? []).includes(PV_CONTROLLER_FINALIZER)) return undefined;
  if (pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return 'release';
  if (!pv.metadata.deletionTimestamp) return undefined;
  if (pv.status?.phase === 'Bound') return undefined;
  return ours(pv) ? 'deleteAssetThenRelease' : 'release';
}

/** The default class the controller makes sure exists. */
export function defaultStorageClassObject(): Obj {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: DEFAULT_CLASS_NAME, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    // Its volumes are directories: growing one is bookkeeping (resize-plan.ts), nothing to copy.
    allowVolumeExpansion: true,
  };
}
