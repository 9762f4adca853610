// Table tests of the pure StatefulSet control: every rule of the reconcile walk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, describe, makeSet, revisionOf, pod, claim, withImage, World, NOW, type PlanArgs } from './statefulset-fixtures.ts';
import { completeRollingUpdate, maxUnavailableOf, statusNeedsWrite, countPods, type SetStatus } from '../../src/controllers/statefulset/control.ts';
import type { Obj } from '../../src/api/resource.ts';

const set3 = makeSet();
const r1 = revisionOf(set3, 1);
const R1 = r1.metadata.name;
const set3v2 = withImage(set3, 'nginx:2');
const r2 = revisionOf(set3v2, 2);
const R2 = r2.metadata.name;

interface Row {
  name: string;
  args: PlanArgs;
  actions: string[];
  waiting?: RegExp;
}

const rows: Row[] = [
  // ---- creation, OrderedReady
  { name: 'empty set creates ordinal 0 only', args: { set: set3 }, actions: ['create web-0'], waiting: /web-0 to be created/ },
  { name: 'waits for pending pod 0', args: { set: set3, pods: [pod('web-0', R1, 'pending')] }, actions: [], waiting: /web-0 to be Running and Ready/ },
  { name: 'waits for running-not-ready pod 0', args: { set: set3, pods: [pod('web-0', R1, 'running')] }, actions: [], waiting: /Running and Ready/ },
  { name: 'creates 1 once 0 is ready', args: { set: set3, pods: [pod('web-0', R1)] }, actions: ['create web-1'] },
  { name: 'creates 2 once 0,1 ready', args: { set: set3, pods: [pod('web-0', R1), pod('web-1', R1)] }, actions: ['create web-2'] },
  { name: 'fills a hole at 0 first', args: { set: set3, pods: [pod('web-1', R1), pod('web-2', R1)] }, actions: ['create web-0'] },
  { name: 'nothing to do when converged', args: { set: set3, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)] }, actions: [] },
  {
    name: 'minReadySeconds: waits for availability of predecessor',
    args: { set: makeSet({ minReadySeconds: 30 }), pods: [pod('web-0', R1, 'justReady')] },
    actions: [],
    waiting: /available/,
  },
  { name: 'minReadySeconds: proceeds once available', args: { set: makeSet({ minReadySeconds: 30 }), pods: [pod('web-0', R1)] }, actions: ['create web-1'] },
  { name: 'terminating pod in a slot blocks', args: { set: set3, pods: [pod('web-0', R1, 'readyTerminating')] }, actions: [], waiting: /web-0 to terminate/ },
  // ---- failed / succeeded pods
  { name: 'failed pod is deleted and blocks', args: { set: set3, pods: [pod('web-0', R1, 'failed'), pod('web-1', R1)] }, actions: ['delete web-0 (terminal)'], waiting: /Failed/ },
  { name: 'succeeded pod is deleted too', args: { set: set3, pods: [pod('web-0', R1), pod('web-1', R1, 'succeeded')] }, actions: ['delete web-1 (terminal)'] },
  {
    name: 'failed pod already terminating is only waited for',
    args: { set: set3, pods: [pod('web-0', R1, 'failed', { metadata: { deletionTimestamp: 'x' } })] },
    actions: [],
    waiting: /Failed/,
  },
  // ---- Parallel
  { name: 'Parallel creates all at once', args: { set: makeSet({ podManagementPolicy: 'Parallel' }) }, actions: ['create web-0', 'create web-1', 'create web-2'] },
  {
    name: 'Parallel does not wait for unready pods',
    args: { set: makeSet({ podManagementPolicy: 'Parallel' }), pods: [pod('web-0', R1, 'pending')] },
    actions: ['create web-1', 'create web-2'],
  },
  {
    name: 'Parallel deletes all condemned at once, even unhealthy',
    args: { set: makeSet({ podManagementPolicy: 'Parallel', replicas: 1 }), pods: [pod('web-0', R1), pod('web-1', R1, 'pending'), pod('web-2', R1, 'running')] },
    actions: ['delete web-2 (condemned)', 'delete web-1 (condemned)'],
  },
  {
    name: 'Parallel skips terminating condemned pods',
    args: { set: makeSet({ podManagementPolicy: 'Parallel', replicas: 1 }), pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1, 'terminating')] },
    actions: ['delete web-1 (condemned)'],
  },
  {
    name: 'Parallel failed pod deleted while others are created',
    args: { set: makeSet({ podManagementPolicy: 'Parallel' }), pods: [pod('web-0', R1, 'failed')] },
    actions: ['delete web-0 (terminal)', 'create web-1', 'create web-2'],
  },
  // ---- scale down, OrderedReady
  {
    name: 'scale down removes highest ordinal first, one at a time',
    args: { set: makeSet({ replicas: 1 }), pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)] },
    actions: ['delete web-2 (condemned)'],
    waiting: /web-2 to be gone/,
  },
  {
    name: 'scale down waits for the previous deletion',
    args: { set: makeSet({ replicas: 1 }), pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1, 'readyTerminating')] },
    actions: [],
    waiting: /web-2 to terminate/,
  },
  {
    name: 'scale down blocked by unhealthy in-range pod',
    args: { set: makeSet({ replicas: 2 }), pods: [pod('web-0', R1, 'running'), pod('web-1', R1), pod('web-2', R1)] },
    actions: [],
    waiting: /web-0 to be Running and Ready/,
  },
  {
    name: 'the lowest unhealthy condemned pod may be deleted',
    args: { set: makeSet({ replicas: 1 }), pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1, 'running')] },
    actions: ['delete web-2 (condemned)'],
  },
  {
    name: 'a healthy condemned pod above the lowest unhealthy one still goes first',
    args: { set: makeSet({ replicas: 1 }), pods: [pod('web-0', R1), pod('web-1', R1, 'running'), pod('web-2', R1)] },
    actions: ['delete web-2 (condemned)'],
  },
  {
    name: 'two unhealthy condemned pods deadlock',
    args: { set: makeSet({ replicas: 1 }), pods: [pod('web-0', R1), pod('web-1', R1, 'running'), pod('web-2', R1, 'running')] },
    actions: [],
    waiting: /web-2 to be Running and Ready before scaling down/,
  },
  {
    name: 'scale down waits for condemned availability (minReadySeconds)',
    args: { set: makeSet({ replicas: 1, minReadySeconds: 30 }), pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1, 'justReady')] },
    actions: [],
    waiting: /available before scaling down/,
  },
  {
    name: 'scale up comes before scale down (start ordinal moved)',
    args: { set: makeSet({ ordinals: { start: 1 }, replicas: 3 }), pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)] },
    actions: ['create web-3'],
  },
  {
    name: 'start ordinal: condemned below the range go once the range is ready',
    args: { set: makeSet({ ordinals: { start: 1 }, replicas: 3 }), pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1), pod('web-3', R1)] },
    actions: ['delete web-0 (condemned)'],
  },
  { name: 'start ordinal: names use absolute ordinals', args: { set: makeSet({ ordinals: { start: 5 } }) }, actions: ['create web-5'] },
  {
    name: 'pods with unparsable names are ignored',
    args: { set: set3, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1), pod('web-x', R1, 'ready', { metadata: { name: 'web-x' } })] },
    actions: [],
  },
  // ---- rolling update
  {
    name: 'rolling update deletes the highest pod at the old revision',
    args: { set: set3v2, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)] },
    actions: ['delete web-2 (update)'],
  },
  {
    name: 'rolling update waits for the replaced pod to be created',
    args: { set: set3v2, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1)] },
    actions: ['create web-2'],
  },
  {
    name: 'rolling update waits for the new pod to be ready (OrderedReady)',
    args: { set: set3v2, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R2, 'pending')] },
    actions: [],
    waiting: /web-2 to be Running and Ready/,
  },
  {
    name: 'rolling update goes on to the next lower ordinal',
    args: { set: set3v2, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R2)] },
    actions: ['delete web-1 (update)'],
  },
  {
    name: 'Parallel rolling update still one at a time, waiting for unavailable pods',
    args: { set: { ...set3v2, spec: { ...set3v2.spec, podManagementPolicy: 'Parallel' } }, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R2, 'pending')] },
    actions: [],
  },
  {
    name: 'rolling update does not delete a terminating old pod again',
    args: { set: set3v2, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1, 'readyTerminating')] },
    actions: [],
    waiting: /web-2 to terminate/,
  },
  {
    name: 'partition protects lower ordinals',
    args: {
      set: { ...set3v2, spec: { ...set3v2.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2, maxUnavailable: 1 } } } },
      current: r1,
      update: r2,
      pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R2)],
    },
    actions: [],
  },
  {
    name: 'partition above replicas updates nothing',
    args: {
      set: { ...set3v2, spec: { ...set3v2.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 3, maxUnavailable: 1 } } } },
      current: r1,
      update: r2,
      pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)],
    },
    actions: [],
  },
  {
    name: 'deleted pod below the partition is recreated at the old revision',
    args: {
      set: { ...set3v2, spec: { ...set3v2.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2, maxUnavailable: 1 } } } },
      current: r1,
      update: r2,
      pods: [pod('web-0', R1), pod('web-2', R2)],
    },
    actions: ['create web-1'],
  },
  {
    name: 'OnDelete never deletes for update',
    args: { set: { ...set3v2, spec: { ...set3v2.spec, updateStrategy: { type: 'OnDelete' } } }, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)] },
    actions: [],
  },
  {
    name: 'an unhealthy pod anywhere blocks the update (maxUnavailable 1)',
    args: { set: { ...set3v2, spec: { ...set3v2.spec, podManagementPolicy: 'Parallel' } }, current: r1, update: r2, pods: [pod('web-0', R1, 'running'), pod('web-1', R1), pod('web-2', R1)] },
    actions: [],
  },
  {
    name: 'maxUnavailable 2 replaces two at once',
    args: {
      set: { ...set3v2, spec: { ...set3v2.spec, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } } },
      current: r1,
      update: r2,
      pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)],
    },
    actions: ['delete web-2 (update)', 'delete web-1 (update)'],
  },
  {
    name: 'maxUnavailable 2 with one unavailable replaces one more',
    args: {
      set: { ...set3v2, spec: { ...set3v2.spec, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } } },
      current: r1,
      update: r2,
      pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R2, 'pending')],
    },
    actions: ['delete web-1 (update)'],
  },
  {
    name: 'maxUnavailable as a percentage (67% of 3 = 2)',
    args: {
      set: { ...set3v2, spec: { ...set3v2.spec, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '67%' } } } },
      current: r1,
      update: r2,
      pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)],
    },
    actions: ['delete web-2 (update)', 'delete web-1 (update)'],
  },
  {
    name: 'maxUnavailable honours the partition',
    args: {
      set: { ...set3v2, spec: { ...set3v2.spec, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2, maxUnavailable: 3 } } } },
      current: r1,
      update: r2,
      pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)],
    },
    actions: ['delete web-2 (update)'],
  },
  {
    name: 'RollingUpdate without rollingUpdate object: replacement below currentReplicas uses current revision',
    args: {
      set: { ...set3v2, spec: { ...set3v2.spec, updateStrategy: { type: 'RollingUpdate' } }, status: { currentReplicas: 2 } },
      current: r1,
      update: r2,
      pods: [pod('web-1', R1), pod('web-2', R2)],
    },
    actions: ['create web-0'],
  },
  {
    name: 'an adopted pod without a revision label is replaced by the update',
    args: { set: set3, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', '')] },
    actions: ['delete web-2 (update)'],
  },
  // ---- identity repair
  {
    name: 'a pod missing its identity labels is updated',
    args: { set: set3, pods: [pod('web-0', R1, 'ready', { metadata: { labels: { 'statefulset.kubernetes.io/pod-name': 'other' } } }), pod('web-1', R1), pod('web-2', R1)] },
    actions: ['update web-0'],
  },
  // ---- set being deleted
  { name: 'a set being deleted does nothing', args: { set: makeSet({}, { deletionTimestamp: 'x' }), pods: [pod('web-0', R1, 'failed')] }, actions: [] },
];

for (const row of rows) {
  test(`control: ${row.name}`, () => {
    const p = plan(row.args);
    assert.deepEqual(describe(p), row.actions);
    if (row.waiting) assert.match(p.waitingFor, row.waiting);
  });
}

// ------------------------------------------------------------ pods built by the plan

test('control: a created pod carries identity, owner, hostname, subdomain, revision label', () => {
  const p = plan({ set: set3 });
  const a = p.phases[0].units[0][0];
  assert.equal(a.type, 'createPod');
  const created = (a as { pod: Obj }).pod;
  assert.equal(created.metadata.name, 'web-0');
  assert.equal(created.metadata.generateName, 'web-');
  assert.deepEqual(created.metadata.labels, { app: 'nginx', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': R1 });
  assert.deepEqual(created.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true }]);
  assert.equal(created.spec.hostname, 'web-0');
  assert.equal(created.spec.subdomain, 'nginx');
  assert.equal(created.status, undefined);
});

test('control: claims are planned before the pod, with selector labels, and mounted', () => {
  const set = makeSet({
    volumeClaimTemplates: [{ metadata: { name: 'www', labels: { app: 'other', tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } }],
  });
  set.spec.template.spec.volumes = [{ name: 'www', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }];
  const p = plan({ set });
  const a = p.phases[0].units[0][0] as Obj;
  assert.equal(a.type, 'createPod');
  assert.equal(a.claims.create.length, 1);
  const c = a.claims.create[0];
  assert.equal(c.metadata.name, 'www-web-0');
  assert.equal(c.metadata.namespace, 'ns');
  assert.deepEqual(c.metadata.labels, { app: 'nginx', tier: 'db' });
  assert.equal(c.metadata.ownerReferences, undefined);
  assert.equal(c.status, undefined);
  assert.deepEqual(a.pod.spec.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }, { name: 'cfg', configMap: { name: 'c' } }]);
});

test('control: existing claims are reused; a claim being deleted is reported', () => {
  const set = makeSet({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: {} }, { metadata: { name: 'log' }, spec: {} }] });
  const p = plan({ set, claims: [claim('www-web-0'), claim('log-web-0', { metadata: { deletionTimestamp: 'x' } })] });
  const a = p.phases[0].units[0][0] as Obj;
  assert.deepEqual(a.claims.create, []);
  assert.deepEqual(a.claims.deleting, ['log-web-0']);
});

test('control: a pending pod gets its deleted claims back', () => {
  const set = makeSet({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: {} }] });
  const pods = [pod('web-0', R1, 'pending', { spec: { volumes: [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }] } })];
  assert.deepEqual(describe(plan({ set, pods })), ['claims web-0']);
  assert.deepEqual(describe(plan({ set, pods, claims: [claim('www-web-0')] })), []);
});

test('control: a running pod without its claim volume is updated and its claim created', () => {
  const set = makeSet({ replicas: 1, volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: {} }] });
  const p = plan({ set, pods: [pod('web-0', R1)] });
  const a = p.phases[0].units[0][0] as Obj;
  assert.equal(a.type, 'updatePod');
  assert.deepEqual(a.desired.spec.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }]);
  assert.equal(a.claims.create[0].metadata.name, 'www-web-0');
});

test('control: replacement pods get the template of the revision their ordinal should have', () => {
  const set = { ...set3v2, spec: { ...set3v2.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1, maxUnavailable: 1 } } } };
  const below = plan({ set, current: r1, update: r2, pods: [pod('web-1', R2), pod('web-2', R2)] });
  const a = below.phases[0].units[0][0] as Obj;
  assert.equal(a.pod.spec.containers[0].image, 'nginx:1');
  assert.equal(a.pod.metadata.labels['controller-revision-hash'], R1);
  const above = plan({ set, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-2', R2)] });
  const b = above.phases[0].units[0][0] as Obj;
  assert.equal(b.pod.spec.containers[0].image, 'nginx:2');
  assert.equal(b.pod.metadata.labels['controller-revision-hash'], R2);
  // OnDelete: always the update revision.
  const ondelete = { ...set3v2, spec: { ...set3v2.spec, updateStrategy: { type: 'OnDelete' } } };
  const c = plan({ set: ondelete, current: r1, update: r2, pods: [pod('web-1', R1), pod('web-2', R1)] }).phases[0].units[0][0] as Obj;
  assert.equal(c.pod.spec.containers[0].image, 'nginx:2');
});

// ------------------------------------------------------------ status

test('control: status counts', () => {
  const pods = [pod('web-0', R1), pod('web-1', R2, 'justReady'), pod('web-2', R1, 'readyTerminating'), pod('web-3', R1, 'pending'), pod('web-x', R1, 'ready', { metadata: { name: 'web-x' } })];
  const set = makeSet({ replicas: 4, minReadySeconds: 30 });
  const p = plan({ set, current: r1, update: r2, pods });
  // web-x has no ordinal: not counted once the walk has sorted pods into slots.
  assert.deepEqual(
    { ...p.status },
    { observedGeneration: 1, currentRevision: R1, updateRevision: R2, collisionCount: 0, replicas: 4, readyReplicas: 3, availableReplicas: 2, currentReplicas: 2, updatedReplicas: 1 },
  );
  assert.deepEqual(countPods(pods, 0, NOW, R1, R2), { replicas: 5, readyReplicas: 4, availableReplicas: 4, currentReplicas: 3, updatedReplicas: 1 });
});

test('control: status of a set being deleted counts every owned pod', () => {
  const p = plan({ set: makeSet({}, { deletionTimestamp: 'x' }), pods: [pod('web-0', R1), pod('web-x', R1, 'ready', { metadata: { name: 'web-x' } })] });
  assert.equal(p.status.replicas, 2);
});

test('control: update deletions count against currentReplicas', () => {
  const p = plan({ set: set3v2, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1), pod('web-2', R1)] });
  assert.equal(p.status.currentReplicas, 2);
});

test('control: completeRollingUpdate', () => {
  const base: SetStatus = { replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 0, updatedReplicas: 3, currentRevision: 'a', updateRevision: 'b', collisionCount: 0, observedGeneration: 2 };
  assert.deepEqual(completeRollingUpdate(set3, base), { ...base, currentReplicas: 3, currentRevision: 'b' });
  assert.equal(completeRollingUpdate(set3, { ...base, readyReplicas: 2 }).currentRevision, 'a');
  assert.equal(completeRollingUpdate(set3, { ...base, replicas: 4 }).currentRevision, 'a');
  assert.equal(completeRollingUpdate({ ...set3, spec: { ...set3.spec, updateStrategy: { type: 'OnDelete' } } }, base).currentRevision, 'a');
});

test('control: status is written only when it changed', () => {
  const s: SetStatus = { replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'a', updateRevision: 'a', collisionCount: 0, observedGeneration: 1 };
  const set = { ...set3, status: { observedGeneration: 1, replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'a', updateRevision: 'a', collisionCount: 0 } };
  assert.equal(statusNeedsWrite(set, s), false);
  assert.equal(statusNeedsWrite(set, { ...s, observedGeneration: 2 }), true);
  assert.equal(statusNeedsWrite(set, { ...s, availableReplicas: 2 }), true);
  assert.equal(statusNeedsWrite(set, { ...s, updateRevision: 'b' }), true);
  // collisionCount alone does not trigger a write (upstream's inconsistentStatus ignores it).
  assert.equal(statusNeedsWrite(set, { ...s, collisionCount: 1 }), false);
});

test('control: maxUnavailable arithmetic', () => {
  assert.equal(maxUnavailableOf(undefined, 10), 1);
  assert.equal(maxUnavailableOf(3, 10), 3);
  assert.equal(maxUnavailableOf('50%', 5), 2);
  assert.equal(maxUnavailableOf('10%', 5), 1);
  assert.throws(() => maxUnavailableOf('abc', 5));
});

// ------------------------------------------------------------ sequences (in-memory world)

test('sequence: OrderedReady creation is 0..N-1, each after the previous is ready', () => {
  const w = new World(makeSet({ replicas: 3 }));
  assert.deepEqual(w.step(), ['create web-0']);
  assert.deepEqual(w.step(), []);
  w.ready('web-0');
  assert.deepEqual(w.step(), ['create web-1']);
  w.ready();
  assert.deepEqual(w.step(), ['create web-2']);
  w.ready();
  assert.deepEqual(w.step(), []);
  assert.equal(w.set.status.readyReplicas, 3);
  assert.equal(w.set.status.currentRevision, w.set.status.updateRevision);
});

test('sequence: scale 2 → 5 → 3 creates ascending and removes descending', () => {
  const w = new World(makeSet({ replicas: 2 }));
  w.converge();
  w.set.spec.replicas = 5;
  assert.deepEqual(w.converge(), ['create web-2', 'create web-3', 'create web-4']);
  w.set.spec.replicas = 3;
  w.graceful = true;
  assert.deepEqual(w.converge(), ['delete web-4 (condemned)', 'delete web-3 (condemned)']);
  assert.deepEqual(Object.keys(w.images()), ['web-0', 'web-1', 'web-2']);
});

test('sequence: rolling update replaces N-1..0 and then completes the revision', () => {
  const w = new World(makeSet({ replicas: 3 }));
  w.converge();
  const first = w.set.status.currentRevision;
  w.set = withImage(w.set, 'nginx:2');
  w.graceful = true;
  assert.deepEqual(w.converge(), ['delete web-2 (update)', 'create web-2', 'delete web-1 (update)', 'create web-1', 'delete web-0 (update)', 'create web-0']);
  assert.deepEqual(w.images(), { 'web-0': 'nginx:2', 'web-1': 'nginx:2', 'web-2': 'nginx:2' });
  assert.notEqual(w.set.status.currentRevision, first);
  assert.equal(w.set.status.currentRevision, w.set.status.updateRevision);
  assert.equal(w.set.status.currentReplicas, 3);
  assert.equal(w.revisions.length, 2);
});

test('sequence: partition 3 → 2 → 0 (canary then phased), deleted pod below partition stays old', () => {
  const w = new World(makeSet({ replicas: 3 }));
  w.converge();
  w.set.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 3, maxUnavailable: 1 } };
  w.set = withImage(w.set, 'nginx:2');
  assert.deepEqual(w.converge(), []);
  // Deleting a pod below the partition brings it back at the old revision.
  w.pods.delete('web-1');
  assert.deepEqual(w.converge(), ['create web-1']);
  assert.equal(w.images()['web-1'], 'nginx:1');
  w.set.spec.updateStrategy.rollingUpdate.partition = 2;
  assert.deepEqual(w.converge(), ['delete web-2 (update)', 'create web-2']);
  assert.deepEqual(w.images(), { 'web-0': 'nginx:1', 'web-1': 'nginx:1', 'web-2': 'nginx:2' });
  w.pods.delete('web-1');
  w.converge();
  assert.equal(w.images()['web-1'], 'nginx:1');
  assert.notEqual(w.set.status.currentRevision, w.set.status.updateRevision);
  w.set.spec.updateStrategy.rollingUpdate.partition = 0;
  assert.deepEqual(w.converge(), ['delete web-1 (update)', 'create web-1', 'delete web-0 (update)', 'create web-0']);
  assert.equal(w.set.status.currentRevision, w.set.status.updateRevision);
});

test('sequence: OnDelete applies the new template only to deleted pods and never advances currentRevision', () => {
  const w = new World(makeSet({ replicas: 2, updateStrategy: { type: 'OnDelete' } }));
  w.converge();
  const first = w.set.status.currentRevision;
  w.set = withImage(w.set, 'nginx:2');
  assert.deepEqual(w.converge(), []);
  w.pods.delete('web-0');
  w.pods.delete('web-1');
  w.converge();
  assert.deepEqual(w.images(), { 'web-0': 'nginx:2', 'web-1': 'nginx:2' });
  assert.equal(w.set.status.currentRevision, first);
  assert.equal(w.set.status.currentReplicas ?? 0, 0);
  assert.equal(w.set.status.updatedReplicas, 2);
});

test('sequence: Parallel scales in one go', () => {
  const w = new World(makeSet({ replicas: 4, podManagementPolicy: 'Parallel' }));
  assert.deepEqual(w.step(), ['create web-0', 'create web-1', 'create web-2', 'create web-3']);
  w.ready();
  w.set.spec.replicas = 1;
  assert.deepEqual(w.step(), ['delete web-3 (condemned)', 'delete web-2 (condemned)', 'delete web-1 (condemned)']);
});

test('sequence: a failed pod is recreated at the revision its ordinal should have', () => {
  const w = new World(makeSet({ replicas: 3 }));
  w.converge();
  w.set.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 2, maxUnavailable: 1 } };
  w.set = withImage(w.set, 'nginx:2');
  w.converge();
  w.pods.get('web-0')!.status = { phase: 'Failed' };
  w.pods.get('web-2')!.status = { phase: 'Failed' };
  assert.deepEqual(w.step(), ['delete web-0 (terminal)']);
  assert.deepEqual(w.step(), ['create web-0']);
  w.converge();
  assert.deepEqual(w.images(), { 'web-0': 'nginx:1', 'web-1': 'nginx:1', 'web-2': 'nginx:2' });
});

test('sequence: rollback to an earlier template reuses its revision and renumbers it', () => {
  const w = new World(makeSet({ replicas: 2 }));
  w.converge();
  const v1 = w.set.status.updateRevision;
  w.set = withImage(w.set, 'nginx:2');
  w.converge();
  w.set = withImage(w.set, 'nginx:1');
  w.converge();
  assert.equal(w.set.status.updateRevision, v1);
  assert.equal(w.revisions.length, 2);
  assert.equal(w.revisions.find((r) => r.metadata.name === v1)!.revision, 3);
  assert.deepEqual(w.images(), { 'web-0': 'nginx:1', 'web-1': 'nginx:1' });
});

test('sequence: changing replicas, strategy or minReadySeconds makes no new revision', () => {
  const w = new World(makeSet({ replicas: 2 }));
  w.converge();
  w.set.spec.replicas = 3;
  w.set.spec.minReadySeconds = 5;
  w.set.spec.updateStrategy = { type: 'OnDelete' };
  w.converge();
  assert.equal(w.revisions.length, 1);
});

test('sequence: moving spec.ordinals.start shifts the range (create first, then delete)', () => {
  const w = new World(makeSet({ replicas: 2 }));
  w.converge();
  w.set.spec.ordinals = { start: 1 };
  w.graceful = true;
  assert.deepEqual(w.converge(), ['create web-2', 'delete web-0 (condemned)']);
  assert.deepEqual(Object.keys(w.images()), ['web-1', 'web-2']);
});

test('OrderedReady builds the new pod of the first missing slot only; Parallel builds one per missing slot', () => {
  const ordered = plan({ set: makeSet({ replicas: 5 }), pods: [pod('web-0', R1)] });
  assert.deepEqual(Array.from(ordered.slots, (s, i) => (s ? s.metadata.name : `(none ${i})`)), ['web-0', 'web-1', '(none 2)', '(none 3)', '(none 4)']);
  assert.equal(ordered.status.replicas, 1);
  assert.deepEqual(describe(ordered), ['create web-1']);
  const burst = plan({ set: makeSet({ replicas: 4, podManagementPolicy: 'Parallel' }), pods: [pod('web-1', R1)] });
  assert.deepEqual(Array.from(burst.slots, (s) => s?.metadata.name), ['web-0', 'web-1', 'web-2', 'web-3']);
});

test('a new pod and its claims leave the set, its template and the revision as they were', () => {
  const set = makeSet({ replicas: 2, volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'www', creationTimestamp: null }, spec: { accessModes: ['ReadWriteOnce'] }, status: { phase: 'Pending' } }] });
  set.spec.template.spec.volumes = [{ name: 'www', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }];
  const rev = revisionOf(set, 1);
  const before = JSON.stringify([set, rev]);
  const p = plan({ set, update: rev });
  assert.equal(JSON.stringify([set, rev]), before);
  const create = p.phases[0]!.units[0]![0]!;
  assert.equal(create.type, 'createPod');
  if (create.type !== 'createPod') return;
  assert.deepEqual(create.pod.spec.volumes, [{ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } }, { name: 'cfg', configMap: { name: 'c' } }]);
  assert.deepEqual(create.pod.metadata.labels, { app: 'nginx', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': rev.metadata.name });
  assert.equal(create.pod.spec.hostname, 'web-0');
  assert.equal(create.pod.spec.subdomain, 'nginx');
  assert.deepEqual(create.claims.create.map((c) => c.metadata), [{ name: 'www-web-0', namespace: 'ns', labels: { app: 'nginx' } }]);
  assert.equal(create.claims.create[0]!.status, undefined);
  assert.equal(create.claims.create[0]!.kind, 'PersistentVolumeClaim');
});
