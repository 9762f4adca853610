// RFC 7386 JSON merge patch (application/merge-patch+json) as upstream's API server applies it
// (evanphx/json-patch v4 MergePatch): objects merge recursively, null deletes a member, anything
// else replaces. Like the library, nulls inside a value that replaces (rather than merges into)
// the target are pruned, including null elements of arrays, except where an object in the
// document is replaced by a non-object, which is taken verbatim.
import { cloneJson, hasKey, isMap, type JsonMap } from './json.ts';
import { patchBadRequest, patchInternal } from './errors.ts';

function pruneNulls(v: unknown): unknown {
  if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else v[k] = pruneNulls(v[k]);
    }
    return v;
  }
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(pruneNulls);
  return v;
}

function mergeValue(cur: unknown, patch: unknown): unknown {
  if (!isMap(cur)) return pruneNulls(patch);
  if (!isMap(patch)) return patch;
  mergeDocs(cur, patch);
  return cur;
}

function mergeDocs(doc: JsonMap, patch: JsonMap): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete doc[k];
    else if (!hasKey(doc, k) || doc[k] === null) doc[k] = pruneNulls(v);
    else doc[k] = mergeValue(doc[k], v);
  }
}

/**
 * Applies a JSON merge patch (the decoded request body) and returns the result; neither argument
 * is changed. A patch that is null or a scalar is rejected with a 400 PatchError ("Invalid JSON
 * Patch"); a patch that is an array replaces the whole document, as upstream's library does.
 */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === null || patch === undefined || (!isMap(patch) && !Array.isArray(patch))) throw patchBadRequest('Invalid JSON Patch');
  if (doc === null || doc === undefined) throw patchInternal('Invalid JSON Document');
  const p = cloneJson(patch);
  if (Array.isArray(p)) return pruneNulls(p);
  if (!isMap(doc)) return pruneNulls(p);
  const d = cloneJson(doc);
  mergeDocs(d, p as JsonMap);
  return d;
}
