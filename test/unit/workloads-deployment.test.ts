// The Deployment and ReplicaSet controllers' pure decisions: fenceposts, rolling steps, proportional
// scaling, clean-up, conditions, and the ReplicaSet's scale-down order and status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calculateStatus, equalIgnoreHash, isScalingEvent, maxUnavailable, newRSNewReplicas, newReplicaSetFor, pausedConditions, proportionalScale,
  replicaSetsToCleanUp, resolveFenceposts, rolloutStatus, scaleDownOld, splitReplicaSets, templateHash,
} from '../../src/controllers/deployment/plan.ts';
import { planReplicas, replicaSetStatus } from '../../src/controllers/replicaset/plan.ts';
import { podsToDelete, scaledValue, slowStartBatch } from '../../src/controllers/workloads/pods.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });
const deploy = (replicas: number, extra: Record<string, any> = {}) => ({
  metadata: { name: 'web', namespace: 'default', uid: 'd1', generation: 2, annotations: {} },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template('v2'), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, progressDeadlineSeconds: 600, revisionHistoryLimit: 10, ...extra },
  status: {},
});
let n = 0;
const rs = (name: string, image: string, replicas: number, available = replicas, created = `2024-05-01T00:00:0${n++ % 10}Z`, annotations: Record<string, string> = {}) => ({
  metadata: { name, uid: name, creationTimestamp: created, annotations, generation: 1 },
  spec: { replicas, template: template(image) },
  status: { replicas, availableReplicas: available, readyReplicas: available, observedGeneration: 1 },
});

test('fenceposts round surge up and unavailability down, never both zero', () => {
  const cases: [number, unknown, unknown, number, number][] = [
    [10, '25%', '25%', 3, 2],
    [4, '25%', '25%', 1, 1],
    [1, '25%', '25%', 1, 0],
    [3, 0, 0, 0, 1],
    [5, 2, '50%', 2, 2],
  ];
  for (const [replicas, surge, unavail, s, u] of cases) {
    assert.deepEqual(resolveFenceposts(deploy(replicas, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavail } } })), { surge: s, unavailable: u }, `${replicas} ${surge} ${unavail}`);
  }
  assert.equal(maxUnavailable(deploy(4, { strategy: { type: 'Recreate' } })), 0);
  assert.equal(scaledValue('33%', 10, true), 4);
  assert.equal(scaledValue('33%', 10, false), 3);
});

test('a rolling update grows the new ReplicaSet within maxSurge and shrinks old ones within maxUnavailable', () => {
  const d = deploy(4);
  const old = rs('web-old', 'v1', 4);
  const fresh = rs('web-new', 'v2', 0);
  assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 1); // 4 + 25% surge = 5 pods at most
  const grown = rs('web-new', 'v2', 1, 0);
  assert.equal(newRSNewReplicas(d, [old, grown], grown), 1);
  // 5 pods, at least 3 available: one old pod may go while the new one is unavailable.
  assert.deepEqual(scaleDownOld(d, [old], grown).map((s) => [s.rs.metadata.name, s.replicas]), [['web-old', 3]]);
  // Unhealthy old pods go first, as far as 5 pods - 3 needed available allows; then none, as only 2 are available.
  const sick = rs('web-old', 'v1', 4, 1);
  assert.deepEqual(scaleDownOld(d, [sick], rs('web-new', 'v2', 1, 1)).map((s) => s.replicas), [2]);
  assert.deepEqual(scaleDownOld(d, [rs('web-old', 'v1', 0)], fresh), []);
});

test('the new ReplicaSet is the oldest with the template, ignoring the hash label', () => {
  const a = rs('web-a', 'v2', 1, 1, '2024-05-01T00:00:01Z');
  const b = rs('web-b', 'v2', 1, 1, '2024-05-01T00:00:00Z');
  (b.spec.template.metadata.labels as any)['pod-template-hash'] = 'b';
  const c = rs('web-c', 'v1', 1);
  const { newRS, oldRSs } = splitReplicaSets(deploy(2), [a, b, c]);
  assert.equal(newRS?.metadata.name, 'web-b');
  assert.deepEqual(oldRSs.map((x) => x.metadata.name).sort(), ['web-a', 'web-c']);
  assert.ok(equalIgnoreHash(b.spec.template, a.spec.template));
});

test('a new ReplicaSet carries the hash in its name, labels and selector, and the revision', () => {
  const d = deploy(3, {});
  d.metadata.annotations = { 'kubernetes.io/change-cause': 'v2', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } as any;
  const r = newReplicaSetFor(d, 4);
  const hash = templateHash(d.spec.template);
  assert.equal(r.metadata.name, `web-${hash}`);
  assert.equal(r.spec.selector.matchLabels['pod-template-hash'], hash);
  assert.equal(r.spec.template.metadata.labels['pod-template-hash'], hash);
  assert.equal(r.metadata.annotations['deployment.kubernetes.io/revision'], '4');
  assert.equal(r.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(r.metadata.annotations['deployment.kubernetes.io/max-replicas'], '4');
  assert.equal(r.metadata.annotations['kubernetes.io/change-cause'], 'v2');
  assert.equal(r.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  assert.notEqual(templateHash(d.spec.template, 1), hash);
});

test('scaling mid-rollout spreads the change in proportion to each ReplicaSet', () => {
  // 10 -> 15 with maxSurge 3: old 8 and new 5 were sized for 13 (max-replicas annotation).
  const d = deploy(15, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } });
  const old = rs('web-old', 'v1', 8, 8, '2024-05-01T00:00:00Z', { 'deployment.kubernetes.io/max-replicas': '13', 'deployment.kubernetes.io/desired-replicas': '10' });
  const fresh = rs('web-new', 'v2', 5, 0, '2024-05-01T00:00:05Z', { 'deployment.kubernetes.io/max-replicas': '13', 'deployment.kubernetes.io/desired-replicas': '10' });
  assert.ok(isScalingEvent(d, [old, fresh]));
  const scales = Object.fromEntries(proportionalScale(d, fresh, [old]).map((s) => [s.rs.metadata.name, s.replicas]));
  assert.deepEqual(scales, { 'web-old': 11, 'web-new': 7 });
  // Not rolling: the one active ReplicaSet takes the new size.
  assert.deepEqual(proportionalScale(deploy(2), rs('web-new', 'v2', 5), [rs('web-old', 'v1', 0)]).map((s) => s.replicas), [2]);
});

test('history clean-up removes the lowest revisions beyond the limit, only when scaled to zero', () => {
  const rev = (name: string, r: number, replicas = 0) => rs(name, 'v0', replicas, replicas, undefined, { 'deployment.kubernetes.io/revision': String(r) });
  const olds = [rev('r3', 3), rev('r1', 1), rev('r2', 2, 1), rev('r4', 4)];
  // The three lowest revisions are beyond the limit; r2 still has a pod, so it stays (and nothing else goes in its place).
  assert.deepEqual(replicaSetsToCleanUp(deploy(1, { revisionHistoryLimit: 1 }), olds).map((r) => r.metadata.name), ['r1', 'r3']);
  assert.deepEqual(replicaSetsToCleanUp(deploy(1, { revisionHistoryLimit: 10 }), olds), []);
});

test('status and conditions: available, progressing, complete, timed out, paused', () => {
  const d = deploy(2);
  const fresh = rs('web-new', 'v2', 2, 1);
  let s = calculateStatus(d, [fresh], fresh, NOW);
  assert.equal(s.unavailableReplicas, 1);
  // 2 replicas at 25% leave no room for an unavailable one.
  assert.equal(s.conditions.find((c: any) => c.type === 'Available').reason, 'MinimumReplicasUnavailable');
  s = calculateStatus(deploy(4), [rs('web-new', 'v2', 4, 3)], undefined, NOW);
  assert.equal(s.conditions.find((c: any) => c.type === 'Available').message, 'Deployment has minimum availability.');
  const r1 = rolloutStatus(d, [fresh], fresh, NOW);
  const prog = r1.status.conditions.find((c: any) => c.type === 'Progressing');
  assert.equal(prog.reason, 'ReplicaSetUpdated');
  assert.equal(prog.message, 'ReplicaSet "web-new" is progressing.');
  assert.ok(r1.requeueAfterMs! > 599_000);
  const done = rolloutStatus(d, [rs('web-new', 'v2', 2, 2)], rs('web-new', 'v2', 2, 2), NOW).status;
  assert.equal(done.conditions.find((c: any) => c.type === 'Progressing').reason, 'NewReplicaSetAvailable');
  // No progress since the last update, past the deadline.
  const stale = deploy(2, { progressDeadlineSeconds: 60 });
  stale.status = { replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2024-05-01T11:58:00Z', lastTransitionTime: '2024-05-01T11:58:00Z' }] } as any;
  s = rolloutStatus(stale, [fresh], fresh, NOW).status;
  const timedOut = s.conditions.find((c: any) => c.type === 'Progressing');
  assert.deepEqual([timedOut.status, timedOut.reason, timedOut.message], ['False', 'ProgressDeadlineExceeded', 'ReplicaSet "web-new" has timed out progressing.']);
  const paused = pausedConditions(deploy(1, { paused: true }), NOW)!;
  assert.deepEqual([paused[0].status, paused[0].reason, paused[0].message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  const resumed = pausedConditions({ ...deploy(1), status: { conditions: paused } }, NOW)!;
  assert.equal(resumed[0].reason, 'DeploymentResumed');
});

const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: string; restarts?: number; created?: string; cost?: string } = {}) => ({
  metadata: { name, uid: name, creationTimestamp: o.created ?? '2024-05-01T11:00:00Z', annotations: o.cost ? { 'controller.kubernetes.io/pod-deletion-cost': o.cost } : {} },
  spec: { nodeName: o.node },
  status: {
    phase: o.phase ?? 'Running',
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readySince ?? '2024-05-01T11:00:00Z' }],
    containerStatuses: [{ restartCount: o.restarts ?? 0 }],
  },
});

test('scale-down deletes pods in upstream rank order', () => {
  const pods = [
    pod('old-ready', { node: 'n1', created: '2024-04-01T00:00:00Z', readySince: '2024-04-01T00:00:00Z' }),
    pod('unassigned', { phase: 'Pending', ready: false }),
    pod('pending', { node: 'n1', phase: 'Pending', ready: false }),
    pod('not-ready', { node: 'n2', ready: false }),
    pod('expensive', { node: 'n3', cost: '100', readySince: '2024-05-01T11:59:00Z' }),
    pod('fresh', { node: 'n3', readySince: '2024-05-01T11:59:00Z', created: '2024-05-01T11:58:00Z' }),
    pod('crashy', { node: 'n2', restarts: 5, readySince: '2024-04-01T00:00:00Z', created: '2024-04-01T00:00:00Z' }),
  ];
  const order = podsToDelete(pods, pods, pods.length - 1, NOW).map((p) => p.metadata.name);
  assert.deepEqual(order, ['unassigned', 'pending', 'not-ready', 'fresh', 'crashy', 'old-ready']);
});

test('ReplicaSet plan: create the missing, delete the surplus, status counts', () => {
  const set = { metadata: { name: 'fe', generation: 3 }, spec: { replicas: 3, minReadySeconds: 60, template: { metadata: { labels: { app: 'fe' } } } } };
  assert.deepEqual(planReplicas(set, [pod('a')], [], NOW), { create: 2 });
  assert.deepEqual(planReplicas({ ...set, spec: { ...set.spec, replicas: 600 } }, [], [], NOW), { create: 500 });
  const del = planReplicas({ ...set, spec: { ...set.spec, replicas: 1 } }, [pod('a', { node: 'n' }), pod('b', { node: 'n', ready: false })], [], NOW);
  assert.deepEqual('delete' in del && del.delete.map((p) => p.metadata.name), ['b']);
  const labelled = (p: any) => ({ ...p, metadata: { ...p.metadata, labels: { app: 'fe' } } });
  const { status, recheckAt } = replicaSetStatus(set, [labelled(pod('a', { readySince: '2024-05-01T11:00:00Z' })), labelled(pod('b', { readySince: '2024-05-01T11:59:30Z' })), pod('c', { phase: 'Succeeded' })], NOW);
  assert.deepEqual(status, { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 3 });
  assert.equal(recheckAt, Date.parse('2024-05-01T12:00:30Z'));
  const failed = replicaSetStatus(set, [], NOW, { reason: 'FailedCreate', message: 'quota' }).status;
  assert.equal(failed.conditions[0].type, 'ReplicaFailure');
});

test('slow start doubles its batches and stops at the first failure', async () => {
  let calls = 0;
  const r = await slowStartBatch(10, async () => {
    const mine = ++calls;
    await Promise.resolve();
    if (mine === 5) throw new Error('boom');
  });
  assert.equal(calls, 7); // 1 + 2 + 4, the third batch failing
  assert.equal(r.done, 6);
  assert.equal((r.error as Error).message, 'boom');
});
