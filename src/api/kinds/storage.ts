// Storage kinds: PersistentVolumeClaim, PersistentVolume (core/v1) and StorageClass (storage.k8s.io/v1).
import type { Obj, Strategy } from '../resource.ts';
import { nowTimestamp } from '../../util/timestamp.ts';
import { forbidden, invalid, notSupported, required, tooLong } from '../field-errors.ts';
import {
  type Errs,
  asArray,
  asObj,
  deepEqual,
  goValue,
  invalidRendered,
  invalidValue,
  isObj,
  validateImmutableField,
} from '../validation/fields.ts';
import { byteLength, isQualifiedName, nameIsDNSSubdomain } from '../validation/names.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { validateLabelSelector } from '../validation/selector.ts';
import { compareQuantity, parseQuantity, quantityFormatError, quantityText, zeroQuantity } from '../validation/quantity.ts';
import { keepOldSpec, keepOldStatus } from './generic.ts';

const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const volumeModes = ['Block', 'Filesystem'];

function validateAccessModes(modes: unknown, path: string, requiredDetail: string): Errs {
  const list = asArray(modes);
  const errs: Errs = [];
  if (list.length === 0) errs.push(required(path, requiredDetail));
  for (const m of list) if (!accessModes.includes(m)) errs.push(notSupported(path, m, accessModes));
  if (list.includes('ReadWriteOncePod') && list.length > 1) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validatePositiveQuantity(value: unknown, path: string): Errs {
  const q = parseQuantity(value);
  if (!q) return [invalid(path, quantityText(value), quantityFormatError)];
  if (compareQuantity(q, zeroQuantity) <= 0) return [invalid(path, quantityText(value), 'must be greater than zero')];
  return [];
}

function validateClassName(name: unknown, path: string): Errs {
  if (typeof name !== 'string' || !name) return [];
  return nameIsDNSSubdomain(name, false).map((m) => invalid(path, name, m));
}

// ---------------------------------------------------------------- PersistentVolumeClaim

export function defaultPersistentVolumeClaim(pvc: Obj): void {
  if (!isObj(pvc.spec)) pvc.spec = {};
  if (!pvc.spec.volumeMode) pvc.spec.volumeMode = 'Filesystem';
  if (!isObj(pvc.status)) pvc.status = {};
  if (!pvc.status.phase) pvc.status.phase = 'Pending';
}

export function validatePersistentVolumeClaimSpec(spec: unknown, path = 'spec'): Errs {
  const s = asObj(spec);
  const errs = validateAccessModes(s.accessModes, `${path}.accessModes`, 'at least 1 access mode is required');
  if (isObj(s.selector)) errs.push(...validateLabelSelector(s.selector, `${path}.selector`));
  const requests = asObj(asObj(s.resources).requests);
  const storagePath = `${path}.resources[storage]`;
  if (!('storage' in requests)) errs.push(required(storagePath));
  else errs.push(...validatePositiveQuantity(requests.storage, storagePath));
  errs.push(...validateClassName(s.storageClassName, `${path}.storageClassName`));
  if (s.volumeMode !== undefined && s.volumeMode !== null && !volumeModes.includes(s.volumeMode)) {
    errs.push(notSupported(`${path}.volumeMode`, s.volumeMode, volumeModes));
  }
  return errs;
}

export function validatePersistentVolumeClaim(pvc: Obj): Errs {
  return [...validateObjectMeta(pvc.metadata, { namespaced: true, nameFn: nameIsDNSSubdomain }), ...validatePersistentVolumeClaimSpec(pvc.spec)];
}

export function validatePersistentVolumeClaimUpdate(pvc: Obj, old: Obj): Errs {
  const errs = [...validateObjectMetaUpdate(pvc.metadata, old.metadata), ...validatePersistentVolumeClaim(pvc)];
  // Shallow copies of the parts set aside below, not deep ones: every claim update (a binder's,
  // a scheduler's annotation) compares the specs.
  const newSpec: Obj = { ...asObj(pvc.spec) };
  const oldSpec: Obj = { ...asObj(old.spec) };
  // The binder sets volumeName once.
  if (!oldSpec.volumeName) oldSpec.volumeName = newSpec.volumeName;
  // Expansion: requests.storage may change on bound claims; VolumeAttributesClass is not served.
  if (asObj(pvc.status).phase === 'Bound' && isObj(asObj(newSpec.resources).requests)) {
    newSpec.resources = { ...newSpec.resources, requests: { ...newSpec.resources.requests, storage: asObj(asObj(oldSpec.resources).requests).storage } };
  }
  if (!deepEqual(newSpec, oldSpec)) {
    errs.push(forbidden('spec', `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff(oldSpec, newSpec)}`));
  }
  const newSize = parseQuantity(asObj(asObj(asObj(pvc.spec).resources).requests).storage);
  const oldSize = parseQuantity(asObj(asObj(asObj(old.spec).resources).requests).storage);
  const statusSize = parseQuantity(asObj(asObj(old.status).capacity).storage) ?? zeroQuantity;
  // RecoverVolumeExpansionFailure (beta, on in 1.32): shrinking is allowed down to, but not to, the recorded capacity.
  if (newSize && oldSize && compareQuantity(newSize, oldSize) < 0 && compareQuantity(newSize, statusSize) <= 0) {
    errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  }
  errs.push(...validateImmutableField(asObj(pvc.spec).volumeMode ?? null, asObj(old.spec).volumeMode ?? null, 'volumeMode'));
  return errs;
}

export function validatePersistentVolumeClaimStatusUpdate(pvc: Obj, old: Obj): Errs {
  const errs = validateObjectMetaUpdate(pvc.metadata, old.metadata);
  const s = asObj(pvc.status);
  if (s.accessModes !== undefined) {
    for (const m of asArray(s.accessModes)) if (!accessModes.includes(m)) errs.push(notSupported('status.accessModes', m, accessModes));
  }
  for (const [k, v] of Object.entries(asObj(s.capacity))) {
    const q = parseQuantity(v);
    if (!q) errs.push(invalid(`status.capacity[${k}]`, quantityText(v), quantityFormatError));
    else if (q.num < 0n) errs.push(invalid(`status.capacity[${k}]`, quantityText(v), 'must be greater than or equal to 0'));
  }
  return errs;
}

/** A compact stand-in for the Go cmp.Diff upstream appends: the changed top-level fields. */
export function specDiff(oldSpec: Obj, newSpec: Obj): string {
  const lines: string[] = [];
  for (const k of [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])].sort()) {
    if (deepEqual(oldSpec[k], newSpec[k])) continue;
    if (oldSpec[k] !== undefined) lines.push(`- \t${k}: ${JSON.stringify(oldSpec[k])},`);
    if (newSpec[k] !== undefined) lines.push(`+ \t${k}: ${JSON.stringify(newSpec[k])},`);
  }
  return `  {\n${lines.join('\n')}\n  }\n`;
}

export const persistentVolumeClaimStrategy: Strategy = {
  default: defaultPersistentVolumeClaim,
  prepareForCreate(pvc) {
    pvc.status = { phase: 'Pending' };
  },
  prepareForUpdate: keepOldStatus,
  prepareForStatusUpdate: keepOldSpec,
  validate: validatePersistentVolumeClaim,
  validateUpdate: validatePersistentVolumeClaimUpdate,
  validateStatusUpdate: validatePersistentVolumeClaimStatusUpdate,
};

// ---------------------------------------------------------------- PersistentVolume

/** PersistentVolumeSource members; exactly one must be set. */
const pvSourceKeys = [
  'gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder', 'cephfs', 'fc',
  'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume',
  'scaleIO', 'local', 'storageos', 'csi',
];

export function defaultPersistentVolume(pv: Obj): void {
  if (!isObj(pv.spec)) pv.spec = {};
  if (!pv.spec.persistentVolumeReclaimPolicy) pv.spec.persistentVolumeReclaimPolicy = 'Retain';
  if (!pv.spec.volumeMode) pv.spec.volumeMode = 'Filesystem';
  if (isObj(pv.spec.hostPath) && pv.spec.hostPath.type === undefined) pv.spec.hostPath.type = '';
  if (!isObj(pv.status)) pv.status = {};
  if (!pv.status.phase) pv.status.phase = 'Pending';
}

export function validatePersistentVolumeSpec(spec: unknown, path = 'spec'): Errs {
  const s = asObj(spec);
  const errs = validateAccessModes(s.accessModes, `${path}.accessModes`, '');
  const capacity = asObj(s.capacity);
  const keys = Object.keys(capacity);
  if (keys.length === 0) errs.push(required(`${path}.capacity`));
  if (!('storage' in capacity) || keys.length > 1) {
    errs.push({ type: 'FieldValueNotSupported', field: `${path}.capacity`, detail: `${goValue(capacity)}: supported values: "storage"` });
  }
  for (const [k, v] of Object.entries(capacity)) errs.push(...validatePositiveQuantity(v, `${path}.capacity[${k}]`));
  if (s.persistentVolumeReclaimPolicy && !['Delete', 'Recycle', 'Retain'].includes(s.persistentVolumeReclaimPolicy)) {
    errs.push(notSupported(`${path}.persistentVolumeReclaimPolicy`, s.persistentVolumeReclaimPolicy, ['Delete', 'Recycle', 'Retain']));
  }
  const present = pvSourceKeys.filter((k) => isObj(s[k]));
  if (present.length === 0) errs.push(required(path, 'must specify a volume type'));
  for (const k of present.slice(1)) errs.push(forbidden(`${path}.${k}`, 'may not specify more than 1 volume type'));
  if (isObj(s.hostPath)) {
    if (!s.hostPath.path) errs.push(required(`${path}.hostPath.path`));
    else if (s.hostPath.path.replace(/\/+$/, '') === '' && s.persistentVolumeReclaimPolicy === 'Recycle') {
      errs.push(forbidden(`${path}.persistentVolumeReclaimPolicy`, "may not be 'recycle' for a hostPath mount of '/'"));
    }
  }
  if (isObj(s.local)) {
    if (!s.local.path) errs.push(required(`${path}.local.path`));
    if (!isObj(s.nodeAffinity)) errs.push(required(`${path}.nodeAffinity`, 'Local volume requires node affinity'));
  }
  if (isObj(s.csi)) {
    if (!s.csi.driver) errs.push(required(`${path}.csi.driver`));
    if (!s.csi.volumeHandle) errs.push(required(`${path}.csi.volumeHandle`));
  }
  if (isObj(s.nfs)) {
    if (!s.nfs.server) errs.push(required(`${path}.nfs.server`));
    if (!s.nfs.path) errs.push(required(`${path}.nfs.path`));
  }
  errs.push(...validateClassName(s.storageClassName, `${path}.storageClassName`));
  if (s.volumeMode !== undefined && s.volumeMode !== null && !volumeModes.includes(s.volumeMode)) {
    errs.push(notSupported(`${path}.volumeMode`, s.volumeMode, volumeModes));
  }
  return errs;
}

export function validatePersistentVolume(pv: Obj): Errs {
  return [...validateObjectMeta(pv.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain }), ...validatePersistentVolumeSpec(pv.spec)];
}

function pvSource(spec: Obj): Obj {
  const out: Obj = {};
  for (const k of pvSourceKeys) if (spec[k] !== undefined) out[k] = spec[k];
  return out;
}

export function validatePersistentVolumeUpdate(pv: Obj, old: Obj): Errs {
  const errs = [...validateObjectMetaUpdate(pv.metadata, old.metadata), ...validatePersistentVolume(pv)];
  const a = pvSource(asObj(pv.spec));
  const b = pvSource(asObj(old.spec));
  if (!deepEqual(a, b)) errs.push(forbidden('spec.persistentvolumesource', `spec.persistentvolumesource is immutable after creation\n${specDiff(b, a)}`));
  errs.push(...validateImmutableField(asObj(pv.spec).volumeMode ?? null, asObj(old.spec).volumeMode ?? null, 'volumeMode'));
  if (asObj(old.spec).nodeAffinity !== undefined) {
    errs.push(...validateImmutableField(asObj(pv.spec).nodeAffinity ?? null, asObj(old.spec).nodeAffinity, 'nodeAffinity'));
  }
  return errs;
}

export function validatePersistentVolumeStatusUpdate(pv: Obj, old: Obj): Errs {
  const errs = validateObjectMetaUpdate(pv.metadata, old.metadata);
  const phase = asObj(pv.status).phase;
  const phases = ['Available', 'Bound', 'Failed', 'Pending', 'Released'];
  if (phase && !phases.includes(phase)) errs.push(notSupported('status.phase', phase, phases));
  return errs;
}

export const persistentVolumeStrategy: Strategy = {
  default: defaultPersistentVolume,
  prepareForCreate(pv) {
    pv.status = { phase: 'Pending', lastPhaseTransitionTime: nowTimestamp() };
  },
  prepareForUpdate: keepOldStatus,
  prepareForStatusUpdate(pv, old) {
    keepOldSpec(pv, old);
    const phase = asObj(pv.status).phase;
    if (isObj(pv.status) && phase !== asObj(old.status).phase) pv.status.lastPhaseTransitionTime = nowTimestamp();
  },
  validate: validatePersistentVolume,
  validateUpdate: validatePersistentVolumeUpdate,
  validateStatusUpdate: validatePersistentVolumeStatusUpdate,
};

// ---------------------------------------------------------------- StorageClass

export function defaultStorageClass(sc: Obj): void {
  if (!sc.reclaimPolicy) sc.reclaimPolicy = 'Delete';
  if (!sc.volumeBindingMode) sc.volumeBindingMode = 'Immediate';
}

export function validateStorageClass(sc: Obj): Errs {
  const errs = validateObjectMeta(sc.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain });
  const prov = typeof sc.provisioner === 'string' ? sc.provisioner : '';
  if (!prov) errs.push(required('provisioner'));
  else for (const m of isQualifiedName(prov.toLowerCase())) errs.push(invalid('provisioner', prov.toLowerCase(), m));
  const params = asObj(sc.parameters);
  let size = 0;
  if (Object.keys(params).length > 512) errs.push({ type: 'FieldValueTooMany', field: 'parameters', badValue: Object.keys(params).length, detail: 'must have at most 512 items' });
  for (const [k, v] of Object.entries(params)) {
    if (!k) errs.push(invalid('parameters', k, 'field can not be empty.'));
    size += byteLength(k) + byteLength(String(v));
  }
  if (size > 256 * (1 << 10)) errs.push(tooLong('parameters', '', 256 * (1 << 10)));
  if (sc.reclaimPolicy !== undefined && !['Delete', 'Retain'].includes(sc.reclaimPolicy)) errs.push(notSupported('reclaimPolicy', sc.reclaimPolicy, ['Delete', 'Retain']));
  if (!sc.volumeBindingMode) errs.push(required('volumeBindingMode'));
  else if (!['Immediate', 'WaitForFirstConsumer'].includes(sc.volumeBindingMode)) {
    errs.push(notSupported('volumeBindingMode', sc.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  }
  return errs;
}

export function validateStorageClassUpdate(sc: Obj, old: Obj): Errs {
  const errs = validateObjectMetaUpdate(sc.metadata, old.metadata);
  if (!deepEqual(sc.parameters ?? null, old.parameters ?? null)) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (sc.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutableField(sc.volumeBindingMode ?? null, old.volumeBindingMode ?? null, 'volumeBindingMode'));
  return errs;
}

export const storageClassStrategy: Strategy = {
  default: defaultStorageClass,
  prepareForCreate() {},
  prepareForUpdate() {},
  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,
};

