// Whether two values have the same JSON text, without building either text. A pod worker compares
// the status it computed with the pod's on every sync, and most syncs find them equal: comparing
// two JSON.stringify strings cost a status's serialization twice per sync.

/** JSON.stringify(a) === JSON.stringify(b), for plain JSON data (no toJSON, no cycles): key order counts, as it does in the text. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return sameScalar(a, b);
  const arrayA = Array.isArray(a);
  if (arrayA !== Array.isArray(b)) return false;
  if (arrayA) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameJson(inArray(x[i]), inArray(y[i]))) return false;
    return true;
  }
  // Members JSON leaves out (undefined, functions, symbols) are skipped on both sides, in order.
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const kx = Object.keys(x);
  const ky = Object.keys(y);
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < kx.length && !written(x[kx[i]!])) i++;
    while (j < ky.length && !written(y[ky[j]!])) j++;
    if (i === kx.length || j === ky.length) return i === kx.length && j === ky.length;
    if (kx[i] !== ky[j] || !sameJson(x[kx[i]!], y[ky[j]!])) return false;
    i++;
    j++;
  }
}

const written = (v: unknown) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

/** An array slot as JSON writes it: what an object would leave out becomes null. */
const inArray = (v: unknown) => (written(v) ? v : null);

function sameScalar(a: unknown, b: unknown): boolean {
  // Numbers JSON cannot write are written as null; -0 as 0 (=== already equates those).
  const norm = (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v);
  return norm(a) === norm(b);
}
