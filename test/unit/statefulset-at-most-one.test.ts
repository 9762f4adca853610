// At most one pod per identity: the StatefulSet control never plans to create a pod whose name a
// pod object still holds (terminating, failed, NotReady on a lost node), on every path: scale up
// and down, rolling and OnDelete updates, recreation of finished pods; and a terminating pod
// blocks OrderedReady progress as upstream ("waiting for Pod to Terminate"). Only once the old
// object is gone (its node confirmed, or an operator force-deleted it) is the name created again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, describe, makeSet, revisionOf, pod, withImage, type PlanArgs } from './statefulset-fixtures.ts';

const set3 = makeSet();
const R1 = revisionOf(set3, 1).metadata.name;
const set3v2 = withImage(set3, 'nginx:2');
const r1 = revisionOf(set3, 1);
const r2 = revisionOf(set3v2, 2);
const R2 = r2.metadata.name;
const parallel = makeSet({ podManagementPolicy: 'Parallel' });

// A pod on an unreachable node: Ready=False (node lifecycle controller), evicted (taint eviction
// controller's DisruptionTarget and graceful delete), never confirmed by its node.
const lost = (name: string, rev = R1) =>
  pod(name, rev, 'terminating', {
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: 'x' }, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager' }] },
  });
// The same pod before its toleration ran out: NotReady, not deleted.
const unreachable = (name: string) => pod(name, R1, 'running');
// Marked Failed by the pod GC (out-of-service node) on its way to a grace-0 delete.
const failedTerminating = (name: string) => pod(name, R1, 'failed', { metadata: { deletionTimestamp: 'x' } });

interface Row {
  name: string;
  args: PlanArgs;
  actions: string[];
  waiting?: RegExp;
}

const rows: Row[] = [
  { name: 'OrderedReady: an evicted pod blocks the pods after it', args: { set: set3, pods: [pod('web-0', R1), lost('web-1')] }, actions: [], waiting: /web-1 to terminate/ },
  { name: 'OrderedReady: an evicted pod 0 blocks everything', args: { set: set3, pods: [lost('web-0'), pod('web-1', R1), pod('web-2', R1)] }, actions: [], waiting: /web-0 to terminate/ },
  { name: 'OrderedReady: a NotReady pod of a lost node is waited for, never deleted', args: { set: set3, pods: [pod('web-0', R1), unreachable('web-1')] }, actions: [], waiting: /web-1 to be Running and Ready/ },
  { name: 'Parallel: the evicted pod is skipped, the missing one created', args: { set: parallel, pods: [pod('web-0', R1), lost('web-1')] }, actions: ['create web-2'] },
  { name: 'Parallel: a NotReady pod of a lost node is left alone', args: { set: parallel, pods: [pod('web-0', R1), unreachable('web-1'), pod('web-2', R1)] }, actions: [] },
  { name: 'failed and terminating (pod GC) is only waited for', args: { set: set3, pods: [pod('web-0', R1), failedTerminating('web-1')] }, actions: [], waiting: /web-1 \(Failed\) to be replaced/ },
  { name: 'Parallel: failed and terminating is not recreated either', args: { set: parallel, pods: [pod('web-0', R1), failedTerminating('web-1'), pod('web-2', R1)] }, actions: [] },
  { name: 'a failed pod is deleted, not replaced in the same pass', args: { set: parallel, pods: [pod('web-0', R1), pod('web-1', R1, 'failed'), pod('web-2', R1)] }, actions: ['delete web-1 (terminal)'] },
  {
    name: 'rolling update: an evicted old-revision pod is neither deleted again nor replaced',
    args: { set: set3v2, current: r1, update: r2, pods: [pod('web-0', R1), pod('web-1', R1), lost('web-2')] },
    actions: [],
    waiting: /web-2 to terminate/,
  },
  {
    name: 'rolling update, Parallel: the evicted pod is skipped, the budget not spent on it',
    args: { set: withImage(parallel, 'nginx:2'), current: revisionOf(parallel, 1), update: revisionOf(withImage(parallel, 'nginx:2'), 2), pods: [pod('web-0', revisionOf(parallel, 1).metadata.name), pod('web-1', revisionOf(parallel, 1).metadata.name), lost('web-2', revisionOf(parallel, 1).metadata.name)] },
    actions: [],
  },
  {
    name: 'OnDelete: an evicted pod is not replaced while it exists',
    args: { set: makeSet({ updateStrategy: { type: 'OnDelete' }, podManagementPolicy: 'Parallel' }), pods: [pod('web-0', R1), lost('web-1'), pod('web-2', R1)] },
    actions: [],
  },
  {
    name: 'scale-down: an evicted condemned pod blocks further scale-down',
    args: { set: makeSet({ replicas: 1 }), pods: [pod('web-0', R1), pod('web-1', R1), lost('web-2')] },
    actions: [],
    waiting: /web-2 to terminate before scaling down/,
  },
  {
    name: 'scale-up past an evicted pod waits for it (OrderedReady)',
    args: { set: makeSet({ replicas: 5 }), pods: [pod('web-0', R1), pod('web-1', R1), lost('web-2')] },
    actions: [],
    waiting: /web-2 to terminate/,
  },
  // Once the old object is gone (force delete, out-of-service pod GC, or the node confirmed it).
  { name: 'after the force delete the name is created again at once', args: { set: set3, pods: [pod('web-0', R1), pod('web-2', R1)] }, actions: ['create web-1'] },
  { name: 'Parallel: the same', args: { set: parallel, pods: [pod('web-0', R1), pod('web-2', R1)] }, actions: ['create web-1'] },
];

for (const row of rows) {
  test(`at most one: ${row.name}`, () => {
    const p = plan(row.args);
    const actions = describe(p);
    assert.deepEqual(actions, row.actions);
    if (row.waiting) assert.match(p.waitingFor, row.waiting);
    const existing = new Set((row.args.pods ?? []).map((x) => x.metadata.name));
    for (const a of actions) {
      const m = /^create (\S+)$/.exec(a);
      if (m) assert.ok(!existing.has(m[1]!), `planned to create ${m[1]} while a pod of that name exists`);
    }
  });
}
