// Upstream's PersistentVolumeClaimResize validating admission plugin: a claim's storage request may
// only grow when the claim is bound and its StorageClass (the same before and after) says
// allowVolumeExpansion: true. It runs after the claim's own validation, as validating admission
// does upstream, so a shrink below capacity is a 422 from validation and a refused growth a 403.
import type { Obj } from '../api/resource.ts';
import { compareQuantity, parseQuantity, zeroQuantity } from '../api/validation/quantity.ts';

const storageRequest = (pvc: Obj) => parseQuantity(pvc.spec?.resources?.requests?.storage) ?? zeroQuantity;

/** The class a claim names: spec.storageClassName, else the beta annotation (upstream's GetPersistentVolumeClaimClass). */
export function claimClassName(pvc: Obj): string {
  const beta = pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (typeof beta === 'string') return beta;
  return typeof pvc.spec?.storageClassName === 'string' ? pvc.spec.storageClassName : '';
}

/** Why the update of `old` into `pvc` is refused, or undefined when it is admitted. */
export function resizeRefusal(pvc: Obj, old: Obj, storageClass: (name: string) => Obj | undefined): string | undefined {
  if (compareQuantity(storageRequest(pvc), storageRequest(old)) <= 0) return undefined;
  if (old.status?.phase !== 'Bound') return 'Only bound persistent volume claims can be expanded';
  const name = claimClassName(pvc);
  const allowed = name !== '' && name === claimClassName(old) && storageClass(name)?.allowVolumeExpansion === true;
  if (!allowed) return 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize';
  return undefined;
}
