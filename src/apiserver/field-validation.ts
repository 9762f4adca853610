// Server-side field validation: finds fields the schema does not declare, so that
// fieldValidation=Strict can reject them and Warn can report them, as upstream does.
import { components, resolveSchema, type Schema } from '../api/schema.ts';

export function unknownFields(obj: unknown, schemaName: string): string[] {
  const out: string[] = [];
  walk(obj, resolveSchema(components[schemaName]), '', out, false);
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
