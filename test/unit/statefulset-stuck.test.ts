// The opt-in replacement of pods left stuck by a superseded rollout (stuck.ts), alone and in the walk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World, makeSet, pod, plan, describe, revisionOf, withImage, LONG_AGO } from './statefulset-fixtures.ts';
import { REPLACE_STUCK_PODS_ANNOTATION, isStuckLeftover, stuckPolicy } from '../../src/controllers/statefulset/stuck.ts';
import { podFacts } from '../../src/controllers/statefulset/memo.ts';
import type { Obj } from '../../src/api/resource.ts';

const OPT_IN = { annotations: { [REPLACE_STUCK_PODS_ANNOTATION]: 'true' } };

test('stuck: the policy exists only when opted in with "true", and not for OnDelete', () => {
  assert.equal(stuckPolicy(makeSet(), 'a', 'b'), undefined);
  assert.equal(stuckPolicy(makeSet({}, { annotations: { [REPLACE_STUCK_PODS_ANNOTATION]: 'yes' } }), 'a', 'b'), undefined);
  assert.equal(stuckPolicy(makeSet({ updateStrategy: { type: 'OnDelete' } }, OPT_IN), 'a', 'b'), undefined);
  assert.deepEqual(stuckPolicy(makeSet({}, OPT_IN), 'a', 'b'), { currentRevision: 'a', updateRevision: 'b', minIndex: 0 });
  assert.deepEqual(stuckPolicy(makeSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, OPT_IN), 'a', 'b')?.minIndex, 2);
  // type RollingUpdate without rollingUpdate: no partition.
  assert.deepEqual(stuckPolicy(makeSet({ updateStrategy: { type: 'RollingUpdate' } }, OPT_IN), 'a', 'b')?.minIndex, 0);
});

test('stuck: which pods are leftovers to replace', () => {
  const policy = { currentRevision: 'cur', updateRevision: 'upd', minIndex: 1 };
  const rows: [string, Obj, number, boolean][] = [
    ['pending at a superseded revision', pod('web-2', 'old', 'pending'), 2, true],
    ['running, not ready, superseded', pod('web-2', 'old', 'running'), 2, true],
    ['no revision label at all', pod('web-2', '', 'running'), 2, true],
    ['ready at a superseded revision (the rollout replaces it in order)', pod('web-2', 'old', 'ready'), 2, false],
    ['not ready at the current revision', pod('web-2', 'cur', 'running'), 2, false],
    ['not ready at the update revision (may still become ready)', pod('web-2', 'upd', 'running'), 2, false],
    ['terminating', pod('web-2', 'old', 'terminating'), 2, false],
    ['failed (recreated by the terminal-pod rule)', pod('web-2', 'old', 'failed'), 2, false],
    ['below the partition', pod('web-0', 'old', 'running'), 0, false],
    ['at the partition', pod('web-1', 'old', 'running'), 1, true],
  ];
  for (const [name, p, index, want] of rows) assert.equal(isStuckLeftover(policy, podFacts(p), index), want, name);
  // A slot not yet created (a placeholder without a phase) is never "stuck".
  const placeholder = pod('web-2', 'old');
  delete placeholder.status;
  assert.equal(isStuckLeftover(policy, podFacts(placeholder), 2), false);
});

test('stuck: in the walk, the leftover is deleted first and OrderedReady waits for it to go', () => {
  const v1 = makeSet({}, OPT_IN);
  const v2 = withImage(v1, 'broken');
  const v3 = withImage(v1, 'nginx:3');
  const [r1, r2, r3] = [revisionOf(v1, 1), revisionOf(v2, 2), revisionOf(v3, 3)];
  const pods = [pod('web-0', r1.metadata.name), pod('web-1', r1.metadata.name), pod('web-2', r2.metadata.name, 'running')];
  const p = plan({ set: v3, pods, current: r1, update: r3 });
  assert.deepEqual(describe(p), ['delete web-2 (stuck)']);
  assert.match(p.waitingFor, /web-2 \(not Ready at superseded revision .*\) to be replaced/);
  // Without the annotation the walk waits at web-2, as upstream's.
  const plain = plan({ set: withImage(makeSet(), 'nginx:3'), pods, current: r1, update: r3 });
  assert.deepEqual(describe(plain), []);
  assert.match(plain.waitingFor, /web-2 to be Running and Ready/);
  // The template was not changed again: web-2 is at the update revision and is waited for.
  const same = plan({ set: v2, pods, current: r1, update: r2 });
  assert.deepEqual(describe(same), []);
  // Parallel replaces it too, and goes on.
  const par = plan({ set: withImage(makeSet({ podManagementPolicy: 'Parallel' }, OPT_IN), 'nginx:3'), pods, current: r1, update: r3 });
  assert.deepEqual(describe(par), ['delete web-2 (stuck)']);
  // With room for two unavailable pods, the update goes on below it, and the leftover is not deleted twice.
  const wide = withImage(makeSet({ podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } }, OPT_IN), 'nginx:3');
  assert.deepEqual(describe(plan({ set: wide, pods, current: r1, update: r3 })), ['delete web-2 (stuck)', 'delete web-1 (update)']);
});

/** Steps a world, making every pod Ready except those running `brokenImage`, until nothing happens. */
function run(w: World, brokenImage: string, max = 60): string[] {
  const all: string[] = [];
  let idle = 0;
  for (let i = 0; i < max && idle < 3; i++) {
    const done = w.step();
    all.push(...done);
    for (const p of w.pods.values()) {
      if (p.metadata.deletionTimestamp) continue;
      const ready = p.spec.containers[0].image !== brokenImage;
      p.status = { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: LONG_AGO }] };
    }
    w.reap();
    idle = done.length ? 0 : idle + 1;
  }
  return all;
}

for (const optIn of [true, false]) {
  test(`stuck: a broken update, then a fixed template — ${optIn ? 'opted in, the rollout completes' : 'by default, it stays stuck as upstream'}`, () => {
    const w = new World(makeSet({ replicas: 3 }, optIn ? OPT_IN : {}));
    w.graceful = true;
    run(w, 'broken');
    w.set = withImage(w.set, 'broken');
    assert.deepEqual(run(w, 'broken'), ['delete web-2 (update)', 'create web-2']);
    assert.equal(w.images()['web-2'], 'broken');
    w.set = withImage(w.set, 'nginx:3');
    const after = run(w, 'broken');
    if (!optIn) {
      assert.deepEqual(after, []);
      assert.equal(w.images()['web-2'], 'broken');
      return;
    }
    assert.deepEqual(after, ['delete web-2 (stuck)', 'create web-2', 'delete web-1 (update)', 'create web-1', 'delete web-0 (update)', 'create web-0']);
    assert.deepEqual(w.images(), { 'web-0': 'nginx:3', 'web-1': 'nginx:3', 'web-2': 'nginx:3' });
    assert.equal(w.set.status.currentRevision, w.set.status.updateRevision);
  });
}

test('stuck: reverting the template (rollback) replaces the broken pod with the old revision', () => {
  const w = new World(makeSet({ replicas: 3 }, OPT_IN));
  w.graceful = true;
  run(w, 'broken');
  const first = w.set.status.currentRevision;
  w.set = withImage(w.set, 'broken');
  run(w, 'broken');
  w.set = withImage(w.set, 'nginx:1');
  assert.deepEqual(run(w, 'broken'), ['delete web-2 (stuck)', 'create web-2']);
  assert.deepEqual(w.images(), { 'web-0': 'nginx:1', 'web-1': 'nginx:1', 'web-2': 'nginx:1' });
  assert.equal(w.set.status.updateRevision, first);
  assert.equal(w.set.status.currentRevision, first);
});

test('stuck: a partition keeps a stuck pod below it (its ordinal keeps its revision)', () => {
  const w = new World(makeSet({ replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } }, OPT_IN));
  w.graceful = true;
  run(w, 'broken');
  w.set = withImage(w.set, 'broken');
  run(w, 'broken');
  // Raise the partition above the stuck ordinal, then fix: web-2 is below the partition now.
  w.set = withImage({ ...w.set, spec: { ...w.set.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 3 } } } }, 'nginx:3');
  assert.deepEqual(run(w, 'broken'), []);
  assert.equal(w.images()['web-2'], 'broken');
});
