// Whether two values have the same JSON text, told from the values without building either text.
// A pod worker compares the status it computed with the pod's on every sync, and the API server
// compares a write with the cached object it replaces (a no-op is not written): in both, most
// comparisons find the values equal or sharing parts, and serializing both sides to compare cost
// a serialization twice. Exactly JSON's semantics: key order counts, members JSON leaves out are
// skipped, non-finite numbers print null and -0 prints 0.

type Obj = Record<string, any>;

export interface JsonEqualOptions {
  /**
   * Compare as the store does: without metadata.resourceVersion (the revision is the version),
   * which neither side's text then holds.
   */
  ignoreResourceVersion?: boolean;
  /**
   * b is plain JSON data (a watch cache object, a parse): nothing in it prints otherwise or is
   * left out, so only a's side is checked for that.
   */
  bIsJsonData?: boolean;
}

/**
 * JSON.stringify(a) === JSON.stringify(b), or undefined when only serializing can tell: a value
 * that prints otherwise than its fields (a toJSON, a Date, any object not plain), or a bigint.
 */
export function jsonEqual(a: unknown, b: unknown, opts?: JsonEqualOptions): boolean | undefined {
  const data = opts?.bIsJsonData === true;
  if (opts?.ignoreResourceVersion && a !== b && isRecord(a) && isRecord(b)) {
    if (!isPlain(a) || (!data && !isPlain(b))) return undefined;
    return sameObject(a, b, undefined, true, data);
  }
  return sameValue(a, b, false, data);
}

/** Not an array, not null: an object JSON prints as {...} if it is plain. */
function isRecord(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Prints as its own fields: no toJSON, and an ordinary object or array (not a Date, a Map...). */
function isPlain(v: Obj): boolean {
  if (typeof v.toJSON === 'function') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null || (proto === Array.prototype && Array.isArray(v));
}

/** Whether an object member of this value is written at all. */
const written = (v: unknown) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

/** What a scalar prints as (LEFT_OUT for a member JSON skips), CANNOT_TELL for a bigint. */
const LEFT_OUT = Symbol('left out');
const CANNOT_TELL = Symbol('cannot tell');

function scalarText(v: unknown, inArray: boolean): unknown {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'undefined':
    case 'function':
    case 'symbol':
      // Array slots print these as null; elsewhere they are not printed.
      return inArray ? null : LEFT_OUT;
    case 'bigint':
      return CANNOT_TELL;
    default:
      return v;
  }
}

/** data: b is plain JSON data (see JsonEqualOptions.bIsJsonData). */
function sameValue(a: unknown, b: unknown, inArray: boolean, data: boolean): boolean | undefined {
  // The same value prints the same text (0 and -0 are === and both print 0).
  if (a === b) return true;
  const objA = a !== null && typeof a === 'object';
  const objB = b !== null && typeof b === 'object';
  if (objA && objB) {
    if (!isPlain(a as Obj) || (!data && !isPlain(b as Obj))) return undefined;
    const arrayA = Array.isArray(a);
    if (arrayA !== Array.isArray(b)) return false;
    if (arrayA) {
      const x = a as unknown[];
      const y = b as unknown[];
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) {
        const r = sameValue(x[i], y[i], true, data);
        if (r !== true) return r;
      }
      return true;
    }
    return sameObject(a as Obj, b as Obj, undefined, false, data);
  }
  // One object: what it prints is for serializing to tell unless it is plain ({...} or [...]).
  if (objA) return isPlain(a as Obj) && scalarText(b, inArray) !== CANNOT_TELL ? false : undefined;
  if (objB) return isPlain(b as Obj) && scalarText(a, inArray) !== CANNOT_TELL ? false : undefined;
  const x = scalarText(a, inArray);
  const y = scalarText(b, inArray);
  if (x === CANNOT_TELL || y === CANNOT_TELL) return undefined;
  return x === y;
}

/**
 * Same written members in the same order with the same texts (both plain); `skip` is left out on
 * both sides. `top`: the whole object, whose metadata is compared without its resourceVersion.
 */
function sameObject(a: Obj, b: Obj, skip: string | undefined, top: boolean, data: boolean): boolean | undefined {
  const bKeys = Object.keys(b);
  let j = 0;
  for (const k in a) {
    if (k === skip) continue;
    const v = a[k];
    if (!written(v)) continue;
    while (j < bKeys.length && (bKeys[j] === skip || (!data && !written(b[bKeys[j]!])))) j++;
    if (j >= bKeys.length || bKeys[j] !== k) return false;
    const w = b[k];
    j++;
    let r: boolean | undefined;
    if (top && k === 'metadata' && v !== w && isRecord(v) && isRecord(w)) r = isPlain(v) && (data || isPlain(w)) ? sameObject(v, w, 'resourceVersion', false, data) : undefined;
    else r = sameValue(v, w, false, data);
    if (r !== true) return r;
  }
  while (j < bKeys.length && (bKeys[j] === skip || (!data && !written(b[bKeys[j]!])))) j++;
  return j === bKeys.length;
}
