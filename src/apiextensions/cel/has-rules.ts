// Whether a schema holds any x-kubernetes-validations rule: apart from the compiler so that a
// CRD without rules never loads CEL (see served.ts).
import type { JSONSchema } from '../structural.ts';

const isObj = (v: unknown): v is JSONSchema => !!v && typeof v === 'object' && !Array.isArray(v);

/** True when `s` or a schema under it (properties, items, additionalProperties, allOf) has a rule. */
export function hasRules(s: unknown): boolean {
  if (!isObj(s)) return false;
  if (Array.isArray(s['x-kubernetes-validations']) && s['x-kubernetes-validations'].length) return true;
  if (isObj(s.properties) && Object.values(s.properties).some(hasRules)) return true;
  if (Array.isArray(s.allOf) && s.allOf.some(hasRules)) return true;
  return hasRules(s.items) || hasRules(s.additionalProperties);
}
