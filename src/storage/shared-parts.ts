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
  for (const k in obj) {
    const x = obj[k];
    if (typeof x === 'string') {
      if (x.length <= INTERN_MAX_LENGTH) obj[k] = intern(x);
    } else if (x !== null && typeof x === 'object') {
      if (k === 'metadata' && !Array.isArray(x)) shareFields(x);
      else {
        const p = shared(x);
        if (p) obj[k] = p.obj;
      }
    }
  }
}

function shareFields(v: Obj): void {
  for (const k in v) {
    const x = v[k];
    if (typeof x === 'string') {
      if (x.length <= INTERN_MAX_LENGTH) v[k] = intern(x);
    } else if (x !== null && typeof x === 'object') {
      const p = shared(x);
      if (p) v[k] = p.obj;
    }
  }
}

/**
 * The shared copy of v (v itself when it is the first of its kind seen lately), after
 * swapping its own parts for theirs; undefined when v cannot be shared: it holds a long string, or
 * is not plain JSON data. Its parts are still swapped then.
 *
 * The key spells each field with its length-prefixed name and a tagged value (s: string, n:
 * number, t/f/z: true, false, null, #: an inner part's id), so two keys are equal only for equal
 * fields in the same order.
 */
function shared(v: object): Part | undefined {
  let key: string;
  let ok = true;
  // A part frozen (as ORDINAL_FREEZE_CACHE=1 freezes every cached object) only needs its key.
  const own = !Object.isFrozen(v);
  if (Array.isArray(v)) {
    key = '[';
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      switch (typeof x) {
        case 'string':
          if (x.length <= INTERN_MAX_LENGTH) {
            const s = intern(x);
            if (own && s !== x) v[i] = s;
            key += 's' + x.length + ':' + s;
          } else ok = false;
          break;
        case 'number':
          key += 'n' + x + ';';
          break;
        case 'boolean':
          key += x ? 't' : 'f';
          break;
        case 'object':
          if (x === null) key += 'z';
          else {
            const p = shared(x);
            if (p) {
              if (own && p.obj !== x) v[i] = p.obj;
              key += '#' + p.id + ';';
            } else ok = false;
          }
          break;
        default:
          ok = false;
      }
    }
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return undefined;
    const o = v as Obj;
    key = '{';
    for (const k in o) {
      const x = o[k];
      key += k.length + ':' + k;
      switch (typeof x) {
        case 'string':
          if (x.length <= INTERN_MAX_LENGTH) {
            const s = intern(x);
            if (own && s !== x) o[k] = s;
            key += 's' + x.length + ':' + s;
          } else ok = false;
          break;
        case 'number':
          key += 'n' + x + ';';
          break;
        case 'boolean':
          key += x ? 't' : 'f';
          break;
        case 'object':
          if (x === null) key += 'z';
          else {
            const p = shared(x);
            if (p) {
              if (own && p.obj !== x) o[k] = p.obj;
              key += '#' + p.id + ';';
            } else ok = false;
          }
          break;
        default:
          ok = false;
      }
    }
  }
  return ok ? part(key, v) : undefined;
}
