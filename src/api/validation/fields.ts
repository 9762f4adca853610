// Small helpers shared by the kind validators: upstream's generic field checks and
// Go-style renderings of bad values that the shared formatter cannot express.
import type { FieldError } from '../field-errors.ts';
import { invalid } from '../field-errors.ts';
import { byteLength } from './names.ts';

export type Errs = FieldError[];

export const isNegativeErrorMsg = 'must be greater than or equal to 0';
export const fieldImmutableErrorMsg = 'field is immutable';

/**
 * An Invalid error whose bad value upstream prints through a Go String() method or %#v
 * (IntOrString, label selectors, maps): the text is given pre-rendered so it is not quoted.
 */
export function invalidRendered(field: string, rendered: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, detail: detail ? `${rendered}: ${detail}` : rendered };
}

export function validateNonnegativeField(value: unknown, field: string): Errs {
  const n = typeof value === 'number' ? value : 0;
  return n < 0 ? [invalid(field, n, isNegativeErrorMsg)] : [];
}

/** Semantic deep equality of JSON values: map key order is irrelevant, null equals absent inside maps. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return isEmptyish(a) && isEmptyish(b) && a === b;
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (typeof a === 'object') {
    if (Array.isArray(b)) return false;
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    // The keys of both, without building their union: validation compares objects at every
    // update (immutable fields, specs), and the sets and key arrays were its largest garbage.
    for (const k in ao) {
      if (!Object.hasOwn(ao, k)) continue;
      if (!sameMember(ao[k], bo[k])) return false;
    }
    // A key only b has: equal only if its value is null or undefined. The value is read for every key,
    // not only for such keys: read only there, the load had no type feedback when the function was
    // optimized, and each such pair deoptimized it again (41 compiles in a 10,000-pod scale-up).
    for (const k in bo) {
      if (!Object.hasOwn(bo, k)) continue;
      const v = bo[k];
      if (v !== undefined && v !== null && !Object.hasOwn(ao, k)) return false;
    }
    return true;
  }
  return false;
}

/** Map members compare as deepEqual, except that null and absent are the same. */
function sameMember(av: unknown, bv: unknown): boolean {
  if ((av === undefined || av === null) && (bv === undefined || bv === null)) return true;
  return deepEqual(av, bv);
}

function isEmptyish(v: unknown): boolean {
  return v === null || v === undefined;
}

export function validateImmutableField(newVal: unknown, oldVal: unknown, field: string): Errs {
  return deepEqual(newVal, oldVal) ? [] : [invalidValue(field, newVal, fieldImmutableErrorMsg)];
}

/** Invalid with a value rendered the Go way for the common JSON shapes. */
export function invalidValue(field: string, value: unknown, detail: string): FieldError {
  if (value !== null && typeof value === 'object') return invalidRendered(field, goValue(value), detail);
  return invalid(field, value ?? null, detail);
}

/** Roughly Go's %#v for JSON-ish values; exact for map[string]string and []string. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
    return `[]interface {}{${v.map(goValue).join(', ')}}`;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  if (keys.every((k) => typeof o[k] === 'string')) return goStringMap(o as Record<string, string>);
  return `map[string]interface {}{${keys.map((k) => `${JSON.stringify(k)}:${goValue(o[k])}`).join(', ')}}`;
}

/** %#v of a map[string]string: keys sorted, `map[string]string{"a":"b", "c":"d"}`; nil map prints `(nil)`. */
export function goStringMap(m: Record<string, string> | undefined | null): string {
  if (m === undefined || m === null) return 'map[string]string(nil)';
  const keys = Object.keys(m).sort();
  return `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(m[k])}`).join(', ')}}`;
}

/** IntOrString prints through its String() method: bare number or bare string. */
export function intOrStringText(v: unknown): string {
  return typeof v === 'number' ? String(v) : String(v ?? '');
}

export const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asArray = (v: unknown): any[] => (Array.isArray(v) ? v : []);
export const asObj = (v: unknown): Record<string, any> => (isObj(v) ? v : {});
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export { byteLength };
