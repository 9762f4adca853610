import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetStatus, scaledValue, selectsPod, statusObject, DISRUPTION_TIMEOUT_MS, type ScaleOf } from '../../src/controllers/disruption/plan.ts';
import { decideEviction } from '../../src/apiserver/eviction.ts';
import type { Obj } from '../../src/api/resource.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const pod = (name: string, opts: { ready?: boolean; phase?: string; deleting?: boolean; owner?: string } = {}): Obj => ({
  metadata: {
    name,
    namespace: 'db',
    labels: { app: 'db' },
    ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:09:00Z' } : {}),
    ...(opts.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: opts.owner, uid: `uid-${opts.owner}`, controller: true }] } : {}),
  },
  status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});
const pdb = (spec: Obj, status?: Obj, generation = 1): Obj => ({ metadata: { name: 'db', namespace: 'db', generation }, spec: { selector: { matchLabels: { app: 'db' } }, ...spec }, ...(status ? { status } : {}) });
const scale5: ScaleOf = (p) => (p.metadata.ownerReferences ? { uid: 'uid-db', replicas: 5 } : { error: `found no controller ref for pod "${p.metadata.name}"` });

test('int-or-percent values round up', () => {
  assert.equal(scaledValue(2, 10), 2);
  assert.equal(scaledValue('50%', 5), 3);
  assert.equal(scaledValue('10%', 5), 1);
  assert.equal(scaledValue('0%', 5), 0);
  assert.equal(scaledValue('3', 5), 3);
});

test('a missing selector selects nothing, an empty one everything in the namespace', () => {
  assert.equal(selectsPod({ metadata: { namespace: 'db' }, spec: {} }, pod('a')), false);
  assert.equal(selectsPod({ metadata: { namespace: 'db' }, spec: { selector: {} } }, pod('a')), true);
  assert.equal(selectsPod({ metadata: { namespace: 'other' }, spec: { selector: {} } }, pod('a')), false);
});

test('minAvailable as a number: expected = pods selected; ready, not deleting pods are healthy', () => {
  const pods = [pod('a'), pod('b'), pod('c', { ready: false }), pod('d', { deleting: true })];
  const s = budgetStatus(pdb({ minAvailable: 1 }), pods, scale5, NOW);
  assert.deepEqual([s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed], [4, 1, 2, 1]);
});

test('maxUnavailable and percentages use the controllers\' scale', () => {
  const pods = ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n, { owner: 'db' }));
  const s = budgetStatus(pdb({ maxUnavailable: 1 }), pods, scale5, NOW);
  assert.deepEqual([s.expectedPods, s.desiredHealthy, s.currentHealthy, s.disruptionsAllowed], [5, 4, 5, 1]);
  const p = budgetStatus(pdb({ minAvailable: '50%' }), pods, scale5, NOW);
  assert.deepEqual([p.expectedPods, p.desiredHealthy, p.disruptionsAllowed], [5, 3, 2]);
  const orphan = budgetStatus(pdb({ maxUnavailable: '20%' }), [...pods, pod('x')], scale5, NOW);
  assert.equal(orphan.syncError, 'found no controller ref for pod "x"');
  assert.equal(orphan.disruptionsAllowed, 0);
  const st = statusObject(pdb({}), orphan, '2026-01-01T00:10:00Z');
  assert.deepEqual(st.conditions.map((c: Obj) => [c.type, c.status, c.reason]), [['DisruptionAllowed', 'False', 'SyncFailed']]);
});

test('recorded evictions count against the healthy pods until the pod goes or two minutes pass', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  const fresh = new Date(NOW - 1000).toISOString();
  const stale = new Date(NOW - DISRUPTION_TIMEOUT_MS - 1).toISOString();
  const s = budgetStatus(pdb({ minAvailable: 1 }, { disruptedPods: { a: fresh, b: stale, gone: fresh } }), pods, scale5, NOW);
  assert.deepEqual(s.disruptedPods, { a: fresh });
  assert.equal(s.currentHealthy, 2);
  assert.equal(s.recheckAtMs, Date.parse(fresh) + DISRUPTION_TIMEOUT_MS);
});

test('the condition: SufficientPods / InsufficientPods, transition time kept while the status holds', () => {
  const allowed = statusObject(pdb({}), { expectedPods: 2, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 }, 'T1');
  assert.deepEqual(allowed.conditions, [{ type: 'DisruptionAllowed', status: 'True', observedGeneration: 1, reason: 'SufficientPods', message: '', lastTransitionTime: 'T1' }]);
  const again = statusObject(pdb({}, allowed), { expectedPods: 2, desiredHealthy: 1, currentHealthy: 2, disruptionsAllowed: 1 }, 'T2');
  assert.equal(again.conditions[0].lastTransitionTime, 'T1');
  const blocked = statusObject(pdb({}, allowed), { expectedPods: 2, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 }, 'T3');
  assert.deepEqual([blocked.conditions[0].status, blocked.conditions[0].reason, blocked.conditions[0].lastTransitionTime], ['False', 'InsufficientPods', 'T3']);
});

test('eviction: budgets charged, refused with upstream\'s reasons, or ignored', () => {
  const ok = { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 };
  const charged = decideEviction(pod('a'), [pdb({ minAvailable: 1 }, ok)], 'NOW');
  assert.equal(charged.kind, 'charge');
  assert.deepEqual(charged.kind === 'charge' && charged.status, { ...ok, disruptionsAllowed: 0, disruptedPods: { a: 'NOW' } });

  const refused = decideEviction(pod('a'), [pdb({ minAvailable: 2 }, { ...ok, disruptionsAllowed: 0, desiredHealthy: 2 })], 'NOW');
  assert.equal(refused.kind === 'refuse' && refused.error.code, 429);
  assert.deepEqual(refused.kind === 'refuse' && refused.error.toStatus().details, { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }] });

  const unsynced = decideEviction(pod('a'), [pdb({ minAvailable: 1 }, ok, 2)], 'NOW');
  assert.match(unsynced.kind === 'refuse' ? JSON.stringify(unsynced.error.toStatus().details) : '', /The disruption budget db is still being processed by the server\./);
  const two = decideEviction(pod('a'), [pdb({}, ok), pdb({}, ok)], 'NOW');
  assert.equal(two.kind === 'refuse' && two.error.code, 500);
  const negative = decideEviction(pod('a'), [pdb({}, { ...ok, disruptionsAllowed: -1 })], 'NOW');
  assert.equal(negative.kind === 'refuse' && negative.error.message, 'poddisruptionbudget.policy "db" is forbidden: pdb disruptions allowed is negative');

  // Pending, finished and terminating pods, and pods without a budget, are simply deleted.
  for (const p of [pod('p', { phase: 'Pending' }), pod('s', { phase: 'Succeeded' }), pod('d', { deleting: true })]) {
    assert.equal(decideEviction(p, [pdb({ minAvailable: 5 }, { ...ok, disruptionsAllowed: 0 })], 'NOW').kind, 'delete');
  }
  assert.equal(decideEviction(pod('a'), [], 'NOW').kind, 'delete');
  // An unready pod goes without charging when the budget is met without it, or always with AlwaysAllow.
  assert.equal(decideEviction(pod('u', { ready: false }), [pdb({ minAvailable: 1 }, { ...ok, disruptionsAllowed: 0, currentHealthy: 1 })], 'NOW').kind, 'delete');
  assert.equal(decideEviction(pod('u', { ready: false }), [pdb({ minAvailable: 2 }, { ...ok, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2 })], 'NOW').kind, 'refuse');
  assert.equal(decideEviction(pod('u', { ready: false }), [pdb({ minAvailable: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' }, { ...ok, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2 })], 'NOW').kind, 'delete');
});
