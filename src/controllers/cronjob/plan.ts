// The CronJob controller's pure decisions, as upstream's cronjob_controllerv2 and its utils: the
// most recent unmet schedule time, whether it is too late (startingDeadlineSeconds), the Job to
// create for it, and which finished Jobs the history limits let go.
import type { Obj } from '../../api/resource.ts';
import type { Schedule } from '../../util/cron.ts';
import { zoneOffset } from '../../util/cron.ts';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Upstream stops counting missed start times past this many and warns. */
export const TOO_MANY_MISSED = 100;

export interface ScheduleDecision {
  /** The most recent schedule time not yet acted on, at or before now. */
  scheduled?: number;
  /** How many schedule times were missed since the last one acted on (including `scheduled`). */
  missed: number;
  /** The next schedule time after now: when to look again. */
  next?: number;
}

/** Upstream mostRecentScheduleTime/nextScheduleTime, with startingDeadlineSeconds bounding the look-back. */
export function scheduleDecision(cj: Obj, schedule: Schedule, now: number): ScheduleDecision {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp);
  const sds = cj.spec?.startingDeadlineSeconds;
  if (sds !== undefined && sds !== null) {
    const deadline = now - sds * 1000;
    if (deadline > earliest) earliest = deadline;
  }
  let t = schedule.next(earliest);
  let scheduled: number | undefined;
  let missed = 0;
  // Walks the times between; bounded, as a schedule every minute over a year is half a million steps.
  for (let steps = 0; t !== undefined && t <= now && steps < 1_000_000; steps++) {
    scheduled = t;
    missed++;
    t = schedule.next(t);
  }
  return { scheduled, missed, next: t };
}

export function tooLate(cj: Obj, scheduled: number, now: number): boolean {
  const sds = cj.spec?.startingDeadlineSeconds;
  return sds !== undefined && sds !== null && scheduled + sds * 1000 < now;
}

/** `<cronjob>-<scheduled time in minutes since the epoch>`: the same time always names the same Job. */
export function jobName(cj: Obj, scheduled: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;
}

/** RFC 3339 in the CronJob's zone, as the scheduled-timestamp annotation carries it. */
export function rfc3339In(t: number, tz: string | undefined): string {
  const off = tz ? zoneOffset(t, tz) : 0;
  const wall = new Date(Math.floor(t / 1000) * 1000 + off).toISOString().replace(/\.\d+Z$/, '');
  if (!off) return `${wall}Z`;
  const m = Math.abs(off) / 60_000;
  return `${wall}${off < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export function jobFromCronJob(cj: Obj, scheduled: number): Obj {
  const tmpl = cj.spec?.jobTemplate ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(cj, scheduled),
      namespace: cj.metadata.namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      annotations: { ...(tmpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339In(scheduled, cj.spec?.timeZone) },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name, uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(tmpl.spec ?? {}),
  };
}

export function finishedCondition(job: Obj): 'Complete' | 'Failed' | undefined {
  const c = (job.status?.conditions ?? []).find((x: Obj) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c?.type;
}

/** Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first. */
export function jobsToCleanUp(cj: Obj, jobs: Obj[]): Obj[] {
  const startOf = (j: Obj) => j.status?.startTime ?? j.metadata.creationTimestamp ?? '';
  const pick = (kind: 'Complete' | 'Failed', limit: number | undefined | null) => {
    if (limit === undefined || limit === null) return [];
    const done = jobs.filter((j) => finishedCondition(j) === kind && !j.metadata.deletionTimestamp).sort((a, b) => (startOf(a) < startOf(b) ? -1 : startOf(a) > startOf(b) ? 1 : 0));
    return done.slice(0, Math.max(0, done.length - limit));
  };
  return [...pick('Complete', cj.spec?.successfulJobsHistoryLimit), ...pick('Failed', cj.spec?.failedJobsHistoryLimit)];
}

export function jobRef(job: Obj): Obj {
  return { kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion };
}

/** Go's time.Format(RFC1123Z), as the MissSchedule event prints the time. */
export function rfc1123z(t: number): string {
  const d = new Date(t);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
