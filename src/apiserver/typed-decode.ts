// The type errors upstream's decoder reports: kube-apiserver decodes a body into Go structs, so a
// number where a string field is declared (spec.group: 7) is a 400 before any registry code runs.
// Here objects stay JSON, and strategies that trusted a field's declared type threw on such
// values (500). This finds the first scalar field whose JSON kind the Go field cannot take, with
// encoding/json's wording. Only scalar fields are checked: their Go type names are known from the
// schema (string, bool, int32, int64, float64); values that Go decodes with custom code
// (Quantity, IntOrString, Time, base64 bytes, free-form JSON) are left alone.
import { components, resolveSchema, type Schema } from '../api/schema.ts';
import { jsonKindName } from './patch/errors.ts';

const CUSTOM_DECODERS = new Set(['io.k8s.apimachinery.pkg.api.resource.Quantity', 'io.k8s.apimachinery.pkg.util.intstr.IntOrString']);

function goScalarType(s: Schema): string | undefined {
  if (s['x-kubernetes-int-or-string'] || s['x-kubernetes-preserve-unknown-fields']) return undefined;
  switch (s.type) {
    case 'string':
      return s.format === 'date-time' || s.format === 'byte' ? undefined : 'string';
    case 'boolean':
      return 'bool';
    case 'integer':
      return s.format === 'int32' ? 'int32' : 'int64';
    case 'number':
      return 'float64';
    default:
      return undefined;
  }
}

/** The component a schema refers to, directly or through upstream's single-element allOf. */
function refOf(schema: Schema): string | undefined {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0].$ref : undefined);
  return ref?.slice('#/components/schemas/'.length);
}

/** Go's name of a struct, list or map type: v1.ObjectMeta, []v1.Container, []string, map[string]string. */
function goCompositeType(s: Schema, refName: string | undefined): string | undefined {
  const named = (ref: string) => {
    const parts = ref.split('.');
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  };
  if (s.type === 'object' && s.properties && refName) return named(refName);
  if (s.type === 'array' && s.items) {
    const itemRef = refOf(s.items);
    const item = resolveSchema(s.items);
    if (itemRef && item?.type === 'object' && item.properties) return `[]${named(itemRef)}`;
    if (!itemRef && item?.type === 'string' && !item.format) return '[]string';
    return undefined;
  }
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object' && s.additionalProperties.type === 'string' && !s.additionalProperties.format) return 'map[string]string';
  return undefined;
}

function fits(v: unknown, goType: string): { ok: boolean; what: string } {
  if (v === null) return { ok: true, what: 'null' };
  switch (goType) {
    case 'string':
      return { ok: typeof v === 'string', what: jsonKindName(v) };
    case 'bool':
      return { ok: typeof v === 'boolean', what: jsonKindName(v) };
    case 'float64':
      return { ok: typeof v === 'number', what: jsonKindName(v) };
    default: {
      if (typeof v !== 'number') return { ok: false, what: jsonKindName(v) };
      const [lo, hi] = goType === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : [-(2 ** 63), 2 ** 63 - 1];
      return { ok: Number.isInteger(v) && v >= lo && v <= hi, what: `number ${v}` };
    }
  }
}

/** encoding/json's message for the first scalar field of `obj` its Go type cannot hold, if any. */
export function scalarTypeError(obj: unknown, schemaName: string): string | undefined {
  const name = (ref: string) => ref.slice(ref.lastIndexOf('.') + 1);
  const walk = (v: unknown, schema: Schema | undefined, struct: string, path: string): string | undefined => {
    if (!schema || v === null || v === undefined) return undefined;
    const refName = refOf(schema);
    if (refName && CUSTOM_DECODERS.has(refName)) return undefined;
    const s = resolveSchema(schema);
    if (!s) return undefined;
    const scalar = goScalarType(s);
    if (scalar) {
      const f = fits(v, scalar);
      return f.ok ? undefined : `json: cannot unmarshal ${f.what} into Go struct field ${struct}.${path} of type ${scalar}`;
    }
    if (s['x-kubernetes-preserve-unknown-fields']) return undefined;
    const goType = goCompositeType(s, refName);
    if (goType && (typeof v !== 'object' || Array.isArray(v) !== (s.type === 'array'))) {
      return `json: cannot unmarshal ${jsonKindName(v)} into Go struct field ${struct}.${path} of type ${goType}`;
    }
    if (typeof v !== 'object') return undefined;
    if (Array.isArray(v)) {
      if (s.type !== 'array') return undefined;
      for (const item of v) {
        const e = walk(item, s.items, struct, path);
        if (e) return e;
      }
      return undefined;
    }
    if (s.properties) {
      const inner = refName ? name(refName) : struct;
      for (const [k, child] of Object.entries(v)) {
        const e = walk(child, s.properties[k], inner, path ? `${path}.${k}` : k);
        if (e) return e;
      }
    } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      for (const child of Object.values(v)) {
        const e = walk(child, s.additionalProperties, struct, path);
        if (e) return e;
      }
    }
    return undefined;
  };
  const root = components[schemaName];
  if (!root || obj === null || typeof obj !== 'object') return undefined;
  return walk(obj, { $ref: `#/components/schemas/${schemaName}` }, name(schemaName), '');
}
