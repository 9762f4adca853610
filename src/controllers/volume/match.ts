// Pure rules for pairing claims with volumes, as upstream's persistent volume controller and its
// helpers judge them: which class a claim or volume belongs to, whether a volume can serve a
// claim, and which of many candidate volumes a claim should get.
import type { Obj } from '../../api/resource.ts';
import { nodeSelectorMatches } from '../../api/selectors/node-selector.ts';
import { labelSelectorFromObject, matchesLabels } from '../../api/selectors/index.ts';
import { compareQuantity, parseQuantity, type Quantity } from '../../api/validation/quantity.ts';

export const ANN_BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';
export const ANN_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The class a claim asks for; the beta annotation wins over the field, and "no class" is "". */
export function claimClass(claim: Obj): string {
  const ann = claim.metadata?.annotations ?? {};
  if (ANN_BETA_CLASS in ann) return ann[ANN_BETA_CLASS];
  return claim.spec?.storageClassName ?? '';
}

/** Whether the claim left its class unset (nil, not ""): only such claims get a default class. */
export function claimClassUnset(claim: Obj): boolean {
  const ann = claim.metadata?.annotations ?? {};
  return !(ANN_BETA_CLASS in ann) && (claim.spec?.storageClassName === undefined || claim.spec?.storageClassName === null);
}

export function volumeClass(pv: Obj): string {
  const ann = pv.metadata?.annotations ?? {};
  if (ANN_BETA_CLASS in ann) return ann[ANN_BETA_CLASS];
  return pv.spec?.storageClassName ?? '';
}

const isDefault = (sc: Obj): boolean => {
  const ann = sc.metadata?.annotations ?? {};
  return ann[ANN_DEFAULT_CLASS] === 'true' || ann[ANN_BETA_DEFAULT_CLASS] === 'true';
};

/** The default class; with several, the newest wins (then the name), as upstream since 1.26. */
export function defaultClass(classes: Obj[]): Obj | undefined {
  const defaults = classes.filter(isDefault);
  defaults.sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? '';
    const tb = b.metadata.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? 1 : -1;
    return a.metadata.name < b.metadata.name ? -1 : 1;
  });
  return defaults[0];
}

export function requestedStorage(claim: Obj): Quantity | undefined {
  return parseQuantity(claim.spec?.resources?.requests?.storage);
}

export function volumeStorage(pv: Obj): Quantity | undefined {
  return parseQuantity(pv.spec?.capacity?.storage);
}

const modeOf = (o: Obj): string => o.spec?.volumeMode || 'Filesystem';

/** Whether the claim's access modes are all offered by the volume. */
export function accessModesContained(claimModes: string[] | undefined, volumeModes: string[] | undefined): boolean {
  const offered = new Set(volumeModes ?? []);
  return (claimModes ?? []).every((m) => offered.has(m));
}

/** claimRef points at this claim: same namespace and name, and the same uid when the ref has one. */
export function isVolumeBoundToClaim(pv: Obj, claim: Obj): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata.name || (ref.namespace ?? '') !== (claim.metadata.namespace ?? '')) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

// ---------------------------------------------------------------- node affinity

/** Whether a volume's required node affinity admits the node (no affinity admits every node). */
export function volumeFitsNode(pv: Obj, node: Obj): boolean {
  const required = pv.spec?.nodeAffinity?.required;
  return required ? nodeSelectorMatches(required, node) : true;
}

/** A node as far as affinity is concerned: the real object, or just its name and hostname label. */
export function nodeOrStub(name: string, nodes: Obj[] | ((name: string) => Obj | undefined)): Obj {
  const found = typeof nodes === 'function' ? nodes(name) : nodes.find((n) => n.metadata.name === name);
  return found ?? { metadata: { name, labels: { [HOSTNAME_LABEL]: name } } };
}

// ---------------------------------------------------------------- matching

export interface MatchOptions {
  /** The class binds late (WaitForFirstConsumer): only volumes pre-bound to the claim, unless a node is known. */
  delayBinding: boolean;
  /** The node the claim's first consumer goes to, when known: volumes must be reachable from it. */
  node?: Obj;
}

/**
 * The volume a pending claim should bind to, or undefined. A volume pre-bound to the claim wins
 * outright; otherwise the smallest fitting free volume, preferring volumes offering fewer access
 * modes (upstream searches its index by access-mode set, smallest sets first).
 */
export function findMatchingVolume(claim: Obj, volumes: Obj[], opts: MatchOptions): Obj | undefined {
  // The usual case for a claim of a provisioning class: no candidates, nothing to parse.
  if (volumes.length === 0) return undefined;
  const request = requestedStorage(claim);
  if (!request) return undefined;
  const wantModes: string[] = claim.spec?.accessModes ?? [];
  const wantClass = claimClass(claim);
  let selector;
  try {
    selector = claim.spec?.selector ? labelSelectorFromObject(claim.spec.selector) : undefined;
  } catch {
    return undefined;
  }
  let best: { pv: Obj; modes: number; size: Quantity } | undefined;
  for (const pv of volumes) {
    if (!accessModesContained(wantModes, pv.spec?.accessModes)) continue;
    const size = volumeStorage(pv);
    if (!size || compareQuantity(size, request) < 0) continue;
    if (pv.metadata.deletionTimestamp) continue;
    if (modeOf(pv) !== modeOf(claim)) continue;
    if (opts.node && !volumeFitsNode(pv, opts.node)) continue;
    if (isVolumeBoundToClaim(pv, claim)) return pv;
    if (opts.delayBinding && !opts.node) continue;
    if (pv.spec?.claimRef) continue;
    if (selector && !matchesLabels(selector, pv.metadata.labels)) continue;
    if (volumeClass(pv) !== wantClass) continue;
    const modes = (pv.spec?.accessModes ?? []).length;
    if (
      !best ||
      modes < best.modes ||
      (modes === best.modes && (compareQuantity(size, best.size) < 0 || (compareQuantity(size, best.size) === 0 && pv.metadata.name < best.pv.metadata.name)))
    ) {
      best = { pv, modes, size };
    }
  }
  return best?.pv;
}

/** Why a volume the claim names explicitly (spec.volumeName) cannot serve it, or undefined when it can. */
export function volumeMismatch(pv: Obj, claim: Obj): string | undefined {
  const request = requestedStorage(claim);
  const size = volumeStorage(pv);
  if (!request || !size || compareQuantity(size, request) < 0) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(claim)) return 'storageClassName does not match';
  if (modeOf(pv) !== modeOf(claim)) return 'incompatible volumeMode';
  if (!accessModesContained(claim.spec?.accessModes, pv.spec?.accessModes)) return 'incompatible accessMode';
  return undefined;
}
