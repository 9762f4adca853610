// The files of rendered volumes: downward API items (pod fields, labels and annotations as sorted
// key="value" lines, container resources with a divisor) and configMap/secret items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downwardApiFiles, keyedFiles } from '../../src/agent/runtime/cri/pod-config.ts';

const pod = {
  metadata: { name: 'web-0', namespace: 'default', uid: 'u-1', labels: { zone: 'b', app: 'nginx' }, annotations: { note: 'say "hi"' } },
  spec: { nodeName: 'node-1', containers: [{ name: 'nginx', resources: { limits: { cpu: '500m', memory: '64Mi' } } }] },
};

test('downward API items: fields, labels and annotations, resources', () => {
  const files = downwardApiFiles(pod, [
    { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
    { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
    { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' }, mode: 0o600 },
    { path: 'zone', fieldRef: { fieldPath: "metadata.labels['zone']" } },
    { path: 'cpu', resourceFieldRef: { containerName: 'nginx', resource: 'limits.cpu', divisor: '1m' } },
    { path: 'mem', resourceFieldRef: { containerName: 'nginx', resource: 'limits.memory', divisor: '1Mi' } },
  ], {});
  assert.deepEqual(files, [
    { path: 'name', data: 'web-0', mode: undefined },
    { path: 'labels', data: 'app="nginx"\nzone="b"', mode: undefined },
    { path: 'annotations', data: 'note="say \\"hi\\""', mode: 0o600 },
    { path: 'zone', data: 'b', mode: undefined },
    { path: 'cpu', data: '500', mode: undefined },
    { path: 'mem', data: '64', mode: undefined },
  ]);
  assert.throws(() => downwardApiFiles(pod, [{ path: 'x', resourceFieldRef: { containerName: 'nope', resource: 'limits.cpu' } }], {}), /container "nope" not found/);
});

test('configMap and secret items: all keys, or the chosen ones under their paths', () => {
  const data = { a: '1', b: '2' };
  assert.deepEqual(keyedFiles(data, undefined), [{ path: 'a', data: '1', mode: undefined }, { path: 'b', data: '2', mode: undefined }]);
  assert.deepEqual(keyedFiles(data, [{ key: 'b', path: 'dir/b.txt', mode: 0o400 }, { key: 'missing', path: 'm' }]), [{ path: 'dir/b.txt', data: '2', mode: 0o400 }]);
  assert.deepEqual(keyedFiles(undefined, undefined), []);
});
