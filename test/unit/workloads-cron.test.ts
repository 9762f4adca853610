// Cron schedules (robfig/cron's ParseStandard semantics) and the CronJob controller's schedule decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronError, parseSchedule } from '../../src/util/cron.ts';
import { jobName, jobsToCleanUp, rfc3339In, scheduleDecision, tooLate, jobFromCronJob } from '../../src/controllers/cronjob/plan.ts';

const at = (s: string) => Date.parse(s);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

test('next activation of standard schedules, descriptors and steps', () => {
  const cases: [string, string | undefined, string, string][] = [
    ['*/1 * * * *', undefined, '2024-03-10T10:00:30Z', '2024-03-10T10:01:00.000Z'],
    ['*/15 * * * *', undefined, '2024-03-10T10:00:00Z', '2024-03-10T10:15:00.000Z'],
    ['0 * * * *', undefined, '2024-03-10T10:59:59Z', '2024-03-10T11:00:00.000Z'],
    ['@hourly', undefined, '2024-03-10T10:00:00Z', '2024-03-10T11:00:00.000Z'],
    ['@daily', undefined, '2024-03-10T10:00:00Z', '2024-03-11T00:00:00.000Z'],
    ['@weekly', undefined, '2024-03-10T10:00:00Z', '2024-03-17T00:00:00.000Z'],
    ['@monthly', undefined, '2024-03-10T10:00:00Z', '2024-04-01T00:00:00.000Z'],
    ['@yearly', undefined, '2024-03-10T10:00:00Z', '2025-01-01T00:00:00.000Z'],
    ['30 2 * * mon-fri', undefined, '2024-03-09T00:00:00Z', '2024-03-11T02:30:00.000Z'],
    ['0 0 29 feb *', undefined, '2024-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    // Both day fields restricted: either matches (the 13th, or any Friday).
    ['0 0 13 * 5', undefined, '2024-09-01T00:00:00Z', '2024-09-06T00:00:00.000Z'],
    ['5 4 * * *', 'Europe/Berlin', '2024-07-01T00:00:00Z', '2024-07-01T02:05:00.000Z'],
    ['5 4 * * *', 'America/New_York', '2024-01-15T12:00:00Z', '2024-01-16T09:05:00.000Z'],
    // 02:30 does not exist on 2024-03-31 in Berlin (clocks go 02:00 -> 03:00): the next day's run.
    ['30 2 * * *', 'Europe/Berlin', '2024-03-30T02:00:00Z', '2024-04-01T00:30:00.000Z'],
    ['@every 90s', undefined, '2024-03-10T10:00:00.700Z', '2024-03-10T10:01:30.000Z'],
  ];
  for (const [spec, tz, from, want] of cases) assert.equal(iso(parseSchedule(spec, tz).next(at(from))), want, `${spec} ${tz ?? ''} after ${from}`);
});

test('schedule errors carry robfig texts', () => {
  const cases: [string, string][] = [
    ['', 'empty spec string'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['61 * * * *', 'end of range (61) above maximum (59): 61'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['5-2 * * * *', 'beginning of range (5) beyond end of range (2): 5-2'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
  ];
  for (const [spec, msg] of cases) assert.throws(() => parseSchedule(spec), (e: unknown) => e instanceof CronError && e.message === msg, spec);
});

const cj = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
  metadata: { name: 'backup', namespace: 'default', uid: 'u1', creationTimestamp: '2024-03-10T10:00:00Z' },
  spec: { schedule: '*/5 * * * *', ...spec },
  status,
});

test('schedule decision: nothing due, one due, many missed, bounded by startingDeadlineSeconds', () => {
  const s = parseSchedule('*/5 * * * *');
  assert.deepEqual(scheduleDecision(cj({}), s, at('2024-03-10T10:04:00Z')), { scheduled: undefined, missed: 0, next: at('2024-03-10T10:05:00Z') });
  assert.deepEqual(scheduleDecision(cj({}), s, at('2024-03-10T10:06:00Z')), { scheduled: at('2024-03-10T10:05:00Z'), missed: 1, next: at('2024-03-10T10:10:00Z') });
  const after = cj({}, { lastScheduleTime: '2024-03-10T10:05:00Z' });
  assert.equal(scheduleDecision(after, s, at('2024-03-10T10:09:00Z')).scheduled, undefined);
  const missed = scheduleDecision(cj({}), s, at('2024-03-10T12:01:00Z'));
  assert.equal(missed.missed, 24);
  assert.equal(missed.scheduled, at('2024-03-10T12:00:00Z'));
  // With a deadline only the last 200 s are looked at.
  const bounded = scheduleDecision(cj({ startingDeadlineSeconds: 200 }), s, at('2024-03-10T12:01:00Z'));
  assert.equal(bounded.missed, 1);
  assert.equal(tooLate(cj({ startingDeadlineSeconds: 30 }), at('2024-03-10T12:00:00Z'), at('2024-03-10T12:01:00Z')), true);
  assert.equal(tooLate(cj({ startingDeadlineSeconds: 90 }), at('2024-03-10T12:00:00Z'), at('2024-03-10T12:01:00Z')), false);
  assert.equal(tooLate(cj({}), at('2024-03-10T12:00:00Z'), at('2024-03-11T12:01:00Z')), false);
});

test('jobs are named by the scheduled minute and annotated with the time in the zone', () => {
  const t = at('2024-03-10T12:00:00Z');
  assert.equal(jobName(cj({}), t), `backup-${t / 60000}`);
  assert.equal(rfc3339In(t, undefined), '2024-03-10T12:00:00Z');
  assert.equal(rfc3339In(t, 'Asia/Kolkata'), '2024-03-10T17:30:00+05:30');
  assert.equal(rfc3339In(t, 'America/New_York'), '2024-03-10T08:00:00-04:00');
  const job = jobFromCronJob(cj({ jobTemplate: { metadata: { labels: { a: 'b' } }, spec: { template: { spec: {} } } } }), t);
  assert.equal(job.metadata.ownerReferences[0].kind, 'CronJob');
  assert.equal(job.metadata.ownerReferences[0].controller, true);
  assert.deepEqual(job.metadata.labels, { a: 'b' });
  assert.equal(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2024-03-10T12:00:00Z');
});

test('history limits keep the newest finished jobs of each kind', () => {
  const job = (name: string, start: string, type: string) => ({ metadata: { name }, status: { startTime: start, conditions: [{ type, status: 'True' }] } });
  const jobs = [job('a', '2024-01-01T00:00:00Z', 'Complete'), job('b', '2024-01-02T00:00:00Z', 'Complete'), job('c', '2024-01-03T00:00:00Z', 'Failed'), job('d', '2024-01-04T00:00:00Z', 'Failed'), { metadata: { name: 'e' }, status: {} }];
  assert.deepEqual(jobsToCleanUp(cj({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }), jobs).map((j) => j.metadata.name), ['a', 'c']);
  assert.deepEqual(jobsToCleanUp(cj({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 5 }), jobs).map((j) => j.metadata.name), ['a', 'b']);
});
