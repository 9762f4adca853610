// Objects seen through their schema the way structured-merge-diff sees them: lists are atomic
// (replaced whole), sets (items are their own identity) or maps (items identified by key fields);
// objects are granular (each field on its own) or atomic. From that: the set of fields an object
// sets, what changed between two objects, the merge of an applied configuration into a live
// object, and the removal of fields a manager no longer applies. All pure.
import { resolveSchema, type Schema } from '../../api/schema.ts';
import { FieldSet, fieldPE, indexPE, keyPE, valuePE } from './fieldset.ts';

type ListType = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: string[] };

/** Reads an extension from a property schema or what it refers to, nearest first. */
function ext<K extends keyof Schema>(s: Schema | undefined, name: K): Schema[K] | undefined {
  for (let i = 0; s && i < 16; i++) {
    if (s[name] !== undefined) return s[name];
    if (s.$ref) s = resolveSchema({ $ref: s.$ref });
    else if (s.allOf && s.allOf.length === 1) s = s.allOf[0];
    else break;
  }
  return undefined;
}

const listTypes = new WeakMap<Schema, ListType>();

/**
 * A list's type. Without x-kubernetes-list-type, a strategic-merge list is what upstream's schema
 * converter makes of it (a map by its merge key, or a set of scalars); any other list is atomic.
 */
export function listType(s: Schema | undefined): ListType {
  if (!s) return { type: 'atomic' };
  const hit = listTypes.get(s);
  if (hit) return hit;
  let t: ListType;
  const declared = ext(s, 'x-kubernetes-list-type');
  if (declared === 'map') t = { type: 'map', keys: ext(s, 'x-kubernetes-list-map-keys') ?? [] };
  else if (declared === 'set') t = { type: 'set' };
  else if (declared === 'atomic') t = { type: 'atomic' };
  else {
    const strategy = (ext(s, 'x-kubernetes-patch-strategy') ?? '').split(',');
    const key = ext(s, 'x-kubernetes-patch-merge-key');
    t = strategy.includes('merge') ? (key ? { type: 'map', keys: [key] } : { type: 'set' }) : { type: 'atomic' };
  }
  listTypes.set(s, t);
  return t;
}

function atomicMap(s: Schema | undefined): boolean {
  return !!s && ext(s, 'x-kubernetes-map-type') === 'atomic';
}

/** The schema of a field of an object (a declared property, or a map's values); undefined: deduced from the value. */
export function fieldSchema(s: Schema | undefined, key: string): Schema | undefined {
  const r = resolveSchema(s);
  if (!r) return undefined;
  const p = r.properties?.[key];
  if (p) return p;
  return typeof r.additionalProperties === 'object' ? r.additionalProperties : undefined;
}

function itemSchema(s: Schema | undefined): Schema | undefined {
  return resolveSchema(s)?.items;
}

/** A map of free keys (additionalProperties), as opposed to an object with declared fields. */
function isMapType(s: Schema | undefined): boolean {
  const r = resolveSchema(s);
  return !!r && !r.properties && r.additionalProperties !== undefined && r.additionalProperties !== false;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isEmpty = (v: unknown) => (Array.isArray(v) ? v.length === 0 : isMap(v) && Object.keys(v).length === 0);

/** A list item's path element: its keys, its value, or (atomic lists have none) its index. */
export function itemPE(t: ListType, items: Schema | undefined, item: unknown, index: number): string {
  if (t.type === 'set') return valuePE(item);
  if (t.type === 'map' && isMap(item)) {
    const fields: [string, unknown][] = [];
    for (const k of t.keys) {
      // A key field left out takes its schema default (a port's protocol), as upstream does.
      const v = item[k] ?? resolveSchema(fieldSchema(items, k))?.default ?? ext(fieldSchema(items, k), 'default');
      if (v !== undefined) fields.push([k, v]);
    }
    if (fields.length) return keyPE(fields);
  }
  return indexPE(index);
}

/**
 * Whether a value is a leaf of the field set: scalars, atomic lists and maps, and empty lists and
 * maps (so that `emptyDir: {}` is owned by whoever set it).
 */
function isLeaf(v: unknown, s: Schema | undefined): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (isEmpty(v)) return true;
  if (Array.isArray(v)) return listType(s).type === 'atomic';
  return atomicMap(s);
}

/** Every field an object sets, as members of a set (intermediate objects are not members). */
export function toFieldSet(v: unknown, s: Schema | undefined): FieldSet {
  const out = new FieldSet();
  // The root is always an object of fields, even an empty one (it is never a leaf).
  if (isMap(v)) for (const k in v) walkSet(v[k], fieldSchema(s, k), out.child(fieldPE(k)));
  else walkSet(v, s, out);
  return out.prune();
}

/**
 * `added`: the walk is of something a write added. Upstream compares typed Go objects, where a map
 * (labels, data, a selector's matchLabels) that was absent is itself added, so it is owned (`.`)
 * besides its entries; an object with declared fields is a struct that always existed.
 */
function walkSet(v: unknown, s: Schema | undefined, node: FieldSet, added = false): void {
  if (isLeaf(v, s)) {
    node.member = true;
    return;
  }
  if (added && !Array.isArray(v) && isMapType(s)) node.member = true;
  if (Array.isArray(v)) {
    const t = listType(s);
    const items = itemSchema(s);
    v.forEach((item, i) => {
      const c = node.child(itemPE(t, items, item, i));
      walkSet(item, items, c, added);
      c.member = true;
    });
    return;
  }
  for (const k in v as Record<string, unknown>) walkSet((v as Record<string, unknown>)[k], fieldSchema(s, k), node.child(fieldPE(k)), added);
}

export interface Comparison {
  /** Fields added or given another value. */
  changed: FieldSet;
  removed: FieldSet;
}

/** What changed from `a` to `b`, field by field. Equal subtrees are skipped without building sets. */
export function compare(a: unknown, b: unknown, s: Schema | undefined): Comparison {
  const out: Comparison = { changed: new FieldSet(), removed: new FieldSet() };
  if ((a === undefined || isMap(a)) && (b === undefined || isMap(b))) compareMaps((a ?? {}) as Record<string, unknown>, (b ?? {}) as Record<string, unknown>, s, out.changed, out.removed);
  else walkCompare(a, b, s, out.changed, out.removed);
  out.changed.prune();
  out.removed.prune();
  return out;
}

function walkCompare(a: unknown, b: unknown, s: Schema | undefined, changed: FieldSet, removed: FieldSet): void {
  if (a === b) return;
  if (a === undefined) return walkSet(b, s, changed, true);
  if (b === undefined) return walkSet(a, s, removed, true);
  const aLeaf = isLeaf(a, s);
  const bLeaf = isLeaf(b, s);
  if (aLeaf || bLeaf || Array.isArray(a) !== Array.isArray(b)) {
    if (aLeaf && bLeaf) {
      if (!deepEqual(a, b)) changed.member = true;
      return;
    }
    // One side became a leaf, the other has fields: the old fields go, the new ones come.
    if (!aLeaf) walkSet(a, s, removed);
    walkSet(b, s, changed);
    if (aLeaf && !bLeaf) removed.member = true;
    return;
  }
  if (Array.isArray(a)) {
    const t = listType(s);
    const items = itemSchema(s);
    const before = new Map<string, unknown>();
    (a as unknown[]).forEach((item, i) => before.set(itemPE(t, items, item, i), item));
    const seen = new Set<string>();
    (b as unknown[]).forEach((item, i) => {
      const pe = itemPE(t, items, item, i);
      seen.add(pe);
      if (!before.has(pe)) {
        const c = changed.child(pe);
        walkSet(item, items, c, true);
        c.member = true;
        return;
      }
      const prior = before.get(pe);
      if (prior === item || deepEqual(prior, item)) return;
      walkCompare(prior, item, items, changed.child(pe), removed.child(pe));
    });
    for (const [pe, item] of before) {
      if (seen.has(pe)) continue;
      const c = removed.child(pe);
      walkSet(item, items, c, true);
      c.member = true;
    }
    return;
  }
  compareMaps(a as Record<string, unknown>, b as Record<string, unknown>, s, changed, removed);
}

function compareMaps(am: Record<string, unknown>, bm: Record<string, unknown>, s: Schema | undefined, changed: FieldSet, removed: FieldSet): void {
  for (const k in bm) {
    const x = am[k];
    const y = bm[k];
    if (x === y) continue;
    const fs = fieldSchema(s, k);
    if (x === undefined) walkSet(y, fs, changed.child(fieldPE(k)), true);
    else if (!deepEqual(x, y)) walkCompare(x, y, fs, changed.child(fieldPE(k)), removed.child(fieldPE(k)));
  }
  for (const k in am) if (!(k in bm)) walkSet(am[k], fieldSchema(s, k), removed.child(fieldPE(k)), true);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) {
    if (!(k in (b as object))) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * The applied configuration merged into the live object: granular objects field by field, list
 * maps and sets item by item (the configuration's order, live-only items kept in place), atomic
 * values replaced. Returns a new value; shares untouched live subtrees.
 */
export function merge(live: unknown, config: unknown, s: Schema | undefined): unknown {
  if (isMap(live) && isMap(config)) return mergeMaps(live, config, s);
  return mergeValue(live, config, s);
}

function mergeMaps(live: Record<string, unknown>, config: Record<string, unknown>, s: Schema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...live };
  for (const k in config) out[k] = mergeValue(out[k], config[k], fieldSchema(s, k));
  return out;
}

function mergeValue(live: unknown, config: unknown, s: Schema | undefined): unknown {
  if (config === undefined) return live;
  if (live === undefined || isLeaf(config, s) || isLeaf(live, s) || Array.isArray(live) !== Array.isArray(config)) return config;
  if (Array.isArray(config)) {
    const t = listType(s);
    const items = itemSchema(s);
    const l = live as unknown[];
    const livePEs = l.map((item, i) => itemPE(t, items, item, i));
    const liveBy = new Map<string, unknown>();
    livePEs.forEach((pe, i) => liveBy.set(pe, l[i]));
    const configPEs = config.map((item, i) => itemPE(t, items, item, i));
    const configBy = new Map<string, unknown>();
    configPEs.forEach((pe, i) => configBy.set(pe, config[i]));
    const out: unknown[] = [];
    const emitted = new Set<string>();
    let ci = 0;
    const emitConfigUpTo = (stop: string | undefined) => {
      while (ci < configPEs.length) {
        const pe = configPEs[ci++];
        if (!emitted.has(pe)) {
          emitted.add(pe);
          out.push(mergeValue(liveBy.get(pe), configBy.get(pe), items));
        }
        if (pe === stop) return;
      }
    };
    for (const pe of livePEs) {
      if (emitted.has(pe)) continue;
      if (configBy.has(pe)) emitConfigUpTo(pe);
      else {
        emitted.add(pe);
        out.push(liveBy.get(pe));
      }
    }
    emitConfigUpTo(undefined);
    return out;
  }
  return mergeMaps(live as Record<string, unknown>, config as Record<string, unknown>, s);
}

/**
 * The value without the members of `remove`, except where `keep` (what other managers and the
 * applier still own) holds something at or under them. Returns a new value.
 */
export function removeFields(v: unknown, s: Schema | undefined, remove: FieldSet, keep: FieldSet | undefined): unknown {
  if (!remove.children || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const t = listType(s);
    const items = itemSchema(s);
    const out: unknown[] = [];
    v.forEach((item, i) => {
      const pe = itemPE(t, items, item, i);
      const r = remove.children!.get(pe);
      if (!r) return out.push(item);
      const k = keep?.children?.get(pe);
      if (r.member && (!k || k.empty())) return;
      out.push(removeFields(item, items, r, k));
    });
    return out;
  }
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const [pe, r] of remove.children) {
    if (!pe.startsWith('f:')) continue;
    const k = pe.slice(2);
    if (!(k in out)) continue;
    const kept = keep?.children?.get(pe);
    if (r.member && (!kept || kept.empty())) delete out[k];
    else out[k] = removeFields(out[k], fieldSchema(s, k), r, kept);
  }
  return out;
}
