// sameStoredJson stands in for comparing stored texts when the old text is no longer remembered:
// it must agree with the texts whenever it answers, over whatever a writer's object may hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameStoredJson } from '../../src/storage/json-equal.ts';
import { storedValue } from '../../src/storage/cache.ts';

type Obj = Record<string, any>;

/** A deterministic pseudo-random generator (mulberry32), so that a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'b', 'c', '1', '0', 'metadata', 'resourceVersion', '__proto__', 'spec'];

function randomJson(r: () => number, depth: number): unknown {
  const x = r();
  if (depth <= 0 || x < 0.35) {
    const p = [null, true, false, 0, 1, 2.5, 'x', 'y', '', '0'];
    return p[Math.floor(r() * p.length)];
  }
  if (x < 0.6) return Array.from({ length: Math.floor(r() * 3) }, () => randomJson(r, depth - 1));
  const o: Obj = {};
  for (let i = Math.floor(r() * 4); i > 0; i--) Object.defineProperty(o, KEYS[Math.floor(r() * KEYS.length)]!, { value: randomJson(r, depth - 1), enumerable: true, writable: true, configurable: true });
  return o;
}

/** A writer's variant of a cached object: changed, reordered, or holding what JSON prints otherwise. */
function variant(r: () => number, v: unknown, depth: number): unknown {
  const x = r();
  if (x < 0.5) return v; // the very part (a status write's kept spec)
  if (v === null || typeof v !== 'object') {
    if (x < 0.6 && v === 0) return -0;
    if (x < 0.65 && v === null) return NaN;
    if (x < 0.7) return randomJson(r, 1);
    return v;
  }
  if (Array.isArray(v)) {
    const out = v.map((e) => variant(r, e, depth - 1));
    if (x < 0.55 && out.length) out[0] = r() < 0.5 ? undefined : () => 1;
    if (x < 0.58) out.push(randomJson(r, 1));
    return out;
  }
  const keys = Object.keys(v);
  if (x < 0.6) keys.reverse();
  const out: Obj = {};
  for (const k of keys) Object.defineProperty(out, k, { value: variant(r, (v as Obj)[k], depth - 1), enumerable: true, writable: true, configurable: true });
  if (x < 0.65) out.extra = r() < 0.3 ? undefined : r() < 0.5 ? Symbol('s') : () => 2;
  if (x > 0.97) out.when = new Date(0);
  if (x > 0.95 && x <= 0.97) out.big = 1n;
  return out;
}

function text(o: Obj): string | undefined {
  try {
    return storedValue(o);
  } catch {
    return undefined;
  }
}

test('sameStoredJson agrees with the stored texts whenever it answers', () => {
  const r = rng(15);
  let answered = 0;
  let equal = 0;
  for (let i = 0; i < 20000; i++) {
    const base: Obj = { kind: 'X', ...(randomJson(r, 4) as Obj), metadata: { name: 'n', ...((randomJson(r, 2) as Obj) ?? {}), resourceVersion: String(i) } };
    if (r() < 0.2) base.metadata = { resourceVersion: '1', name: 'n' };
    const cached = JSON.parse(JSON.stringify(base)) as Obj;
    const obj = variant(r, cached, 5) as Obj;
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) continue;
    if (r() < 0.3 && obj.metadata && typeof obj.metadata === 'object') obj.metadata = { ...obj.metadata, resourceVersion: 'other' };
    const a = text(obj);
    const b = text(cached)!;
    const got = sameStoredJson(obj, cached);
    if (got === undefined) continue;
    answered++;
    if (got) equal++;
    assert.equal(got, a === b, `case ${i}: ${a} vs ${b}`);
  }
  assert.ok(answered > 15000, `answered ${answered}`);
  assert.ok(equal > 2000 && answered - equal > 2000, `equal ${equal} of ${answered}`);
});

test('sameStoredJson: the cases a status write meets', () => {
  const cached = { kind: 'Pod', metadata: { name: 'p', uid: 'u', resourceVersion: '5' }, spec: { c: [1] }, status: { phase: 'Pending' } };
  assert.equal(sameStoredJson({ ...cached, metadata: { ...cached.metadata } }, cached), true);
  assert.equal(sameStoredJson({ ...cached, metadata: { ...cached.metadata, resourceVersion: undefined } }, cached), true);
  assert.equal(sameStoredJson({ ...cached, status: { phase: 'Running' } }, cached), false);
  assert.equal(sameStoredJson({ ...cached, status: { phase: 'Pending', x: undefined } }, cached), true);
  assert.equal(sameStoredJson({ kind: 'Pod', spec: cached.spec, metadata: cached.metadata, status: cached.status }, cached), false, 'key order counts');
  assert.equal(sameStoredJson({ ...cached, status: { phase: new Date(0) } }, cached), undefined);
  assert.equal(sameStoredJson({ ...cached, toJSON: () => cached }, cached), undefined);
});
