// An unschedulable pod's wait before its next attempt, as upstream's scheduling queue
// (podInitialBackoffSeconds 1, podMaxBackoffSeconds 10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoffs, backoffMs } from '../../src/scheduler/backoff.ts';

test('1 s after the first failed attempt, doubling, at most 10 s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 40].map(backoffMs), [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
});

test('a pod waits from its last failed attempt, and not at all once forgotten', () => {
  const b = new Backoffs();
  assert.equal(b.waitUntil('ns/p', 0), undefined);
  assert.equal(b.failed('ns/p', 0), 1000);
  assert.equal(b.waitUntil('ns/p', 500), 1000);
  assert.equal(b.waitUntil('ns/p', 1000), undefined);
  assert.equal(b.failed('ns/p', 1200), 3200);
  b.forget('ns/p');
  assert.equal(b.waitUntil('ns/p', 1300), undefined);
  assert.equal(b.failed('ns/p', 1300), 2300, 'counted afresh');
});
