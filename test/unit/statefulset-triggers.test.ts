// Which pod and claim changes can lead to a different StatefulSet decision (triggers.ts): the
// controller defers only the others, so a change wrongly called status-only would delay an action.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { claimChangeMatters, podChangeIsStatusOnly, setChangeIsStatusOnly } from '../../src/controllers/statefulset/triggers.ts';
import { pod, claim, plan, makeSet, revisionOf, describe } from './statefulset-fixtures.ts';

const edit = (o: Obj, f: (x: Obj) => void): Obj => {
  const c = structuredClone(o);
  f(c);
  return c;
};

test('readiness, node and addresses are status-only; so is Pending → Running', () => {
  const p = pod('web-0', 'r1', 'pending');
  const bound = edit(p, (x) => (x.spec.nodeName = 'n1'));
  assert.equal(podChangeIsStatusOnly(p, bound), true);
  const running = edit(bound, (x) => (x.status = { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'False' }] }));
  assert.equal(podChangeIsStatusOnly(bound, running), true);
  const ready = edit(running, (x) => (x.status.conditions = [{ type: 'Ready', status: 'True' }]));
  assert.equal(podChangeIsStatusOnly(running, ready), true);
  assert.equal(podChangeIsStatusOnly(ready, running), true);
  // Labels in another key order are the same labels.
  const reordered = edit(ready, (x) => (x.metadata.labels = Object.fromEntries(Object.entries(x.metadata.labels).reverse())));
  assert.equal(podChangeIsStatusOnly(ready, reordered), true);
});

test('phase changes other than Pending → Running, deletion, identity, ownership and storage are not status-only', () => {
  const running = pod('web-0', 'r1', 'ready');
  const pending = pod('web-0', 'r1', 'pending');
  for (const phase of ['Failed', 'Succeeded', 'Pending', 'Unknown']) {
    assert.equal(podChangeIsStatusOnly(running, edit(running, (x) => (x.status.phase = phase))), false, phase);
  }
  assert.equal(podChangeIsStatusOnly(pending, edit(pending, (x) => (x.status.phase = 'Failed'))), false);
  assert.equal(podChangeIsStatusOnly(running, edit(running, (x) => (x.metadata.deletionTimestamp = '2025-01-01T00:00:00Z'))), false);
  assert.equal(podChangeIsStatusOnly(running, edit(running, (x) => (x.metadata.labels['controller-revision-hash'] = 'r2'))), false);
  assert.equal(podChangeIsStatusOnly(running, edit(running, (x) => delete x.metadata.labels['statefulset.kubernetes.io/pod-name'])), false);
  assert.equal(podChangeIsStatusOnly(running, edit(running, (x) => (x.metadata.ownerReferences = []))), false);
  assert.equal(podChangeIsStatusOnly(running, edit(running, (x) => (x.metadata.ownerReferences[0].uid = 'other'))), false);
  assert.equal(podChangeIsStatusOnly(running, edit(running, (x) => (x.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'x' } }]))), false);
  assert.equal(podChangeIsStatusOnly(running, edit(running, (x) => (x.metadata.uid = 'new'))), false);
  const noPhase = edit(running, (x) => delete x.status.phase);
  assert.equal(podChangeIsStatusOnly(noPhase, running), false);
  assert.equal(podChangeIsStatusOnly(running, noPhase), false);
});

test('claim changes that matter: replaced, being deleted, other owners; not status or binding', () => {
  const c = claim('data-web-0');
  assert.equal(claimChangeMatters(c, edit(c, (x) => ((x.status = { phase: 'Bound' }), (x.spec.volumeName = 'pv-1')))), false);
  assert.equal(claimChangeMatters(c, edit(c, (x) => (x.metadata.annotations = { 'pv.kubernetes.io/bind-completed': 'yes' }))), false);
  assert.equal(claimChangeMatters(c, edit(c, (x) => (x.metadata.deletionTimestamp = '2025-01-01T00:00:00Z'))), true);
  assert.equal(claimChangeMatters(c, edit(c, (x) => (x.metadata.ownerReferences = [{ uid: 'u', controller: true }]))), true);
  assert.equal(claimChangeMatters(c, edit(c, (x) => (x.metadata.uid = 'again'))), true);
  const owned = edit(c, (x) => (x.metadata.ownerReferences = [{ uid: 'u', controller: true }]));
  assert.equal(claimChangeMatters(owned, edit(owned, (x) => (x.metadata.ownerReferences = []))), true);
  assert.equal(claimChangeMatters(owned, edit(owned, (x) => (x.metadata.ownerReferences[0].controller = false))), true);
  assert.equal(claimChangeMatters(owned, structuredClone(owned)), false);
});


const CLAIMS = [{ metadata: { name: 'data' }, spec: {} }];
const withVolume = (p: Obj) => edit(p, (x) => (x.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: `data-${x.metadata.name}` } }]));

test('plan.steady: a Parallel set with nothing to do and every slot a live pod of the update revision', () => {
  const set = makeSet({ replicas: 3, podManagementPolicy: 'Parallel' });
  const rev = revisionOf(set);
  const r = rev.metadata.name;
  const three = (state: Parameters<typeof pod>[2] = 'ready') => ['web-0', 'web-1', 'web-2'].map((n) => pod(n, r, state));
  assert.equal(plan({ set, pods: three() }).steady, true);
  assert.equal(plan({ set, pods: three('pending') }).steady, true, 'readiness does not matter');
  assert.equal(plan({ set, pods: three().slice(0, 2) }).steady, false, 'a slot to fill');
  assert.equal(plan({ set, pods: [...three(), pod('web-3', r)] }).steady, false, 'a pod to condemn');
  assert.equal(plan({ set, pods: [pod('web-0', 'old'), ...three().slice(1)] }).steady, false, 'a pod to update');
  assert.equal(plan({ set, pods: [pod('web-0', r, 'failed'), ...three().slice(1)] }).steady, false, 'a pod to replace');
  assert.equal(plan({ set, pods: [pod('web-0', r, 'terminating'), ...three().slice(1)] }).steady, false);
  assert.equal(plan({ set: makeSet({ replicas: 3 }), pods: three() }).steady, false, 'OrderedReady is never steady');
  assert.equal(plan({ set: { ...set, metadata: { ...set.metadata, deletionTimestamp: '2025-01-01T00:00:00Z' } }, pods: three() }).steady, false);
});

test('no status-only change of a steady set leads to an action', () => {
  const policies = [
    { whenDeleted: 'Retain', whenScaled: 'Retain' },
    { whenDeleted: 'Delete', whenScaled: 'Delete' },
  ];
  for (const policy of policies) {
    const set = makeSet({ replicas: 3, podManagementPolicy: 'Parallel', volumeClaimTemplates: CLAIMS, persistentVolumeClaimRetentionPolicy: policy, minReadySeconds: 5 });
    const rev = revisionOf(set);
    const r = rev.metadata.name;
    const refs = policy.whenDeleted === 'Delete' ? [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }] : [];
    const claims = ['web-0', 'web-1', 'web-2'].map((n) => claim(`data-${n}`, { metadata: { ownerReferences: refs } }));
    const states = ['pending', 'running', 'ready', 'justReady'] as const;
    for (const a of states) {
      const before = ['web-0', 'web-1', 'web-2'].map((n) => withVolume(pod(n, r, a)));
      const p0 = plan({ set, pods: before, claims });
      assert.equal(p0.steady, true, a);
      for (const b of [...states, 'failed', 'succeeded', 'terminating'] as const) {
        const after = [withVolume(pod('web-0', r, b)), ...before.slice(1)];
        if (!podChangeIsStatusOnly(before[0], after[0])) continue;
        assert.deepEqual(describe(plan({ set, pods: after, claims })), [], `${a} → ${b}`);
      }
    }
  }
});

test('a set change is status-only when spec, identity and the collision count stay', () => {
  const set = makeSet({ replicas: 3 });
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.status = { replicas: 3, readyReplicas: 2, availableReplicas: 2 }))), true);
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.metadata.resourceVersion = '9'))), true);
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.spec.replicas = 4))), false);
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.spec.template.spec.containers[0].image = 'nginx:2'))), false);
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.metadata.generation = 2))), false);
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.metadata.deletionTimestamp = '2025-01-01T00:00:00Z'))), false);
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.metadata.annotations = { a: 'b' }))), false);
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.metadata.uid = 'new'))), false);
  assert.equal(setChangeIsStatusOnly(set, edit(set, (x) => (x.status.collisionCount = 1))), false);
});
