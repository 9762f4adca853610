// Server-side field validation: finds fields the schema does not declare, so that
// fieldValidation=Strict can reject them and Warn can report them, as upstream does.
import { components, resolveSchema, type Schema } from '../api/schema.ts';

export function unknownFields(obj: unknown, schemaName: string): string[] {
  const out: string[] = [];
  walk(obj, resolveSchema(components[schemaName]), '', out);
  return out;
}

function walk(value: unknown, schema: Schema | undefined, path: string, out: string[]): void {
  if (!schema || value === null || typeof value !== 'object') return;
  if (schema['x-kubernetes-preserve-unknown-fields']) return;
  if (Array.isArray(value)) {
    const items = resolveSchema(schema.items);
    value.forEach((v, i) => walk(v, items, `${path}[${i}]`, out));
    return;
  }
  if (schema.properties) {
    for (const [k, v] of Object.entries(value)) {
      const prop = schema.properties[k];
      const childPath = path ? `${path}.${k}` : k;
      if (!prop) {
        // apiVersion and kind are always accepted at the top level, as upstream's decoder does.
        if (!(path === '' && (k === 'apiVersion' || k === 'kind'))) out.push(childPath);
        continue;
      }
      walk(v, resolveSchema(prop), childPath, out);
    }
    return;
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    const inner = resolveSchema(schema.additionalProperties);
    for (const [k, v] of Object.entries(value)) walk(v, inner, `${path}.${k}`, out);
  }
}
