// Namespace and Node (cluster-scoped core/v1 kinds).
import type { Obj, Strategy } from '../resource.ts';
import { forbidden, invalid, notSupported, required } from '../field-errors.ts';
import { type Errs, asArray, asObj, isObj } from '../validation/fields.ts';
import { isQualifiedName, isValidIP, isValidLabelValue, nameIsDNSLabel, nameIsDNSSubdomain } from '../validation/names.ts';
import { validateLabelName, validateObjectMeta, validateObjectMetaUpdate } from '../validation/objectmeta.ts';
import { keepGeneration, keepOldSpec, keepOldStatus } from './generic.ts';

// ---------------------------------------------------------------- Namespace

const standardFinalizers = ['kubernetes', 'orphan', 'foregroundDeletion'];

export function validateKubeFinalizerName(name: string, field: string): Errs {
  const errs = isQualifiedName(name).map((m) => invalid(field, name, m));
  if (!name.includes('/') && !standardFinalizers.includes(name)) {
    errs.push(invalid(field, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

export function defaultNamespace(ns: Obj): void {
  // Every namespace carries its own name as a label, so namespace selectors can pick it by name.
  const name = ns.metadata?.name;
  if (name) {
    if (!isObj(ns.metadata.labels)) ns.metadata.labels = {};
    ns.metadata.labels['kubernetes.io/metadata.name'] = name;
  }
  if (!isObj(ns.status)) ns.status = {};
  if (!ns.status.phase) ns.status.phase = 'Active';
}

export function prepareNamespaceForCreate(ns: Obj): void {
  ns.status = { phase: 'Active' };
  if (!isObj(ns.spec)) ns.spec = {};
  const fin = asArray(ns.spec.finalizers);
  if (!fin.includes('kubernetes')) ns.spec.finalizers = [...fin, 'kubernetes'];
  delete ns.metadata.generation;
}

export function prepareNamespaceForUpdate(ns: Obj, old: Obj): void {
  keepOldStatus(ns, old);
  // spec.finalizers only change through the /finalize subresource.
  ns.spec = { ...asObj(ns.spec) };
  if (asObj(old.spec).finalizers === undefined) delete ns.spec.finalizers;
  else ns.spec.finalizers = old.spec.finalizers;
}

export function validateNamespace(ns: Obj): Errs {
  const errs = validateObjectMeta(ns.metadata, { namespaced: false, nameFn: nameIsDNSLabel });
  for (const f of asArray(asObj(ns.spec).finalizers)) errs.push(...validateKubeFinalizerName(String(f), 'spec.finalizers'));
  return errs;
}

export function validateNamespaceUpdate(ns: Obj, old: Obj): Errs {
  return validateObjectMetaUpdate(ns.metadata, old.metadata);
}

export function validateNamespaceStatusUpdate(ns: Obj, old: Obj): Errs {
  const errs = validateObjectMetaUpdate(ns.metadata, old.metadata);
  const phase = asObj(ns.status).phase;
  if (!old.metadata?.deletionTimestamp) {
    if (phase !== 'Active') errs.push(invalid('status.Phase', phase ?? '', "may only be 'Active' if `deletionTimestamp` is empty"));
  } else if (phase !== 'Terminating') {
    errs.push(invalid('status.Phase', phase ?? '', "may only be 'Terminating' if `deletionTimestamp` is not empty"));
  }
  return errs;
}

export const namespaceStrategy: Strategy = {
  default: defaultNamespace,
  prepareForCreate: prepareNamespaceForCreate,
  prepareForUpdate: prepareNamespaceForUpdate,
  prepareForStatusUpdate: keepOldSpec,
  validate: validateNamespace,
  validateUpdate: validateNamespaceUpdate,
  validateStatusUpdate: validateNamespaceStatusUpdate,
};

// ---------------------------------------------------------------- Node

const taintEffects = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

export function defaultNode(node: Obj): void {
  const st = node.status;
  if (isObj(st) && isObj(st.capacity) && !isObj(st.allocatable)) st.allocatable = { ...st.capacity };
}

export function validateNode(node: Obj): Errs {
  const errs = validateObjectMeta(node.metadata, { namespaced: false, nameFn: nameIsDNSSubdomain });
  const spec = asObj(node.spec);
  const seen = new Set<string>();
  asArray(spec.taints).forEach((raw, i) => {
    const t = asObj(raw);
    const p = `spec.taints[${i}]`;
    errs.push(...validateLabelName(String(t.key ?? ''), `${p}.key`));
    const vmsgs = isValidLabelValue(String(t.value ?? ''));
    if (vmsgs.length) errs.push(invalid(`${p}.value`, t.value ?? '', vmsgs.join(';')));
    if (!t.effect) errs.push(required(`${p}.effect`));
    else if (!taintEffects.includes(t.effect)) errs.push(notSupported(`${p}.effect`, t.effect, taintEffects));
    const key = `${t.key}:${t.effect}`;
    if (seen.has(key)) errs.push({ type: 'FieldValueDuplicate', field: 'spec.taints', detail: `taints must be unique by key and effect pair` });
    seen.add(key);
  });
  asArray(spec.podCIDRs).forEach((c, i) => {
    const [ip, bits] = String(c).split('/');
    if (isValidIP(ip ?? '').length || bits === undefined) errs.push(invalid(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  });
  return errs;
}

export function validateNodeUpdate(node: Obj, old: Obj): Errs {
  const errs = [...validateObjectMetaUpdate(node.metadata, old.metadata), ...validateNode(node)];
  const s = asObj(node.spec);
  const o = asObj(old.spec);
  if (asArray(o.podCIDRs).length > 0 && JSON.stringify(asArray(s.podCIDRs)) !== JSON.stringify(asArray(o.podCIDRs))) {
    errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  if (o.providerID && s.providerID !== o.providerID) errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  return errs;
}

export const nodeStrategy: Strategy = {
  default: defaultNode,
  // Nodes may set status on create (kubelets register with it).
  prepareForCreate(node) {
    if (node.metadata) delete node.metadata.generation;
  },
  prepareForUpdate: keepOldStatus,
  prepareForStatusUpdate(node, old) {
    keepGeneration(node, old);
    keepOldSpec(node, old);
  },
  validate: validateNode,
  validateUpdate: validateNodeUpdate,
  validateStatusUpdate: (node, old) => validateObjectMetaUpdate(node.metadata, old.metadata),
  defaultPropagation: 'Background',
};
