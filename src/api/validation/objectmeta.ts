// ObjectMeta validation as apimachinery's api/validation does it (create and update).
import type { FieldError } from '../field-errors.ts';
import { forbidden, invalid, required, tooLong } from '../field-errors.ts';
import type { Obj } from '../resource.ts';
import { type Errs, asArray, asObj, goValue, invalidRendered, validateImmutableField, validateNonnegativeField } from './fields.ts';
import { type NameValidator, byteLength, isDNS1123Label, isQualifiedName, isValidLabelValue } from './names.ts';

export const totalAnnotationSizeLimitB = 256 * (1 << 10);

export function validateLabelName(key: string, field: string): Errs {
  return isQualifiedName(key).map((m) => invalid(field, key, m));
}

/** Note upstream reports label problems on the map's path, not on the individual key. */
export function validateLabels(labels: unknown, field: string): Errs {
  const errs: Errs = [];
  const l = asObj(labels);
  // for-in, not Object.entries: no pair arrays for the (nearly always valid) labels of every write.
  for (const k in l) {
    if (!Object.hasOwn(l, k)) continue;
    for (const m of isQualifiedName(k)) errs.push(invalid(field, k, m));
    const v = l[k];
    const value = typeof v === 'string' ? v : String(v ?? '');
    for (const m of isValidLabelValue(value)) errs.push(invalid(field, value, m));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, field: string): Errs {
  const errs: Errs = [];
  const a = asObj(annotations);
  let total = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) continue;
    const v = a[k];
    // Annotation keys are qualified names, case-insensitively.
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(field, k, m));
    total += byteLength(k) + byteLength(typeof v === 'string' ? v : '');
  }
  if (total > totalAnnotationSizeLimitB) errs.push(tooLong(field, '', totalAnnotationSizeLimitB));
  return errs;
}

export function validateOwnerReferences(refs: unknown, field: string): Errs {
  const errs: Errs = [];
  let firstController = '';
  for (const r of asArray(refs)) {
    const ref = asObj(r);
    const apiVersion = typeof ref.apiVersion === 'string' ? ref.apiVersion : '';
    const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    if (!version) errs.push(invalid(`${field}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!ref.kind) errs.push(invalid(`${field}.kind`, ref.kind ?? '', 'must not be empty'));
    if (!ref.name) errs.push(invalid(`${field}.name`, ref.name ?? '', 'must not be empty'));
    if (!ref.uid) errs.push(invalid(`${field}.uid`, ref.uid ?? '', 'must not be empty'));
    if (ref.controller === true) {
      const name = `${ref.kind}/${ref.name}`;
      if (firstController) {
        errs.push(
          invalidRendered(
            field,
            goValue(refs),
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${name}`,
          ),
        );
      } else firstController = name;
    }
  }
  return errs;
}

export function validateFinalizers(finalizers: unknown, field: string): Errs {
  const errs: Errs = [];
  const raw = asArray(finalizers);
  if (!raw.length) return errs;
  const list = raw.map((f) => String(f));
  for (const f of list) for (const m of isQualifiedName(f)) errs.push(invalid(field, f, m));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(invalidRendered(field, goValue(list), 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

export interface MetaOptions {
  namespaced: boolean;
  nameFn: NameValidator;
}

/** The paths metadata errors name, made once per metadata path rather than at every write. */
interface MetaPaths {
  name: string;
  generateName: string;
  namespace: string;
  generation: string;
  labels: string;
  annotations: string;
  ownerReferences: string;
  finalizers: string;
  uid: string;
  creationTimestamp: string;
  deletionTimestamp: string;
  deletionGracePeriodSeconds: string;
}
const metaPathsByField = new Map<string, MetaPaths>();

function metaPaths(field: string): MetaPaths {
  let p = metaPathsByField.get(field);
  if (!p) {
    const at = (f: string) => `${field}.${f}`;
    p = {
      name: at('name'),
      generateName: at('generateName'),
      namespace: at('namespace'),
      generation: at('generation'),
      labels: at('labels'),
      annotations: at('annotations'),
      ownerReferences: at('ownerReferences'),
      finalizers: at('finalizers'),
      uid: at('uid'),
      creationTimestamp: at('creationTimestamp'),
      deletionTimestamp: at('deletionTimestamp'),
      deletionGracePeriodSeconds: at('deletionGracePeriodSeconds'),
    };
    // Callers pass a few fixed paths; a bound all the same, should one ever pass many.
    if (metaPathsByField.size >= 64) metaPathsByField.clear();
    metaPathsByField.set(field, p);
  }
  return p;
}

/** Validates metadata of a new object (upstream ValidateObjectMeta). */
export function validateObjectMeta(meta: Obj | undefined, opts: MetaOptions, field = 'metadata'): Errs {
  const m = asObj(meta);
  const P = metaPaths(field);
  const errs: Errs = [];
  const generateName = typeof m.generateName === 'string' ? m.generateName : '';
  if (generateName) for (const msg of opts.nameFn(generateName, true)) errs.push(invalid(P.generateName, generateName, msg));
  const name = typeof m.name === 'string' ? m.name : '';
  if (!name) errs.push(required(P.name, 'name or generateName is required'));
  else for (const msg of opts.nameFn(name, false)) errs.push(invalid(P.name, name, msg));
  const ns = typeof m.namespace === 'string' ? m.namespace : '';
  if (opts.namespaced) {
    if (!ns) errs.push(required(P.namespace));
    else for (const msg of isDNS1123Label(ns)) errs.push(invalid(P.namespace, ns, msg));
  } else if (ns) {
    errs.push(forbidden(P.namespace, 'not allowed on this type'));
  }
  errs.push(...validateNonnegativeField(m.generation, P.generation));
  errs.push(...validateLabels(m.labels, P.labels));
  errs.push(...validateAnnotations(m.annotations, P.annotations));
  errs.push(...validateOwnerReferences(m.ownerReferences, P.ownerReferences));
  errs.push(...validateFinalizers(m.finalizers, P.finalizers));
  return errs;
}

/**
 * Validates metadata changes on update (upstream ValidateObjectMetaUpdate). The resourceVersion
 * check is left to the server, which fills it in for unconditional updates before validating.
 */
export function validateObjectMetaUpdate(meta: Obj | undefined, oldMeta: Obj | undefined, field = 'metadata'): Errs {
  const m = asObj(meta);
  const o = asObj(oldMeta);
  const P = metaPaths(field);
  const errs: Errs = [];
  if (o.deletionTimestamp) {
    const oldF = new Set(asArray(o.finalizers));
    const added = asArray(m.finalizers).filter((f) => !oldF.has(f));
    if (added.length) errs.push(forbidden(P.finalizers, `no new finalizers can be added if the object is being deleted, found new finalizers ${goValue(added)}`));
  }
  const gen = typeof m.generation === 'number' ? m.generation : 0;
  const oldGen = typeof o.generation === 'number' ? o.generation : 0;
  if (gen < oldGen) errs.push(invalid(P.generation, gen, 'must not be decremented'));
  errs.push(...validateImmutableField(m.name ?? '', o.name ?? '', P.name));
  errs.push(...validateImmutableField(m.namespace ?? '', o.namespace ?? '', P.namespace));
  errs.push(...validateImmutableField(m.uid ?? '', o.uid ?? '', P.uid));
  errs.push(...validateImmutableField(m.creationTimestamp ?? null, o.creationTimestamp ?? null, P.creationTimestamp));
  errs.push(...validateImmutableField(m.deletionTimestamp ?? null, o.deletionTimestamp ?? null, P.deletionTimestamp));
  errs.push(...validateImmutableField(m.deletionGracePeriodSeconds ?? null, o.deletionGracePeriodSeconds ?? null, P.deletionGracePeriodSeconds));
  errs.push(...validateLabels(m.labels, P.labels));
  errs.push(...validateAnnotations(m.annotations, P.annotations));
  errs.push(...validateOwnerReferences(m.ownerReferences, P.ownerReferences));
  errs.push(...validateFinalizers(m.finalizers, P.finalizers));
  return errs;
}

export type { FieldError };
