// kube-controller-manager's "ttl-after-finished" controller: deletes a finished Job (Complete or
// Failed), with its pods, ttlSecondsAfterFinished after it finished.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';

/** When the Job may be deleted (ms), or undefined while it is not finished or has no TTL. */
export function expiresAt(job: Obj): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp) return undefined;
  const done = (job.status?.conditions ?? []).find((c: Obj) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  if (!done) return undefined;
  const finished = Date.parse(done.lastTransitionTime ?? '');
  return Number.isFinite(finished) ? finished + ttl * 1000 : undefined;
}

export class TtlAfterFinishedController {
  private readonly client: Client;
  private readonly jobs: Informer;
  private readonly queue: WorkQueue;
  private readonly now: () => number;

  constructor(client: Client, opts: { now?: () => number } = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.jobs = new Informer(client, client.resource('batch', 'jobs'));
    this.queue = new WorkQueue((key) => this.sync(key), 2);
    const enqueue = (j: Obj) => {
      if (expiresAt(j) !== undefined) this.queue.add(objectKey(j));
    };
    this.jobs.on({ add: enqueue, update: (_o, j) => enqueue(j) });
  }

  async start(): Promise<void> {
    await this.jobs.start();
  }

  stop(): void {
    this.jobs.stop();
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const job = this.jobs.get(ns, name);
    if (!job) return;
    const at = expiresAt(job);
    if (at === undefined) return;
    const now = this.now();
    if (at > now) {
      this.queue.addAfter(key, at - now + 10);
      return;
    }
    // The uid and resourceVersion guard against deleting a Job that changed (e.g. its TTL was raised) since we looked.
    await this.client
      .delete(this.jobs.resource, ns, name, { propagationPolicy: 'Background', preconditions: { uid: job.metadata.uid, resourceVersion: job.metadata.resourceVersion } })
      .catch((err) => {
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
      });
  }
}
