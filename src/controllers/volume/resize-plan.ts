// Expansion of claims of the local-path provisioner, decided step by step as upstream's CSI
// external-resizer does it for a driver whose volumes need the node to finish (a filesystem volume):
//
//   claim request > volume capacity  → mark the claim Resizing (allocatedResources = request,
//                                       ControllerResizeInProgress), events ExternalExpanding, Resizing
//   marked, volume still smaller     → grow the volume's spec.capacity to the request
//   volume grown, claim capacity not → mark the claim FileSystemResizePending (NodeResizePending),
//                                       event FileSystemResizeRequired
//
// The node agent of a running pod that mounts the claim then records the new capacity and clears
// the conditions (src/agent/volume-expansion-logic.ts), as the kubelet does after NodeExpandVolume.
// Each step is decided from the objects alone, so a restarted controller resumes where it was.
import type { Obj } from '../../api/resource.ts';
import { compareQuantity, parseQuantity, type Quantity } from '../../api/validation/quantity.ts';
import { ANN_PROVISIONED_BY } from './match.ts';
import { PROVISIONER } from './plan.ts';

export const RESIZING = 'Resizing';
export const FS_RESIZE_PENDING = 'FileSystemResizePending';
/** status.allocatedResourceStatuses values (RecoverVolumeExpansionFailure, beta and on in 1.32). */
export const CONTROLLER_RESIZE_IN_PROGRESS = 'ControllerResizeInProgress';
export const NODE_RESIZE_PENDING = 'NodeResizePending';
export const NODE_RESIZE_IN_PROGRESS = 'NodeResizeInProgress';
export const FS_RESIZE_PENDING_MESSAGE = 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.';
/** The event sources upstream shows: kube-controller-manager's expand controller and the CSI resizer sidecar. */
export const EXPAND_CONTROLLER_COMPONENT = 'volume_expand';
export const RESIZER_COMPONENT = `external-resizer ${PROVISIONER}`;

export interface ResizeEvent {
  component: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export type ResizeStep =
  | { kind: 'none' }
  | { kind: 'markResizing'; status: Obj; events: ResizeEvent[] }
  | { kind: 'expandVolume'; volume: Obj }
  | { kind: 'markNodePending'; status: Obj; events: ResizeEvent[] };

const q = (v: unknown): Quantity | undefined => parseQuantity(v);
const less = (a: Quantity | undefined, b: Quantity | undefined): boolean => !!a && !!b && compareQuantity(a, b) < 0;

const isResizeCondition = (c: Obj) => c?.type === RESIZING || c?.type === FS_RESIZE_PENDING;

/**
 * The claim's conditions with its resize conditions replaced by `next` (others kept), a condition
 * already there in the same state keeping its transition time: upstream's MergeResizeConditionsOfPVC.
 */
export function mergeResizeConditions(conditions: Obj[] | undefined, next: Obj[]): Obj[] {
  const old = conditions ?? [];
  const kept = old.filter((c) => !isResizeCondition(c));
  const merged = next.map((c) => {
    const same = old.find((o) => o.type === c.type && o.status === c.status);
    return same ? { ...c, lastTransitionTime: same.lastTransitionTime } : c;
  });
  return [...kept, ...merged];
}

const NONE: ResizeStep = Object.freeze({ kind: 'none' });

/**
 * What the resizer does next for a bound claim of ours and its volume. `now` (the time for a new
 * condition) may be given as a function: it is then called only when a condition is written, as
 * every bind asks and almost never finds a resize to do.
 */
export function planResize(claim: Obj, volume: Obj | undefined, now: string | (() => string)): ResizeStep {
  if (!volume || claim.status?.phase !== 'Bound' || claim.metadata?.deletionTimestamp) return NONE;
  if (volume.metadata?.annotations?.[ANN_PROVISIONED_BY] !== PROVISIONER) return NONE;
  if (volume.spec?.claimRef?.uid !== claim.metadata?.uid) return NONE;
  // The usual case, told without parsing: request, volume and claim all spell the same size, so
  // neither step below applies (equal quantities are never less than each other).
  const sameSize = volume.spec?.capacity?.storage;
  if (typeof sameSize === 'string' && claim.spec?.resources?.requests?.storage === sameSize && claim.status?.capacity?.storage === sameSize) return NONE;
  const time = typeof now === 'string' ? () => now : now;
  const requested = q(claim.spec?.resources?.requests?.storage);
  const volumeSize = q(volume.spec?.capacity?.storage);
  const claimSize = q(claim.status?.capacity?.storage);
  const status = claim.status ?? {};
  const allocated = q(status.allocatedResources?.storage);
  const resizeStatus: string | undefined = status.allocatedResourceStatuses?.storage;

  if (less(volumeSize, requested)) {
    const marked = resizeStatus === CONTROLLER_RESIZE_IN_PROGRESS && !!allocated && !!requested && compareQuantity(allocated, requested) === 0;
    if (marked) {
      const grown = { ...volume, spec: { ...volume.spec, capacity: { ...volume.spec.capacity, storage: claim.spec.resources.requests.storage } } };
      return { kind: 'expandVolume', volume: grown };
    }
    return {
      kind: 'markResizing',
      status: {
        ...status,
        conditions: mergeResizeConditions(status.conditions, [{ type: RESIZING, status: 'True', lastProbeTime: null, lastTransitionTime: time() }]),
        allocatedResources: { ...(status.allocatedResources ?? {}), storage: claim.spec.resources.requests.storage },
        allocatedResourceStatuses: { ...(status.allocatedResourceStatuses ?? {}), storage: CONTROLLER_RESIZE_IN_PROGRESS },
      },
      events: [
        { component: EXPAND_CONTROLLER_COMPONENT, type: 'Normal', reason: 'ExternalExpanding', message: 'waiting for an external controller to expand this PVC' },
        { component: RESIZER_COMPONENT, type: 'Normal', reason: 'Resizing', message: `External resizer is resizing volume ${volume.metadata.name}` },
      ],
    };
  }

  // The volume is as large as asked: what is left is the node's part, unless already handed to it.
  if (less(claimSize, volumeSize) && resizeStatus !== NODE_RESIZE_PENDING && resizeStatus !== NODE_RESIZE_IN_PROGRESS) {
    return {
      kind: 'markNodePending',
      status: {
        ...status,
        conditions: mergeResizeConditions(status.conditions, [
          { type: FS_RESIZE_PENDING, status: 'True', lastProbeTime: null, lastTransitionTime: time(), message: FS_RESIZE_PENDING_MESSAGE },
        ]),
        allocatedResourceStatuses: { ...(status.allocatedResourceStatuses ?? {}), storage: NODE_RESIZE_PENDING },
      },
      events: [{ component: RESIZER_COMPONENT, type: 'Normal', reason: 'FileSystemResizeRequired', message: 'Require file system resize of volume on node' }],
    };
  }
  return NONE;
}
