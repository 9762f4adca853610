// Strategic-merge metadata read from our OpenAPI schemas, in place of the Go struct tags
// (`patchStrategy`, `patchMergeKey`) upstream reads by reflection. Upstream publishes those tags
// in its OpenAPI documents as x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key on the
// property schema, which is where we look.
import { resolveSchema, type Schema } from '../../api/schema.ts';
import { patchInternal } from './errors.ts';

export interface FieldMeta {
  /** The schema of the field's value (for a list: of its items); undefined when unknown. */
  schema: Schema | undefined;
  /** 'merge', 'replace' or '' (no strategy: maps merge, lists are replaced whole). */
  strategy: string;
  retainKeys: boolean;
  mergeKey: string;
}

const UNKNOWN: FieldMeta = { schema: undefined, strategy: '', retainKeys: false, mergeKey: '' };

/** Reads a patch extension from the property or anything it refers to, nearest first. */
function extension(s: Schema | undefined, name: 'x-kubernetes-patch-strategy' | 'x-kubernetes-patch-merge-key'): string {
  for (let i = 0; s && i < 16; i++) {
    if (s[name] !== undefined) return s[name] ?? '';
    if (s.$ref) s = resolveSchema({ $ref: s.$ref });
    else if (s.allOf && s.allOf.length === 1) s = s.allOf[0];
    else break;
  }
  return '';
}

/** Splits 'merge,retainKeys' the way upstream does, rejecting combinations it rejects. */
function parseStrategies(raw: string): { strategy: string; retainKeys: boolean } {
  const parts = raw === '' ? [] : raw.split(',');
  const bad = () => patchInternal(`unexpected patch strategy: [${parts.join(' ')}]`);
  switch (parts.length) {
    case 0:
      return { strategy: '', retainKeys: false };
    case 1:
      return parts[0] === 'retainKeys' ? { strategy: '', retainKeys: true } : { strategy: parts[0], retainKeys: false };
    case 2:
      if (parts[0] === 'retainKeys') return { strategy: parts[1], retainKeys: true };
      if (parts[1] === 'retainKeys') return { strategy: parts[0], retainKeys: true };
      throw bad();
    default:
      throw bad();
  }
}

/**
 * The metadata of field `key` of an object described by `parent`. Fields our schemas do not
 * describe get no metadata, so their subtree is merged like a JSON merge patch (upstream would
 * fail the lookup; its typed objects never hold unknown fields, ours may).
 */
export function fieldMeta(parent: Schema | undefined, key: string): FieldMeta {
  const s = resolveSchema(parent);
  if (!s) return UNKNOWN;
  const prop = s.properties?.[key];
  if (prop) {
    const { strategy, retainKeys } = parseStrategies(extension(prop, 'x-kubernetes-patch-strategy'));
    return { schema: prop, strategy, retainKeys, mergeKey: extension(prop, 'x-kubernetes-patch-merge-key') };
  }
  // A map's entries: the value schema, with no metadata of their own.
  if (typeof s.additionalProperties === 'object') return { ...UNKNOWN, schema: s.additionalProperties };
  return UNKNOWN;
}

/** Like fieldMeta, for a list field: `schema` describes its items. */
export function listMeta(parent: Schema | undefined, key: string): FieldMeta {
  const m = fieldMeta(parent, key);
  return { ...m, schema: resolveSchema(m.schema)?.items };
}
