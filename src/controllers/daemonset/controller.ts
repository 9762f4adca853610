// kube-controller-manager's "daemonset" controller: one pod per eligible node, replaced within
// maxUnavailable when the template changes; each template is recorded as a ControllerRevision so
// `kubectl rollout history/undo daemonset` work. Decisions come from plan.ts.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { EventRecorder } from '../../client/events.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { deepEqual } from '../../api/validation/fields.ts';
import { ControllerHistory } from '../history/control.ts';
import { HASH_LABEL, findEqualRevisions, nextRevision, sortRevisions, revisionsToTruncate } from '../history/history.ts';
import { newRevision } from '../statefulset/revisions.ts';
import { Expectations, OwnerIndex, controlledBy } from '../workloads/pod-index.ts';
import { controllerRef } from '../workloads/pods.ts';
import { daemonPod, planDaemonSet } from './plan.ts';

const COMPONENT = 'daemonset-controller';
const KIND = { apiVersion: 'apps/v1', kind: 'DaemonSet' } as const;
const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class DaemonSetController {
  private readonly client: Client;
  private readonly now: () => number;
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly revisions: Informer;
  private readonly podsResource: ResourceDef;
  private readonly index = new OwnerIndex(controlledBy('DaemonSet', false));
  private readonly revIndex = new OwnerIndex(controlledBy('DaemonSet', false));
  private readonly expectations = new Expectations();
  private readonly history: ControllerHistory;
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;

  constructor(client: Client, opts: { now?: () => number } = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.podsResource = client.resource('', 'pods');
    this.sets = new Informer(client, client.resource('apps', 'daemonsets'));
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.nodes = new Informer(client, client.resource('', 'nodes'));
    this.revisions = new Informer(client, client.resource('apps', 'controllerrevisions'));
    this.history = new ControllerHistory(client);
    this.recorder = new EventRecorder(client, COMPONENT);
    this.queue = new WorkQueue((key) => this.sync(key), 2);
    const enqueue = (ds: Obj) => this.queue.add(objectKey(ds));
    this.sets.on({ add: enqueue, update: (_o, ds) => enqueue(ds), delete: (ds) => this.expectations.forget(objectKey(ds)) });
    const allSets = () => {
      for (const ds of this.sets.list()) enqueue(ds);
    };
    // Node labels, taints and existence decide eligibility; heartbeats alone do not.
    this.nodes.on({
      add: allSets,
      delete: allSets,
      update: (o, n) => {
        if (!deepEqual(o.metadata.labels, n.metadata.labels) || !deepEqual(o.spec?.taints, n.spec?.taints)) allSets();
      },
    });
    const podChanged = (pod: Obj, added?: boolean) => {
      const ref = controllerRef(pod);
      if (ref?.kind !== 'DaemonSet') return;
      const key = `${pod.metadata.namespace}/${ref.name}`;
      if (added) this.expectations.creationObserved(key);
      this.queue.add(key);
    };
    this.pods.on({
      add: (p) => {
        this.index.upsert(p);
        podChanged(p, true);
      },
      update: (_o, p) => {
        this.index.upsert(p);
        podChanged(p);
      },
      delete: (p) => {
        this.index.remove(p);
        const ref = controllerRef(p);
        if (ref?.kind === 'DaemonSet') this.expectations.deletionObserved(`${p.metadata.namespace}/${ref.name}`, objectKey(p));
        podChanged(p);
      },
    });
    this.revisions.on({ add: (r) => this.revIndex.upsert(r), update: (_o, r) => this.revIndex.upsert(r), delete: (r) => this.revIndex.remove(r) });
  }

  async start(): Promise<void> {
    await Promise.all([this.pods.start(), this.nodes.start(), this.revisions.start()]);
    await this.sets.start();
  }

  stop(): void {
    for (const i of [this.sets, this.pods, this.nodes, this.revisions]) i.stop();
    this.queue.stop();
  }

  /** The revision of the current template (created, or renumbered to the top on a rollback) and its hash. */
  private async currentRevision(ds: Obj): Promise<Obj> {
    const revs = sortRevisions(this.revIndex.owned(ds.metadata.uid));
    const collision = { count: ds.status?.collisionCount ?? 0 };
    const candidate = newRevision(ds, nextRevision(revs), collision.count);
    candidate.metadata.ownerReferences = [{ ...KIND, name: ds.metadata.name, uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true }];
    const equal = findEqualRevisions(revs, candidate);
    let cur: Obj;
    if (equal.length) {
      cur = equal[equal.length - 1];
      if (cur !== revs[revs.length - 1]) cur = await this.history.renumber(cur, nextRevision(revs));
    } else cur = await this.history.create(ds, candidate, collision);
    // History beyond revisionHistoryLimit goes, except what a live pod still runs.
    const live = new Set<string>([cur.metadata.name]);
    const podHashes = new Set(this.index.owned(ds.metadata.uid).map((p) => p.metadata.labels?.['controller-revision-hash']));
    for (const r of revs) if (podHashes.has(r.metadata.labels?.[HASH_LABEL])) live.add(r.metadata.name);
    for (const r of revisionsToTruncate(revs.filter((r) => r.metadata.name !== cur.metadata.name), live, ds.spec?.revisionHistoryLimit ?? 10)) await this.history.delete(r);
    return cur;
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const ds = this.sets.get(namespace, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const now = this.now();
    const rev = await this.currentRevision(ds);
    const hash: string = rev.metadata.labels?.[HASH_LABEL];
    const pods = this.index.owned(ds.metadata.uid);
    const plan = planDaemonSet(ds, this.nodes.list(), pods, hash, now);
    let failure: unknown;
    if (this.expectations.satisfied(key, now)) {
      this.expectations.expectCreations(key, plan.createOn.length);
      this.expectations.expectDeletions(key, plan.delete.map((p) => objectKey(p)));
      await Promise.all([
        ...plan.createOn.map(async (node) => {
          try {
            const pod = await this.client.create(this.podsResource, namespace, daemonPod(ds, node, hash));
            this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
          } catch (err) {
            this.expectations.lowerCreations(key, 1);
            this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${errText(err)}`);
            failure = err;
          }
        }),
        ...plan.delete.map(async (pod) => {
          try {
            await this.client.delete(this.podsResource, namespace, pod.metadata.name, { preconditions: { uid: pod.metadata.uid } });
            this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          } catch (err) {
            this.expectations.deletionObserved(key, objectKey(pod));
            if (!isCode(err, 404)) failure = err;
          }
        }),
      ]);
    }
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady && plan.status.numberAvailable < plan.status.numberReady) this.queue.addAfter(key, minReady * 1000);
    if (plan.recheckAt !== undefined) this.queue.addAfter(key, Math.max(0, plan.recheckAt - now));
    if (!deepEqual(ds.status ?? {}, plan.status)) {
      await this.client.update(this.sets.resource, { ...ds, status: plan.status }, 'status').catch((err) => {
        if (!isCode(err, 409) && !isCode(err, 404)) throw err;
      });
    }
    if (failure) throw failure;
  }
}
