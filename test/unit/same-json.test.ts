// sameJson (agent/json-equal.ts) answers exactly what comparing the two JSON.stringify texts would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameJson } from '../../src/agent/json-equal.ts';

/** A small random JSON-ish value, with what JSON leaves out or rewrites (undefined, NaN, -0, functions). */
function randomValue(depth: number, r: () => number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 8 : 11));
  switch (pick) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 3);
    case 3: return ['a', 'b', '', 'True'][Math.floor(r() * 4)];
    case 4: return undefined;
    case 5: return [NaN, Infinity, -0, 0][Math.floor(r() * 4)];
    case 6: return r() < 0.5 ? () => 1 : 'x';
    case 7: return 1.5;
    case 8:
    case 9: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 4);
      for (let i = 0; i < n; i++) o[['a', 'b', 'c', 'd'][Math.floor(r() * 4)]!] = randomValue(depth + 1, r);
      return o;
    }
    default: return Array.from({ length: Math.floor(r() * 3) }, () => randomValue(depth + 1, r));
  }
}

/** A copy with one change somewhere (or none), so that equal and nearly equal pairs are both common. */
function mutate(v: unknown, r: () => number): unknown {
  if (r() < 0.3) return randomValue(2, r);
  if (Array.isArray(v)) return v.map((x) => (r() < 0.3 ? mutate(x, r) : x));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    const keys = Object.keys(v);
    if (r() < 0.1) keys.reverse();
    for (const k of keys) out[k] = r() < 0.3 ? mutate((v as Record<string, unknown>)[k], r) : (v as Record<string, unknown>)[k];
    if (r() < 0.1) out.e = randomValue(2, r);
    return out;
  }
  return v;
}

test('sameJson agrees with comparing JSON texts, key order, left-out members and null-written numbers included', () => {
  let seed = 12345;
  const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let equal = 0;
  for (let i = 0; i < 50_000; i++) {
    const a = { v: randomValue(0, r) };
    const b = r() < 0.4 ? JSON.parse(JSON.stringify(a)) : mutate(a, r);
    const want = JSON.stringify(a) === JSON.stringify(b);
    if (want) equal++;
    assert.equal(sameJson(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(sameJson(b, a), want);
  }
  assert.ok(equal > 10_000 && equal < 45_000, `${equal} equal pairs: both answers are exercised`);
});

test('sameJson on pod statuses: a transition time or a key order is a difference', () => {
  const s = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }], hostIP: '192.0.2.1' };
  assert.equal(sameJson(s, structuredClone(s)), true);
  assert.equal(sameJson(s, { ...s, conditions: [{ ...s.conditions[0], lastTransitionTime: '2026-01-01T00:00:01Z' }] }), false);
  assert.equal(sameJson(s, { hostIP: '192.0.2.1', phase: 'Running', conditions: s.conditions }), false);
  assert.equal(sameJson({ ...s, message: undefined }, s), true);
});
