// Whether a write would store the text already stored, told from the objects themselves when that
// text is no longer remembered: in a burst of thousands of pods an object's previous value often
// leaves the cache's recent strings before its next write, and serializing the cached object again
// only to compare cost more than the comparison. The walk is util/json-equal.ts's.
import { jsonEqual } from '../util/json-equal.ts';

type Obj = Record<string, any>;

const STORED = { ignoreResourceVersion: true, bIsJsonData: true };

/**
 * Whether obj's stored value (its JSON without metadata.resourceVersion) is cached's, where cached
 * is a watch cache object (plain JSON data); undefined when only serializing can tell (a toJSON, a
 * Date or other non-plain object, a bigint in obj).
 */
export function sameStoredJson(obj: Obj, cached: Obj): boolean | undefined {
  return jsonEqual(obj, cached, STORED);
}
