// The progress deadline of StatefulSets (progress.ts): the Progressing condition, the progress
// annotation, the event and metric, over single decisions and over a whole stuck-then-fixed story.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSet } from './statefulset-fixtures.ts';
import {
  LAST_PROGRESS_ANNOTATION, PROGRESS_DEADLINE_ANNOTATION, madeProgress, planProgress, progressDeadlineOf, rolloutComplete, withProgress, type ProgressDecision,
} from '../../src/controllers/statefulset/progress.ts';
import { ProgressMetrics } from '../../src/controllers/statefulset/progress-metrics.ts';
import type { SetStatus } from '../../src/controllers/statefulset/control.ts';
import type { Obj } from '../../src/api/resource.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const sec = (n: number) => T0 + n * 1000;

function status(over: Partial<SetStatus> = {}): SetStatus {
  return { observedGeneration: 1, replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'web-1', updateRevision: 'web-1', collisionCount: 0, ...over };
}

/** A set with a deadline, whose last reported status is `prev` (and `conditions`/annotation as given). */
function setWith(prev: Obj, opts: { deadline?: string; lastProgress?: string; generation?: number; spec?: Obj } = {}): Obj {
  const annotations: Obj = {};
  if (opts.deadline !== undefined) annotations[PROGRESS_DEADLINE_ANNOTATION] = opts.deadline;
  if (opts.lastProgress !== undefined) annotations[LAST_PROGRESS_ANNOTATION] = opts.lastProgress;
  const s = makeSet(opts.spec ?? {}, { generation: opts.generation ?? 1, ...(Object.keys(annotations).length ? { annotations } : {}) });
  s.status = prev;
  return s;
}

const cond = (status: string, reason: string, lastTransitionTime = '2026-01-01T00:00:00Z', message = 'm') => ({ type: 'Progressing', status, reason, lastTransitionTime, message });
const progressing = (d: ProgressDecision) => d.conditions?.find((c) => c.type === 'Progressing');

test('progress: the deadline annotation is a positive whole number of seconds', () => {
  const of = (v: string | undefined) => progressDeadlineOf(setWith({}, { deadline: v }));
  assert.equal(of(undefined), undefined);
  assert.equal(of('600'), 600);
  assert.equal(of(' 5 '), 5);
  for (const bad of ['0', '-5', '1.5', '10s', '', 'abc', '99999999999999999999']) assert.equal(of(bad), undefined, bad);
});

test('progress: complete means observed, all pods there and available, and the strategy\'s pods updated', () => {
  const set = setWith({});
  assert.equal(rolloutComplete(set, status()), true);
  assert.equal(rolloutComplete(set, status({ availableReplicas: 2 })), false, 'one not available');
  assert.equal(rolloutComplete(set, status({ replicas: 4 })), false, 'scale-down not done');
  assert.equal(rolloutComplete(set, status({ replicas: 2, readyReplicas: 2, availableReplicas: 2 })), false, 'scale-up not done');
  assert.equal(rolloutComplete(set, status({ updatedReplicas: 2 })), false, 'one pod at the old revision');
  assert.equal(rolloutComplete(setWith({}, { generation: 2 }), status()), false, 'spec not yet observed');
  const partitioned = setWith({}, { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } } });
  assert.equal(rolloutComplete(partitioned, status({ updatedReplicas: 1 })), true, 'partition 2 of 3: one updated pod is all');
  assert.equal(rolloutComplete(partitioned, status({ updatedReplicas: 0 })), false);
  const onDelete = setWith({}, { spec: { updateStrategy: { type: 'OnDelete' } } });
  assert.equal(rolloutComplete(onDelete, status({ updatedReplicas: 0 })), true, 'OnDelete waits for no update');
});

test('progress: what counts as progress', () => {
  const prev = { replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 1 };
  const next = (o: Partial<SetStatus>) => status({ replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 1, ...o });
  assert.equal(madeProgress(prev, next({}), 3), false, 'nothing moved');
  assert.equal(madeProgress(prev, next({ updatedReplicas: 2 }), 3), true, 'one more updated');
  assert.equal(madeProgress(prev, next({ readyReplicas: 3, availableReplicas: 2 }), 3), true, 'one more ready');
  assert.equal(madeProgress(prev, next({ availableReplicas: 3, readyReplicas: 2 }), 3), true, 'one more available');
  assert.equal(madeProgress(prev, next({ replicas: 2 }), 3), true, 'an old pod fewer');
  assert.equal(madeProgress(prev, next({ readyReplicas: 1, availableReplicas: 1 }), 3), false, 'a pod lost readiness');
  // Scaling: the pod count moving towards the spec counts, away from it does not.
  const at = { replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3 };
  assert.equal(madeProgress(at, status({ replicas: 4, updatedReplicas: 3 }), 5), true, 'a pod created below the partition while scaling up');
  assert.equal(madeProgress(at, status({ replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 }), 1), true, 'an updated pod removed while scaling down');
  assert.equal(madeProgress(at, status({ replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 }), 3), false, 'a pod lost below the spec');
});

test('progress: without a deadline nothing changes, and what the deadline wrote is taken back', () => {
  const plain = setWith({ replicas: 3, conditions: [cond('True', 'Custom')] });
  const d = planProgress(plain, status(), sec(10));
  assert.deepEqual(d, { write: false, exceeded: false, newlyExceeded: false, message: '' });
  // The write is then the plain one.
  assert.deepEqual(withProgress({ metadata: { name: 'web' }, status: { x: 1 } }, { replicas: 3 }, d), { metadata: { name: 'web' }, status: { replicas: 3 } });
  const had = setWith({ replicas: 3, conditions: [cond('True', 'NewRevisionAvailable'), { type: 'Other', status: 'True' }] }, { lastProgress: '2026-01-01T00:00:00.000Z' });
  const undo = planProgress(had, status(), sec(10));
  assert.equal(undo.write, true);
  assert.equal(undo.lastProgress, null);
  assert.deepEqual(undo.conditions, [{ type: 'Other', status: 'True' }]);
  const body = withProgress(had, { replicas: 3 }, undo);
  assert.equal(body.metadata.annotations, undefined);
  assert.deepEqual(body.status.conditions, [{ type: 'Other', status: 'True' }]);
});

test('progress: a new set starts the clock with NewRevisionCreated; the recheck lands after the deadline', () => {
  const set = setWith({ replicas: 0, availableReplicas: 0 }, { deadline: '5' });
  const d = planProgress(set, status({ replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 }), sec(0) + 300);
  assert.deepEqual(progressing(d), { type: 'Progressing', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'NewRevisionCreated', message: 'Created new revision "web-1"' });
  // The progress time is rounded up to the second (the deadline is reported late rather than early).
  assert.equal(d.lastProgress, '2026-01-01T00:00:01Z');
  assert.equal(d.write, true);
  assert.equal(d.recheckAfterMs, 6700);
  const body = withProgress(set, { replicas: 0 }, d);
  assert.equal(body.metadata.annotations[LAST_PROGRESS_ANNOTATION], '2026-01-01T00:00:01Z');
  assert.equal(body.metadata.annotations[PROGRESS_DEADLINE_ANNOTATION], '5');
  assert.deepEqual(body.status.conditions, [progressing(d)]);
  assert.equal(set.metadata.annotations[LAST_PROGRESS_ANNOTATION], undefined, 'the input is not modified');
});

test('progress: no progress past the deadline → False ProgressDeadlineExceeded, once; progress → True again', () => {
  const prev = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0, updateRevision: 'web-1', currentRevision: 'web-1', conditions: [cond('True', 'RevisionProgressing', '2026-01-01T00:00:00Z')] };
  const stuck = status({ replicas: 1, readyReplicas: 0, availableReplicas: 0, updatedReplicas: 1, currentReplicas: 1 });
  const at = (s: number) => planProgress(setWith(prev, { deadline: '5', lastProgress: '2026-01-01T00:00:02Z' }), stuck, sec(s));
  // Before the deadline (counted from the last progress at 2 s): nothing to write, a look at 7 s + 1 s.
  const early = at(4);
  assert.equal(early.write, false);
  assert.equal(early.exceeded, false);
  assert.equal(early.recheckAfterMs, 4000);
  // Exactly at the deadline it has not passed yet.
  assert.equal(at(7).exceeded, false);
  const late = at(8);
  assert.equal(late.write, true);
  assert.equal(late.exceeded, true);
  assert.equal(late.newlyExceeded, true);
  assert.equal(late.recheckAfterMs, undefined);
  assert.deepEqual(progressing(late), {
    type: 'Progressing', status: 'False', lastTransitionTime: '2026-01-01T00:00:08Z', reason: 'ProgressDeadlineExceeded', message: 'StatefulSet "web" revision "web-1" has timed out progressing.',
  });
  // Once reported, it stays (no new event) until progress.
  const after = { ...prev, conditions: [progressing(late)] };
  const again = planProgress(setWith(after, { deadline: '5', lastProgress: '2026-01-01T00:00:02Z' }), stuck, sec(30));
  assert.equal(again.write, false);
  assert.equal(again.exceeded, true);
  assert.equal(again.newlyExceeded, false);
  const ready = status({ replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1, currentReplicas: 1 });
  const cleared = planProgress(setWith(after, { deadline: '5', lastProgress: '2026-01-01T00:00:02Z' }), { ...ready, replicas: 1 }, sec(31));
  assert.equal(cleared.exceeded, false);
  assert.equal(progressing(cleared)?.status, 'True');
  assert.equal(progressing(cleared)?.lastTransitionTime, '2026-01-01T00:00:31Z', 'False → True is a transition');
});

test('progress: progress keeps the transition time and moves the progress time', () => {
  const prev = { observedGeneration: 1, replicas: 3, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, updateRevision: 'web-2', currentRevision: 'web-1', conditions: [cond('True', 'NewRevisionCreated', '2026-01-01T00:00:00Z')] };
  const d = planProgress(setWith(prev, { deadline: '60', lastProgress: '2026-01-01T00:00:01Z' }), status({ updatedReplicas: 2, currentReplicas: 1, updateRevision: 'web-2' }), sec(20));
  assert.deepEqual(progressing(d), { type: 'Progressing', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'RevisionProgressing', message: 'StatefulSet "web" revision "web-2" is progressing.' });
  assert.equal(d.lastProgress, '2026-01-01T00:00:20Z');
  // More progress within the same second changes nothing that needs writing.
  const prev2 = { ...prev, updatedReplicas: 2, currentReplicas: 1, readyReplicas: 2, availableReplicas: 2, conditions: [progressing(d)] };
  const next2 = status({ updatedReplicas: 2, currentReplicas: 1, updateRevision: 'web-2' });
  const same = planProgress(setWith(prev2, { deadline: '60', lastProgress: d.lastProgress! }), next2, sec(20) - 400);
  assert.equal(same.write, false);
  assert.equal(planProgress(setWith(prev2, { deadline: '60', lastProgress: d.lastProgress! }), next2, sec(20) + 1).lastProgress, '2026-01-01T00:00:21Z');
  assert.equal(d.recheckAfterMs, 61_000);
});

test('progress: a finished rollout is not watched until the spec changes; a scale-up starts the clock', () => {
  const done = { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, updateRevision: 'web-1', currentRevision: 'web-1', conditions: [cond('True', 'NewRevisionAvailable')] };
  // A pod of the finished set turns NotReady for a long time: not a rollout, nothing reported (as Deployments).
  const degraded = planProgress(setWith(done, { deadline: '5', lastProgress: '2026-01-01T00:00:00Z' }), status({ readyReplicas: 2, availableReplicas: 2 }), sec(600));
  assert.equal(degraded.write, false);
  assert.equal(degraded.exceeded, false);
  assert.equal(degraded.recheckAfterMs, undefined);
  // Scaled to 5 (generation 2): the clock starts at once, before any pod is created.
  const scaled = setWith(done, { deadline: '5', lastProgress: '2026-01-01T00:00:00Z', generation: 2, spec: { replicas: 5 } });
  const d = planProgress(scaled, status({ observedGeneration: 2 }), sec(600));
  assert.equal(progressing(d)?.reason, 'RevisionProgressing');
  assert.equal(d.lastProgress, '2026-01-01T00:10:00Z');
  // Then nothing happens (say the new pod cannot be created) for longer than the deadline.
  const next = { ...done, observedGeneration: 2, conditions: [progressing(d)] };
  const late = planProgress(setWith(next, { deadline: '5', lastProgress: d.lastProgress!, generation: 2, spec: { replicas: 5 } }), status({ observedGeneration: 2 }), sec(606));
  assert.equal(late.newlyExceeded, true);
  // Complete again: NewRevisionAvailable.
  const fin = planProgress(setWith({ ...next, conditions: [progressing(late)] }, { deadline: '5', lastProgress: d.lastProgress!, generation: 2, spec: { replicas: 5 } }), status({ observedGeneration: 2, replicas: 5, readyReplicas: 5, availableReplicas: 5, updatedReplicas: 5, currentReplicas: 5 }), sec(700));
  assert.deepEqual(progressing(fin), { type: 'Progressing', status: 'True', lastTransitionTime: '2026-01-01T00:11:40Z', reason: 'NewRevisionAvailable', message: 'StatefulSet "web" revision "web-1" has successfully progressed.' });
  assert.equal(fin.recheckAfterMs, undefined);
});

test('progress: a deadline set on a running rollout starts counting with FoundNewRevision; other conditions are kept', () => {
  const prev = { observedGeneration: 1, replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2, updateRevision: 'web-2', currentRevision: 'web-1', conditions: [{ type: 'Other', status: 'False' }] };
  const d = planProgress(setWith(prev, { deadline: '30' }), status({ updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2, currentReplicas: 2, updateRevision: 'web-2' }), sec(0));
  assert.equal(d.conditions![0].type, 'Other');
  assert.deepEqual(progressing(d), { type: 'Progressing', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'FoundNewRevision', message: 'Found new revision "web-2"' });
});

test('progress: a lost progress annotation falls back to the condition\'s transition time', () => {
  const prev = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0, updateRevision: 'web-1', currentRevision: 'web-1', conditions: [cond('True', 'RevisionProgressing', '2026-01-01T00:00:00Z')] };
  const d = planProgress(setWith(prev, { deadline: '5' }), status({ replicas: 1, readyReplicas: 0, availableReplicas: 0, updatedReplicas: 1, currentReplicas: 1 }), sec(6));
  assert.equal(d.exceeded, true);
});

test('progress: a set being deleted is left alone', () => {
  const set = setWith({ replicas: 1 }, { deadline: '5' });
  set.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(planProgress(set, status(), sec(100)).write, false);
});

test('progress metrics: a gauge per set with a deadline, a counter of transitions', () => {
  const m = new ProgressMetrics();
  const base = { write: true, conditions: [], lastProgress: 'x', message: '' };
  m.observe('ns/a', { ...base, exceeded: true, newlyExceeded: true });
  m.observe('ns/a', { ...base, exceeded: true, newlyExceeded: false });
  m.observe('ns/b', { ...base, exceeded: false, newlyExceeded: false });
  m.observe('ns/c', { write: false, exceeded: false, newlyExceeded: false, message: '' });
  let text = m.render();
  assert.match(text, /^ordinal_statefulset_progress_deadline_exceeded\{namespace="ns",statefulset="a"\} 1$/m);
  assert.match(text, /^ordinal_statefulset_progress_deadline_exceeded\{namespace="ns",statefulset="b"\} 0$/m);
  assert.doesNotMatch(text, /statefulset="c"/);
  assert.match(text, /^ordinal_statefulset_progress_deadline_exceeded_total 1$/m);
  assert.match(text, /^# TYPE ordinal_statefulset_progress_deadline_exceeded gauge$/m);
  m.forget('ns/a');
  m.observe('ns/b', { write: true, conditions: [], lastProgress: null, exceeded: false, newlyExceeded: false, message: '' });
  text = m.render();
  assert.doesNotMatch(text, /statefulset="/);
  assert.match(text, /_total 1$/m);
});
