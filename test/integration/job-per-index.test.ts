// Indexed Jobs with per-index retries and success policies, on simulated nodes with the real
// kubectl: a pod is made to fail or succeed by annotating it (the sim runtime's hooks), the
// replacement of a failed index carries its failure count, used-up indexes are listed in
// status.failedIndexes, and the Job ends as upstream's does (FailedIndexes,
// MaxFailedIndexesExceeded, or SuccessPolicy).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, stopCluster, removeCluster, kubectl, kubectlOk, waitUntil, type Cluster } from './harness.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ args: ['--nodes', '2'] });
});
after(async () => {
  await stopCluster(c);
  removeCluster(c);
});

const json = async (args: string[]) => JSON.parse(await kubectlOk(c, [...args, '-o', 'json']));
const INDEX = 'batch.kubernetes.io/job-completion-index';
const FAILURES = 'batch.kubernetes.io/job-index-failure-count';
const indexedJob = (name: string, spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: { completionMode: 'Indexed', ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
const podsOf = async (job: string) => (await json(['get', 'pods', '-l', `job-name=${job}`])).items;
const runningPod = async (job: string, index: number) => {
  let found: any;
  await waitUntil(async () => {
    found = (await podsOf(job)).find((p: any) => p.metadata.annotations[INDEX] === String(index) && p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
    return !!found;
  }, 40_000, () => `a running pod of ${job} index ${index}`);
  return found;
};
const settle = (job: string, index: number, hook: 'fail' | 'complete') => runningPod(job, index).then((p) => kubectlOk(c, ['annotate', 'pod', p.metadata.name, `sim.ordinal.dev/${hook}=true`]));
const condition = (job: any, type: string) => job.status.conditions?.find((x: any) => x.type === type);

test('backoffLimitPerIndex: a failed index is retried with its failure count, then given up; the Job fails with FailedIndexes', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: indexedJob('per-index', { completions: 3, parallelism: 3, backoffLimitPerIndex: 1 }) });
  const first = await runningPod('per-index', 1);
  assert.equal(first.metadata.annotations[FAILURES], '0');
  assert.equal((await json(['get', 'job', 'per-index'])).spec.backoffLimit, 2147483647, 'backoffLimit defaults to the maximum with per-index retries');
  await kubectlOk(c, ['annotate', 'pod', first.metadata.name, 'sim.ordinal.dev/fail=true']);
  // The replacement comes after the index's back-off (10s for a first failure) and carries the count.
  const retry = await runningPod('per-index', 1);
  assert.notEqual(retry.metadata.name, first.metadata.name);
  assert.equal(retry.metadata.annotations[FAILURES], '1');
  let job = await json(['get', 'job', 'per-index']);
  assert.equal(job.status.failedIndexes, '');
  await kubectlOk(c, ['annotate', 'pod', retry.metadata.name, 'sim.ordinal.dev/fail=true']);
  await waitUntil(async () => (await json(['get', 'job', 'per-index'])).status.failedIndexes === '1', 20_000, () => 'index 1 recorded as failed');
  // No third pod for index 1.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await podsOf('per-index')).filter((p: any) => p.metadata.annotations[INDEX] === '1').length, 2);
  await settle('per-index', 0, 'complete');
  await settle('per-index', 2, 'complete');
  await kubectlOk(c, ['wait', '--for=condition=failed', 'job/per-index', '--timeout=60s']);
  job = await json(['get', 'job', 'per-index']);
  assert.deepEqual([condition(job, 'Failed').reason, condition(job, 'Failed').message], ['FailedIndexes', 'Job has failed indexes']);
  assert.equal(condition(job, 'FailureTarget').reason, 'FailedIndexes');
  assert.equal(job.status.completedIndexes, '0,2');
  assert.equal(job.status.failedIndexes, '1');
  assert.equal(job.status.failed, 2);
  assert.equal(job.status.succeeded, 2);
});

test('maxFailedIndexes: one failed index too many fails the Job at once and stops its other pods', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: indexedJob('max-failed', { completions: 4, parallelism: 4, backoffLimitPerIndex: 0, maxFailedIndexes: 0 }) });
  await runningPod('max-failed', 3);
  await settle('max-failed', 2, 'fail');
  await kubectlOk(c, ['wait', '--for=condition=failed', 'job/max-failed', '--timeout=60s']);
  const job = await json(['get', 'job', 'max-failed']);
  assert.deepEqual([condition(job, 'Failed').reason, condition(job, 'Failed').message], ['MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes']);
  assert.equal(job.status.failedIndexes, '2');
  assert.equal(job.status.active ?? 0, 0);
  await waitUntil(async () => (await podsOf('max-failed')).every((p: any) => p.status.phase !== 'Running'), 30_000, () => 'the other pods stopped');
});

test('successPolicy: the Job succeeds once the named index does, with SuccessCriteriaMet before Complete', async () => {
  await kubectlOk(c, ['create', '-f', '-'], { input: indexedJob('leader', { completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededIndexes: '0' }] } }) });
  await runningPod('leader', 2);
  await settle('leader', 0, 'complete');
  await kubectlOk(c, ['wait', '--for=condition=complete', 'job/leader', '--timeout=60s']);
  const job = await json(['get', 'job', 'leader']);
  const met = condition(job, 'SuccessCriteriaMet');
  assert.deepEqual([met.status, met.reason, met.message], ['True', 'SuccessPolicy', 'Matched rules at index 0']);
  assert.deepEqual([condition(job, 'Complete').reason, condition(job, 'Complete').message], ['SuccessPolicy', 'Matched rules at index 0']);
  // The other indexes' pods were stopped, not waited for (how the simulated containers exit on
  // deletion decides whether they count as succeeded too).
  assert.match(job.status.completedIndexes, /^0\b/);
  assert.ok(Date.parse(met.lastTransitionTime) <= Date.parse(condition(job, 'Complete').lastTransitionTime));
  await waitUntil(async () => (await podsOf('leader')).every((p: any) => p.status.phase !== 'Running' || p.metadata.deletionTimestamp), 30_000, () => 'the other indexes stopped');
});

test('invalid per-index and success policy settings are refused naming the field', async () => {
  const bad = await kubectl(c, ['create', '-f', '-'], { input: indexedJob('bad', { completions: 2, backoffLimitPerIndex: 1, maxFailedIndexes: 3, successPolicy: { rules: [{ succeededIndexes: '1-0' }] } }) });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec.maxFailedIndexes: Invalid value: 3: must be less than or equal to completions/);
  assert.match(bad.stderr, /spec.successPolicy.rules\[0\].succeededIndexes: Invalid value: "1-0": error parsing succeededIndexes: non-increasing order, previous: 1, current: 0/);
  const nonIndexed = await kubectl(c, ['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'ni' }, spec: { backoffLimitPerIndex: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }) });
  assert.match(nonIndexed.stderr, /spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode/);
});
