// Server-side field validation: finds fields the schema does not declare, so that
// fieldValidation=Strict can reject them and Warn can report them, as upstream does.
// Every write is checked, and almost none has an unknown field: a fast pass over a compiled form
// of the schema answers "none" without building paths; only when it finds something (or
// something it does not vouch for) does the full walk run, which names and drops the fields.
import { components, resolveSchema, type Schema } from '../api/schema.ts';

export function unknownFields(obj: unknown, schemaName: string): string[] {
  const root = components[schemaName];
  if (mayHaveUnknown(obj, compiled(root), true) === false) return [];
  const out: string[] = [];
  walk(obj, resolveSchema(root), '', out, false);
  return out;
}

/** Deletes the fields unknownFields reports: upstream decodes into typed structs, so they are never stored. */
export function dropUnknownFields(obj: unknown, schemaName: string): void {
  walk(obj, resolveSchema(components[schemaName]), '', [], true);
}

function walk(value: unknown, schema: Schema | undefined, path: string, out: string[], drop: boolean): void {
  if (!schema || value === null || typeof value !== 'object') return;
  if (schema['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    const items = resolveSchema(schema.items);
    value.forEach((v, i) => walk(v, items, `${path}[${i}]`, out, drop));
    return;
  }
  if (schema.properties) {
    for (const [k, v] of Object.entries(value)) {
      const prop = schema.properties[k];
      const childPath = path ? `${path}.${k}` : k;
      if (!prop) {
        // apiVersion and kind are always accepted at the top level, as upstream's decoder does.
        if (!(path === '' && (k === 'apiVersion' || k === 'kind'))) {
          out.push(childPath);
          if (drop) delete (value as Record<string, unknown>)[k];
        }
        continue;
      }
      walk(v, resolveSchema(prop), childPath, out, drop);
    }
    return;
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    const inner = resolveSchema(schema.additionalProperties);
    for (const [k, v] of Object.entries(value)) walk(v, inner, `${path}.${k}`, out, drop);
  }
}

/**
 * A schema with its references resolved once: what the fast pass needs at each level. Children
 * are compiled on first visit (schemas are recursive: JSONSchemaProps contains itself) and kept
 * in their parent, so the pass does no lookups beyond one per key.
 */
interface Compiled {
  /** Nothing below is checked (no schema, or x-kubernetes-preserve-unknown-fields). */
  open: boolean;
  /** Declared properties (own keys only), or null when the schema declares none. */
  props: Map<string, Child> | null;
  items: Child | undefined;
  /** Schema of map values, when the schema has additionalProperties instead of properties. */
  values: Child | undefined;
}

interface Child {
  raw: Schema;
  c: Compiled | undefined;
}

const compiledSchemas = new WeakMap<Schema, Compiled>();
const OPEN: Compiled = { open: true, props: null, items: undefined, values: undefined };

function compiled(raw: Schema | undefined): Compiled {
  if (!raw) return OPEN;
  let c = compiledSchemas.get(raw);
  if (c) return c;
  const s = resolveSchema(raw);
  if (!s || s['x-kubernetes-preserve-unknown-fields']) c = OPEN;
  else {
    const child = (x: Schema | undefined): Child | undefined => (x ? { raw: x, c: undefined } : undefined);
    const ap = s.additionalProperties;
    c = {
      open: false,
      props: s.properties ? new Map(Object.entries(s.properties).map(([k, v]) => [k, { raw: v, c: undefined }])) : null,
      items: child(s.items),
      values: ap && typeof ap === 'object' ? child(ap) : undefined,
    };
  }
  compiledSchemas.set(raw, c);
  return c;
}

function resolved(child: Child): Compiled {
  return (child.c ??= compiled(child.raw));
}

/**
 * False when value certainly has no field the walk would report; true when it may (an unknown
 * field, or a key the fast pass leaves to the walk, such as one that is only inherited).
 */
function mayHaveUnknown(value: unknown, c: Compiled, top: boolean): boolean {
  if (c.open || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    if (c.items === undefined) return false;
    const items = resolved(c.items);
    if (items.open) return false;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v !== null && typeof v === 'object' && mayHaveUnknown(v, items, false)) return true;
    }
    return false;
  }
  const o = value as Record<string, unknown>;
  if (c.props) {
    for (const k in o) {
      const prop = c.props.get(k);
      if (!prop || !prop.raw) {
        if (top && (k === 'apiVersion' || k === 'kind')) continue;
        return true;
      }
      const v = o[k];
      if (v !== null && typeof v === 'object' && mayHaveUnknown(v, resolved(prop), false)) return true;
    }
    return false;
  }
  if (c.values) {
    const inner = resolved(c.values);
    if (inner.open) return false;
    for (const k in o) {
      const v = o[k];
      if (v !== null && typeof v === 'object' && mayHaveUnknown(v, inner, false)) return true;
    }
  }
  return false;
}
