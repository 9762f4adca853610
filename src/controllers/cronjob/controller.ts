// kube-controller-manager's "cronjob" controller: creates a Job at each time the schedule names
// (read in spec.timeZone), honours concurrencyPolicy, suspend and startingDeadlineSeconds, keeps
// status.active and the schedule times, and trims finished Jobs to the history limits. The clock
// is injectable so the schedule decisions can be tested at any time.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { EventRecorder } from '../../client/events.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { deepEqual } from '../../api/validation/fields.ts';
import { CronError, isTimeZone, parseSchedule } from '../../util/cron.ts';
import { OwnerIndex, controlledBy } from '../workloads/pod-index.ts';
import { nowIso } from '../workloads/pods.ts';
import { TOO_MANY_MISSED, finishedCondition, jobFromCronJob, jobName, jobRef, jobsToCleanUp, rfc1123z, scheduleDecision, tooLate } from './plan.ts';

const COMPONENT = 'cronjob-controller';
const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface CronJobControllerOptions {
  now?: () => number;
}

export class CronJobController {
  private readonly client: Client;
  private readonly now: () => number;
  private readonly cronJobs: Informer;
  private readonly jobs: Informer;
  private readonly jobsResource: ResourceDef;
  private readonly index = new OwnerIndex(controlledBy('CronJob', false));
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;

  constructor(client: Client, opts: CronJobControllerOptions = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.jobsResource = client.resource('batch', 'jobs');
    this.cronJobs = new Informer(client, client.resource('batch', 'cronjobs'));
    this.jobs = new Informer(client, this.jobsResource);
    this.recorder = new EventRecorder(client, COMPONENT);
    this.queue = new WorkQueue((key) => this.sync(key), 2);
    const enqueue = (cj: Obj) => this.queue.add(objectKey(cj));
    this.cronJobs.on({ add: enqueue, update: (_o, cj) => enqueue(cj) });
    const jobChanged = (job: Obj) => {
      const ref = (job.metadata.ownerReferences ?? []).find((r: Obj) => r.controller === true);
      if (ref?.kind === 'CronJob') this.queue.add(`${job.metadata.namespace}/${ref.name}`);
    };
    this.jobs.on({
      add: (j) => {
        this.index.upsert(j);
        jobChanged(j);
      },
      update: (_o, j) => {
        this.index.upsert(j);
        jobChanged(j);
      },
      delete: (j) => {
        this.index.remove(j);
        jobChanged(j);
      },
    });
  }

  async start(): Promise<void> {
    await this.jobs.start();
    await this.cronJobs.start();
  }

  stop(): void {
    this.cronJobs.stop();
    this.jobs.stop();
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const cj = this.cronJobs.get(namespace, name);
    if (!cj) return;
    const now = this.now();
    const jobs = this.index.owned(cj.metadata.uid);
    const status: Obj = structuredClone(cj.status ?? {});
    let active: Obj[] = [...(status.active ?? [])];
    const byUid = new Map(jobs.map((j) => [j.metadata.uid as string, j]));

    // Reconcile status.active with the Jobs that exist.
    for (const job of jobs) {
      const listed = active.some((r) => r.uid === job.metadata.uid);
      const done = finishedCondition(job);
      if (!listed && !done) {
        this.recorder.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name}`);
      } else if (listed && done) {
        active = active.filter((r) => r.uid !== job.metadata.uid);
        this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, condition: ${done}`);
      }
      if (done === 'Complete' && job.status?.completionTime && (!status.lastSuccessfulTime || job.status.completionTime > status.lastSuccessfulTime)) {
        status.lastSuccessfulTime = job.status.completionTime;
      }
    }
    // The informer may not have seen a Job this controller just made: only the API server can say it is gone.
    const kept: Obj[] = [];
    for (const r of active) {
      if (byUid.has(r.uid)) {
        kept.push(r);
        continue;
      }
      const found = await this.client.get(this.jobsResource, namespace, r.name).catch((err) => {
        if (isCode(err, 404)) return undefined;
        throw err;
      });
      if (found && found.metadata.uid === r.uid) kept.push(r);
      else this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name}`);
    }
    active = kept;

    const finish = async (requeueAt?: number) => {
      if (active.length) status.active = active;
      else delete status.active;
      if (!deepEqual(cj.status ?? {}, status)) {
        await this.client.update(this.cronJobs.resource, { ...cj, status }, 'status').catch((err) => {
          if (!isCode(err, 409) && !isCode(err, 404)) throw err;
        });
      }
      await this.cleanUp(cj, this.index.owned(cj.metadata.uid));
      if (requeueAt !== undefined) this.queue.addAfter(key, Math.max(0, requeueAt - this.now()) + 100);
    };

    if (cj.metadata.deletionTimestamp) return finish();
    if (cj.spec?.timeZone && !isTimeZone(cj.spec.timeZone)) {
      this.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${cj.spec.timeZone}": unknown time zone ${cj.spec.timeZone}`);
      return finish();
    }
    let schedule;
    try {
      schedule = parseSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone ?? undefined);
    } catch (err) {
      if (!(err instanceof CronError)) throw err;
      this.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec?.schedule}" : ${err.message}`);
      return finish();
    }
    const decision = scheduleDecision(cj, schedule, now);
    if (decision.missed > TOO_MANY_MISSED) {
      this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    const scheduled = decision.scheduled;
    if (scheduled === undefined || cj.spec?.suspend) return finish(cj.spec?.suspend ? undefined : decision.next);
    if (tooLate(cj, scheduled, now)) {
      this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return finish(decision.next);
    }
    if (active.some((r) => r.name === jobName(cj, scheduled))) return finish(decision.next);
    if (cj.spec?.concurrencyPolicy === 'Forbid' && active.length) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return finish(decision.next);
    }
    if (cj.spec?.concurrencyPolicy === 'Replace') {
      for (const r of active) {
        try {
          await this.client.delete(this.jobsResource, namespace, r.name, { propagationPolicy: 'Background', preconditions: { uid: r.uid } });
          this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${r.name}`);
        } catch (err) {
          if (!isCode(err, 404)) {
            this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errText(err)}`);
            throw err;
          }
        }
      }
      active = [];
    }
    let created: Obj;
    try {
      created = await this.client.create(this.jobsResource, namespace, jobFromCronJob(cj, scheduled));
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (err) {
      if (!isCode(err, 409)) {
        this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errText(err)}`);
        throw err;
      }
      // Made by an earlier sync whose status write was lost: ours if it names us as controller.
      created = await this.client.get(this.jobsResource, namespace, jobName(cj, scheduled));
      const ref = (created.metadata.ownerReferences ?? []).find((r: Obj) => r.controller === true);
      if (ref?.uid !== cj.metadata.uid) return finish(decision.next);
      if (finishedCondition(created)) {
        status.lastScheduleTime = nowIso(scheduled);
        return finish(decision.next);
      }
    }
    active.push(jobRef(created));
    status.lastScheduleTime = nowIso(scheduled);
    return finish(decision.next);
  }

  private async cleanUp(cj: Obj, jobs: Obj[]): Promise<void> {
    for (const job of jobsToCleanUp(cj, jobs)) {
      try {
        await this.client.delete(this.jobsResource, job.metadata.namespace, job.metadata.name, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid } });
        this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
      } catch (err) {
        if (!isCode(err, 404) && !isCode(err, 409)) throw err;
      }
    }
  }
}
