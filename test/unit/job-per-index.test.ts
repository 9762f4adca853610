// Indexed Jobs: per-index retries (backoffLimitPerIndex, maxFailedIndexes, the
// batch.kubernetes.io/job-index-failure-count annotation) and successPolicy, as upstream's
// pkg/controller/job decides them; and their validation messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  INDEX_FAILURE_COUNT, INDEX_IGNORED_FAILURE_COUNT, TRACKING_FINALIZER, indexBackoffUntil, indexFailureRecords, isIndexFailed, matchSuccessPolicy, nextIndexFailureCounts, planJob,
} from '../../src/controllers/job/plan.ts';
import { jobPod } from '../../src/controllers/job/controller.ts';
import { checkIndexesFormat, jobStrategy } from '../../src/api/kinds/workloads/batch.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const job = (spec: Record<string, any> = {}, status: Record<string, any> = {}) => ({
  metadata: { name: 'idx', namespace: 'default', uid: 'j1' },
  spec: { completions: 4, parallelism: 4, completionMode: 'Indexed', backoffLimitPerIndex: 1, backoffLimit: 2147483647, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } }, ...spec },
  status: { startTime: '2024-05-01T11:59:00Z', ...status },
});
const pod = (name: string, index: number, phase = 'Running', o: { failures?: number; ignored?: number; exit?: number; finished?: string } = {}) => ({
  metadata: {
    name, namespace: 'default', uid: name, finalizers: [TRACKING_FINALIZER], creationTimestamp: '2024-05-01T11:59:00Z',
    annotations: {
      'batch.kubernetes.io/job-completion-index': String(index),
      ...(o.failures !== undefined ? { [INDEX_FAILURE_COUNT]: String(o.failures) } : {}),
      ...(o.ignored !== undefined ? { [INDEX_IGNORED_FAILURE_COUNT]: String(o.ignored) } : {}),
    },
  },
  spec: {},
  status: {
    phase,
    conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False' }],
    containerStatuses: [{ name: 'c', restartCount: 0, state: phase === 'Running' ? { running: {} } : { terminated: { exitCode: o.exit ?? (phase === 'Succeeded' ? 0 : 1), finishedAt: o.finished ?? '2024-05-01T11:59:50Z' } } }],
  },
});
const counts = (completed: number[] = [], failed: number[] = [], f = 0) => ({ succeeded: completed.length, failed: f, completedIndexes: new Set(completed), failedIndexes: new Set(failed) });
const cond = (plan: any, type: string) => plan.status.conditions?.find((c: any) => c.type === type);

test('failure counts travel with the replacement pod; the index fails once backoffLimitPerIndex retries are used', () => {
  const j = job();
  const first = pod('a', 1, 'Failed', { failures: 0 });
  assert.deepEqual(nextIndexFailureCounts(j, first), { failed: 1, ignored: 0 });
  assert.equal(isIndexFailed(j, first), false, 'the first failure leaves one retry');
  const retry = pod('b', 1, 'Failed', { failures: 1 });
  assert.equal(isIndexFailed(j, retry), true);
  assert.equal(isIndexFailed(j, pod('c', 1, 'Running', { failures: 1 })), false);
  // A failure the podFailurePolicy ignores counts apart, and never fails the index.
  const ignoring = job({ podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [42] } }] } });
  assert.deepEqual(nextIndexFailureCounts(ignoring, pod('d', 1, 'Failed', { failures: 1, exit: 42 })), { failed: 1, ignored: 1 });
  assert.equal(isIndexFailed(ignoring, pod('d', 1, 'Failed', { failures: 1, exit: 42 })), false);
  // FailIndex fails the index at once.
  const failIndex = job({ podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [3] } }] } });
  assert.equal(isIndexFailed(failIndex, pod('e', 1, 'Failed', { failures: 0, exit: 3 })), true);
});

test('the replacement pod of an index carries the index failure count annotation', () => {
  const j = job();
  const records = indexFailureRecords(j, [pod('a', 1, 'Failed', { failures: 0 }), pod('x', 2, 'Running', { failures: 0 })]);
  assert.deepEqual(records.get(1), { failed: 1, ignored: 0, lastFailure: Date.parse('2024-05-01T11:59:50Z') });
  const p = jobPod(j, 1, records.get(1));
  assert.equal(p.metadata.annotations[INDEX_FAILURE_COUNT], '1');
  assert.equal(p.metadata.annotations[INDEX_IGNORED_FAILURE_COUNT], undefined);
  assert.equal(jobPod(j, 0).metadata.annotations[INDEX_FAILURE_COUNT], '0');
  // Without backoffLimitPerIndex, no count is kept.
  assert.equal(jobPod(job({ backoffLimitPerIndex: undefined }), 0).metadata.annotations[INDEX_FAILURE_COUNT], undefined);
});

test('each index waits out its own back-off, doubled per earlier failure', () => {
  assert.equal(indexBackoffUntil({ failed: 1, ignored: 0, lastFailure: NOW }, 10_000), NOW + 10_000);
  assert.equal(indexBackoffUntil({ failed: 2, ignored: 1, lastFailure: NOW }, 10_000), NOW + 40_000);
  assert.equal(indexBackoffUntil({ failed: 0, ignored: 0 }, 10_000), undefined);
  const j = job({ parallelism: 4 });
  const pods = [pod('a', 0, 'Running'), pod('b', 1, 'Failed', { failures: 0, finished: '2024-05-01T11:59:55Z' }), pod('c', 2, 'Running'), pod('d', 3, 'Running')];
  const waiting = planJob(j, pods, counts([], [], 1), NOW, 10_000);
  assert.deepEqual(waiting.create, []);
  assert.equal(waiting.requeueAt, Date.parse('2024-05-01T12:00:05Z'));
  const later = planJob(j, pods, counts([], [], 1), Date.parse('2024-05-01T12:00:06Z'), 10_000);
  assert.deepEqual(later.create, [1]);
  assert.equal(later.status.failedIndexes, '');
});

test('failed indexes are not retried; the Job fails with FailedIndexes once every index is done', () => {
  const j = job();
  const running = planJob(j, [pod('a', 0, 'Running'), pod('c', 2, 'Running')], counts([3], [1], 2), NOW);
  assert.equal(running.create, 0, 'indexes 0 and 2 run, 1 failed, 3 completed: nothing to create');
  assert.equal(running.status.failedIndexes, '1');
  assert.equal(cond(running, 'FailureTarget'), undefined);
  const done = planJob(j, [], counts([0, 2, 3], [1], 2), NOW);
  assert.deepEqual([cond(done, 'FailureTarget').reason, cond(done, 'FailureTarget').message], ['FailedIndexes', 'Job has failed indexes']);
  assert.deepEqual([cond(done, 'Failed').reason, cond(done, 'Failed').message], ['FailedIndexes', 'Job has failed indexes']);
});

test('more failed indexes than maxFailedIndexes fail the Job at once, stopping the running pods', () => {
  const plan = planJob(job({ maxFailedIndexes: 1 }), [pod('a', 0, 'Running'), pod('d', 3, 'Running')], counts([], [1, 2], 4), NOW);
  assert.deepEqual([cond(plan, 'FailureTarget').reason, cond(plan, 'FailureTarget').message], ['MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes']);
  assert.deepEqual(plan.delete.map((p: any) => p.metadata.name), ['a', 'd']);
  assert.equal(cond(plan, 'Failed'), undefined, 'Failed waits until the pods are gone');
  assert.equal(planJob(job({ maxFailedIndexes: 2 }), [pod('a', 0, 'Running'), pod('d', 3, 'Running')], counts([], [1, 2], 4), NOW).status.conditions, undefined);
});

test('successPolicy: rules by succeeded indexes and by count', () => {
  const done = new Set([0, 2, 5]);
  assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '0,2' }] }, 10, done), 'Matched rules at index 0');
  assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '0-3' }] }, 10, done), undefined);
  assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '0-3', succeededCount: 2 }] }, 10, done), 'Matched rules at index 0');
  assert.equal(matchSuccessPolicy({ rules: [{ succeededCount: 4 }, { succeededCount: 3 }] }, 10, done), 'Matched rules at index 1');
  assert.equal(matchSuccessPolicy({ rules: [{ succeededCount: 1 }] }, 10, new Set()), undefined);
});

test('a met successPolicy sets SuccessCriteriaMet, stops the other pods, then completes', () => {
  const j = job({ backoffLimitPerIndex: undefined, successPolicy: { rules: [{ succeededIndexes: '0' }] } });
  const met = planJob(j, [pod('b', 1, 'Running'), pod('c', 2, 'Running')], counts([0]), NOW);
  assert.deepEqual([cond(met, 'SuccessCriteriaMet').reason, cond(met, 'SuccessCriteriaMet').message], ['SuccessPolicy', 'Matched rules at index 0']);
  assert.equal(met.delete.length, 2);
  assert.equal(cond(met, 'Complete'), undefined);
  const after = planJob({ ...j, status: { ...j.status, conditions: met.status.conditions } }, [], counts([0]), NOW);
  assert.deepEqual([cond(after, 'Complete').reason, cond(after, 'Complete').message], ['SuccessPolicy', 'Matched rules at index 0']);
  assert.ok(after.status.completionTime);
});

test('validation of per-index retries and successPolicy, with upstream messages', () => {
  const errs = (spec: Record<string, any>) => {
    const j: any = { metadata: { name: 'v', namespace: 'default', uid: 'u1' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } }, ...spec } };
    jobStrategy.default(j);
    jobStrategy.prepareForCreate(j);
    return jobStrategy.validate(j).map((e) => `${e.field}: ${e.detail ?? ''}`);
  };
  assert.deepEqual(errs({ completions: 3, completionMode: 'Indexed', backoffLimitPerIndex: 1, maxFailedIndexes: 2 }), []);
  assert.deepEqual(errs({ completions: 3, backoffLimitPerIndex: 1 }), ['spec.backoffLimitPerIndex: requires indexed completion mode']);
  assert.deepEqual(errs({ completions: 3, completionMode: 'Indexed', backoffLimitPerIndex: 1, maxFailedIndexes: 4 }), ['spec.maxFailedIndexes: must be less than or equal to completions']);
  assert.deepEqual(errs({ completions: 3, completionMode: 'Indexed', maxFailedIndexes: 1 }), ['spec.backoffLimitPerIndex: when maxFailedIndexes is specified']);
  assert.deepEqual(errs({ completions: 3, completionMode: 'Indexed', successPolicy: { rules: [] } }), ['spec.successPolicy.rules: at least one rules must be specified when the successPolicy is specified']);
  assert.deepEqual(errs({ completions: 3, completionMode: 'Indexed', successPolicy: { rules: [{}] } }), ['spec.successPolicy.rules[0]: at least one of succeededCount or succeededIndexes must be specified']);
  assert.deepEqual(errs({ completions: 3, completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '0-5' }] } }), ['spec.successPolicy.rules[0].succeededIndexes: error parsing succeededIndexes: too large index: "5"']);
  assert.deepEqual(errs({ completions: 3, completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '0,1', succeededCount: 3 }] } }), [
    'spec.successPolicy.rules[0].succeededCount: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)',
  ]);
  assert.deepEqual(errs({ completions: 3, completionMode: 'Indexed', successPolicy: { rules: [{ succeededCount: 4 }] } }), ['spec.successPolicy.rules[0].succeededCount: must be less than or equal to 3 (the number of specified completions)']);
  assert.deepEqual(checkIndexesFormat('2,1', 5), { total: 0, error: 'non-increasing order, previous: 2, current: 1' });
  assert.deepEqual(checkIndexesFormat('1-3,x', 5), { total: 0, error: 'cannot convert string to integer for index: "x"' });
  assert.deepEqual(checkIndexesFormat('0,2-4', 5), { total: 4 });
});
