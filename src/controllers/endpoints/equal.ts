// Semantic equality of JSON values for the endpoints controllers' no-op checks, as upstream's
// apiequality.Semantic.DeepEqual judges API objects: map key order does not matter and a null
// field is the same as an absent one. It walks both values without allocating, so comparing a
// thousand addresses on every sync stays cheap (serialising them both was the old way).

const absent = (v: unknown) => v === undefined || v === null;

/** Deep equality of JSON values; `skip` names a key ignored at the top level of two maps. */
export function jsonEqual(a: unknown, b: unknown, skip?: string): boolean {
  if (a === b) return true;
  if (absent(a) || absent(b) || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let present = 0;
  for (const k in ao) {
    if (k === skip || absent(ao[k])) continue;
    present++;
    if (!jsonEqual(ao[k], bo[k])) return false;
  }
  // Every present key of `a` matched; `b` may not have more.
  for (const k in bo) if (k !== skip && !absent(bo[k])) present--;
  return present === 0;
}
