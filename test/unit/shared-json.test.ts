// Cached objects share their equal parts (shared-json.ts): what they serialise to never changes,
// only which object holds a part; shared parts are frozen, and copies for later versions keep them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shareParts, isShared } from '../../src/storage/shared-json.ts';
import { storedForm } from '../../src/storage/cache.ts';

let n = 0;
function pod(name: string) {
  const uid = `uid-${name}-${n++}`;
  return JSON.parse(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: 'default',
        uid,
        labels: { app: 'web', 'statefulset.kubernetes.io/pod-name': name },
        managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {} } } } } }],
        resourceVersion: String(n),
      },
      spec: { hostname: name, containers: [{ name: 'nginx', image: 'nginx:1', ports: [{ containerPort: 80, name: 'web' }] }], tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }], securityContext: {} },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null }] },
    }),
  );
}

test('shareParts: equal parts of two objects become one frozen object; JSON text is unchanged', () => {
  const a = pod('web-0');
  const b = pod('web-1');
  const textA = JSON.stringify(a);
  const textB = JSON.stringify(b);
  shareParts(a);
  shareParts(b);
  assert.equal(JSON.stringify(a), textA);
  assert.equal(JSON.stringify(b), textB);
  assert.equal(a.spec.containers, b.spec.containers);
  assert.equal(a.spec.tolerations, b.spec.tolerations);
  assert.equal(a.metadata.managedFields, b.metadata.managedFields);
  assert.equal(a.status.conditions, b.status.conditions);
  assert.ok(isShared(a.spec.containers) && Object.isFrozen(a.spec.containers[0].ports[0]));
  assert.throws(() => {
    a.spec.containers[0].image = 'other';
  }, TypeError);
  // Parts that differ stay apart; the objects and their metadata are never shared or frozen.
  assert.notEqual(a.spec, b.spec);
  assert.notEqual(a.metadata.labels, b.metadata.labels);
  assert.ok(!Object.isFrozen(a) && !Object.isFrozen(a.metadata) && !Object.isFrozen(a.spec));
  a.metadata.resourceVersion = '99';
});

test('shareParts: key order is part of equality (JSON text must not change)', () => {
  const a = pod('web-2');
  const b = pod('web-3');
  b.spec.containers = [{ image: 'nginx:1', name: 'nginx', ports: [{ containerPort: 80, name: 'web' }] }];
  shareParts(a);
  shareParts(b);
  assert.notEqual(a.spec.containers, b.spec.containers);
  assert.equal(a.spec.containers[0].ports, b.spec.containers[0].ports);
  assert.deepEqual(Object.keys(b.spec.containers[0]), ['image', 'name', 'ports']);
});

test('shareParts: strings are interned, values of any type kept exactly', () => {
  const a = { kind: 'X', metadata: { name: 'x' }, data: { n: 0, f: 1.5, t: true, z: null, s: 'é"\\', e: [], o: {} } };
  const b = JSON.parse(JSON.stringify(a));
  shareParts(a);
  shareParts(b);
  assert.equal(a.data, b.data);
  assert.deepEqual(b, JSON.parse(JSON.stringify(a)));
});

test('storedForm: a later version copies what changed and keeps the shared parts', () => {
  const a = pod('web-4');
  const b = pod('web-5');
  shareParts(a);
  shareParts(b);
  // A writer's next version built from the cached one, as updates and patches do.
  const next = { ...a, metadata: { ...a.metadata }, status: { ...a.status, phase: 'Running' } };
  const { value, decoded } = storedForm(next);
  assert.ok(decoded);
  assert.equal(decoded.obj.spec.containers, a.spec.containers, 'shared part held, not copied');
  assert.notEqual(decoded.obj.spec, a.spec, 'unshared parts are copied');
  assert.notEqual(decoded.obj.status, next.status);
  assert.equal(JSON.stringify(decoded.obj), value);
  assert.deepEqual(decoded.obj, JSON.parse(value));
});

test("shareParts: an object's own part seen again in its next version is not marked shared", () => {
  const v1 = pod('web-6');
  v1.spec.hostname = 'only-web-6';
  shareParts(v1, '/registry/core/pods/default/web-6');
  const v2 = JSON.parse(JSON.stringify(v1));
  v2.metadata.resourceVersion = '1000';
  shareParts(v2, '/registry/core/pods/default/web-6');
  assert.ok(!isShared(v2.spec) && !Object.isFrozen(v2.spec), 'one object\'s spec stays its own');
  assert.notEqual(v1.spec, v2.spec);
  assert.ok(isShared(v2.spec.containers), 'parts equal to other objects\' are shared');
  // Another object with the same spec does share it.
  const other = JSON.parse(JSON.stringify(v2));
  shareParts(other, '/registry/core/pods/default/web-7');
  assert.equal(other.spec, v2.spec);
  assert.ok(isShared(v2.spec));
});
