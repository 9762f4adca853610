// Whether a write would store the text already stored, told from the objects themselves when that
// text is no longer remembered: in a burst of thousands of pods an object's previous value often
// leaves the cache's recent strings before its next write, and serializing the cached object again
// only to compare cost more than the comparison. Exactly JSON's semantics, key order included.

type Obj = Record<string, any>;

/**
 * Whether obj's stored value (its JSON without metadata.resourceVersion) is cached's, where cached
 * is a watch cache object (plain JSON data); undefined when only serializing can tell (a toJSON, a
 * Date or other non-plain object, a bigint in obj).
 */
export function sameStoredJson(obj: Obj, cached: Obj): boolean | undefined {
  return sameObject(obj, cached, true, undefined);
}

function sameValue(a: unknown, b: unknown, inArray: boolean): boolean | undefined {
  // b is plain JSON data: the same object or primitive has the same text (0 and -0 both print 0).
  if (a === b) return true;
  switch (typeof a) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      return Number.isFinite(a) ? false : b === null;
    case 'undefined':
    case 'function':
    case 'symbol':
      // Object fields of these kinds are left out by the caller; array slots print null.
      return inArray ? b === null : undefined;
    case 'bigint':
      return undefined;
  }
  if (a === null) return false;
  // What prints otherwise (a Date as its string...) is for serializing to tell.
  if (typeof (a as Obj).toJSON === 'function') return undefined;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const r = sameValue(a[i], b[i], true);
      if (r !== true) return r;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(a);
  if (proto !== Object.prototype && proto !== null) return undefined;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return false;
  return sameObject(a as Obj, b as Obj, false, undefined);
}

/** Same fields in the same order with the same texts; `skip` is left out on both sides. */
function sameObject(a: Obj, b: Obj, top: boolean, skip: string | undefined): boolean | undefined {
  const proto = Object.getPrototypeOf(a);
  if ((proto !== Object.prototype && proto !== null) || typeof a.toJSON === 'function') return undefined;
  const bKeys = Object.keys(b);
  let j = 0;
  for (const k in a) {
    if (k === skip) continue;
    const v = a[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (j < bKeys.length && bKeys[j] === skip) j++;
    if (j >= bKeys.length || bKeys[j] !== k) return false;
    const w = b[k];
    j++;
    // The stored value leaves out metadata.resourceVersion (the revision is the version).
    const r =
      top && k === 'metadata' && v !== null && typeof v === 'object' && !Array.isArray(v) && w !== null && typeof w === 'object' && !Array.isArray(w)
        ? sameObject(v, w, false, 'resourceVersion')
        : sameValue(v, w, false);
    if (r !== true) return r;
  }
  if (j < bKeys.length && bKeys[j] === skip) j++;
  return j === bKeys.length;
}
