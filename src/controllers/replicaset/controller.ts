// kube-controller-manager's "replicaset" controller: keeps spec.replicas active pods for each
// ReplicaSet (random names from generateName `<set>-`), adopts matching orphans, releases pods that
// stop matching, deletes surplus pods in upstream's rank order, and writes the status.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { labelSelectorFromObject } from '../../api/selectors/labels.ts';
import type { Client } from '../../client/client.ts';
import { EventRecorder } from '../../client/events.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { Expectations, OwnerIndex, controlledBy } from '../workloads/pod-index.ts';
import { adoptPatch, claim, controllerRef, isPodActive, ownerRefTo, podFromTemplate, releasePatch, slowStartBatch } from '../workloads/pods.ts';
import { planReplicas, replicaSetStatus, sameStatus } from './plan.ts';

const COMPONENT = 'replicaset-controller';
const SMP = 'application/strategic-merge-patch+json';
const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface ReplicaSetControllerOptions {
  workers?: number;
  now?: () => number;
}

export class ReplicaSetController {
  private readonly client: Client;
  private readonly now: () => number;
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly podsResource: ResourceDef;
  private readonly index = new OwnerIndex(controlledBy('ReplicaSet', true));
  private readonly expectations = new Expectations();
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;

  constructor(client: Client, opts: ReplicaSetControllerOptions = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.podsResource = client.resource('', 'pods');
    this.sets = new Informer(client, client.resource('apps', 'replicasets'));
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.recorder = new EventRecorder(client, COMPONENT);
    this.queue = new WorkQueue((key) => this.sync(key), opts.workers ?? 4);
    this.sets.on({
      add: (rs) => this.queue.add(objectKey(rs)),
      update: (_o, rs) => this.queue.add(objectKey(rs)),
      delete: (rs) => {
        this.expectations.forget(objectKey(rs));
        this.queue.add(objectKey(rs));
      },
    });
    this.pods.on({
      add: (pod) => {
        this.index.upsert(pod);
        const key = this.ownerKey(pod);
        if (key) this.expectations.creationObserved(key);
        this.podChanged(pod);
      },
      update: (old, pod) => {
        this.index.upsert(pod);
        const key = this.ownerKey(pod);
        if (key && pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.deletionObserved(key, objectKey(pod));
        // A released pod's former owner must hear of it too.
        const oldRef = controllerRef(old);
        if (oldRef && oldRef.uid !== controllerRef(pod)?.uid) this.podChanged(old);
        this.podChanged(pod);
      },
      delete: (pod) => {
        this.index.remove(pod);
        const key = this.ownerKey(pod);
        if (key) this.expectations.deletionObserved(key, objectKey(pod));
        this.podChanged(pod);
      },
    });
  }

  async start(): Promise<void> {
    await this.pods.start();
    await this.sets.start();
  }

  stop(): void {
    this.sets.stop();
    this.pods.stop();
    this.queue.stop();
  }

  /** The key of the ReplicaSet controlling the pod, if one does. */
  private ownerKey(pod: Obj): string | undefined {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return undefined;
    return `${pod.metadata.namespace}/${ref.name}`;
  }

  private podChanged(pod: Obj): void {
    const ref = controllerRef(pod);
    if (ref) {
      if (ref.kind === 'ReplicaSet') this.queue.add(`${pod.metadata.namespace}/${ref.name}`);
      return;
    }
    // An orphan: every set that would adopt it.
    for (const rs of this.sets.list(pod.metadata.namespace)) {
      if (labelSelectorFromObject(rs.spec?.selector).matches(pod.metadata.labels)) this.queue.add(objectKey(rs));
    }
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const rs = this.sets.get(namespace, name);
    if (!rs) return;
    const now = this.now();
    const selector = labelSelectorFromObject(rs.spec?.selector);
    const owned: Obj[] = [];
    const ref = ownerRefTo(rs, 'apps/v1', 'ReplicaSet');
    for (const pod of [...this.index.owned(rs.metadata.uid), ...this.index.orphansIn(namespace)]) {
      const decision = claim(rs, selector.matches(pod.metadata.labels), pod);
      if (decision === 'owned') owned.push(pod);
      else if (decision === 'adopt') {
        try {
          owned.push(await this.client.patch(this.podsResource, namespace, pod.metadata.name, SMP, adoptPatch(ref, pod)));
        } catch (err) {
          if (!isCode(err, 404) && !isCode(err, 409) && !isCode(err, 422)) throw err;
        }
      } else if (decision === 'release') {
        await this.client.patch(this.podsResource, namespace, pod.metadata.name, SMP, releasePatch(rs, pod)).catch((err) => {
          if (!isCode(err, 404) && !isCode(err, 409) && !isCode(err, 422)) throw err;
        });
      }
    }
    const active = owned.filter(isPodActive);
    let createError: { reason: string; message: string } | undefined;
    let manageError: unknown;
    if (!rs.metadata.deletionTimestamp && this.expectations.satisfied(key, now)) {
      const related = this.relatedPods(rs);
      const plan = planReplicas(rs, active, related, now);
      if ('create' in plan) {
        this.expectations.expectCreations(key, plan.create);
        const result = await slowStartBatch(plan.create, async () => {
          const pod = podFromTemplate(rs.spec.template ?? {}, `${name}-`, ref);
          try {
            const created = await this.client.create(this.podsResource, namespace, pod);
            this.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
          } catch (err) {
            this.expectations.lowerCreations(key, 1);
            if (!isCode(err, 409) || !String(errText(err)).includes('being terminated')) {
              this.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errText(err)}`);
            }
            throw err;
          }
        });
        if (result.error) {
          this.expectations.lowerCreations(key, plan.create - result.done - 1);
          createError = { reason: 'FailedCreate', message: errText(result.error) };
          manageError = result.error;
        }
      } else if ('delete' in plan) {
        this.expectations.expectDeletions(key, plan.delete.map((p) => objectKey(p)));
        await Promise.all(
          plan.delete.map(async (pod) => {
            try {
              await this.client.delete(this.podsResource, namespace, pod.metadata.name, { preconditions: { uid: pod.metadata.uid } });
              this.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
            } catch (err) {
              this.expectations.deletionObserved(key, objectKey(pod));
              if (isCode(err, 404)) return;
              this.recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errText(err)}`);
              manageError = err;
            }
          }),
        );
      }
    }
    const { status, recheckAt } = replicaSetStatus(rs, owned, now, createError);
    if (recheckAt !== undefined) this.queue.addAfter(key, Math.max(0, recheckAt - now) + 50);
    if (!sameStatus(rs.status, status)) {
      await this.client.update(this.sets.resource, { ...rs, status }, 'status').catch((err) => {
        // A newer version is on its way through the informer, and brings another sync.
        if (!isCode(err, 409) && !isCode(err, 404)) throw err;
      });
    }
    if (manageError) throw manageError;
  }

  /** Pods of the set and of its siblings (ReplicaSets of the same Deployment): node ranks for scale-down. */
  private relatedPods(rs: Obj): Obj[] {
    const owner = controllerRef(rs);
    if (!owner) return this.index.owned(rs.metadata.uid);
    const out: Obj[] = [];
    for (const sibling of this.sets.list(rs.metadata.namespace)) {
      if (controllerRef(sibling)?.uid === owner.uid) out.push(...this.index.owned(sibling.metadata.uid));
    }
    return out;
  }
}
