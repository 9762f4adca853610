// The counts of a steady set (steady-walk.ts) kept up from status-only pod changes must be what a
// walk from scratch reports, and anything beyond status must be refused (the controller then walks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Obj } from '../../src/api/resource.ts';
import { planSync, type SyncPlan } from '../../src/controllers/statefulset/control.ts';
import { podFacts } from '../../src/controllers/statefulset/memo.ts';
import { SteadyWalk } from '../../src/controllers/statefulset/steady-walk.ts';
import { podChangeIsStatusOnly } from '../../src/controllers/statefulset/triggers.ts';
import { pod, makeSet, revisionOf, NOW, LONG_AGO } from './statefulset-fixtures.ts';

function walkOf(set: Obj, pods: Obj[], current: Obj, update: Obj): { plan: SyncPlan; walk: SteadyWalk | undefined } {
  const plan = planSync({ set, pods, claims: () => undefined, currentRevision: current, updateRevision: update, collisionCount: 0, now: NOW });
  return { plan, walk: SteadyWalk.from(set, plan, [current, update], current, update) };
}

const STATES = ['pending', 'running', 'ready', 'justReady'] as const;

test('steady walk: status-only changes give the counts and the wait of a walk from scratch', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const maxUnavailable of [1, 2, '50%']) {
    const set = makeSet({ replicas: 6, podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable } } });
    const old = revisionOf({ ...set, spec: { ...set.spec, template: { ...set.spec.template, metadata: { labels: { app: 'nginx', v: '0' } } } } }, 1);
    const rev = revisionOf(set, 2);
    // The current revision is an older one: currentReplicas counts no pod, updatedReplicas all of them.
    const current = rand() < 0.5 ? rev : old;
    let pods = Array.from({ length: 6 }, (_, i) => pod(`web-${i}`, rev.metadata.name, STATES[i % STATES.length]));
    const { walk } = walkOf(set, pods, current, rev);
    assert.ok(walk, 'a Parallel set of live pods at the update revision is steady');
    for (let step = 0; step < 200; step++) {
      const i = Math.floor(rand() * pods.length);
      const next = pod(`web-${i}`, rev.metadata.name, STATES[Math.floor(rand() * STATES.length)]);
      if (!podChangeIsStatusOnly(pods[i]!, next)) {
        assert.equal(walk.replace(next, podFacts(next)), false, `${pods[i]!.status.phase} → Pending is refused`);
        continue;
      }
      assert.equal(walk.replace(next, podFacts(next)), true);
      pods = pods.map((p, j) => (j === i ? next : p));
      const fresh = walkOf(set, pods, current, rev).plan;
      assert.deepEqual(walk.status(set), fresh.status, `step ${step}`);
      assert.equal(walk.waitingFor(), fresh.waitingFor, `step ${step}`);
    }
  }
});

test('steady walk: only steady sets without minReadySeconds or claim growth keep one', () => {
  const set = makeSet({ replicas: 2, podManagementPolicy: 'Parallel' });
  const rev = revisionOf(set);
  const two = [pod('web-0', rev.metadata.name), pod('web-1', rev.metadata.name)];
  assert.ok(walkOf(set, two, rev, rev).walk);
  assert.equal(walkOf(set, two.slice(0, 1), rev, rev).walk, undefined, 'a slot to fill');
  assert.equal(walkOf(makeSet({ replicas: 2 }), two, rev, rev).walk, undefined, 'OrderedReady');
  assert.equal(walkOf(makeSet({ replicas: 2, podManagementPolicy: 'Parallel', minReadySeconds: 5 }), two, rev, rev).walk, undefined, 'minReadySeconds');
  assert.equal(walkOf(makeSet({ replicas: 2, podManagementPolicy: 'Parallel', volumeClaimUpdatePolicy: 'InPlace' }), two, rev, rev).walk, undefined, 'InPlace');
});

test('steady walk: refuses what is more than a status change, and changes nothing then', () => {
  const set = makeSet({ replicas: 3, podManagementPolicy: 'Parallel' });
  const rev = revisionOf(set);
  const r = rev.metadata.name;
  const pods = [pod('web-0', r), pod('web-1', r, 'running'), pod('web-2', r)];
  const walk = walkOf(set, pods, rev, rev).walk!;
  const before = walk.status(set);
  const refused: [string, Obj][] = [
    ['terminating', pod('web-0', r, 'readyTerminating')],
    ['failed', pod('web-1', r, 'failed')],
    ['another revision', pod('web-2', 'other')],
    ['another pod of the name', pod('web-0', r, 'ready', { metadata: { uid: 'new-uid' } })],
    ['out of range', pod('web-3', r)],
    ['back to Pending', pod('web-1', r, 'pending')],
  ];
  for (const [why, p] of refused) {
    assert.equal(walk.replace(p, podFacts(p)), false, why);
    assert.deepEqual(walk.status(set), before, why);
  }
  const ready = pod('web-1', r, 'ready');
  assert.equal(walk.replace(ready, podFacts(ready)), true);
  assert.equal(walk.status(set).readyReplicas, 3);
  // The set's own fields come from the set as it is now.
  assert.equal(walk.status({ ...set, metadata: { ...set.metadata, generation: 1 }, status: { collisionCount: 0, observedGeneration: 1, replicas: 3, readySince: LONG_AGO } }).readyReplicas, 3);
});
