// RFC 6902 JSON patch (application/json-patch+json) with the exact behaviour of the library
// upstream's API server uses (evanphx/json-patch v4), including its quirks:
// - `replace` of a missing object member adds it (only a missing parent or array index fails);
// - `test` against a missing member passes when the expected value is null;
// - `copy` from a missing object member copies null;
// - negative array indices count from the end;
// - a path without a leading '/' has its first segment ignored.
// Error texts follow the library, because they are what users search for.
import { cloneJson, hasKey, isMap, jsonEqual, type JsonMap } from './json.ts';
import { jsonKindName, patchBadRequest, patchTooLarge, patchUnprocessable } from './errors.ts';

/** Upstream rejects longer JSON patches with 413 before applying anything. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

type Container = JsonMap | unknown[];

/** An error from a container operation, to be wrapped with the operation's context. */
class OpFailure extends Error {}

function decodeToken(t: string): string {
  // RFC 6901: '~1' first, then '~0', in a single left-to-right pass.
  return t.replace(/~[01]/g, (m) => (m === '~1' ? '/' : '~'));
}

/** Go's strconv.Atoi, which accepts an optional sign and leading zeros. */
function atoi(key: string): number {
  if (!/^[+-]?\d+$/.test(key)) throw new OpFailure(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  return Number(key);
}

function badIndex(idx: number): OpFailure {
  return new OpFailure(`Unable to access invalid index: ${idx}: ${INVALID_INDEX}`);
}

function get(c: Container, key: string): unknown {
  if (!Array.isArray(c)) return hasKey(c, key) ? c[key] : undefined;
  let idx = atoi(key);
  if (idx < 0) {
    if (idx < -c.length) throw badIndex(idx);
    idx += c.length;
  }
  if (idx >= c.length) throw badIndex(idx);
  return c[idx];
}

/** Only used by replace, after get() has checked the index. */
function set(c: Container, key: string, val: unknown): void {
  if (!Array.isArray(c)) {
    c[key] = val;
    return;
  }
  let idx = atoi(key);
  if (idx < 0) idx += c.length;
  c[idx] = val;
}

function add(c: Container, key: string, val: unknown): void {
  if (!Array.isArray(c)) {
    c[key] = val;
    return;
  }
  if (key === '-') {
    c.push(val);
    return;
  }
  let idx: number;
  try {
    idx = atoi(key);
  } catch (e) {
    throw new OpFailure(`value was not a proper array index: '${key}': ${(e as Error).message}`);
  }
  const size = c.length + 1;
  if (idx >= size) throw badIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw badIndex(idx);
    idx += size;
  }
  c.splice(idx, 0, val);
}

function remove(c: Container, key: string): void {
  if (!Array.isArray(c)) {
    if (!hasKey(c, key)) throw new OpFailure(`Unable to remove nonexistent key: ${key}: ${MISSING}`);
    delete c[key];
    return;
  }
  let idx = atoi(key);
  if (idx >= c.length) throw badIndex(idx);
  if (idx < 0) {
    if (idx < -c.length) throw badIndex(idx);
    idx += c.length;
  }
  c.splice(idx, 1);
}

/** The container holding the last token of `path`, or undefined when a parent is missing. */
function findObject(root: Container, path: string): { con: Container; key: string } | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let doc: Container = root;
  for (const part of split.slice(1, -1)) {
    let next: unknown;
    try {
      next = get(doc, decodeToken(part));
    } catch {
      return undefined;
    }
    if (Array.isArray(next) || isMap(next)) doc = next;
    else return undefined; // missing, null or a scalar: nothing to descend into
  }
  return { con: doc, key: decodeToken(split[split.length - 1]) };
}

/** Reads a string member of an operation the way the library decodes it. */
function stringField(op: JsonMap, name: 'path' | 'from'): string {
  const v = op[name];
  if (v === undefined || v === null) {
    throw new OpFailure(name === 'path' ? `operation missing path field: ${MISSING}` : `operation, missing from field: ${MISSING}`);
  }
  if (typeof v !== 'string') throw new OpFailure(`json: cannot unmarshal ${jsonKindName(v)} into Go value of type string`);
  return v;
}

function kindOf(op: JsonMap): string {
  return typeof op.op === 'string' ? op.op : 'unknown';
}

function valueOf(op: JsonMap): unknown {
  // An absent value and an explicit null both end up as null in the document.
  return op.value === undefined ? null : op.value;
}

function wrap(prefix: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof OpFailure) throw new OpFailure(`${prefix}: ${e.message}`);
    throw e;
  }
}

/** Applies one operation; may replace the whole document (replace at path ""), so returns it. */
function applyOp(root: Container, op: JsonMap): Container {
  const kind = kindOf(op);
  switch (kind) {
    case 'add': {
      let path: string;
      try {
        path = stringField(op, 'path');
      } catch {
        throw new OpFailure(`add operation failed to decode path: ${MISSING}`);
      }
      const t = findObject(root, path);
      if (!t) throw new OpFailure(`add operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      wrap(`error in add for path: '${path}'`, () => add(t.con, t.key, valueOf(op)));
      return root;
    }
    case 'remove': {
      let path: string;
      try {
        path = stringField(op, 'path');
      } catch {
        throw new OpFailure(`remove operation failed to decode path: ${MISSING}`);
      }
      const t = findObject(root, path);
      if (!t) throw new OpFailure(`remove operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      wrap(`error in remove for path: '${path}'`, () => remove(t.con, t.key));
      return root;
    }
    case 'replace': {
      let path = '';
      wrap('replace operation failed to decode path', () => (path = stringField(op, 'path')));
      if (path === '') {
        const v = valueOf(op);
        // The library formats a nil error here, hence the odd tail.
        if (!Array.isArray(v) && !isMap(v)) throw new OpFailure('replace operation value must be object or array: %!w(<nil>)');
        return v;
      }
      const t = findObject(root, path);
      if (!t) throw new OpFailure(`replace operation does not apply: doc is missing path: ${path}: ${MISSING}`);
      try {
        get(t.con, t.key);
      } catch {
        throw new OpFailure(`replace operation does not apply: doc is missing key: ${path}: ${MISSING}`);
      }
      wrap(`error in remove for path: '${path}'`, () => set(t.con, t.key, valueOf(op)));
      return root;
    }
    case 'move': {
      let from = '';
      wrap('move operation failed to decode from', () => (from = stringField(op, 'from')));
      const src = findObject(root, from);
      if (!src) throw new OpFailure(`move operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      let val: unknown;
      wrap(`error in move for path: '${src.key}'`, () => (val = get(src.con, src.key)));
      wrap(`error in move for path: '${src.key}'`, () => remove(src.con, src.key));
      let path = '';
      wrap('move operation failed to decode path', () => (path = stringField(op, 'path')));
      const dst = findObject(root, path);
      if (!dst) throw new OpFailure(`move operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      wrap(`error in move for path: '${path}'`, () => add(dst.con, dst.key, val === undefined ? null : val));
      return root;
    }
    case 'copy': {
      let from = '';
      wrap('copy operation failed to decode from', () => (from = stringField(op, 'from')));
      const src = findObject(root, from);
      if (!src) throw new OpFailure(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      let val: unknown;
      wrap(`error in copy for from: '${from}'`, () => (val = get(src.con, src.key)));
      let path: string;
      try {
        path = stringField(op, 'path');
      } catch {
        throw new OpFailure(`copy operation failed to decode path: ${MISSING}`);
      }
      const dst = findObject(root, path);
      if (!dst) throw new OpFailure(`copy operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      const copy = val === undefined ? null : cloneJson(val);
      wrap('error while adding value during copy', () => add(dst.con, dst.key, copy));
      return root;
    }
    case 'test': {
      let path = '';
      wrap('test operation failed to decode path', () => (path = stringField(op, 'path')));
      const failed = () => new OpFailure(`testing value ${path} failed: test failed`);
      if (path === '') {
        if (!jsonEqual(root, op.value)) throw failed();
        return root;
      }
      const t = findObject(root, path);
      if (!t) throw new OpFailure(`test operation does not apply: is missing path: ${path}: ${MISSING}`);
      let actual: unknown;
      wrap(`error in test for path: '${path}'`, () => (actual = get(t.con, t.key)));
      if (actual === undefined || actual === null) {
        if (op.value === undefined || op.value === null) return root;
        throw failed();
      }
      if (op.value === undefined || !jsonEqual(actual, op.value)) throw failed();
      return root;
    }
    default:
      throw new OpFailure(`Unexpected kind: ${kind}`);
  }
}

/**
 * Applies an RFC 6902 patch (the decoded request body) to a document and returns the result;
 * neither argument is changed. Throws PatchError: 400 when `ops` is not a list of objects, 413
 * beyond 10,000 operations, 422 when an operation does not apply (nothing is applied then).
 */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (ops === null) return cloneJson(doc); // decodes to an empty patch
  if (!Array.isArray(ops)) throw patchBadRequest(`json: cannot unmarshal ${jsonKindName(ops)} into Go value of type jsonpatch.Patch`);
  for (const op of ops) {
    if (op !== null && !isMap(op)) throw patchBadRequest(`json: cannot unmarshal ${jsonKindName(op)} into Go value of type jsonpatch.Operation`);
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw patchTooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  if (!Array.isArray(doc) && !isMap(doc)) throw patchUnprocessable('the document to patch is not a JSON object or array');
  let root = cloneJson(doc) as Container;
  const privateOps = cloneJson(ops) as (JsonMap | null)[];
  for (const op of privateOps) {
    try {
      root = applyOp(root, op ?? {});
    } catch (e) {
      if (e instanceof OpFailure) throw patchUnprocessable(e.message);
      throw e;
    }
  }
  return root;
}
