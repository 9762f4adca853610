// kube-controller-manager's "job" controller (1.32): creates a Job's pods (with the
// batch.kubernetes.io/job-tracking finalizer, and completion indexes for Indexed Jobs), counts
// finished pods through status.uncountedTerminatedPods before releasing their finalizers so that
// no pod is counted twice across restarts, and applies the decisions of plan.ts.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { labelSelectorFromObject } from '../../api/selectors/labels.ts';
import type { Client } from '../../client/client.ts';
import { EventRecorder } from '../../client/events.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { deepEqual } from '../../api/validation/fields.ts';
import { Expectations, OwnerIndex, controlledBy } from '../workloads/pod-index.ts';
import { adoptPatch, claim, controllerRef, ownerRefTo, podFromTemplate, slowStartBatch } from '../workloads/pods.ts';
import {
  COMPLETION_INDEX, DEFAULT_BACKOFF_MS, INDEX_FAILURE_COUNT, INDEX_IGNORED_FAILURE_COUNT, TRACKING_FINALIZER, account, hasBackoffLimitPerIndex, indexFailureRecords, isIndexFailed,
  isIndexed, parseIndexes, planJob, podIndex, formatIndexes,
} from './plan.ts';

const COMPONENT = 'job-controller';
const SMP = 'application/strategic-merge-patch+json';
const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface JobControllerOptions {
  workers?: number;
  now?: () => number;
  /** The first failure back-off (upstream 10s), doubled per consecutive failure. */
  backoffMs?: number;
}

/**
 * A pod for one of the Job's completions; Indexed Jobs name the index in the pod. With
 * backoffLimitPerIndex the pod carries the failures its index had so far (`failures`).
 */
export function jobPod(job: Obj, index?: number, failures?: { failed: number; ignored: number }): Obj {
  const generateName = index === undefined ? `${job.metadata.name}-` : `${job.metadata.name}-${index}-`;
  const pod = podFromTemplate(job.spec.template ?? {}, generateName, ownerRefTo(job, 'batch/v1', 'Job'));
  pod.metadata.finalizers = [...(pod.metadata.finalizers ?? []), TRACKING_FINALIZER];
  if (index !== undefined) {
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [COMPLETION_INDEX]: String(index) };
    pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [COMPLETION_INDEX]: String(index) };
    if (!pod.spec.hostname) pod.spec.hostname = `${job.metadata.name}-${index}`;
    if (hasBackoffLimitPerIndex(job)) {
      const counts = failures ?? { failed: 0, ignored: 0 };
      pod.metadata.annotations[INDEX_FAILURE_COUNT] = String(counts.failed);
      if (counts.ignored > 0) pod.metadata.annotations[INDEX_IGNORED_FAILURE_COUNT] = String(counts.ignored);
    }
    const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } };
    for (const c of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) {
      if (!(c.env ?? []).some((e: Obj) => e.name === 'JOB_COMPLETION_INDEX')) c.env = [...(c.env ?? []), env];
    }
  }
  return pod;
}

export class JobController {
  private readonly client: Client;
  private readonly now: () => number;
  private readonly backoffMs: number;
  private readonly jobs: Informer;
  private readonly pods: Informer;
  private readonly podsResource: ResourceDef;
  private readonly index = new OwnerIndex(controlledBy('Job', true));
  private readonly expectations = new Expectations();
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;

  constructor(client: Client, opts: JobControllerOptions = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.podsResource = client.resource('', 'pods');
    this.jobs = new Informer(client, client.resource('batch', 'jobs'));
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.recorder = new EventRecorder(client, COMPONENT);
    this.queue = new WorkQueue((key) => this.sync(key), opts.workers ?? 4);
    this.jobs.on({
      add: (j) => this.queue.add(objectKey(j)),
      update: (_o, j) => this.queue.add(objectKey(j)),
      delete: (j) => {
        this.expectations.forget(objectKey(j));
        // Its pods' finalizers must go, or they would outlive it.
        for (const p of this.index.owned(j.metadata.uid)) void this.releaseOrphan(p);
      },
    });
    const podChanged = (pod: Obj, added: boolean) => {
      const ref = controllerRef(pod);
      if (ref?.kind !== 'Job') {
        if (!ref) for (const j of this.jobs.list(pod.metadata.namespace)) if (labelSelectorFromObject(j.spec?.selector).matches(pod.metadata.labels)) this.queue.add(objectKey(j));
        return;
      }
      const key = `${pod.metadata.namespace}/${ref.name}`;
      if (added) this.expectations.creationObserved(key);
      const job = this.jobs.get(pod.metadata.namespace, ref.name);
      if (!job || job.metadata.uid !== ref.uid) {
        if (this.jobs.hasSynced()) void this.releaseOrphan(pod);
        return;
      }
      this.queue.add(key);
    };
    this.pods.on({
      add: (p) => {
        this.index.upsert(p);
        podChanged(p, true);
      },
      update: (_o, p) => {
        this.index.upsert(p);
        podChanged(p, false);
      },
      delete: (p) => {
        this.index.remove(p);
        const ref = controllerRef(p);
        if (ref?.kind === 'Job') {
          this.expectations.deletionObserved(`${p.metadata.namespace}/${ref.name}`, objectKey(p));
          this.queue.add(`${p.metadata.namespace}/${ref.name}`);
        }
      },
    });
  }

  async start(): Promise<void> {
    await this.pods.start();
    await this.jobs.start();
  }

  stop(): void {
    this.jobs.stop();
    this.pods.stop();
    this.queue.stop();
  }

  /** A pod whose Job is gone keeps no tracking finalizer. */
  private async releaseOrphan(pod: Obj): Promise<void> {
    if (!(pod.metadata.finalizers ?? []).includes(TRACKING_FINALIZER)) return;
    await this.removeFinalizer(pod).catch(() => {});
  }

  private async removeFinalizer(pod: Obj): Promise<void> {
    const finalizers: string[] = pod.metadata.finalizers ?? [];
    const i = finalizers.indexOf(TRACKING_FINALIZER);
    if (i < 0) return;
    // A JSON patch guarded by the list as we saw it: a concurrent change fails it rather than being lost.
    await this.client
      .patch(this.podsResource, pod.metadata.namespace, pod.metadata.name, 'application/json-patch+json', [
        { op: 'test', path: `/metadata/finalizers/${i}`, value: TRACKING_FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${i}` },
      ])
      .catch((err) => {
        if (!isCode(err, 404)) throw err;
      });
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    let job = this.jobs.get(namespace, name);
    if (!job) return;
    const now = this.now();
    const pods = await this.claimPods(job);
    if (job.metadata.deletionTimestamp) {
      await Promise.all(pods.map((p) => this.releaseOrphan(p)));
      return;
    }

    // 1. Finished pods are recorded as uncounted before their finalizers go, so none is counted twice.
    const acc = account(job, pods);
    const uncounted = { succeeded: [...(job.status?.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(job.status?.uncountedTerminatedPods?.failed ?? [])] };
    const completions = job.spec?.completions ?? 0;
    const completed = isIndexed(job) ? parseIndexes(job.status?.completedIndexes, completions) : new Set<number>();
    const perIndex = hasBackoffLimitPerIndex(job);
    const failedIndexes = perIndex ? parseIndexes(job.status?.failedIndexes, completions) : new Set<number>();
    if (acc.newlyFinished.succeeded.length || acc.newlyFinished.failed.length) {
      uncounted.succeeded.push(...acc.newlyFinished.succeeded.map((p) => p.metadata.uid));
      uncounted.failed.push(...acc.newlyFinished.failed.map((p) => p.metadata.uid));
      for (const p of acc.newlyFinished.succeeded) {
        const i = podIndex(p);
        if (i !== undefined && i < completions) completed.add(i);
      }
      // An index fails with the pod that used up its retries; it is recorded with that pod's uid.
      for (const p of acc.newlyFinished.failed) {
        const i = podIndex(p);
        if (perIndex && i !== undefined && i < completions && !completed.has(i) && isIndexFailed(job, p)) failedIndexes.add(i);
      }
      const status = { ...(job.status ?? {}), uncountedTerminatedPods: uncounted };
      if (isIndexed(job) && completed.size) status.completedIndexes = formatIndexes(completed);
      if (perIndex) status.failedIndexes = formatIndexes(failedIndexes);
      job = await this.client.update(this.jobs.resource, { ...job, status }, 'status');
    }
    // 2. Release the finalizers of recorded and ignored pods; a uid leaves the uncounted lists only once its pod is released.
    const byUid = new Map(pods.map((p) => [p.metadata.uid as string, p]));
    const releaseOk = async (uid: string): Promise<boolean> => {
      const p = byUid.get(uid);
      if (!p) return true;
      try {
        await this.removeFinalizer(p);
        return true;
      } catch {
        return false;
      }
    };
    const moved = { succeeded: [] as string[], failed: [] as string[] };
    const remaining = { succeeded: [] as string[], failed: [] as string[] };
    for (const kind of ['succeeded', 'failed'] as const) {
      const results = await Promise.all(uncounted[kind].map(releaseOk));
      uncounted[kind].forEach((uid, i) => (results[i] ? moved : remaining)[kind].push(uid));
    }
    await Promise.all(acc.newlyFinished.ignored.map((p) => this.removeFinalizer(p).catch(() => {})));
    // 3. Move the released into the counts.
    const counted = {
      succeeded: (job.status?.succeeded ?? 0) + moved.succeeded.length,
      failed: (job.status?.failed ?? 0) + moved.failed.length,
      completedIndexes: completed,
      failedIndexes,
      failJob: acc.failJob,
    };
    // Decisions see the still-uncounted too, as upstream's do.
    const decide = { ...counted, succeeded: counted.succeeded + remaining.succeeded.length, failed: counted.failed + remaining.failed.length };

    // 4. Decide and act.
    const plan = planJob(job, pods, decide, now, this.backoffMs);
    plan.status.succeeded = counted.succeeded;
    plan.status.failed = counted.failed;
    plan.status.uncountedTerminatedPods = {};
    if (remaining.succeeded.length) plan.status.uncountedTerminatedPods.succeeded = remaining.succeeded;
    if (remaining.failed.length) plan.status.uncountedTerminatedPods.failed = remaining.failed;
    const canManage = this.expectations.satisfied(key, now);
    let created = 0;
    let manageError: unknown;
    if (canManage) {
      const toCreate = Array.isArray(plan.create) ? plan.create : Array.from({ length: plan.create }, () => undefined);
      if (toCreate.length) {
        const records = perIndex ? indexFailureRecords(job, pods) : undefined;
        this.expectations.expectCreations(key, toCreate.length);
        let next = 0;
        const result = await slowStartBatch(toCreate.length, async () => {
          const index = toCreate[next++];
          try {
            const pod = await this.client.create(this.podsResource, namespace, jobPod(job!, index, index === undefined ? undefined : records?.get(index)));
            created++;
            this.recorder.event(job!, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
          } catch (err) {
            this.expectations.lowerCreations(key, 1);
            this.recorder.event(job!, 'Warning', 'FailedCreate', `Error creating: ${errText(err)}`);
            throw err;
          }
        });
        if (result.error) {
          this.expectations.lowerCreations(key, toCreate.length - result.done - 1);
          manageError = result.error;
        }
      }
      if (plan.delete.length) {
        this.expectations.expectDeletions(key, plan.delete.map((p) => objectKey(p)));
        await Promise.all(
          plan.delete.map(async (pod) => {
            try {
              await this.client.delete(this.podsResource, namespace, pod.metadata.name, { preconditions: { uid: pod.metadata.uid } });
              this.recorder.event(job!, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
            } catch (err) {
              this.expectations.deletionObserved(key, objectKey(pod));
              if (!isCode(err, 404)) manageError = err;
            }
          }),
        );
      }
    }
    plan.status.active += created;
    // active, succeeded and failed are omitempty upstream; ready and terminating are pointers and stay.
    for (const k of ['active', 'succeeded', 'failed']) if (!plan.status[k]) delete plan.status[k];
    for (const [type, reason, message] of plan.events) this.recorder.event(job, type, reason, message);
    if (plan.requeueAt !== undefined) this.queue.addAfter(key, Math.max(0, plan.requeueAt - now) + 20);
    if (!deepEqual(job.status ?? {}, plan.status)) {
      await this.client.update(this.jobs.resource, { ...job, status: plan.status }, 'status').catch((err) => {
        if (!isCode(err, 409) && !isCode(err, 404)) throw err;
      });
    }
    if (manageError) throw manageError;
  }

  private async claimPods(job: Obj): Promise<Obj[]> {
    const selector = labelSelectorFromObject(job.spec?.selector);
    const owned: Obj[] = [];
    const ref = ownerRefTo(job, 'batch/v1', 'Job');
    for (const pod of [...this.index.owned(job.metadata.uid), ...this.index.orphansIn(job.metadata.namespace)]) {
      const decision = claim(job, selector.matches(pod.metadata.labels), pod);
      if (decision === 'owned') owned.push(pod);
      else if (decision === 'adopt') {
        try {
          owned.push(await this.client.patch(this.podsResource, job.metadata.namespace, pod.metadata.name, SMP, adoptPatch(ref, pod)));
        } catch (err) {
          if (!isCode(err, 404) && !isCode(err, 409) && !isCode(err, 422)) throw err;
        }
      }
    }
    return owned;
  }
}
