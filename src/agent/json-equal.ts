// The pod worker's comparison of statuses: JSON.stringify(a) === JSON.stringify(b), from the
// values (util/json-equal.ts); what only serializing can tell (a toJSON, a Date) is serialized.
import { jsonEqual } from '../util/json-equal.ts';

export function sameJson(a: unknown, b: unknown): boolean {
  return jsonEqual(a, b) ?? JSON.stringify(a) === JSON.stringify(b);
}
