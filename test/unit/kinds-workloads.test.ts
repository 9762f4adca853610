// Defaults and validation of the workload kinds, with upstream's field paths and messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../../src/api/field-errors.ts';
import { strategyFor } from '../../src/api/kinds/index.ts';
import type { Obj } from '../../src/api/resource.ts';
import { tableFor } from '../../src/api/tables/index.ts';

const tmpl = (labels: Record<string, string>, restartPolicy?: string) => ({ metadata: { labels }, spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'c', image: 'i' }] } });
const create = (kind: string, spec: Obj, name = 'x'): { obj: Obj; errs: string[] } => {
  const s = strategyFor(kind);
  const obj: Obj = { metadata: { name, namespace: 'default', uid: 'u-1' }, spec };
  s.default(obj);
  s.prepareForCreate(obj);
  return { obj, errs: s.validate(obj).map(formatFieldError) };
};

test('deployment defaults and validation', () => {
  const { obj, errs } = create('Deployment', { selector: { matchLabels: { app: 'a' } }, template: tmpl({ app: 'a' }) });
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.deepEqual([obj.spec.replicas, obj.spec.revisionHistoryLimit, obj.spec.progressDeadlineSeconds], [1, 10, 600]);
  const cases: [Obj, string][] = [
    [{ selector: { matchLabels: { app: 'a' } }, template: tmpl({ app: 'b' }) }, 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`'],
    [{ template: tmpl({ app: 'a' }) }, 'spec.selector: Required value'],
    [{ selector: {}, template: tmpl({ app: 'a' }) }, 'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment'],
    [{ selector: { matchLabels: { app: 'a' } }, template: tmpl({ app: 'a' }, 'Never') }, 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    [{ selector: { matchLabels: { app: 'a' } }, template: tmpl({ app: 'a' }), strategy: { type: 'Recreate', rollingUpdate: {} } }, "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    [{ selector: { matchLabels: { app: 'a' } }, template: tmpl({ app: 'a' }), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '110%' } } }, 'spec.strategy.rollingUpdate.maxSurge: Invalid value: 110%: must not be greater than 100%'],
    [{ selector: { matchLabels: { app: 'a' } }, template: tmpl({ app: 'a' }), minReadySeconds: 10, progressDeadlineSeconds: 5 }, 'spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds'],
    [{ selector: { matchLabels: { app: 'a' } }, template: tmpl({ app: 'a' }), replicas: -1 }, 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
  ];
  for (const [spec, msg] of cases) assert.ok(create('Deployment', spec).errs.includes(msg), `${msg}\n got ${create('Deployment', spec).errs.join('\n')}`);
  const s = strategyFor('Deployment');
  const old = create('Deployment', { selector: { matchLabels: { app: 'a' } }, template: tmpl({ app: 'a' }) }).obj;
  const changed = structuredClone(old);
  changed.spec.selector = { matchLabels: { app: 'a', tier: 'x' } };
  changed.spec.template.metadata.labels.tier = 'x';
  s.prepareForUpdate(changed, old);
  assert.ok(s.validateUpdate(changed, old).map(formatFieldError).some((m) => m.startsWith('spec.selector: Invalid value:') && m.endsWith('field is immutable')));
  assert.equal(changed.metadata.generation, 2);
});

test('job defaults, generated selector and validation', () => {
  const { obj, errs } = create('Job', { template: tmpl({ app: 'j' }, 'Never') }, 'pi');
  assert.deepEqual(errs, []);
  assert.deepEqual([obj.spec.completions, obj.spec.parallelism, obj.spec.backoffLimit, obj.spec.completionMode, obj.spec.suspend, obj.spec.podReplacementPolicy], [1, 1, 6, 'NonIndexed', false, 'TerminatingOrFailed']);
  assert.deepEqual(obj.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } });
  assert.deepEqual(obj.spec.template.metadata.labels, { app: 'j', 'controller-uid': 'u-1', 'batch.kubernetes.io/controller-uid': 'u-1', 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi' });
  assert.deepEqual(obj.metadata.labels, { app: 'j' });
  assert.ok(create('Job', { template: tmpl({}, 'Always') }).errs.includes('spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'));
  assert.ok(create('Job', { template: tmpl({}, 'Never'), completionMode: 'Indexed', completions: null, parallelism: 2 }).errs.includes('spec.completions: Required value: when completion mode is Indexed'));
  assert.ok(create('Job', { template: tmpl({}, 'Never'), backoffLimit: -1 }).errs.includes('spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0'));
  assert.ok(create('Job', { template: tmpl({}, 'OnFailure'), podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1] } }] } }).errs.includes('spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified'));
});

test('cronjob defaults and validation', () => {
  const base = { schedule: '*/5 * * * *', jobTemplate: { spec: { template: tmpl({}, 'OnFailure') } } };
  const { obj, errs } = create('CronJob', base);
  assert.deepEqual(errs, []);
  assert.deepEqual([obj.spec.concurrencyPolicy, obj.spec.suspend, obj.spec.successfulJobsHistoryLimit, obj.spec.failedJobsHistoryLimit], ['Allow', false, 3, 1]);
  const cases: [Obj, string][] = [
    [{ ...base, schedule: 'bogus' }, 'spec.schedule: Invalid value: "bogus": expected exactly 5 fields, found 1: [bogus]'],
    [{ ...base, schedule: 'TZ=UTC */5 * * * *' }, 'spec.schedule: Invalid value: "TZ=UTC */5 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'],
    [{ ...base, timeZone: 'Mars/Olympus' }, 'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'],
    [{ ...base, timeZone: 'Local' }, 'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'],
    [{ ...base, concurrencyPolicy: 'Sometimes' }, 'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'],
  ];
  for (const [spec, msg] of cases) assert.ok(create('CronJob', spec).errs.includes(msg), `${msg}\n got ${create('CronJob', spec).errs.join('\n')}`);
  assert.ok(create('CronJob', { ...base, timeZone: 'Europe/Berlin' }).errs.length === 0);
  assert.ok(create('CronJob', base, 'a'.repeat(53)).errs.includes(`metadata.name: Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters`));
});

test('daemonset and replicaset defaults and validation', () => {
  const ds = create('DaemonSet', { selector: { matchLabels: { a: 'b' } }, template: tmpl({ a: 'b' }) });
  assert.deepEqual(ds.errs, []);
  assert.deepEqual(ds.obj.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.ok(create('DaemonSet', { selector: {}, template: tmpl({ a: 'b' }) }).errs.some((m) => m.endsWith('empty selector is invalid for daemonset')));
  const rs = create('ReplicaSet', { selector: { matchLabels: { a: 'b' } }, template: tmpl({ a: 'b' }) });
  assert.deepEqual(rs.errs, []);
  assert.equal(rs.obj.spec.replicas, 1);
  assert.deepEqual(rs.obj.status, { replicas: 0 });
});

test('table cells as upstream printers', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const meta = { name: 'x', creationTimestamp: '2024-05-01T11:00:00Z' };
  assert.deepEqual(tableFor('Deployment').cells({ metadata: meta, spec: { replicas: 3, selector: { matchLabels: { app: 'a' } }, template: tmpl({}) }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }, now), ['x', '2/3', 3, 2, '60m', 'c', 'i', 'app=a']);
  assert.deepEqual(tableFor('ReplicaSet').cells({ metadata: meta, spec: { replicas: 3 }, status: { replicas: 2, readyReplicas: 1 } }, now).slice(0, 5), ['x', 3, 2, 1, '60m']);
  const jobCells = (spec: Obj, status: Obj, extra: Obj = {}) => tableFor('Job').cells({ metadata: { ...meta, ...extra }, spec, status }, now).slice(1, 4);
  assert.deepEqual(jobCells({ completions: 5 }, { succeeded: 2, startTime: '2024-05-01T11:59:00Z' }), ['Running', '2/5', '60s']);
  assert.deepEqual(jobCells({ parallelism: 3 }, { startTime: '2024-05-01T11:00:00Z', completionTime: '2024-05-01T11:02:30Z', conditions: [{ type: 'Complete', status: 'True' }] }), ['Complete', '0/1 of 3', '2m30s']);
  assert.deepEqual(jobCells({ completions: 1 }, { conditions: [{ type: 'FailureTarget', status: 'True' }] }), ['FailureTarget', '0/1', '']);
  assert.deepEqual(jobCells({ completions: 1 }, {}, { deletionTimestamp: '2024-05-01T11:59:00Z' }), ['Terminating', '0/1', '']);
  assert.deepEqual(tableFor('CronJob').cells({ metadata: meta, spec: { schedule: '@hourly', suspend: true, jobTemplate: { spec: { template: tmpl({}) } } }, status: { active: [{}], lastScheduleTime: '2024-05-01T11:30:00Z' } }, now).slice(0, 7), ['x', '@hourly', '<none>', 'True', 1, '30m', '60m']);
});
