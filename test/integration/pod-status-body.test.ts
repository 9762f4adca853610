// The node agent's pods/status body leaves the spec out (statusUpdateBody, agent/pod-status.ts):
// the object the API server stores, and answers with, is the same as for a body with the whole pod.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { startTestApi, type TestApi } from '../support/inprocess.ts';
import { statusUpdateBody } from '../../src/agent/pod-status.ts';

let api: TestApi;
before(async () => {
  api = await startTestApi();
});
after(async () => {
  await api?.close();
});

const podSpec = {
  containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80, name: 'web' }], volumeMounts: [{ name: 'www', mountPath: '/www' }] }],
  volumes: [{ name: 'www', emptyDir: {} }],
  nodeName: 'node-1',
};

test('a status update without the spec stores the same object, key order included, as one with the whole pod', async () => {
  const pods = api.client.resource('', 'pods');
  const whole = await api.client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'whole', labels: { a: 'b' } }, spec: podSpec });
  const bare = await api.client.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', labels: { a: 'b' } }, spec: podSpec });
  const status = (pod: Obj): Obj => ({
    ...pod.status,
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    hostIP: '192.0.2.1',
    hostIPs: [{ ip: '192.0.2.1' }],
    podIP: '10.244.1.2',
    podIPs: [{ ip: '10.244.1.2' }],
  });
  const body = statusUpdateBody(bare, status(bare));
  assert.deepEqual(body.spec, {}, 'the spec does not travel');
  assert.deepEqual(Object.keys(body), Object.keys(bare), 'every other member in its place');
  const a = await api.client.update(pods, { ...whole, status: status(whole) }, 'status');
  const b = await api.client.update(pods, body, 'status');
  // The same text but for what names the object (name, uid, resourceVersion, creation time, its token volume's random suffix).
  const text = (o: Obj) =>
    JSON.stringify({ ...o, metadata: { ...o.metadata, name: '', uid: '', resourceVersion: '', creationTimestamp: '' } }).replace(/kube-api-access-[a-z0-9]{5}/g, 'kube-api-access-x');
  assert.equal(text(b), text(a));
  assert.deepEqual(b.spec, bare.spec, 'the stored spec is kept');
  const fresh = await api.client.get(pods, 'default', 'bare');
  assert.equal(text(fresh), text(await api.client.get(pods, 'default', 'whole')));
  // A pod read without a status (just created) gets one appended, as the spread did.
  const noStatus = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: podSpec };
  assert.deepEqual(Object.keys(statusUpdateBody(noStatus, { phase: 'Pending' })), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
});
