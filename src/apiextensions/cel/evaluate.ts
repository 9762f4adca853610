// Evaluating compiled rules against a custom object, as upstream's CEL validator does: each rule
// at each schema node with `self` bound to the value there (null values are skipped), transition
// rules (those reading `oldSelf`) only where an old value correlates (same property, same key of a
// map-type list) unless optionalOldSelf, and failures reported as field errors with upstream's
// wording. A rule without oldSelf that fails on a value the update did not change is ratcheted: a
// warning, not an error, so tightening a rule does not lock existing objects.
import { celError, celList, celMap, isCelError, type CelInput, type CelResult } from '@bufbuild/cel';
import { create } from '@bufbuild/protobuf';
import { DurationSchema, timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { FieldError } from '../../api/field-errors.ts';
import { formatFieldError } from '../../api/field-errors.ts';
import type { JSONSchema } from '../structural.ts';
import type { CompiledRule, Validator } from './compile.ts';
import { optionalOf } from './library.ts';
import { escapeName } from './types.ts';
import { CALL_LIMIT_MESSAGE, metered, PER_OBJECT_BUDGET, type Meter } from './budget.ts';

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const child = (path: string, k: string) => (path ? `${path}.${k}` : k);

export interface CelVerdict {
  errors: FieldError[];
  warnings: string[];
}

interface Walk {
  meter: Meter;
  out: CelVerdict;
  /** Set when the budget is spent: nothing more is evaluated. */
  stopped: boolean;
  converted: WeakMap<object, unknown>;
}

/** Evaluates every rule of `v` (the resource root's validator) on `obj`, with `old` on update. */
export function validateWithRules(v: Validator, obj: unknown, old: unknown, budget = PER_OBJECT_BUDGET): CelVerdict {
  const w: Walk = { meter: { remaining: budget, call: 0, exceeded: false }, out: { errors: [], warnings: [] }, stopped: false, converted: new WeakMap() };
  node(w, v, '', obj, old);
  return w.out;
}

function node(w: Walk, v: Validator, path: string, value: unknown, old: unknown): void {
  if (w.stopped || value === null || value === undefined) return;
  evaluateRules(w, v, path, value, old);
  for (const a of v.allOf ?? []) node(w, a, path, value, old);
  if (Array.isArray(value)) {
    if (!v.items) return;
    const oldByKey = correlateList(v.schema, old);
    value.forEach((item, i) => node(w, v.items!, `${path}[${i}]`, item, oldByKey?.(item)));
  } else if (isObj(value)) {
    const oldObj = isObj(old) && v.schema['x-kubernetes-map-type'] !== 'atomic' ? old : undefined;
    for (const [k, val] of Object.entries(value)) {
      const pv = v.properties?.get(k);
      if (pv) node(w, pv, child(path, k), val, oldObj?.[k]);
      else if (v.additionalProperties && !(isObj(v.schema.properties) && k in v.schema.properties)) node(w, v.additionalProperties, `${path}[${k}]`, val, oldObj?.[k]);
    }
  }
}

/** Items of a map-type list correlate with the old item of the same keys; no other list correlates. */
function correlateList(s: JSONSchema, old: unknown): ((item: unknown) => unknown) | undefined {
  if (!Array.isArray(old) || s['x-kubernetes-list-type'] !== 'map') return undefined;
  const keys: string[] = Array.isArray(s['x-kubernetes-list-map-keys']) ? s['x-kubernetes-list-map-keys'] : [];
  const keyOf = (item: unknown) => (isObj(item) ? JSON.stringify(keys.map((k) => item[k] ?? null)) : undefined);
  const byKey = new Map<string, unknown>();
  for (const o of old) {
    const k = keyOf(o);
    if (k !== undefined && !byKey.has(k)) byKey.set(k, o);
  }
  return (item) => {
    const k = keyOf(item);
    return k === undefined ? undefined : byKey.get(k);
  };
}

function ruleText(rule: JSONSchema): string {
  const m = typeof rule.message === 'string' ? rule.message.trim() : '';
  return m || String(rule.rule ?? '').trim();
}

function evaluateRules(w: Walk, v: Validator, path: string, value: unknown, old: unknown): void {
  if (!v.rules.length) return;
  // Upstream validates from a nil field.Path: errors of rules at the root print as `<nil>`.
  const invalid = (field: string, detail: string): FieldError => ({ type: 'FieldValueInvalid', field: field || '<nil>', badValue: v.typeWord, detail });
  if (w.meter.remaining <= 0) {
    w.out.errors.push(invalid(path, 'validation failed due to running out of cost budget, no further validation rules will be run'));
    w.stopped = true;
    return;
  }
  let self: unknown;
  let oldSelf: unknown;
  const selfValue = () => (self ??= toCel(w, value, v.schema));
  const oldValue = () => (oldSelf ??= old === undefined ? undefined : toCel(w, old, v.schema));
  const unchanged = old !== undefined && jsonEqual(value, old);
  for (const r of v.rules) {
    if (r.error) {
      w.out.errors.push(invalid(path, `rule compile error: ${r.error}`));
      continue;
    }
    if (!r.program) continue;
    if (r.usesOldSelf && old === undefined && !r.optionalOldSelf) continue;
    const bindings: Record<string, unknown> = { self: selfValue() };
    if (r.usesOldSelf) bindings.oldSelf = r.optionalOldSelf ? optionalOf(oldValue()) : oldValue();
    w.meter.remaining--;
    const result = metered(w.meter, () => guarded(() => r.program!(bindings)));
    if (w.meter.exceeded) {
      w.out.errors.push(invalid(path, `'${CALL_LIMIT_MESSAGE}': no further validation rules will be run due to call cost exceeds limit for rule: ${ruleText(r.rule)}`));
      w.stopped = true;
      return;
    }
    if (isCelError(result)) {
      w.out.errors.push(invalid(path, runtimeError(result.message, r.rule)));
      continue;
    }
    if (result === true) continue;
    const err = failure(w, r, v.typeWord, (r.fieldPath ? child(path, r.fieldPath) : path) || '<nil>', bindings);
    if (w.stopped) return;
    // Ratcheting: an unchanged value keeps passing update validation; the failure becomes a warning.
    if (!r.usesOldSelf && unchanged) w.out.warnings.push(formatFieldError(err));
    else w.out.errors.push(err);
  }
}

/** The evaluator reports errors as values; anything it throws (a stack overflow on deep data) is one too. */
function guarded(fn: () => CelResult): CelResult {
  try {
    return fn();
  } catch (e) {
    return celError(e instanceof Error ? e.message : String(e));
  }
}

function runtimeError(message: string, rule: JSONSchema): string {
  const m = message.replace(/^field not found: /, 'no such key: ');
  if (m.startsWith('found no matching overload') || m.startsWith('no such overload')) {
    return `'no such overload': call arguments did not match a supported operator, function or macro signature for rule: ${ruleText(rule)}`;
  }
  return `${m} evaluating rule: ${ruleText(rule)}`;
}

/** The error of a rule that returned false: its reason, and messageExpression, else message, else "failed rule: <rule>". */
function failure(w: Walk, r: CompiledRule, typeWord: string, field: string, bindings: Record<string, unknown>): FieldError {
  let detail: string | undefined;
  if (r.message) {
    const m = metered(w.meter, () => guarded(() => r.message!(bindings)));
    if (w.meter.exceeded) {
      w.stopped = true;
      return { type: 'FieldValueInvalid', field, badValue: typeWord, detail: `no further validation rules will be run due to call cost exceeds limit for messageExpression: ${JSON.stringify(r.rule.messageExpression)}` };
    }
    // A messageExpression that fails, or gives an empty, multi-line or overlong string, falls back to message.
    if (typeof m === 'string' && m.trim() && !/[\n]/.test(m.trim()) && m.trim().length <= 5120) detail = m.trim();
  }
  if (detail === undefined) {
    const msg = typeof r.rule.message === 'string' ? r.rule.message.trim() : '';
    detail = msg || `failed rule: ${String(r.rule.rule).trim()}`;
  }
  switch (r.rule.reason) {
    case 'FieldValueForbidden':
      return { type: 'FieldValueForbidden', field, detail };
    case 'FieldValueRequired':
      return { type: 'FieldValueRequired', field, detail };
    case 'FieldValueDuplicate':
      return { type: 'FieldValueDuplicate', field, badValue: typeWord };
  }
  return { type: 'FieldValueInvalid', field, badValue: typeWord, detail };
}

/**
 * The CEL value of a JSON value of schema `s`: integers become int (bigint) unless the schema says
 * number (double), as upstream's decoding gives int64 for integral JSON numbers. Converted once per
 * object node per validation (rules at several levels share the conversion of the subtree).
 */
function toCel(w: Walk, v: unknown, s: JSONSchema | undefined): unknown {
  if (typeof v === 'string' && s?.type === 'string' && s.format) return formatted(v, s.format);
  if (typeof v === 'number') return Number.isInteger(v) && s?.type !== 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (v === null || typeof v !== 'object') return v;
  const hit = w.converted.get(v);
  if (hit !== undefined) return hit;
  let out: unknown;
  if (Array.isArray(v)) {
    const items = isObj(s?.items) ? s.items : undefined;
    out = celList(v.map((x) => toCel(w, x, items)) as CelInput[]);
  } else {
    const props = isObj(s?.properties) ? s.properties : undefined;
    const extra = isObj(s?.additionalProperties) ? s.additionalProperties : undefined;
    const o = new Map<string, CelInput>();
    for (const [k, x] of Object.entries(v)) {
      const ps = props?.[k] as JSONSchema | undefined;
      // Declared fields are reached by their escaped names (`self.foo__dash__bar` for foo-bar).
      o.set(ps ? (escapeName(k) ?? k) : k, toCel(w, x, ps ?? extra) as CelInput);
    }
    // Built as CEL values once, not re-wrapped by the evaluator at every access.
    out = celMap(o);
  }
  w.converted.set(v, out);
  return out;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => jsonEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => k in b && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** A `date`, `date-time`, `duration` or `byte` string as the timestamp, duration or bytes its rules were typed with. */
function formatted(v: string, format: string): unknown {
  switch (format) {
    case 'date':
    case 'date-time': {
      const ms = Date.parse(format === 'date' ? `${v}T00:00:00Z` : v);
      return Number.isNaN(ms) ? v : timestampFromMs(ms);
    }
    case 'duration': {
      const ns = parseGoDuration(v);
      return ns === undefined ? v : create(DurationSchema, { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) });
    }
    case 'byte':
      return new Uint8Array(Buffer.from(v, 'base64'));
  }
  return v;
}

const UNIT_NS: Record<string, bigint> = { ns: 1n, us: 1_000n, 'µs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** Go's time.ParseDuration ("1h30m", "-1.5s", "300ms"), in nanoseconds. */
export function parseGoDuration(text: string): bigint | undefined {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(text);
  if (text === '0') return 0n;
  if (!m) return undefined;
  let total = 0n;
  for (const part of text.replace(/^[-+]/, '').matchAll(/(\d*)(?:\.(\d*))?(ns|us|µs|ms|s|m|h)/g)) {
    const unit = UNIT_NS[part[3]];
    const frac = part[2] ?? '';
    total += BigInt(part[1] || '0') * unit + (frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n);
  }
  return m[1] === '-' ? -total : total;
}
