// One shared, frozen copy of each repeated part of the cached objects (hash-consing).
//
// Ten thousand pods of one StatefulSet repeat the same containers, tolerations, token volume and
// managedFields entry; their volumes repeat one node affinity per node; Events repeat their
// source. JSON.parse, and the copies the cache takes from writers, make each of those anew, so
// decoded objects cost several times their distinct content. Here each subtree of a settled cached
// object is looked up by its JSON text (shared parts in it written as short tokens) and replaced
// with an earlier equal one, which is then
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
/** Subtrees with longer keys are not looked up themselves (their parts still are): few repeat whole. */
const SHARE_MAX_LENGTH = 4096;
const SHARE_GENERATION_BYTES = 1024 * 1024;

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

/**
 * Shared subtrees (frozen) and the token that stands for them in their parents' keys: a key is
 * the subtree's JSON text with each shared part written as its token, so keys stay short however
 * deep the subtree (a token, '#' and a number, cannot be confused with JSON text).
 */
const sharedToken = new WeakMap<object, string>();
let nextToken = 0;
/**
 * A subtree seen: the key of the cached object it was seen in ('' once shared by several), and
 * the token its parents' keys hold for it, so that a parent seen again is found by the same key
 * whether its parts were shared meanwhile or not.
 */
interface Seen {
  node: Obj;
  owner: string;
  token: string;
}
let shapesYoung = new Map<string, Seen>();
let shapesOld = new Map<string, Seen>();
let shapesYoungBytes = 0;

/** Whether v is a shared subtree: frozen, JSON-exact, to be held as it is rather than copied. */
export function isShared(v: object): boolean {
  return sharedToken.has(v);
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

/** The key of holder[k] (undefined where JSON leaves the field out), after sharing it. */
function slot(holder: Obj, k: string | number): string | undefined {
  const x = holder[k];
  if (typeof x === 'string') {
    if (x.length <= INTERN_MAX_LENGTH) {
      const y = intern(x);
      if (y !== x) holder[k] = y;
    }
    return JSON.stringify(x);
  }
  if (x === null || typeof x !== 'object') return JSON.stringify(x);
  const known = sharedToken.get(x);
  if (known !== undefined) return known;
  const text = keyOf(x);
  const seen = lookup(x, text);
  if (seen === undefined) return text;
  if (seen.node !== x) holder[k] = seen.node;
  return seen.token;
}

/** The key of an object or array (see sharedToken), sharing its parts on the way. */
function keyOf(v: Obj): string {
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

/**
 * The entry for v's key, deciding which object holds the part from now on (entry.node): v when it
 * is the first seen or the same object's next version, else the earlier one, then shared.
 * Undefined for keys too long to look up.
 */
function lookup(v: Obj, text: string): Seen | undefined {
  if (text.length > SHARE_MAX_LENGTH) return undefined;
  let seen = find(text);
  if (seen === undefined) {
    seen = { node: v, owner, token: '#' + (nextToken++).toString(36) };
    remember(text, seen);
    return seen;
  }
  if (seen.node === v) return seen;
  if (seen.owner !== '' && seen.owner === owner) {
    // The same object's earlier version: remember the current part instead, so the table does not keep a dead one.
    seen.node = v;
    return seen;
  }
  if (!sharedToken.has(seen.node)) freezeShared(seen.node, seen.token);
  seen.owner = '';
  return seen;
}

function find(text: string): Seen | undefined {
  const y = shapesYoung.get(text);
  if (y !== undefined) return y;
  const o = shapesOld.get(text);
  if (o !== undefined) remember(text, o);
  return o;
}

function remember(text: string, seen: Seen): void {
  // The entry and its token cost about as much as 64 characters of key.
  const bytes = text.length + 64;
  if (shapesYoungBytes + bytes > SHARE_GENERATION_BYTES) {
    shapesOld = shapesYoung;
    shapesYoung = new Map();
    shapesYoungBytes = 0;
  }
  shapesYoung.set(text, seen);
  shapesYoungBytes += bytes;
}

/**
 * Freezes a subtree and marks it and all its parts shared, each part under the token its entry
 * already gave it (its parents' keys hold that token), or a new one.
 */
function freezeShared(v: Obj, token: string): void {
  for (const k in v) {
    const x = v[k];
    if (x === null || typeof x !== 'object' || sharedToken.has(x)) continue;
    const text = keyNow(x);
    const seen = text.length <= SHARE_MAX_LENGTH ? find(text) : undefined;
    freezeShared(x, seen !== undefined && seen.node === x ? seen.token : '#' + (nextToken++).toString(36));
  }
  Object.freeze(v);
  sharedToken.set(v, token);
}

/** The key of a part as it is, changing nothing (parts seen have their entries' tokens). */
function keyNow(v: Obj): string {
  const known = sharedToken.get(v);
  if (known !== undefined) return known;
  const part = (x: unknown): string | undefined => {
    if (x === null || typeof x !== 'object') return JSON.stringify(x);
    const t = keyNow(x as Obj);
    const seen = t.length <= SHARE_MAX_LENGTH ? find(t) : undefined;
    return seen !== undefined && seen.node === x ? seen.token : t;
  };
  if (Array.isArray(v)) return '[' + v.map((x) => part(x) ?? 'null').join(',') + ']';
  let s = '{';
  let first = true;
  for (const k in v) {
    const p = part(v[k]);
    if (p === undefined) continue;
    s += (first ? '' : ',') + JSON.stringify(k) + ':' + p;
    first = false;
  }
  return s + '}';
}
