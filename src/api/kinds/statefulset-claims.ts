// Updates of a StatefulSet's volumeClaimTemplates (KEP-4650, kubernetes/kubernetes#68737). Upstream
// 1.32 refuses every change to them; Ordinal lets the requested storage of a template grow, and
// nothing else: a claim can be expanded in place, but not shrunk, renamed or given another class.
// spec.volumeClaimUpdatePolicy (the KEP's field) says whether existing claims follow the growth.
import { forbidden, notSupported } from '../field-errors.ts';
import { type Errs, asArray, asObj, deepEqual, isObj } from '../validation/fields.ts';
import { compareQuantity, parseQuantity } from '../validation/quantity.ts';
import { cloneJson } from '../../util/json.ts';

export const CLAIM_UPDATE_POLICIES = ['InPlace', 'OnClaimDelete'];

export function validateVolumeClaimUpdatePolicy(policy: unknown, path = 'spec.volumeClaimUpdatePolicy'): Errs {
  if (policy === undefined || policy === null || policy === '') return [];
  return CLAIM_UPDATE_POLICIES.includes(policy as string) ? [] : [notSupported(path, policy, CLAIM_UPDATE_POLICIES)];
}

const storageOf = (template: unknown): unknown => asObj(asObj(asObj(asObj(template).spec).resources).requests).storage;

export interface ClaimTemplateUpdate {
  /** True when the templates differ at most in their storage requests: the generic immutability check may skip them. */
  onlyStorageChanged: boolean;
  /** A shrunk request, per template. */
  errs: Errs;
}

/**
 * Compares the templates of an update with the stored ones. Same count, same order, and each pair
 * equal once the new request is replaced by the old: only storage changed. Then every request must
 * be at least the previous one, with the message upstream gives a claim whose request shrinks.
 */
export function checkClaimTemplateUpdate(next: unknown, prev: unknown, path = 'spec.volumeClaimTemplates'): ClaimTemplateUpdate {
  const a = asArray(next);
  const b = asArray(prev);
  if (a.length !== b.length) return { onlyStorageChanged: false, errs: [] };
  const errs: Errs = [];
  for (let i = 0; i < a.length; i++) {
    if (deepEqual(a[i], b[i])) continue;
    const newSize = parseQuantity(storageOf(a[i]));
    const oldSize = parseQuantity(storageOf(b[i]));
    if (!newSize || !oldSize || !isObj(a[i])) return { onlyStorageChanged: false, errs: [] };
    const leveled = cloneJson(a[i]);
    leveled.spec.resources.requests.storage = storageOf(b[i]);
    if (!deepEqual(leveled, b[i])) return { onlyStorageChanged: false, errs: [] };
    if (compareQuantity(newSize, oldSize) < 0) {
      errs.push(forbidden(`${path}[${i}].spec.resources.requests.storage`, 'field can not be less than previous value'));
    }
  }
  return { onlyStorageChanged: true, errs };
}
