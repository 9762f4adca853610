// Strategic merge patch (application/strategic-merge-patch+json) as upstream's API server applies
// it (apimachinery strategicpatch.StrategicMergeMapPatch, server side: parallel lists merged,
// unmatched nulls ignored). The algorithm, its ordering rules and its error texts follow upstream
// step by step, because kubectl computes patches that rely on them:
// - maps merge recursively; null deletes a key; a field with strategy 'replace' is replaced;
// - lists with strategy 'merge' and a merge key are merged element by element; lists of scalars
//   with strategy 'merge' are unioned; other lists are replaced whole;
// - directives: `$patch: replace|delete` on a map, `$patch: replace|delete` elements in a merge
//   list, `$retainKeys`, `$deleteFromPrimitiveList/<list>`, `$setElementOrder/<list>`.
// The work happens on private copies, so the caller's document and patch are never changed.
import { resolveSchema, type Schema } from '../../api/schema.ts';
import { cloneJson, hasKey, isMap, type JsonMap } from './json.ts';
import { goTypeName, goValue, jsonKindName, patchBadRequest, patchInternal, patchUnprocessable } from './errors.ts';
import { fieldMeta, listMeta } from './schema-meta.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

// Upstream's sentinel errors; the handler maps the first four to 400 and lists-of-lists to 422.
const badPrimitiveList = () => patchBadRequest('invalid patch format of primitive list');
const badRetainKeys = () => patchBadRequest('invalid patch format of retainKeys');
const badSetElementOrder = () => patchBadRequest('invalid patch format of setElementOrder list');
const noListOfLists = () => patchUnprocessable('lists of lists are not supported');

const noMergeKey = (m: JsonMap, key: string) => patchInternal(`map: ${goValue(m)} does not contain declared merge key: ${key}`);
const badArgType = (expected: string, actual: unknown) => patchInternal(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const MAP_TYPE = 'map[string]interface {}';
const SLICE_TYPE = '[]interface {}';

function badPatchType(t: unknown, m: JsonMap) {
  const shown = typeof t === 'string' ? t : `%!s(${goTypeName(t)}=${goValue(t)})`;
  return patchInternal(`unknown patch type: ${shown} in map: ${goValue(m)}`);
}

/** The Go kind a decoded value would have; int64 and float64 differ there, so they do here. */
type Kind = 'map' | 'slice' | 'string' | 'int' | 'float' | 'bool' | 'nil';

function kindOf(v: unknown): Kind {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return Number.isInteger(v) ? 'int' : 'float';
}

/** Upstream compares JSON numbers as int64 or float64 interface values; 1 and 1.0 differ. */
function scalarEqual(a: unknown, b: unknown): boolean {
  return a === b && kindOf(a) === kindOf(b);
}

/** Like JS Map keys, but telling integers from floats as Go's interface map keys do. */
function scalarKey(v: unknown): string {
  return isMap(v) || Array.isArray(v) ? `j:${JSON.stringify(v)}` : `${kindOf(v)}:${String(v)}`;
}

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw prefix === DELETE_FROM_PRIMITIVE_LIST ? badPrimitiveList() : badSetElementOrder();
  }
  return key.slice(slash + 1);
}

/** The common kind of all elements of the given lists; lists of lists are refused. */
function sliceElementKind(...lists: unknown[][]): Kind {
  let prev: Kind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (prev === undefined) {
        if (k === 'slice') throw noListOfLists();
        prev = k;
      } else if (prev !== k) {
        throw patchInternal(`list element types are not identical: ${goValue(lists)}`);
      }
    }
  }
  if (prev === undefined) throw patchInternal('no elements in any of the given slices');
  return prev;
}

// ---------------------------------------------------------------------------------------------
// Cleaning values that are taken from the patch as they are

/** Drops null members (not null list elements), as upstream does for values it adds. */
function discardNulls(v: unknown): void {
  if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNulls(v[k]);
    }
  } else if (Array.isArray(v)) {
    v.forEach(discardNulls);
  }
}

/** Drops maps carrying `$patch` from a value that is added without merging; false: drop it all. */
function removeDirectives(v: unknown): [unknown, boolean] {
  if (isMap(v)) {
    if (hasKey(v, DIRECTIVE)) return [undefined, false];
    for (const k of Object.keys(v)) {
      const [nv, keep] = removeDirectives(v[k]);
      if (keep) v[k] = nv;
      else delete v[k];
    }
    return [v, true];
  }
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const [nx, keep] = removeDirectives(x);
      if (keep) out.push(nx);
    }
    return [out, true];
  }
  return [v, true];
}

function takePatchValue(original: JsonMap, key: string, patchV: unknown): void {
  discardNulls(patchV);
  const [v, keep] = removeDirectives(patchV);
  if (keep) original[key] = v;
  else delete original[key];
}

// ---------------------------------------------------------------------------------------------
// Maps

function handleDirectiveInMap(directive: unknown, patch: JsonMap): JsonMap {
  if (directive === 'replace') {
    // The patch is the new value, as it is; only the marker goes.
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === 'delete') return {};
  throw badPatchType(directive, patch);
}

/** `$retainKeys`: keys of the original missing from the list are cleared before merging. */
function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!hasKey(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw badRetainKeys();
  const retained = new Set(list.map(scalarKey));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    // Every field the patch sets must be among the retained ones.
    if (!retained.has(scalarKey(k))) throw badRetainKeys();
  }
  for (const k of Object.keys(original)) {
    if (!retained.has(scalarKey(k))) delete original[k];
  }
}

function mergeMap(original: JsonMap | null, patch: JsonMap, schema: Schema | undefined): JsonMap {
  if (hasKey(patch, DIRECTIVE)) return handleDirectiveInMap(patch[DIRECTIVE], patch);
  const orig = original ?? {};
  applyRetainKeys(orig, patch);
  // Lists named by `$setElementOrder/...` are merged and ordered first, then left out below.
  mergeOrderedLists(orig, patch, schema);

  // Upstream walks the patch in Go's random map order; deletions from scalar lists go first here
  // so that the result never depends on the order of the patch's keys.
  const keys = Object.keys(patch);
  const ordered = [...keys.filter((k) => k.startsWith(DELETE_FROM_PRIMITIVE_LIST)), ...keys.filter((k) => !k.startsWith(DELETE_FROM_PRIMITIVE_LIST))];
  for (const patchKey of ordered) {
    const patchV = patch[patchKey];
    const isDeleteList = patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST);
    const k = isDeleteList ? extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST) : patchKey;

    if (patchV === null) {
      delete orig[k];
      continue;
    }
    if (!hasKey(orig, k) || kindOf(orig[k]) !== kindOf(patchV)) {
      // Nothing to merge with: take the patch value (a deletion list has nothing to delete).
      if (!isDeleteList) takePatchValue(orig, k, patchV);
      continue;
    }
    const kind = kindOf(orig[k]);
    if (kind === 'map') {
      const m = fieldMeta(schema, k);
      orig[k] = m.strategy === 'replace' ? patchV : mergeMap(orig[k] as JsonMap, patchV as JsonMap, m.schema);
    } else if (kind === 'slice') {
      const m = listMeta(schema, k);
      orig[k] = mergeListField(orig[k] as unknown[], patchV as unknown[], m.schema, m.strategy, m.mergeKey, isDeleteList);
    } else {
      takePatchValue(orig, k, patchV);
    }
  }
  return orig;
}

// ---------------------------------------------------------------------------------------------
// Lists

function mergeListField(original: unknown[], patch: unknown[], items: Schema | undefined, strategy: string, mergeKey: string, isDeleteList: boolean): unknown[] {
  // A deletion list deletes whatever the field's strategy.
  if (strategy === 'merge' || isDeleteList) return mergeSlice(original, patch, items, mergeKey, isDeleteList);
  return patch;
}

function mergeSlice(original: unknown[], patch: unknown[], items: Schema | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  let merged: unknown[];
  if (kind !== 'map') {
    if (isDeleteList) {
      const gone = new Set(patch.map(scalarKey));
      return original.filter((v) => !gone.has(scalarKey(v)));
    }
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (mergeKey === '') throw patchInternal('cannot merge lists without merge key for struct');
    [original, patch] = applySpecialElements(original as JsonMap[], patch as JsonMap[], mergeKey);
    merged = mergeByKey(original as JsonMap[], patch as JsonMap[], mergeKey, items);
  }
  const [patchItems, serverOnly] = mergeKey === '' ? partitionScalars(merged, patch) : partitionMaps(merged, patch, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

/** Handles `$patch` elements: delete removes the original's matching elements, replace wins all. */
function applySpecialElements(original: JsonMap[], patch: JsonMap[], mergeKey: string): [JsonMap[], JsonMap[]] {
  const plain: JsonMap[] = [];
  let replace = false;
  for (const v of patch) {
    if (!hasKey(v, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = v[DIRECTIVE];
    if (directive === 'delete') {
      if (!hasKey(v, mergeKey)) throw noMergeKey(v, mergeKey);
      original = original.filter((o) => !(hasKey(o, mergeKey) && scalarEqual(o[mergeKey], v[mergeKey])));
    } else if (directive === 'replace') {
      replace = true; // keep going: other directive elements are still dropped
    } else if (directive === 'merge') {
      throw patchInternal('merging lists cannot yet be specified in the patch');
    } else {
      throw badPatchType(directive, v);
    }
  }
  return replace ? [plain, []] : [original, plain];
}

/** Merges each patch element into the element with the same key, or appends it. */
function mergeByKey(original: JsonMap[], patch: JsonMap[], mergeKey: string, items: Schema | undefined): JsonMap[] {
  const out = [...original];
  for (const v of patch) {
    if (!hasKey(v, mergeKey)) throw noMergeKey(v, mergeKey);
    const i = out.findIndex((o) => hasKey(o, mergeKey) && scalarEqual(o[mergeKey], v[mergeKey]));
    if (i >= 0) out[i] = mergeMap(out[i], v, items);
    else out.push(v);
  }
  return out;
}

/** Upstream's in-place deduplication, which moves the last element into each duplicate's slot. */
function deduplicateScalars(s: unknown[]): unknown[] {
  let last = s.length - 1;
  for (let i = 0; i < last; i++) {
    for (let j = i + 1; j <= last; j++) {
      if (scalarKey(s[i]) === scalarKey(s[j])) {
        s[j] = s[last];
        s.length = last;
        last--;
        j--;
      }
    }
  }
  return s;
}

function partitionScalars(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inBy = new Set(by.map(scalarKey));
  const inside: unknown[] = [];
  const outside: unknown[] = [];
  for (const v of list) (inBy.has(scalarKey(v)) ? inside : outside).push(v);
  return [inside, outside];
}

function partitionMaps(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inside: unknown[] = [];
  const outside: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw badArgType(MAP_TYPE, v);
    if (!hasKey(v, mergeKey)) throw noMergeKey(v, mergeKey);
    const found = by.some((b, i) => {
      if (!isMap(b)) throw patchInternal(`value for key ${i} is not a map.`);
      return hasKey(b, mergeKey) && scalarEqual(b[mergeKey], v[mergeKey]);
    });
    (found ? inside : outside).push(v);
  }
  return [inside, outside];
}

// ---------------------------------------------------------------------------------------------
// Ordering: patch items follow the patch's (or $setElementOrder's) order, items only on the
// server keep the server's order, and the two are interleaved by their places on the server.
// New items therefore come before the server-only items that follow them in the patch's view,
// e.g. adding container "b" to [a] without $setElementOrder gives [b, a], as upstream does.

function indexIn(list: unknown[], v: unknown, mergeKey: string, kind: Kind): number {
  const key = (x: unknown) => (kind === 'map' ? (isMap(x) ? x[mergeKey] : undefined) : x);
  const want = key(v);
  return list.findIndex((x) => scalarEqual(key(x), want));
}

function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: Kind): unknown[] {
  let keep = toSort;
  let deletes: unknown[] = [];
  if (kind === 'map') {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isMap(item)) throw badArgType(MAP_TYPE, item);
        if (!hasKey(item, mergeKey)) throw noMergeKey(item, mergeKey);
      }
    }
    keep = toSort.filter((v) => (v as JsonMap)[DIRECTIVE] !== 'delete');
    deletes = toSort.filter((v) => (v as JsonMap)[DIRECTIVE] === 'delete');
  }
  const positioned = keep.map((v, i) => ({ v, i, at: indexIn(order, v, mergeKey, kind) }));
  // Stable: items the order does not mention keep their relative place.
  positioned.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : 0) || a.i - b.i);
  return [...positioned.map((p) => p.v), ...deletes];
}

function normalizeElementOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: Kind): unknown[] {
  const right = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const left = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const li = indexIn(serverOrder, left[i], mergeKey, kind);
    const ri = indexIn(serverOrder, right[j], mergeKey, kind);
    // A server-only item goes first only when both are on the server and it came earlier there.
    if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
    else out.push(right[j++]);
  }
  return [...out, ...left.slice(i), ...right.slice(j)];
}

/** True when two list items have the same merge key value (or are equal, without a key). */
function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return scalarEqual(left, right);
  if (!isMap(left)) throw badArgType(MAP_TYPE, left);
  if (!isMap(right)) throw badArgType(MAP_TYPE, right);
  if (!hasKey(left, mergeKey)) throw noMergeKey(left, mergeKey);
  if (!hasKey(right, mergeKey)) throw noMergeKey(right, mergeKey);
  return scalarEqual(left[mergeKey], right[mergeKey]);
}

/** The patch list's items must appear in $setElementOrder, in the same relative order. */
function validateWithSetOrder(patchList: unknown[], setOrder: unknown[], mergeKey: string): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  let items = patchList;
  if (mergeKey !== '') {
    for (const v of patchList) if (!isMap(v)) throw badArgType(MAP_TYPE, v);
    items = patchList.filter((v) => (v as JsonMap)[DIRECTIVE] !== 'delete');
  }
  let p = 0;
  let s = 0;
  while (p < items.length && s < setOrder.length) {
    if (isMap(items[p]) && hasKey(items[p] as JsonMap, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(items[p], setOrder[s], mergeKey)) p++;
    s++;
  }
  if (p < items.length && s >= setOrder.length) {
    throw patchInternal(`The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goValue(setOrder)}\n`);
  }
}

/** Processes every `$setElementOrder/<list>` of this map together with the list it orders. */
function mergeOrderedLists(original: JsonMap, patch: JsonMap, schema: Schema | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const setOrder = patch[key];
    delete patch[key];
    if (!Array.isArray(setOrder)) throw badArgType(SLICE_TYPE, setOrder);
    const listKey = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = hasKey(original, listKey);
    const foundPatch = hasKey(patch, listKey);
    const originalList = original[listKey];
    const patchList = patch[listKey];
    if (foundOriginal && !Array.isArray(originalList)) throw badArgType(SLICE_TYPE, originalList);
    if (foundPatch && !Array.isArray(patchList)) throw badArgType(SLICE_TYPE, patchList);
    const origItems = (foundOriginal ? originalList : []) as unknown[];
    const patchItems = (foundPatch ? patchList : []) as unknown[];
    const m = listMeta(schema, listKey);
    validateWithSetOrder(patchItems, setOrder, m.mergeKey);

    if (origItems.length === 0 && patchItems.length === 0) {
      // Upstream never sees empty lists here (its typed objects omit them); nothing to order.
      if (foundOriginal || foundPatch) original[listKey] = [];
      delete patch[listKey];
      continue;
    }
    let merged: unknown[];
    if (foundOriginal && foundPatch) merged = mergeListField(origItems, patchItems, m.schema, m.strategy, m.mergeKey, false);
    else if (foundOriginal) merged = origItems;
    else if (foundPatch) merged = removeDirectives(patchItems)[0] as unknown[];
    else continue;

    const [inOrder, serverOnly] = m.mergeKey === '' ? partitionScalars(merged, setOrder) : partitionMaps(merged, setOrder, m.mergeKey);
    const kind = sliceElementKind(origItems, patchItems);
    original[listKey] = normalizeElementOrder(inOrder, serverOnly, setOrder, origItems, m.mergeKey, kind);
    delete patch[listKey];
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Upstream decodes the merged map into a typed object, which silently drops members no type
 * has, such as directives that rode along inside values taken from the patch. Our objects are
 * not typed, so those members are removed here instead.
 */
/**
 * Removes directive keys left in a merged result. Opaque objects (RawExtension, such as a
 * ControllerRevision's data, whose schema declares no fields) are the user's own JSON and are
 * kept as they are: upstream stores them verbatim, directives included.
 */
function stripDirectiveKeys(v: unknown, schema: Schema | undefined): unknown {
  const s = resolveSchema(schema);
  if (Array.isArray(v)) return v.map((x) => stripDirectiveKeys(x, resolveSchema(s?.items)));
  if (!isMap(v)) return v;
  if (s && s.type === 'object' && !s.properties && !s.additionalProperties) return v;
  for (const k of Object.keys(v)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(`${SET_ELEMENT_ORDER}/`) || k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`)) delete v[k];
    else v[k] = stripDirectiveKeys(v[k], childSchema(s, k));
  }
  return v;
}

function childSchema(s: Schema | undefined, key: string): Schema | undefined {
  if (!s) return undefined;
  if (s.properties) return s.properties[key];
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/**
 * Applies a strategic merge patch (the decoded request body) to an object and returns the
 * result; neither argument is changed. `schema` describes the object (e.g. the StatefulSet
 * component); where it is undefined or says nothing about a field, that subtree is merged like a
 * JSON merge patch (maps merge, lists are replaced), directives still honoured.
 * Throws PatchError with upstream's status code (400, 422 or 500) when the patch cannot apply.
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema: Schema | undefined): unknown {
  if (patch === null || patch === undefined) return cloneJson(doc); // decodes to an empty patch
  if (!isMap(patch)) throw patchBadRequest(`json: cannot unmarshal ${jsonKindName(patch)} into Go value of type map[string]interface {}`);
  const original = isMap(doc) ? cloneJson(doc) : {};
  return stripDirectiveKeys(mergeMap(original, cloneJson(patch), schema), schema);
}
