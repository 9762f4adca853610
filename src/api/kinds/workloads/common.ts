// Rules shared by the workload kinds (Deployment, ReplicaSet, DaemonSet, Job, CronJob): the
// selector/template agreement, int-or-percent fields, and the generation/status bookkeeping of
// kinds with a status subresource.
import type { Obj } from '../../resource.ts';
import { forbidden, notSupported, required } from '../../field-errors.ts';
import { type Errs, validateImmutableField, asArray, asObj, deepEqual, goStringMap, intOrStringText, invalidRendered, isObj, validateNonnegativeField } from '../../validation/fields.ts';
import { isValidPercent } from '../../validation/names.ts';
import { validateAnnotations, validateLabels } from '../../validation/objectmeta.ts';
import { labelSelectorGoValue, selectorConvertible, selectorIsEmpty, selectorMatches, validateLabelSelector } from '../../validation/selector.ts';
import { validatePodSpec } from '../podspec.ts';

export const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/** metadata.generation 1 and an empty status on create. */
export function prepareCreate(obj: Obj, status: Obj = {}): void {
  obj.status = status;
  obj.metadata.generation = 1;
}

/** Main-resource update: status is kept, generation bumps iff the spec changed. */
export function prepareUpdate(obj: Obj, old: Obj): void {
  obj.status = old.status;
  if (obj.status === undefined) delete obj.status;
  const gen = old.metadata?.generation ?? 0;
  obj.metadata.generation = deepEqual(obj.spec, old.spec) ? gen : gen + 1;
}

/** /status update: only status changes. */
export function prepareStatusUpdate(obj: Obj, old: Obj): void {
  obj.spec = old.spec;
  obj.metadata.generation = old.metadata?.generation;
}

/** Upstream ValidatePositiveIntOrPercent. Returns the errors and, when valid, whether the value is zero. */
export function validateIntOrPercent(v: unknown, path: string): { errs: Errs; zero: boolean } {
  if (!isSet(v)) return { errs: [], zero: false };
  const text = intOrStringText(v);
  if (typeof v === 'string') {
    const msgs = isValidPercent(v);
    if (msgs.length) return { errs: msgs.map((m) => invalidRendered(path, text, m)), zero: false };
    const n = parseInt(v.slice(0, -1), 10);
    const errs = n > 100 ? [invalidRendered(path, text, 'must not be greater than 100%')] : [];
    return { errs, zero: n === 0 };
  }
  if (typeof v === 'number') return { errs: validateNonnegativeField(v, path), zero: v === 0 };
  return { errs: [invalidRendered(path, text, "must be an integer or percentage (e.g '5%')")], zero: false };
}

/**
 * Upstream's selector checks for the apps kinds: required, non-empty, convertible, and matching
 * the template's labels. `what` names the kind in the empty-selector message as upstream does.
 */
export function validateSelectorAndTemplate(spec: Obj, what: string, path = 'spec'): Errs {
  const errs: Errs = [];
  const sel = spec.selector;
  if (!isSet(sel)) errs.push(required(`${path}.selector`));
  else {
    errs.push(...validateLabelSelector(sel, `${path}.selector`));
    if (selectorIsEmpty(sel)) errs.push(invalidRendered(`${path}.selector`, labelSelectorGoValue(sel), `empty selector is invalid for ${what}`));
  }
  if (!isObj(spec.template)) {
    errs.push(required(`${path}.template`));
    return errs;
  }
  const tmeta = asObj(spec.template.metadata);
  const tpath = `${path}.template`;
  if (!selectorConvertible(sel)) errs.push(invalidRendered(`${path}.selector`, labelSelectorGoValue(sel), 'invalid label selector'));
  else if (isSet(sel) && !selectorIsEmpty(sel) && !selectorMatches(sel, tmeta.labels)) {
    errs.push(invalidRendered(`${tpath}.metadata.labels`, goStringMap(tmeta.labels), '`selector` does not match template `labels`'));
  }
  return errs;
}

/** ValidatePodTemplateSpec plus the restart policies a controller allows. */
export function validateTemplate(template: unknown, path: string, restartPolicies: string[], forbidDeadlineFor?: string): Errs {
  const t = asObj(template);
  const errs: Errs = [];
  const meta = asObj(t.metadata);
  errs.push(...validateLabels(meta.labels, `${path}.metadata.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.metadata.annotations`));
  errs.push(...validatePodSpec(t.spec, `${path}.spec`));
  const spec = asObj(t.spec);
  if (isSet(spec.restartPolicy) && spec.restartPolicy !== '' && !restartPolicies.includes(spec.restartPolicy)) {
    errs.push(notSupported(`${path}.spec.restartPolicy`, spec.restartPolicy, restartPolicies));
  }
  if (forbidDeadlineFor && isSet(spec.activeDeadlineSeconds)) {
    errs.push(forbidden(`${path}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${forbidDeadlineFor} is not Supported`));
  }
  return errs;
}

export function nonneg(spec: Obj, fields: string[], path = 'spec'): Errs {
  return fields.flatMap((f) => validateNonnegativeField(spec[f], `${path}.${f}`));
}

export function immutable(a: unknown, b: unknown, path: string): Errs {
  return validateImmutableField(a ?? null, b ?? null, path);
}

/** Status counters must not be negative. */
export function nonnegStatus(status: unknown, fields: string[]): Errs {
  const s = asObj(status);
  return fields.flatMap((f) => validateNonnegativeField(s[f], `status.${f}`));
}

export { asArray, asObj, isObj };
