// Validation's deepEqual (null and absent map members are equal; key order is irrelevant) decides
// as its former form, which built the union of both key sets, on random JSON pairs made to be
// near-equal: shared parts, nulls for absent members, members only on one side, reordered keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepEqual } from '../../src/api/validation/fields.ts';
import { Rng } from '../fuzz/rng.ts';

/** The former implementation, kept here as the model. */
function modelEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return (a === null || a === undefined) && (b === null || b === undefined) && a === b;
  if (typeof a !== typeof b) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => modelEqual(x, b[i]));
  }
  if (typeof a === 'object') {
    if (Array.isArray(b)) return false;
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
      const av = ao[k];
      const bv = bo[k];
      if ((av === undefined || av === null) && (bv === undefined || bv === null)) continue;
      if (!modelEqual(av, bv)) return false;
    }
    return true;
  }
  return false;
}

const KEYS = ['a', 'b', 'c', 'spec', 'name', '0'];
const SCALARS: unknown[] = [0, 1, -1, 1.5, '', 'x', 'y', true, false, null];

function value(r: Rng, depth: number): unknown {
  const roll = r.int(depth > 2 ? 1 : 4);
  if (roll === 0) return r.pick(SCALARS);
  if (roll === 1) return Array.from({ length: r.int(3) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (const k of KEYS) if (r.chance(0.4)) o[k] = value(r, depth + 1);
  return o;
}

/** A variant of v: mostly the same, sometimes with a member nulled, dropped, added, changed, or keys reordered. */
function variant(r: Rng, v: unknown, depth: number): unknown {
  if (r.chance(0.05)) return value(r, depth);
  if (Array.isArray(v)) {
    const out = v.map((x) => variant(r, x, depth + 1));
    if (r.chance(0.05)) out.push(value(r, depth + 1));
    return out;
  }
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v).map(([k, x]): [string, unknown] => [k, variant(r, x, depth + 1)]);
  const out: Record<string, unknown> = {};
  if (r.chance(0.3)) entries.reverse();
  for (const [k, x] of entries) {
    if (r.chance(0.05)) continue;
    out[k] = r.chance(0.05) ? null : x;
  }
  if (r.chance(0.05)) out[r.pick(KEYS)] = r.chance(0.5) ? null : value(r, depth + 1);
  if (r.chance(0.05)) out.extra = undefined;
  return out;
}

test('deepEqual decides as the model on 20,000 near-equal pairs', () => {
  const r = new Rng(20261207);
  let equal = 0;
  for (let i = 0; i < 20_000; i++) {
    const a = value(r, 0);
    const b = variant(r, a, 0);
    const want = modelEqual(a, b);
    assert.equal(deepEqual(a, b), want, `pair ${i}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(deepEqual(b, a), modelEqual(b, a), `pair ${i} reversed`);
    if (want) equal++;
  }
  // Both answers are well represented, so the comparison means something.
  assert.ok(equal > 2_000 && equal < 18_000, `equal pairs: ${equal}`);
});

test('null and absent members are equal; null and absent at the top are not', () => {
  assert.equal(deepEqual({ a: null }, {}), true);
  assert.equal(deepEqual({}, { a: undefined, b: null }), true);
  assert.equal(deepEqual({ a: 0 }, {}), false);
  assert.equal(deepEqual({}, { a: '' }), false);
  assert.equal(deepEqual(null, undefined), false);
  assert.equal(deepEqual([null], []), false);
  assert.equal(deepEqual({ a: 1, b: 2 }, { b: 2, a: 1 }), true);
});
