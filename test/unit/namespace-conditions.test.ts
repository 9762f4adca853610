// The namespace deleter's conditions (src/controllers/namespace/conditions.ts), as upstream's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deletionConditions, CONDITION_TYPES } from '../../src/controllers/namespace/conditions.ts';

const totals = (remaining: [string, number][] = [], finalizers: [string, number][] = [], failures: string[] = []) => ({
  remaining: new Map(remaining),
  finalizers: new Map(finalizers),
  failures,
});

test('all five types are set, the ok variants False; what remains is True and sorted', () => {
  const first = deletionConditions(undefined, totals([['pods.', 3], ['configmaps.', 1], ['deployments.apps', 0]], [['b/f', 2], ['a/f', 1]]), 'T1')!;
  assert.deepEqual(first.map((c) => c.type), [...CONDITION_TYPES]);
  const by = Object.fromEntries(first.map((c) => [c.type, c]));
  assert.deepEqual(by.NamespaceContentRemaining, {
    type: 'NamespaceContentRemaining',
    status: 'True',
    lastTransitionTime: 'T1',
    reason: 'SomeResourcesRemain',
    message: 'Some resources are remaining: configmaps. has 1 resource instances, pods. has 3 resource instances',
  });
  assert.equal(by.NamespaceFinalizersRemaining.message, 'Some content in the namespace has finalizers remaining: a/f in 1 resource instances, b/f in 2 resource instances');
  assert.equal(by.NamespaceDeletionContentFailure.status, 'False');

  // The same totals again: nothing to write.
  assert.equal(deletionConditions(first, totals([['pods.', 3], ['configmaps.', 1]], [['b/f', 2], ['a/f', 1]]), 'T2'), undefined);
  // Fewer pods: the message changes, the transition time stays (the status did not change).
  const second = deletionConditions(first, totals([['pods.', 1]], []), 'T3')!;
  const by2 = Object.fromEntries(second.map((c) => [c.type, c]));
  assert.equal(by2.NamespaceContentRemaining.lastTransitionTime, 'T1');
  assert.equal(by2.NamespaceContentRemaining.message, 'Some resources are remaining: pods. has 1 resource instances');
  // The finalizers are gone: False, with a new transition time.
  assert.deepEqual(by2.NamespaceFinalizersRemaining, {
    type: 'NamespaceFinalizersRemaining', status: 'False', lastTransitionTime: 'T3', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished',
  });
  // Everything gone; a failure reported.
  const third = deletionConditions(second, totals([], [], ['secrets.: boom']), 'T4')!;
  const by3 = Object.fromEntries(third.map((c) => [c.type, c]));
  assert.equal(by3.NamespaceContentRemaining.reason, 'ContentRemoved');
  assert.equal(by3.NamespaceDeletionContentFailure.message, 'Failed to delete all resource types, 1 remaining: secrets.: boom');
  // The input is left as it was.
  assert.equal(first.find((c) => c.type === 'NamespaceContentRemaining')!.message.includes('configmaps'), true);
});
