// metav1.LabelSelector: validation, matching, and Go String() rendering (used in error values).
import { forbidden, invalid, required } from '../field-errors.ts';
import { type Errs, asArray, asObj, isObj } from './fields.ts';
import { isValidLabelValue } from './names.ts';
import { validateLabelName, validateLabels } from './objectmeta.ts';

const operators = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export function validateLabelSelector(sel: unknown, field: string, allowInvalidLabelValue = false): Errs {
  if (!isObj(sel)) return [];
  const errs: Errs = [...validateLabels(sel.matchLabels, `${field}.matchLabels`)];
  asArray(sel.matchExpressions).forEach((e, i) => {
    const p = `${field}.matchExpressions[${i}]`;
    const req = asObj(e);
    const values = asArray(req.values);
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(`${p}.operator`, req.operator ?? '', 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(String(req.key ?? ''), `${p}.key`));
    if (!allowInvalidLabelValue) {
      values.forEach((v, j) => {
        for (const m of isValidLabelValue(String(v))) errs.push(invalid(`${p}.values[${j}]`, v, m));
      });
    }
  });
  return errs;
}

/** Whether upstream's LabelSelectorAsSelector would accept the selector (it rejects what validation rejects). */
export function selectorConvertible(sel: unknown): boolean {
  if (sel === undefined || sel === null) return true;
  if (!isObj(sel)) return false;
  return validateLabelSelector(sel, 's').length === 0 && asArray(sel.matchExpressions).every((e) => operators.includes(asObj(e).operator));
}

/** A nil selector matches nothing; an empty one matches everything. */
export function selectorMatches(sel: unknown, labels: Record<string, string> | undefined): boolean {
  if (!isObj(sel)) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(asObj(sel.matchLabels))) if (l[k] !== v) return false;
  for (const e of asArray(sel.matchExpressions)) {
    const r = asObj(e);
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const values = asArray(r.values);
    switch (r.operator) {
      case 'In':
        if (!has || !values.includes(l[r.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[r.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function selectorIsEmpty(sel: unknown): boolean {
  return isObj(sel) && Object.keys(asObj(sel.matchLabels)).length === 0 && asArray(sel.matchExpressions).length === 0;
}

/**
 * A LabelSelector as Go's %#v prints the value: field errors dereference pointers before
 * printing, and the value type has no String() method (only the pointer does).
 */
export function labelSelectorGoValue(sel: unknown): string {
  if (!isObj(sel)) return 'null';
  const goString = (v: unknown) => JSON.stringify(String(v));
  const labels = sel.matchLabels === undefined || sel.matchLabels === null
    ? 'map[string]string(nil)'
    : `map[string]string{${Object.keys(asObj(sel.matchLabels)).sort().map((k) => `${goString(k)}:${goString(asObj(sel.matchLabels)[k])}`).join(', ')}}`;
  const exprs = sel.matchExpressions === undefined || sel.matchExpressions === null
    ? '[]v1.LabelSelectorRequirement(nil)'
    : `[]v1.LabelSelectorRequirement{${asArray(sel.matchExpressions)
        .map((e) => {
          const r = asObj(e);
          const values = r.values === undefined || r.values === null ? '[]string(nil)' : `[]string{${asArray(r.values).map(goString).join(', ')}}`;
          return `v1.LabelSelectorRequirement{Key:${goString(r.key ?? '')}, Operator:${goString(r.operator ?? '')}, Values:${values}}`;
        })
        .join(', ')}}`;
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}

