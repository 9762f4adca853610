// The Job, ttl-after-finished and DaemonSet controllers' pure decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { account, backoffUntil, formatIndexes, matchPodFailurePolicy, parseIndexes, planJob, TRACKING_FINALIZER } from '../../src/controllers/job/plan.ts';
import { jobPod } from '../../src/controllers/job/controller.ts';
import { expiresAt } from '../../src/controllers/job/ttl.ts';
import { daemonPod, nodeShouldRun, planDaemonSet, podNode } from '../../src/controllers/daemonset/plan.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const job = (spec: Record<string, any> = {}, status: Record<string, any> = {}) => ({
  metadata: { name: 'pi', namespace: 'default', uid: 'j1' },
  spec: { completions: 5, parallelism: 2, backoffLimit: 6, completionMode: 'NonIndexed', template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } }, ...spec },
  status: { startTime: '2024-05-01T11:59:00Z', ...status },
});
const pod = (name: string, phase = 'Running', o: { index?: number; exit?: number; finished?: string; deleting?: boolean; ready?: boolean } = {}) => ({
  metadata: {
    name, namespace: 'default', uid: name, finalizers: [TRACKING_FINALIZER], creationTimestamp: '2024-05-01T11:59:00Z',
    annotations: o.index === undefined ? {} : { 'batch.kubernetes.io/job-completion-index': String(o.index) },
    ...(o.deleting ? { deletionTimestamp: '2024-05-01T11:59:59Z' } : {}),
  },
  spec: {},
  status: {
    phase,
    conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False' }],
    containerStatuses: [{ name: 'c', restartCount: 0, state: phase === 'Running' ? { running: {} } : { terminated: { exitCode: o.exit ?? (phase === 'Succeeded' ? 0 : 1), finishedAt: o.finished ?? '2024-05-01T11:59:50Z' } } }],
  },
});
const counts = (succeeded = 0, failed = 0, idx: number[] = []) => ({ succeeded, failed, completedIndexes: new Set(idx) });

test('index sets read and print as ranges', () => {
  assert.equal(formatIndexes([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
  assert.deepEqual([...parseIndexes('0-2,4,6-7', 7)], [0, 1, 2, 4, 6]);
  assert.equal(formatIndexes([]), '');
});

test('a Job keeps parallelism pods running until completions succeed, then SuccessCriteriaMet before Complete', () => {
  assert.equal(planJob(job(), [], counts(), NOW).create, 2);
  assert.equal(planJob(job(), [pod('a')], counts(4), NOW).create, 0); // one left to complete, one running
  assert.equal(planJob(job({ completions: undefined, parallelism: 3 }), [], counts(), NOW).create, 3);
  const met = planJob(job(), [pod('a', 'Running', { deleting: true })], counts(5), NOW);
  assert.deepEqual(met.status.conditions.map((c: any) => [c.type, c.reason]), [['SuccessCriteriaMet', 'CompletionsReached']]);
  assert.equal(met.status.terminating, 1);
  const done = planJob(job({}, { conditions: met.status.conditions }), [], counts(5), NOW);
  assert.deepEqual(done.status.conditions.map((c: any) => c.type), ['SuccessCriteriaMet', 'Complete']);
  assert.equal(done.status.conditions[1].message, 'Reached expected number of succeeded pods');
  assert.equal(done.status.completionTime, '2024-05-01T12:00:00Z');
  assert.deepEqual(done.events, [['Normal', 'Completed', 'Job completed']]);
});

test('failures: backoffLimit, OnFailure restarts, activeDeadlineSeconds, podFailurePolicy', () => {
  const over = planJob(job({ backoffLimit: 1 }), [pod('a')], counts(0, 2), NOW);
  assert.deepEqual(over.status.conditions.map((c: any) => [c.type, c.reason, c.message]), [['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit']]);
  assert.deepEqual(over.delete.map((p) => p.metadata.name), ['a']);
  const failed = planJob(job({ backoffLimit: 1 }, { conditions: over.status.conditions }), [], counts(0, 2), NOW);
  assert.deepEqual(failed.status.conditions.map((c: any) => c.type), ['FailureTarget', 'Failed']);
  const restarting = pod('r');
  restarting.status.containerStatuses[0].restartCount = 2;
  const onFailure = job({ backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure' } } });
  assert.equal(planJob(onFailure, [restarting], counts(), NOW).status.conditions[0].reason, 'BackoffLimitExceeded');
  const late = planJob(job({ activeDeadlineSeconds: 30 }), [pod('a')], counts(), NOW);
  assert.deepEqual([late.status.conditions[0].reason, late.status.conditions[0].message], ['DeadlineExceeded', 'Job was active longer than specified deadline']);
  const early = planJob(job({ activeDeadlineSeconds: 600 }), [], counts(), NOW);
  assert.equal(early.requeueAt, Date.parse('2024-05-01T12:09:00Z'));
  const policy = job({ podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }, { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } });
  const fatal = pod('f', 'Failed', { exit: 42 });
  assert.equal(matchPodFailurePolicy(policy, fatal).action, 'FailJob');
  assert.equal(matchPodFailurePolicy(policy, fatal).message, 'Container c for pod default/f failed with exit code 42 matching FailJob rule at index 1');
  const disrupted = pod('d', 'Failed', { exit: 137 });
  (disrupted.status.conditions as any[]).push({ type: 'DisruptionTarget', status: 'True' });
  const acc = account(policy, [fatal, disrupted, pod('ok', 'Succeeded')]);
  assert.deepEqual([acc.newlyFinished.failed.length, acc.newlyFinished.ignored.length, acc.newlyFinished.succeeded.length], [1, 1, 1]);
  assert.ok(acc.failJob);
  assert.equal(planJob(policy, [], { ...counts(0, 1), failJob: acc.failJob }, NOW).status.conditions[0].reason, 'PodFailurePolicy');
  // Pods already listed as uncounted are not counted again.
  assert.equal(account(job({}, { uncountedTerminatedPods: { succeeded: ['ok'] } }), [pod('ok', 'Succeeded')]).newlyFinished.succeeded.length, 0);
});

test('replacements of failed pods wait 10s, doubled per consecutive failure', () => {
  const j = job();
  const f1 = pod('f1', 'Failed', { finished: '2024-05-01T11:59:55Z' });
  assert.equal(backoffUntil(j, [f1]), Date.parse('2024-05-01T12:00:05Z'));
  const f2 = pod('f2', 'Failed', { finished: '2024-05-01T11:59:50Z' });
  assert.equal(backoffUntil(j, [f1, f2]), Date.parse('2024-05-01T12:00:15Z'));
  // A later success resets the count.
  assert.equal(backoffUntil(j, [f2, pod('s', 'Succeeded', { finished: '2024-05-01T11:59:52Z' })]), undefined);
  const waiting = planJob(j, [f1], counts(0, 1), NOW);
  assert.equal(waiting.create, 0);
  assert.equal(waiting.requeueAt, Date.parse('2024-05-01T12:00:05Z'));
});

test('Indexed Jobs create the missing lowest indexes and complete when every index succeeded', () => {
  const j = job({ completionMode: 'Indexed', completions: 4, parallelism: 2 });
  assert.deepEqual(planJob(j, [pod('p1', 'Running', { index: 1 })], counts(1, 0, [0]), NOW).create, [2]);
  const plan = planJob(j, [], counts(4, 0, [0, 1, 2, 3]), NOW);
  assert.equal(plan.status.completedIndexes, '0-3');
  assert.equal(plan.status.conditions[0].type, 'SuccessCriteriaMet');
  const p = jobPod({ ...j, spec: { ...j.spec, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c' }] } } } }, 3);
  assert.equal(p.metadata.generateName, 'pi-3-');
  assert.equal(p.metadata.annotations['batch.kubernetes.io/job-completion-index'], '3');
  assert.equal(p.metadata.labels['batch.kubernetes.io/job-completion-index'], '3');
  assert.equal(p.spec.hostname, 'pi-3');
  assert.deepEqual(p.metadata.finalizers, [TRACKING_FINALIZER]);
  assert.equal(p.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
});

test('podReplacementPolicy Failed waits for terminating pods; TerminatingOrFailed does not', () => {
  const going = pod('t', 'Running', { deleting: true });
  assert.equal(planJob(job({ podReplacementPolicy: 'TerminatingOrFailed' }), [going], counts(), NOW).create, 2);
  assert.equal(planJob(job({ podReplacementPolicy: 'Failed' }), [going], counts(), NOW).create, 1);
});

test('suspend deletes active pods and says so; resume resets the start time', () => {
  const s = planJob(job({ suspend: true }), [pod('a')], counts(), NOW);
  assert.equal(s.delete.length, 1);
  assert.deepEqual([s.status.conditions[0].type, s.status.conditions[0].reason], ['Suspended', 'JobSuspended']);
  const r = planJob(job({}, { conditions: s.status.conditions }), [], counts(), NOW);
  assert.deepEqual([r.status.conditions[0].status, r.status.conditions[0].reason, r.status.startTime], ['False', 'JobResumed', '2024-05-01T12:00:00Z']);
});

test('ttl-after-finished counts from the finishing condition', () => {
  const finished = { metadata: {}, spec: { ttlSecondsAfterFinished: 100 }, status: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2024-05-01T12:00:00Z' }] } };
  assert.equal(expiresAt(finished), Date.parse('2024-05-01T12:01:40Z'));
  assert.equal(expiresAt({ ...finished, spec: {} }), undefined);
  assert.equal(expiresAt({ ...finished, status: {} }), undefined);
});

const node = (name: string, labels: Record<string, string> = {}, taints: any[] = []) => ({ metadata: { name, labels }, spec: { taints } });
const ds = (spec: Record<string, any> = {}) => ({
  metadata: { name: 'agent', uid: 'ds1', generation: 2 },
  spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c' }], ...spec } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } },
});

test('daemon pods go to nodes whose selector, affinity and taints admit them', () => {
  assert.ok(nodeShouldRun(ds(), node('n1')));
  assert.ok(!nodeShouldRun(ds(), node('n1', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }])));
  assert.ok(nodeShouldRun(ds(), node('n1', {}, [{ key: 'dedicated', value: 'db', effect: 'PreferNoSchedule' }])));
  assert.ok(nodeShouldRun(ds({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), node('n1', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }])));
  // The daemon tolerations: cordoned and not-ready nodes still run it.
  assert.ok(nodeShouldRun(ds(), node('n1', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }])));
  assert.ok(!nodeShouldRun(ds({ nodeSelector: { disk: 'ssd' } }), node('n1')));
  assert.ok(nodeShouldRun(ds({ nodeSelector: { disk: 'ssd' } }), node('n1', { disk: 'ssd' })));
  const p = daemonPod(ds(), 'n2', 'h1');
  assert.equal(podNode(p), 'n2');
  assert.equal(p.metadata.labels['controller-revision-hash'], 'h1');
  assert.equal(p.metadata.labels['pod-template-generation'], '2');
  assert.ok(p.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'));
});

test('daemon plan: create where missing, delete where unwanted, roll within maxUnavailable', () => {
  const dpod = (name: string, nodeName: string, hash: string, ready = true) => ({
    metadata: { name, uid: name, labels: { 'controller-revision-hash': hash }, creationTimestamp: '2024-05-01T11:00:00Z' },
    spec: { nodeName },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2024-05-01T11:00:00Z' }] },
  });
  const nodes = [node('n1'), node('n2'), node('n3'), node('n4', {}, [{ key: 'x', effect: 'NoSchedule' }])];
  const plan = planDaemonSet(ds(), nodes, [dpod('p1', 'n1', 'old'), dpod('p2', 'n2', 'old'), dpod('p4', 'n4', 'new')], 'new', NOW);
  assert.deepEqual(plan.createOn, ['n3']);
  // n4 is tainted: its pod goes. One old pod may be replaced (n3 is already unavailable, so none with maxUnavailable 1).
  assert.deepEqual(plan.delete.map((p) => p.metadata.name), ['p4']);
  assert.deepEqual(
    [plan.status.desiredNumberScheduled, plan.status.currentNumberScheduled, plan.status.numberMisscheduled, plan.status.numberReady, plan.status.updatedNumberScheduled, plan.status.numberUnavailable],
    [3, 2, 1, 2, 0, 1],
  );
  const rolling = planDaemonSet(ds(), nodes.slice(0, 2), [dpod('p1', 'n1', 'old'), dpod('p2', 'n2', 'old')], 'new', NOW);
  assert.deepEqual(rolling.delete.map((p) => p.metadata.name), ['p1']);
  const sick = planDaemonSet(ds(), nodes.slice(0, 2), [dpod('p1', 'n1', 'old', false), dpod('p2', 'n2', 'old')], 'new', NOW);
  assert.deepEqual(sick.delete.map((p) => p.metadata.name), ['p1']);
});
