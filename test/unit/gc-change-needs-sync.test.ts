// The garbage collector syncs an object on a change only when the change can alter its decision:
// new with owners, owner references changed, or being deleted. A status write needs no sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changeNeedsSync } from '../../src/controllers/garbagecollector/plan.ts';
import { OwnerGraph } from '../../src/controllers/garbagecollector/graph.ts';

const set = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u-set', controller: true, blockOwnerDeletion: true };
const pod = (meta: object = {}, status: object = {}) => ({ metadata: { name: 'web-0', namespace: 'default', uid: 'u-pod', ...meta }, status });

test('new objects are synced when they have owners or are being deleted', () => {
  assert.equal(changeNeedsSync(undefined, pod({ ownerReferences: [set] })), true);
  assert.equal(changeNeedsSync(undefined, pod()), false);
  assert.equal(changeNeedsSync(undefined, pod({ ownerReferences: [] })), false);
  assert.equal(changeNeedsSync(undefined, pod({ deletionTimestamp: '2026-12-07T00:00:00Z', finalizers: ['foregroundDeletion'] })), true);
});

test('an update is synced only when its owner references or its deletion change', () => {
  const refs = [set];
  const before = pod({ ownerReferences: refs }, { phase: 'Pending' });
  // A status write: the same owner list (shared by the cache's copy), or an equal one.
  assert.equal(changeNeedsSync(before, pod({ ownerReferences: refs }, { phase: 'Running' })), false);
  assert.equal(changeNeedsSync(before, pod({ ownerReferences: [{ ...set }] }, { phase: 'Running' })), false);
  // Owners changed: another uid, another owner added, one removed, blockOwnerDeletion or controller flipped.
  assert.equal(changeNeedsSync(before, pod({ ownerReferences: [{ ...set, uid: 'u-other' }] })), true);
  assert.equal(changeNeedsSync(before, pod({ ownerReferences: [set, { ...set, uid: 'u-2', controller: false }] })), true);
  assert.equal(changeNeedsSync(pod({ ownerReferences: [set, { ...set, uid: 'u-2' }] }), pod({ ownerReferences: [set] })), true);
  assert.equal(changeNeedsSync(before, pod({ ownerReferences: [{ ...set, blockOwnerDeletion: false }] })), true);
  assert.equal(changeNeedsSync(before, pod({ ownerReferences: [{ ...set, controller: false }] })), true);
  // Owners all removed: nothing left to judge.
  assert.equal(changeNeedsSync(before, pod({ ownerReferences: [] })), false);
  // Being deleted: every change counts (finalizers are read then).
  const deleting = { deletionTimestamp: '2026-12-07T00:00:00Z', ownerReferences: refs };
  assert.equal(changeNeedsSync(before, pod({ ...deleting, finalizers: ['orphan'] })), true);
  assert.equal(changeNeedsSync(pod({ ...deleting, finalizers: ['orphan'] }), pod(deleting)), true);
});

test('the graph keeps its links when a version keeps the owner list, and relinks when it changes', () => {
  const g = new OwnerGraph();
  const r = { kind: 'Pod' } as any;
  const refs = [set];
  g.upsert(r, pod({ ownerReferences: refs }, { phase: 'Pending' }));
  const running = pod({ ownerReferences: refs }, { phase: 'Running' });
  g.upsert(r, running);
  assert.equal(g.get('u-pod')?.obj, running);
  assert.deepEqual(g.dependentsOf('u-set').map((n) => n.obj), [running]);
  const moved = pod({ ownerReferences: [{ ...set, uid: 'u-other' }] });
  g.upsert(r, moved);
  assert.deepEqual(g.dependentsOf('u-set'), []);
  assert.deepEqual(g.dependentsOf('u-other').map((n) => n.obj), [moved]);
});
