// The one walker behind the agent's sameJson and the store's sameStoredJson: what it cannot tell
// from the values it says so, and the callers then serialize.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonEqual } from '../../src/util/json-equal.ts';
import { sameJson } from '../../src/agent/json-equal.ts';

test('jsonEqual: undefined exactly where printing is not told by the fields', () => {
  const when = new Date(0);
  assert.equal(jsonEqual({ t: when }, { t: '1970-01-01T00:00:00.000Z' }), undefined);
  assert.equal(jsonEqual({ t: when }, { t: when }), true, 'the very same object prints the same');
  assert.equal(jsonEqual([1n], [2n]), undefined);
  assert.equal(jsonEqual({ a: { toJSON: () => 1 } }, { a: 1 }), undefined);
  assert.equal(jsonEqual({ a: new Map() }, { a: {} }), undefined);
  assert.equal(jsonEqual({ a: Object.create(null) }, { a: {} }), true);
  assert.equal(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 }), false);
  assert.equal(jsonEqual([undefined, () => 1, NaN], [null, null, null]), true);
  assert.equal(jsonEqual({ a: undefined, b: Symbol('s'), c: -0 }, { c: 0 }), true);
  assert.equal(jsonEqual({ a: [] }, { a: {} }), false);
  assert.equal(jsonEqual({ a: 'null' }, { a: null }), false);
});

test('jsonEqual with ignoreResourceVersion: only the top-level metadata.resourceVersion is left out', () => {
  const o = (rv: unknown, inner?: unknown) => ({ kind: 'Pod', metadata: { name: 'p', resourceVersion: rv }, spec: { resourceVersion: inner } });
  const opts = { ignoreResourceVersion: true };
  assert.equal(jsonEqual(o('1'), o('2'), opts), true);
  assert.equal(jsonEqual(o('1'), o(undefined), opts), true);
  assert.equal(jsonEqual(o('1'), o('2')), false);
  assert.equal(jsonEqual(o('1', 'a'), o('1', 'b'), opts), false, 'a resourceVersion elsewhere counts');
  assert.equal(jsonEqual({ ...o('1'), metadata: new Date(0) }, o('1'), opts), undefined);
});

test('sameJson serializes what the walk cannot tell', () => {
  assert.equal(sameJson({ t: new Date(0) }, { t: '1970-01-01T00:00:00.000Z' }), true);
  assert.equal(sameJson({ t: new Date(0) }, { t: '1970-01-01T00:00:01.000Z' }), false);
});
