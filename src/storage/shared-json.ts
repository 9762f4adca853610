// One shared, frozen copy of each repeated part of the cached objects (hash-consing).
//
// Ten thousand pods of one StatefulSet repeat the same containers, tolerations, token volume and
// managedFields entry; their volumes repeat one node affinity per node; Events repeat their
// source. JSON.parse, and the copies the cache takes from writers, make each of those anew, so
// decoded objects cost several times their distinct content. Here each subtree of a settled cached
// object is looked up by its JSON text and replaced with an earlier equal one, which is then
// frozen and marked shared; strings are interned on the way.
//
// Why this is safe: cached objects are shared and never mutated (ORDINAL_FREEZE_CACHE=1 proves it
// in tests), and a shared subtree is equal, key order included, to the one it replaces, so every
// reader and every encoding sees the same thing; only object identity changes, which nothing may
// rely on beyond "same object, same content". Freezing makes any write to a shared part fail
// loudly instead of changing many objects at once.
//
// Why it is bounded: the table of known subtrees lives in two generations by bytes of JSON text,
// as the string table does, so subtrees that occur once (a pod's own name, IP, uid) pass through
// and are forgotten; a subtree in use keeps being found and stays. A subtree found again only in a
// later version of the same object (a pod's own spec, across its status writes) is not shared:
// it is one object's part, and marking it would keep its text for as long as it lives.
import type { Obj } from './cache.ts';

const INTERN_MAX_LENGTH = 256;
const INTERN_GENERATION = 50_000;
/** Larger subtrees are not looked up themselves (their parts still are): few repeat whole. */
const SHARE_MAX_LENGTH = 4096;
const SHARE_GENERATION_BYTES = 2 * 1024 * 1024;

let internYoung = new Map<string, string>();
let internOld = new Map<string, string>();

/** One copy of a short string, however many objects hold it. */
export function intern(s: string): string {
  const y = internYoung.get(s);
  if (y !== undefined) return y;
  const o = internOld.get(s) ?? s;
  if (internYoung.size >= INTERN_GENERATION) {
    internOld = internYoung;
    internYoung = new Map();
  }
  internYoung.set(o, o);
  return o;
}

/** Shared subtrees (frozen) and their JSON text. */
const sharedText = new WeakMap<object, string>();
/** A subtree seen, and the key of the cached object it was seen in ('' once shared by several). */
interface Seen {
  node: Obj;
  owner: string;
}
let shapesYoung = new Map<string, Seen>();
let shapesOld = new Map<string, Seen>();
let shapesYoungBytes = 0;

/** Whether v is a shared subtree: frozen, JSON-exact, to be held as it is rather than copied. */
export function isShared(v: object): boolean {
  return Object.isFrozen(v) && sharedText.has(v);
}

/** The key of the cached object being walked ('' when unknown: then every equal part is shared). */
let owner = '';

/**
 * Shares the parts of a cached object (decoded or copied, so plain JSON data) with equal parts of
 * other cached objects, in place. The object itself and its metadata are never shared (they hold
 * its name, uid and resourceVersion); their fields are. Parts already frozen are left as they are.
 * `key` names the object (its store key) across versions.
 */
export function shareParts(obj: Obj, key = ''): void {
  if (Object.isFrozen(obj)) return;
  owner = key;
  for (const k in obj) {
    const x = obj[k];
    if (k === 'metadata' && x !== null && typeof x === 'object' && !Array.isArray(x)) {
      if (!Object.isFrozen(x)) for (const m in x) slot(x, m);
    } else slot(obj, k);
  }
}

/** The JSON text of holder[k] (undefined where JSON leaves the field out), after sharing it. */
function slot(holder: Obj, k: string | number): string | undefined {
  const x = holder[k];
  if (typeof x === 'string') {
    if (x.length <= INTERN_MAX_LENGTH) {
      const y = intern(x);
      if (y !== x && !Object.isFrozen(holder)) holder[k] = y;
    }
    return JSON.stringify(x);
  }
  if (x === null || typeof x !== 'object') return JSON.stringify(x);
  const known = sharedText.get(x);
  if (known !== undefined) return known;
  const text = textOf(x);
  const s = lookup(x, text);
  if (s !== x && !Object.isFrozen(holder)) holder[k] = s;
  return text;
}

/** JSON text of an object or array, sharing its parts on the way. */
function textOf(v: Obj): string {
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + (slot(v, i) ?? 'null');
    return s + ']';
  }
  let s = '{';
  let first = true;
  for (const k in v) {
    const part = slot(v, k);
    if (part === undefined) continue;
    s += (first ? '' : ',') + JSON.stringify(k) + ':' + part;
    first = false;
  }
  return s + '}';
}

/** The shared subtree equal to v, v itself when it is the first seen, remembered under its text. */
function lookup(v: Obj, text: string): Obj {
  if (text.length > SHARE_MAX_LENGTH || Object.isFrozen(v)) return v;
  let seen = shapesYoung.get(text);
  if (seen === undefined) {
    seen = shapesOld.get(text) ?? { node: v, owner };
    if (shapesYoungBytes + text.length > SHARE_GENERATION_BYTES) {
      shapesOld = shapesYoung;
      shapesYoung = new Map();
      shapesYoungBytes = 0;
    }
    shapesYoung.set(text, seen);
    shapesYoungBytes += text.length;
  }
  if (seen.node === v) return v;
  if (seen.owner !== '' && seen.owner === owner) {
    // The same object's earlier version: remember the current part instead, so the table does not keep a dead one.
    seen.node = v;
    return v;
  }
  if (!sharedText.has(seen.node)) freezeShared(seen.node, text);
  seen.owner = '';
  return seen.node;
}

/** Freezes a subtree and marks it and all its parts shared (their text is computed once, here). */
function freezeShared(v: Obj, text: string): void {
  for (const k in v) {
    const x = v[k];
    if (x !== null && typeof x === 'object' && !sharedText.has(x)) freezeShared(x, JSON.stringify(x));
  }
  Object.freeze(v);
  sharedText.set(v, text);
}
