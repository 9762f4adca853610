// DaemonSet rolling updates with maxSurge (upstream's pkg/controller/daemon/update.go): the new pod
// starts beside the old one, which goes once the new one is available; at most maxSurge nodes
// surge at once, while nodes whose old pod is unavailable are replaced at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowsSurge, planDaemonSet, surgeStep, surplusWhileSurging } from '../../src/controllers/daemonset/plan.ts';
import { daemonSetStrategy } from '../../src/api/kinds/workloads/apps.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const node = (name: string) => ({ metadata: { name, labels: {} }, spec: {} });
const ds = (rollingUpdate: Record<string, unknown>, minReadySeconds = 0) => ({
  metadata: { name: 'agent', uid: 'ds1', generation: 2 },
  spec: {
    minReadySeconds,
    selector: { matchLabels: { app: 'a' } },
    template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'agent:1' }] } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate },
  },
});
/** A daemon pod; `readySince` is when it became Ready (null: not Ready). */
const dpod = (name: string, nodeName: string, hash: string, readySince: string | null = '2024-05-01T11:00:00Z', created = '2024-05-01T11:00:00Z') => ({
  metadata: { name, uid: name, labels: { 'controller-revision-hash': hash }, creationTimestamp: created },
  spec: { nodeName },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: readySince ? 'True' : 'False', lastTransitionTime: readySince ?? '2024-05-01T11:00:00Z' }] },
});
const names = (pods: any[]) => pods.map((p) => p.metadata.name as string).sort();
const nodes3 = [node('n1'), node('n2'), node('n3')];

test('surge is allowed only by a non-zero maxSurge (any percentage of one node rounds up)', () => {
  assert.equal(allowsSurge(ds({ maxUnavailable: 1, maxSurge: 0 })), false);
  assert.equal(allowsSurge(ds({ maxUnavailable: 0, maxSurge: 1 })), true);
  assert.equal(allowsSurge(ds({ maxUnavailable: 0, maxSurge: '1%' })), true);
  assert.equal(allowsSurge({ spec: { updateStrategy: { type: 'OnDelete' } } }), false);
});

test('with maxSurge 1, one node gets its new pod beside the old one, and nothing is deleted yet', () => {
  const plan = planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }), nodes3, [dpod('o1', 'n1', 'old'), dpod('o2', 'n2', 'old'), dpod('o3', 'n3', 'old')], 'new', NOW);
  assert.deepEqual(plan.createOn, ['n1']);
  assert.deepEqual(plan.delete, []);
});

test('a surged node whose new pod is not yet available holds the budget; an available one lets the old pod go', () => {
  const waiting = planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }), nodes3, [dpod('o1', 'n1', 'old'), dpod('n1new', 'n1', 'new', null, '2024-05-01T11:59:00Z'), dpod('o2', 'n2', 'old'), dpod('o3', 'n3', 'old')], 'new', NOW);
  assert.deepEqual(waiting.createOn, []);
  assert.deepEqual(waiting.delete, []);
  // Status reads the oldest pod of each node: the old one, still available.
  assert.deepEqual([waiting.status.currentNumberScheduled, waiting.status.numberAvailable, waiting.status.updatedNumberScheduled], [3, 3, 0]);
  const ready = planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }), nodes3, [dpod('o1', 'n1', 'old'), dpod('n1new', 'n1', 'new', '2024-05-01T11:59:30Z', '2024-05-01T11:59:00Z'), dpod('o2', 'n2', 'old'), dpod('o3', 'n3', 'old')], 'new', NOW);
  // The node-by-node pass removes the old pod once the new one is Ready; the rolling step waits for that.
  assert.deepEqual(names(ready.delete), ['o1']);
  assert.deepEqual(ready.createOn, []);
});

test('minReadySeconds: the old pod stays until the new one has been Ready that long', () => {
  const pods = [dpod('o1', 'n1', 'old'), dpod('n1new', 'n1', 'new', '2024-05-01T11:59:50Z', '2024-05-01T11:59:00Z')];
  const young = surgeStep([{ node: 'n1', running: pods }], (p) => p.metadata.labels['controller-revision-hash'] === 'new', 1, 30, NOW);
  assert.deepEqual(young, { createOn: [], delete: [] });
  const grown = surgeStep([{ node: 'n1', running: pods }], (p) => p.metadata.labels['controller-revision-hash'] === 'new', 1, 5, NOW);
  assert.deepEqual(names(grown.delete), ['o1']);
});

test('an unavailable old pod is replaced at once, beyond the surge budget', () => {
  const plan = planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }), nodes3, [dpod('o1', 'n1', 'old'), dpod('o2', 'n2', 'old', null), dpod('o3', 'n3', 'old')], 'new', NOW);
  assert.deepEqual(plan.createOn, ['n2', 'n1']);
  assert.deepEqual(plan.delete, []);
});

test('maxSurge as a percentage of the nodes, rounded up', () => {
  const plan = planDaemonSet(ds({ maxUnavailable: 0, maxSurge: '50%' }), nodes3, [dpod('o1', 'n1', 'old'), dpod('o2', 'n2', 'old'), dpod('o3', 'n3', 'old')], 'new', NOW);
  assert.deepEqual(plan.createOn, ['n1', 'n2']);
});

test('pruning while surging keeps the oldest old and new pods only as long as the old one is needed', () => {
  const isNew = (p: any) => p.metadata.labels['controller-revision-hash'] === 'new';
  const old = dpod('o', 'n1', 'old');
  const oldNotReady = dpod('o', 'n1', 'old', null);
  const fresh = dpod('f', 'n1', 'new', null, '2024-05-01T11:30:00Z');
  const freshReady = dpod('f', 'n1', 'new', '2024-05-01T11:40:00Z', '2024-05-01T11:30:00Z');
  const extra = dpod('x', 'n1', 'new', null, '2024-05-01T11:50:00Z');
  assert.deepEqual(surplusWhileSurging([old, fresh], isNew), []);
  assert.deepEqual(names(surplusWhileSurging([old, freshReady], isNew)), ['o']);
  assert.deepEqual(names(surplusWhileSurging([oldNotReady, fresh], isNew)), ['o']);
  assert.deepEqual(names(surplusWhileSurging([old, fresh, extra], isNew)), ['x']);
  // With minReadySeconds the old pod stays until the new one has been Ready that long.
  const NOW_ = Date.parse('2024-05-01T11:40:20Z');
  assert.deepEqual(surplusWhileSurging([old, freshReady], isNew, 30, NOW_), []);
  assert.deepEqual(names(surplusWhileSurging([old, freshReady], isNew, 10, NOW_)), ['o']);
});

test('a node that lost its pod gets one even while another terminates; the rolling step waits a sync', () => {
  const terminating = { ...dpod('o1', 'n1', 'old'), metadata: { ...dpod('o1', 'n1', 'old').metadata, deletionTimestamp: '2024-05-01T11:59:00Z' } };
  const plan = planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }), nodes3, [terminating, dpod('o2', 'n2', 'old'), dpod('o3', 'n3', 'old')], 'new', NOW);
  assert.deepEqual(plan.createOn, ['n1']);
  assert.deepEqual(plan.delete, []);
});

test('validation: exactly one of maxSurge and maxUnavailable is non-zero, with upstream messages', () => {
  const errs = (rollingUpdate: Record<string, unknown>) => {
    const obj: any = structuredClone(ds(rollingUpdate));
    obj.metadata = { name: 'a', namespace: 'default' };
    daemonSetStrategy.default(obj);
    return daemonSetStrategy.validate(obj).map((e) => `${e.field}: ${e.detail ?? ''}`);
  };
  assert.deepEqual(errs({ maxUnavailable: 0, maxSurge: 1 }), []);
  assert.deepEqual(errs({ maxUnavailable: 1, maxSurge: 0 }), []);
  assert.deepEqual(errs({ maxUnavailable: 1, maxSurge: 1 }), ['spec.updateStrategy.rollingUpdate.maxSurge: 1: may not be set when maxUnavailable is non-zero']);
  assert.deepEqual(errs({ maxUnavailable: '0%', maxSurge: 0 }), ['spec.updateStrategy.rollingUpdate.maxUnavailable: cannot be 0 when maxSurge is 0']);
  // Defaulted maxSurge (0) with an explicit maxUnavailable of 0.
  assert.deepEqual(errs({ maxUnavailable: 0 }), ['spec.updateStrategy.rollingUpdate.maxUnavailable: cannot be 0 when maxSurge is 0']);
});

test('a Ready pod that is not yet available asks for a sync when it will be', () => {
  const pods = [dpod('o1', 'n1', 'old'), dpod('n1new', 'n1', 'new', '2024-05-01T11:59:50Z', '2024-05-01T11:59:00Z')];
  const plan = planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }, 30), [node('n1')], pods, 'new', NOW);
  assert.equal(plan.recheckAt, Date.parse('2024-05-01T12:00:20Z'));
});
