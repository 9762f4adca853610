// The watch cache holds every object of the cluster, and most of their bytes repeat: each pod of a
// StatefulSet carries the same containers, tolerations, owner reference and service-account volume
// sources, each claim the same access modes and requests, each event the same source; pods made in
// one second share whole conditions. Decoded or copied, each repeat is a tree of objects of its own.
//
// Once objects have settled (see WatchCache.shareSettled), their parts are swapped for equal parts
// seen before, so that each distinct part is held once: strings up to INTERN_MAX_LENGTH, and every
// object or array below the object's top level and its metadata (those two are the cache's own per
// version). bench/memory.ts at 10,000 pods with their claims, volumes and events: live heap after a
// full collection 207-209 MiB instead of 272-273.
//
// Cached objects are never mutated (ORDINAL_FREEZE_CACHE=1 freezes them in tests to check it), so
// a part may be shared by a thousand objects. Equal means equal JSON with the same key order, so an
// object encodes to the same bytes after the swap as before it.
//
// Two generations of a bounded table remember the parts: a part in use stays hot, the rest are
// forgotten after a generation or two. A part is looked up by a key made of its fields, in which
// each inner part appears as the number its canonical copy was given, so keys stay short.
import type { Obj } from '../api/resource.ts';

/** Longer strings are rarely repeated (and would make long keys): they are neither interned nor let their object be shared. */
export const INTERN_MAX_LENGTH = 256;
const STRING_GENERATION = 50_000;
/**
 * Parts per generation. On a stored 10,000-pod cluster, 2,000 share all but 2 MiB of what 20,000
 * do; a larger table keeps more of the pass's keys alive, which grew the young generation (and the
 * RSS just after a burst: 655 MiB at 10,000 against 629 at 2,000 and 600-610 without sharing).
 */
const PART_GENERATION = 2_000;

let stringsYoung = new Map<string, string>();
let stringsOld = new Map<string, string>();

/** The one copy of s kept for sharing (s itself when it is the first seen lately). */
export function intern(s: string): string {
  const y = stringsYoung.get(s);
  if (y !== undefined) return y;
  const o = stringsOld.get(s) ?? s;
  if (stringsYoung.size >= STRING_GENERATION) {
    stringsOld = stringsYoung;
    stringsYoung = new Map();
  }
  stringsYoung.set(o, o);
  return o;
}

/** Swaps every short string of v (deeply) for its interned copy. */
export function internStrings(v: Obj): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'string') {
        if (x.length <= INTERN_MAX_LENGTH) v[i] = intern(x);
      } else if (x !== null && typeof x === 'object') internStrings(x);
    }
    return;
  }
  for (const k in v) {
    const x = v[k];
    if (typeof x === 'string') {
      if (x.length <= INTERN_MAX_LENGTH) v[k] = intern(x);
    } else if (x !== null && typeof x === 'object') internStrings(x);
  }
}

interface Part {
  obj: object;
  id: number;
}
let partsYoung = new Map<string, Part>();
let partsOld = new Map<string, Part>();
let nextPartId = 0;

function part(key: string, v: object): Part {
  const y = partsYoung.get(key);
  if (y !== undefined) return y;
  let p = partsOld.get(key);
  if (p === undefined) p = { obj: v, id: nextPartId++ };
  if (partsYoung.size >= PART_GENERATION) {
    partsOld = partsYoung;
    partsYoung = new Map();
  }
  partsYoung.set(key, p);
  return p;
}

/**
 * Makes the parts of a cached object shared copies: its own fields and its metadata's are swapped
 * in place (strings interned, objects and arrays for their shared equals). The top level and
 * metadata objects themselves stay the object's own.
 */
export function shareParts(obj: Obj): void {
  shareFields(obj, true);
}

function shareFields(v: Obj, top: boolean): void {
  for (const k in v) {
    const x = v[k];
    if (top && k === 'metadata' && x !== null && typeof x === 'object' && !Array.isArray(x)) shareFields(x, false);
    else valueKey(v, k, true);
  }
}

/**
 * The shared copy of v (v itself when it is the first of its kind seen lately), after
 * swapping its own parts for theirs; undefined when v cannot be shared: it holds a long string, or
 * is not plain JSON data. Its parts are still swapped then.
 *
 * The key spells each field with its length-prefixed name and a tagged value (see valueKey), so
 * two keys are equal only for equal fields in the same order.
 */
function shared(v: object): Part | undefined {
  let key: string;
  let ok = true;
  // A part frozen (as ORDINAL_FREEZE_CACHE=1 freezes every cached object) only needs its key.
  const own = !Object.isFrozen(v);
  if (Array.isArray(v)) {
    key = '[';
    for (let i = 0; i < v.length; i++) {
      const k = valueKey(v, i, own);
      if (k === undefined) ok = false;
      else key += k;
    }
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return undefined;
    key = '{';
    for (const name in v) {
      const k = valueKey(v as Obj, name, own);
      if (k === undefined) ok = false;
      else key += name.length + ':' + name + k;
    }
  }
  return ok ? part(key, v) : undefined;
}

/**
 * The key of holder[k]'s value, tagged (s: string, n: number, t/f/z: true, false, null, #: an inner
 * part's id), after swapping it for its shared copy when `own` (the holder may be written); or
 * undefined when that value cannot be shared (a long string, or not JSON data).
 */
function valueKey(holder: any, k: string | number, own: boolean): string | undefined {
  const x = holder[k];
  switch (typeof x) {
    case 'string': {
      if (x.length > INTERN_MAX_LENGTH) return undefined;
      const s = intern(x);
      if (own && s !== x) holder[k] = s;
      return 's' + x.length + ':' + s;
    }
    case 'number':
      return 'n' + x + ';';
    case 'boolean':
      return x ? 't' : 'f';
    case 'object': {
      if (x === null) return 'z';
      const p = shared(x);
      if (!p) return undefined;
      if (own && p.obj !== x) holder[k] = p.obj;
      return '#' + p.id + ';';
    }
    default:
      return undefined;
  }
}
