// The bench's split of an OrderedReady step into the store's commits (bench/commit-chain.ts),
// on traces written the way src/storage/commit-trace.ts writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommitTrace, stepParts } from '../../bench/commit-chain.ts';

const pod = (i: number) => `/registry/core/pods/default/web-${i}`;
const claim = (i: number) => `/registry/core/persistentvolumeclaims/default/www-web-${i}`;
const event = '/registry/core/events/default/www-web-1.1';

test('a step with a claim: Ready, claim, the batches between, pod', () => {
  const trace = parseCommitTrace(
    [
      `100 200 ${pod(0)}`, // pod 0's Ready status
      `300 800 ${claim(1)}`,
      `850 1200 ${event}`,
      // pod 0 written again after the claim left: not the write the step waited for
      `1210 1240 ${pod(0)}`,
      `1250 1700 ${pod(1)} /registry/core/endpoints/default/web`,
      '',
    ].join('\n'),
  );
  assert.deepEqual(stepParts(trace, { namespace: 'default', set: 'web', replicas: 2, claimTemplate: 'www' }), [
    { readyToFirst: 100, claimCommit: 500, claimToPod: 450, between: 2, podCommit: 450, total: 1500 },
  ]);
});

test('a step without a claim, and steps whose writes are not in the trace are left out', () => {
  const trace = parseCommitTrace([`100 200 ${pod(0)}`, `50 60 ${pod(1)}`, `260 700 ${pod(1)}`, `900 1000 ${pod(2)}`].join('\n'));
  // Pod 1's first write (its create) was answered before pod 0's Ready: no step 0 -> 1 to measure.
  // Pod 2's create has pod 1's write at 700 before it: a step of 300 µs from there.
  assert.deepEqual(stepParts(trace, { namespace: 'default', set: 'web', replicas: 3 }), [{ readyToFirst: 200, podCommit: 100, total: 300 }]);
  assert.deepEqual(stepParts(trace, { namespace: 'default', set: 'web', replicas: 3, claimTemplate: 'www' }), []);
});
