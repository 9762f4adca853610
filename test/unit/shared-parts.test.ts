// The watch cache's sharing of equal parts between cached objects (src/storage/shared-parts.ts):
// equal parts become one object, nothing's JSON changes, and only parts that are equal as JSON,
// keys in the same order, are ever merged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shareParts } from '../../src/storage/shared-parts.ts';
import type { Obj } from '../../src/api/resource.ts';

function pod(name: string, extra: Obj = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u-1', controller: true }] },
    spec: {
      containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, name: 'web' }], resources: {} }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      hostname: name,
      ...extra,
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }] },
  };
}

/** A copy made through JSON, so that no two objects share anything to begin with. */
const fresh = (o: Obj): Obj => JSON.parse(JSON.stringify(o));

test('equal parts of two objects become one object; their JSON is unchanged', () => {
  const a = fresh(pod('web-0'));
  const b = fresh(pod('web-1'));
  const [ja, jb] = [JSON.stringify(a), JSON.stringify(b)];
  shareParts(a);
  shareParts(b);
  assert.equal(JSON.stringify(a), ja);
  assert.equal(JSON.stringify(b), jb);
  assert.equal(a.spec.containers, b.spec.containers);
  assert.equal(a.spec.tolerations, b.spec.tolerations);
  assert.equal(a.status.conditions, b.status.conditions);
  assert.equal(a.metadata.labels, b.metadata.labels);
  assert.equal(a.metadata.ownerReferences, b.metadata.ownerReferences);
  // Parts that differ (the hostname) are not merged; their equal parts are shared.
  assert.notEqual(a.spec, b.spec);
  // The top level and metadata are never shared: the cache owns one per version.
  assert.notEqual(a.metadata, b.metadata);
});

test('parts frozen before (ORDINAL_FREEZE_CACHE=1 freezes cached objects) are shared without writing to them', () => {
  const a = fresh(pod('web-0'));
  shareParts(a);
  Object.freeze(a.spec);
  for (const c of a.spec.containers) Object.freeze(c);
  const next: Obj = { ...a, metadata: { ...a.metadata }, status: { phase: 'Succeeded' } };
  assert.doesNotThrow(() => shareParts(next));
  assert.equal(next.spec, a.spec);
  assert.equal(JSON.stringify(next.spec), JSON.stringify(fresh(pod('web-0')).spec));
});

test('only parts equal as JSON, keys in the same order, are merged', () => {
  const pairs: [unknown, unknown][] = [
    [{ a: 1, b: 2 }, { b: 2, a: 1 }],
    [{ ab: 'c' }, { a: 'bc' }],
    [{ a: 1 }, { a: '1' }],
    [{ a: null }, { a: 'z' }],
    [{ a: true }, { a: 't' }],
    [{ a: [1, 2] }, { a: [12] }],
    [{ a: ['1', '2'] }, { a: ['1,2'] }],
    [{ a: { b: 1 } }, { a: [{ b: 1 }] }],
    [[], {}],
    [{ a: 's1:x' }, { a: 'x' }],
  ];
  for (const [x, y] of pairs) {
    const a = { kind: 'T', metadata: {}, spec: { v: x } };
    const b = { kind: 'T', metadata: {}, spec: { v: y } };
    const [ja, jb] = [JSON.stringify(a), JSON.stringify(b)];
    shareParts(a);
    shareParts(b);
    assert.notEqual(a.spec, b.spec, `${ja} and ${jb} were merged`);
    assert.equal(JSON.stringify(a), ja);
    assert.equal(JSON.stringify(b), jb);
  }
});

test('a part holding a long string is not shared, but its other parts are', () => {
  const long = 'x'.repeat(300);
  const a = fresh(pod('web-0', { note: { text: long, same: { k: 'v' } } }));
  const b = fresh(pod('web-1', { note: { text: long, same: { k: 'v' } } }));
  shareParts(a);
  shareParts(b);
  assert.notEqual(a.spec.note, b.spec.note);
  assert.equal(a.spec.note.same, b.spec.note.same);
  assert.equal(a.spec.note.text, long);
});

test('objects that are not plain JSON data are left as they are', () => {
  const when = new Date(0);
  const a: Obj = { kind: 'T', metadata: {}, spec: { at: when, list: [undefined, 1] } };
  shareParts(a);
  assert.equal(a.spec.at, when);
  assert.deepEqual(a.spec.list, [undefined, 1]);
});
