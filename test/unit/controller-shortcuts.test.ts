// The shortcuts the volume, endpoints, endpointslice controllers and the scheduler take to skip
// work that cannot change anything: each must give exactly what the full path gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { NewestView, compareRv } from '../../src/controllers/endpoints/view.ts';
import { PodMemo } from '../../src/controllers/endpoints/pod-memo.ts';
import { compareAddresses, podEntry, type Entry } from '../../src/controllers/endpoints/compute.ts';
import { MAX_POD_BATCH_MS, POD_BATCH_MS, podBatchMs } from '../../src/controllers/endpoints/service-pods.ts';
import { claimBoundTo, volumeBoundTo } from '../../src/controllers/volume/plan.ts';
import { findMatchingVolume } from '../../src/controllers/volume/match.ts';
import { claimSchedulingInputs, selectedNodeOnlyChange } from '../../src/scheduler/plan.ts';

const withRv = (name: string, rv: string | undefined, extra: Obj = {}): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv }, ...extra });

test('resourceVersions compare as the numbers they spell, odd ones below all', () => {
  assert.equal(compareRv('9', '10'), -1);
  assert.equal(compareRv('10', '9'), 1);
  assert.equal(compareRv('123', '123'), 0);
  assert.equal(compareRv('124', '123'), 1);
  assert.equal(compareRv(undefined, '1'), -1);
  assert.equal(compareRv('1', undefined), 1);
  assert.equal(compareRv(undefined, undefined), 0);
});

test('NewestView keeps the newest version, ignores stale ones, and does not resurrect deleted keys', () => {
  const changes: [string, string | undefined, string | undefined][] = [];
  const view = new NewestView((key, old, obj) => changes.push([key, old?.metadata.resourceVersion, obj?.metadata.resourceVersion]));
  view.upsert(withRv('a', '9'));
  view.upsert(withRv('a', '10'));
  view.upsert(withRv('a', '9'));
  assert.equal(view.get('ns/a')!.metadata.resourceVersion, '10');
  // Leading zeros and equal versions: the later object of an equal version replaces the former.
  view.upsert(withRv('a', '0010', { v: 2 }));
  assert.equal(view.get('ns/a')!.v, 2);
  // The very same object again is no change at all.
  const same = view.get('ns/a')!;
  const before = changes.length;
  view.upsert(same);
  assert.equal(changes.length, before);
  view.remove(withRv('a', '11'));
  assert.equal(view.get('ns/a'), undefined);
  view.upsert(withRv('a', '10'));
  view.upsert(withRv('a', '11'));
  assert.equal(view.get('ns/a'), undefined);
  view.upsert(withRv('a', '12'));
  assert.equal(view.get('ns/a')!.metadata.resourceVersion, '12');
  // Versions that are not numbers count as older than any number.
  view.upsert(withRv('b', 'x'));
  view.upsert(withRv('b', '1'));
  assert.equal(view.get('ns/b')!.metadata.resourceVersion, '1');
  view.upsert(withRv('b', 'y'));
  assert.equal(view.get('ns/b')!.metadata.resourceVersion, '1');
  assert.deepEqual(changes.at(-1), ['ns/b', 'x', '1']);
});

const svc: Obj = {
  metadata: { name: 'web', namespace: 'default', uid: 'svc-uid' },
  spec: { selector: { app: 'web' }, clusterIP: 'None', ports: [{ name: 'http', port: 80, targetPort: 'web' }] },
};

function pod(i: number, o: { ip?: string; ready?: boolean; node?: string; probeTime?: string } = {}): Obj {
  return {
    metadata: { name: `web-${i}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'web' } },
    spec: { hostname: `web-${i}`, subdomain: 'web', nodeName: o.node, containers: [{ name: 'c', ports: [{ name: 'web', containerPort: 8080 }] }] },
    status: {
      phase: o.ip ? 'Running' : 'Pending',
      podIP: o.ip,
      podIPs: o.ip ? [{ ip: o.ip }] : undefined,
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastProbeTime: o.probeTime ?? null }],
    },
  };
}

test('memo: a pod update that leaves its entry as it was keeps the very same result', () => {
  const memo = new PodMemo<Entry>((a, b) => compareAddresses(a.address, b.address));
  const pods = new Map(Array.from({ length: 20 }, (_, i) => [`default/web-${i}`, pod(i, { ip: `10.0.0.${i + 1}`, ready: true, node: 'n1' })] as const));
  pods.set('default/web-20', pod(20));
  const first = memo.values(svc, pods, (p) => podEntry(svc, p));
  assert.equal(first.length, 20);
  // Scheduled, still without an address: nothing to show yet.
  pods.set('default/web-20', pod(20, { node: 'n2' }));
  assert.equal(memo.values(svc, pods, (p) => podEntry(svc, p), new Set(['default/web-20'])), first);
  // A new object saying the same (a status detail endpoints do not show) changes nothing either.
  pods.set('default/web-3', pod(3, { ip: '10.0.0.4', ready: true, node: 'n1', probeTime: '2024-01-01T00:00:00Z' }));
  assert.equal(memo.values(svc, pods, (p) => podEntry(svc, p), new Set(['default/web-3'])), first);
  // Its address appearing is a change, and the result is what a fresh memo computes.
  pods.set('default/web-20', pod(20, { ip: '10.0.0.0', node: 'n2' }));
  const next = memo.values(svc, pods, (p) => podEntry(svc, p), new Set(['default/web-20']));
  assert.notEqual(next, first);
  const fresh = new PodMemo<Entry>((a, b) => compareAddresses(a.address, b.address)).values(svc, pods, (p) => podEntry(svc, p));
  assert.deepEqual(next, fresh);
  assert.equal(next[0].address.targetRef.name, 'web-20');
  assert.equal(next[0].ready, false);
  // Back to no address: it leaves.
  pods.set('default/web-20', pod(20, { node: 'n2' }));
  assert.deepEqual(memo.values(svc, pods, (p) => podEntry(svc, p), new Set(['default/web-20'])), first);
});

test('pod change batching: short for small services, growing with the pods, capped', () => {
  assert.equal(podBatchMs(0), POD_BATCH_MS);
  assert.equal(podBatchMs(3), POD_BATCH_MS);
  assert.equal(podBatchMs(100), POD_BATCH_MS);
  assert.equal(podBatchMs(1000), 200);
  assert.equal(podBatchMs(100_000), MAX_POD_BATCH_MS);
  for (let n = 0; n < 20_000; n += 97) assert.ok(podBatchMs(n) <= podBatchMs(n + 97));
});

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

test('binding steps never modify the cached objects they start from', () => {
  const claim = deepFreeze({
    metadata: { name: 'www-web-0', namespace: 'default', uid: 'c-uid', resourceVersion: '5', annotations: { a: 'b' } },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } }, storageClassName: 'local-path' },
    status: { phase: 'Pending' },
  }) as Obj;
  const pv = deepFreeze({
    metadata: { name: 'pv-1', uid: 'v-uid', annotations: { x: 'y' } },
    spec: { capacity: { storage: '1Mi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local-path' },
    status: { phase: 'Available' },
  }) as Obj;
  const v = volumeBoundTo(pv, claim)!;
  assert.deepEqual(v.spec.claimRef, { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'www-web-0', uid: 'c-uid', apiVersion: 'v1', resourceVersion: '5' });
  assert.deepEqual(v.metadata.annotations, { x: 'y', 'pv.kubernetes.io/bound-by-controller': 'yes' });
  assert.deepEqual(v.spec.capacity, pv.spec.capacity);
  assert.equal(pv.spec.claimRef, undefined);
  const c = claimBoundTo(claim, v, { 'volume.kubernetes.io/storage-provisioner': 'p' })!;
  assert.equal(c.spec.volumeName, 'pv-1');
  assert.deepEqual(c.metadata.annotations, { a: 'b', 'volume.kubernetes.io/storage-provisioner': 'p', 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
  assert.equal(claim.spec.volumeName, undefined);
  assert.deepEqual(claim.metadata.annotations, { a: 'b' });
  assert.equal(claimBoundTo(c, v, { 'volume.kubernetes.io/storage-provisioner': 'p' }), undefined);
});

test('findMatchingVolume without candidates finds nothing, whatever the claim', () => {
  const claim: Obj = { metadata: { name: 'c', namespace: 'default', uid: 'u' }, spec: { resources: { requests: { storage: 'not a quantity' } } } };
  assert.equal(findMatchingVolume(claim, [], { delayBinding: false }), undefined);
});

test('the echo of a selected node is told apart from other claim changes', () => {
  const base: Obj = { metadata: { name: 'www-web-0', namespace: 'default', annotations: {} }, spec: { storageClassName: 'local-path' }, status: { phase: 'Pending' } };
  const on = (node: string | undefined, extra: Obj = {}): Obj => ({
    ...base,
    ...extra,
    metadata: { ...base.metadata, ...(extra.metadata ?? {}), annotations: node ? { 'volume.kubernetes.io/selected-node': node } : {} },
    spec: { ...base.spec, ...(extra.spec ?? {}) },
  });
  assert.equal(selectedNodeOnlyChange(base, on('n1')), 'n1');
  assert.equal(selectedNodeOnlyChange(on('n1'), on('n2')), 'n2');
  // What else a decision reads changed too, or the annotation went away: not just the echo.
  assert.equal(selectedNodeOnlyChange(on('n1'), on(undefined)), undefined);
  assert.equal(selectedNodeOnlyChange(base, on('n1', { spec: { storageClassName: 'other' } })), undefined);
  assert.equal(selectedNodeOnlyChange(base, on('n1', { metadata: { deletionTimestamp: 'now' } })), undefined);
  const bound = on('n1', { spec: { volumeName: 'pv-1' }, status: { phase: 'Bound' } });
  assert.equal(selectedNodeOnlyChange(on('n1'), bound), undefined);
  // Whenever it answers a node, the scheduling inputs differ by exactly that annotation.
  assert.notEqual(claimSchedulingInputs(base), claimSchedulingInputs(on('n1')));
});
