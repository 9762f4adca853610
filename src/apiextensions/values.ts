// Custom resources against their version's structural schema: validation with the field paths
// and messages upstream's kube-openapi validator gives (as apiextensions-apiserver turns them into
// field errors), and defaulting (`default`), which runs before validation on every write.
import type { FieldError } from '../api/field-errors.ts';
import { invalid, notSupported, required, tooLong } from '../api/field-errors.ts';
import type { JSONSchema } from './structural.ts';

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const child = (path: string, k: string) => (path ? `${path}.${k}` : k);
/** The subject of kube-openapi's messages: the field path, then where it is. */
const at = (path: string) => (path ? `${path} in body` : 'in body');

/** The JSON type name kube-openapi reports for a value. */
function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return isObj(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
  }
  return true;
}

/** Validates `value` (at `path`, '' for the object itself) against `s`; errors are appended. */
export function validateValue(value: unknown, s: JSONSchema | undefined, path: string, errs: FieldError[]): void {
  if (!s) return;
  if (value === null) {
    if (s.nullable || s['x-kubernetes-preserve-unknown-fields'] && !s.type) return;
    if (s.type || s['x-kubernetes-int-or-string']) {
      const t = s['x-kubernetes-int-or-string'] ? 'integer,string' : s.type;
      errs.push({ type: 'FieldValueTypeInvalid', field: path, badValue: 'null', detail: `${at(path)} must be of type ${t}: "null"` });
    }
    return;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
      errs.push({ type: 'FieldValueTypeInvalid', field: path, badValue: typeName(value), detail: `${at(path)} must be of type integer,string: "${typeName(value)}"` });
      return;
    }
  } else if (typeof s.type === 'string' && !typeMatches(s.type, value)) {
    errs.push({ type: 'FieldValueTypeInvalid', field: path, badValue: typeName(value), detail: `${at(path)} must be of type ${s.type}: "${typeName(value)}"` });
    return;
  }
  if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => sameJson(e, value))) {
    errs.push(notSupported(path, value, s.enum.map((e: unknown) => (typeof e === 'string' ? e : JSON.stringify(e)))));
  }
  if (typeof value === 'string') validateString(value, s, path, errs);
  if (typeof value === 'number') validateNumber(value, s, path, errs);
  if (Array.isArray(value)) {
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) errs.push({ type: 'FieldValueTooMany', field: path, badValue: value.length, detail: `must have at most ${s.maxItems} items` });
    if (typeof s.minItems === 'number' && value.length < s.minItems) errs.push(invalid(path, value, `${at(path)} should have at least ${s.minItems} items`));
    if (isObj(s.items)) value.forEach((v, i) => validateValue(v, s.items, `${path}[${i}]`, errs));
    listTypeErrors(value, s, path, errs);
  }
  if (isObj(value)) {
    const n = Object.keys(value).length;
    if (typeof s.maxProperties === 'number' && n > s.maxProperties) errs.push(invalid(path, value, `${at(path)} should have at most ${s.maxProperties} properties`));
    if (typeof s.minProperties === 'number' && n < s.minProperties) errs.push(invalid(path, value, `${at(path)} should have at least ${s.minProperties} properties`));
    for (const r of Array.isArray(s.required) ? s.required : []) if (!(r in value)) errs.push(required(child(path, r), ''));
    const props = isObj(s.properties) ? s.properties : undefined;
    for (const [k, v] of Object.entries(value)) {
      if (props && isObj(props[k])) validateValue(v, props[k] as JSONSchema, child(path, k), errs);
      else if (isObj(s.additionalProperties)) validateValue(v, s.additionalProperties, child(path, k), errs);
    }
    if (s['x-kubernetes-embedded-resource']) {
      if (!value.apiVersion) errs.push(required(child(path, 'apiVersion'), 'must not be empty'));
      if (!value.kind) errs.push(required(child(path, 'kind'), 'must not be empty'));
    }
  }
  junctors(value, s, path, errs);
}

function validateString(v: string, s: JSONSchema, path: string, errs: FieldError[]): void {
  const len = [...v].length;
  if (typeof s.maxLength === 'number' && len > s.maxLength) errs.push(tooLong(path, v, s.maxLength));
  if (typeof s.minLength === 'number' && len < s.minLength) errs.push(invalid(path, v, `${at(path)} should be at least ${s.minLength} chars long`));
  if (typeof s.pattern === 'string') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(s.pattern, 'u');
    } catch {}
    if (re && !re.test(v)) errs.push(invalid(path, v, `${at(path)} should match '${s.pattern}'`));
  }
  if (typeof s.format === 'string' && !formatMatches(s.format, v)) errs.push(invalid(path, v, `${at(path)} must be of type ${s.format}: ${JSON.stringify(v)}`));
}

function validateNumber(v: number, s: JSONSchema, path: string, errs: FieldError[]): void {
  if (typeof s.maximum === 'number') {
    if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum) errs.push(invalid(path, v, `${at(path)} should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
  }
  if (typeof s.minimum === 'number') {
    if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum) errs.push(invalid(path, v, `${at(path)} should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
  }
  if (typeof s.multipleOf === 'number' && s.multipleOf > 0 && !Number.isInteger(v / s.multipleOf)) errs.push(invalid(path, v, `${at(path)} should be a multiple of ${s.multipleOf}`));
  if (s.format === 'int32' && (v > 2147483647 || v < -2147483648)) errs.push(invalid(path, v, `${at(path)} must be of type int32: "${v}"`));
}

/** Sets and maps (x-kubernetes-list-type) may not repeat an item or a key. */
function listTypeErrors(list: unknown[], s: JSONSchema, path: string, errs: FieldError[]): void {
  const t = s['x-kubernetes-list-type'];
  if (t === 'set') {
    const seen = new Set<string>();
    list.forEach((v, i) => {
      const k = JSON.stringify(v);
      if (seen.has(k)) errs.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, badValue: v });
      seen.add(k);
    });
  } else if (t === 'map' && Array.isArray(s['x-kubernetes-list-map-keys'])) {
    const keys: string[] = s['x-kubernetes-list-map-keys'];
    const seen = new Set<string>();
    list.forEach((v, i) => {
      if (!isObj(v)) return;
      const k = JSON.stringify(keys.map((mk) => v[mk] ?? null));
      if (seen.has(k)) errs.push({ type: 'FieldValueDuplicate', field: `${path}[${i}]`, badValue: Object.fromEntries(keys.map((mk) => [mk, v[mk]])) });
      seen.add(k);
    });
  }
}

function junctors(value: unknown, s: JSONSchema, path: string, errs: FieldError[]): void {
  const passes = (sub: JSONSchema) => {
    const e: FieldError[] = [];
    validateValue(value, sub, path, e);
    return e;
  };
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) if (isObj(sub)) errs.push(...passes(sub as JSONSchema));
  // The int-or-string idiom (anyOf integer/string) says nothing the extension does not.
  if (Array.isArray(s.anyOf) && !s['x-kubernetes-int-or-string'] && !s.anyOf.some((sub: JSONSchema) => isObj(sub) && passes(sub).length === 0)) {
    errs.push(invalid(path, value, `${at(path)} must validate at least one schema (anyOf)`));
  }
  if (Array.isArray(s.oneOf) && s.oneOf.filter((sub: JSONSchema) => isObj(sub) && passes(sub).length === 0).length !== 1) {
    errs.push(invalid(path, value, `${at(path)} must validate one and only one schema (oneOf)`));
  }
  if (isObj(s.not) && passes(s.not as JSONSchema).length === 0) errs.push(invalid(path, value, `${at(path)} must not validate the schema (not)`));
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

const FORMATS: Record<string, RegExp> = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  date: /^\d{4}-\d{2}-\d{2}$/,
  'date-time': /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  email: /^[^\s@]+@[^\s@]+$/,
  hostname: /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i,
  ipv4: /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
  mac: /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i,
  byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
};

/** Formats upstream checks; unknown formats (int32 on a string, ...) accept anything, as upstream's do. */
function formatMatches(format: string, v: string): boolean {
  if (format === 'ipv6') return v.includes(':') && /^[0-9a-f:.]+$/i.test(v);
  if (format === 'cidr') {
    const [ip, bits, extra] = v.split('/');
    return extra === undefined && bits !== undefined && /^\d{1,3}$/.test(bits) && (FORMATS.ipv4.test(ip) || ip.includes(':'));
  }
  if (format === 'uri') return /^[a-z][a-z0-9+.-]*:/i.test(v);
  const re = FORMATS[format];
  return re ? re.test(v) : true;
}

/**
 * Applies `default`s where a field is absent (a null where null is not allowed is dropped first), top-down, so that
 * defaults inside a defaulted object apply too. Mutates value.
 */
export function applyDefaults(value: unknown, s: JSONSchema | undefined): void {
  if (!s) return;
  if (Array.isArray(value)) {
    if (isObj(s.items)) for (const v of value) applyDefaults(v, s.items);
    return;
  }
  if (!isObj(value)) return;
  const props = isObj(s.properties) ? (s.properties as Record<string, JSONSchema>) : undefined;
  if (props) {
    // Upstream prunes nulls of fields that are not nullable before defaulting them.
    for (const [k, v] of Object.entries(value)) if (v === null && isObj(props[k]) && !props[k].nullable) delete value[k];
    for (const [k, p] of Object.entries(props)) {
      if (isObj(p) && p.default !== undefined && !(k in value)) value[k] = structuredClone(p.default);
    }
    for (const [k, v] of Object.entries(value)) if (props[k]) applyDefaults(v, props[k]);
  } else if (isObj(s.additionalProperties)) {
    for (const v of Object.values(value)) applyDefaults(v, s.additionalProperties);
  }
}
