// kube-controller-manager's "deployment" controller: one ReplicaSet per pod template (named
// `<deployment>-<pod-template-hash>`), rolled by the RollingUpdate or Recreate strategy, with
// revisions, pause, proportional scaling, history clean-up and the Available/Progressing conditions.
// The numbers come from plan.ts; this file reads the informers and writes the results.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { labelSelectorFromObject } from '../../api/selectors/labels.ts';
import type { Client } from '../../client/client.ts';
import { EventRecorder } from '../../client/events.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { OwnerIndex, controlledBy } from '../workloads/pod-index.ts';
import { adoptPatch, claim, controllerRef, isPodActive, ownerRefTo, releasePatch } from '../workloads/pods.ts';
import {
  REVISION_ANNOTATION, equalIgnoreHash, getCondition, isScalingEvent, maxRevision, newRSNewReplicas, newReplicaSetFor,
  pausedConditions, proportionalScale, replicaSetsToCleanUp, replicasAnnotations, replicasOf, revisionOf, rolloutStatus,
  sameDeploymentStatus, scaleDownOld, setCondition, splitReplicaSets, calculateStatus, type Scale,
} from './plan.ts';

const COMPONENT = 'deployment-controller';
const SMP = 'application/strategic-merge-patch+json';
const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;

export interface DeploymentControllerOptions {
  workers?: number;
  now?: () => number;
}

export class DeploymentController {
  private readonly client: Client;
  private readonly now: () => number;
  private readonly deployments: Informer;
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly setsResource: ResourceDef;
  private readonly setIndex = new OwnerIndex(controlledBy('Deployment', true));
  private readonly podIndex = new OwnerIndex(controlledBy('ReplicaSet', false));
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;

  constructor(client: Client, opts: DeploymentControllerOptions = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.setsResource = client.resource('apps', 'replicasets');
    this.deployments = new Informer(client, client.resource('apps', 'deployments'));
    this.sets = new Informer(client, this.setsResource);
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.recorder = new EventRecorder(client, COMPONENT);
    this.queue = new WorkQueue((key) => this.sync(key), opts.workers ?? 4);
    const enqueue = (d: Obj) => this.queue.add(objectKey(d));
    this.deployments.on({ add: enqueue, update: (_o, d) => enqueue(d), delete: enqueue });
    this.sets.on({
      add: (rs) => {
        this.setIndex.upsert(rs);
        this.setChanged(rs);
      },
      update: (old, rs) => {
        this.setIndex.upsert(rs);
        if (controllerRef(old)?.uid !== controllerRef(rs)?.uid) this.setChanged(old);
        this.setChanged(rs);
      },
      delete: (rs) => {
        this.setIndex.remove(rs);
        this.setChanged(rs);
      },
    });
    // Only Recreate waits on pods (every old pod gone before new ones start): deletions are what it needs to hear.
    this.pods.on({
      add: (p) => this.podIndex.upsert(p),
      update: (_o, p) => {
        this.podIndex.upsert(p);
        if (!isPodActive(p)) this.podGone(p);
      },
      delete: (p) => {
        this.podIndex.remove(p);
        this.podGone(p);
      },
    });
  }

  async start(): Promise<void> {
    await this.pods.start();
    await this.sets.start();
    await this.deployments.start();
  }

  stop(): void {
    this.deployments.stop();
    this.sets.stop();
    this.pods.stop();
    this.queue.stop();
  }

  private setChanged(rs: Obj): void {
    const ref = controllerRef(rs);
    if (ref) {
      if (ref.kind === 'Deployment') this.queue.add(`${rs.metadata.namespace}/${ref.name}`);
      return;
    }
    for (const d of this.deployments.list(rs.metadata.namespace)) {
      if (labelSelectorFromObject(d.spec?.selector).matches(rs.metadata.labels)) this.queue.add(objectKey(d));
    }
  }

  private podGone(pod: Obj): void {
    const ref = controllerRef(pod);
    if (ref?.kind !== 'ReplicaSet') return;
    const rs = this.sets.get(pod.metadata.namespace, ref.name);
    const owner = rs && controllerRef(rs);
    if (owner?.kind !== 'Deployment') return;
    const d = this.deployments.get(pod.metadata.namespace, owner.name);
    if (d?.spec?.strategy?.type === 'Recreate') this.queue.add(objectKey(d));
  }

  /** The ReplicaSets the Deployment owns after adopting matching orphans and releasing strays. */
  private async claimReplicaSets(d: Obj): Promise<Obj[]> {
    const selector = labelSelectorFromObject(d.spec?.selector);
    const ref = ownerRefTo(d, 'apps/v1', 'Deployment');
    const owned: Obj[] = [];
    for (const rs of [...this.setIndex.owned(d.metadata.uid), ...this.setIndex.orphansIn(d.metadata.namespace)]) {
      const decision = claim(d, selector.matches(rs.metadata.labels), rs);
      try {
        if (decision === 'owned') owned.push(rs);
        else if (decision === 'adopt') owned.push(await this.client.patch(this.setsResource, d.metadata.namespace, rs.metadata.name, SMP, adoptPatch(ref, rs)));
        else if (decision === 'release') await this.client.patch(this.setsResource, d.metadata.namespace, rs.metadata.name, SMP, releasePatch(d, rs));
      } catch (err) {
        if (!isCode(err, 404) && !isCode(err, 409) && !isCode(err, 422)) throw err;
      }
    }
    return owned;
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const d = this.deployments.get(namespace, name);
    if (!d) return;
    const now = this.now();
    const selector = d.spec?.selector;
    if (!selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length)) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const rss = await this.claimReplicaSets(d);
    // The Deployment as this sync leaves it: annotations and conditions change here, status is derived at the end.
    const dx = structuredClone(d);
    dx.status ??= {};
    if (d.metadata.deletionTimestamp) {
      const { newRS } = splitReplicaSets(d, rss);
      return this.writeStatus(d, dx, calculateStatus(dx, rss, newRS, now));
    }
    const paused = pausedConditions(dx, now);
    if (paused) dx.status.conditions = paused;

    if (d.spec?.paused || isScalingEvent(d, rss)) {
      const { newRS, oldRSs } = await this.replicaSetsWithRevision(dx, rss, false, now);
      const all = await this.applyScales(dx, proportionalScale(dx, newRS, oldRSs), [...oldRSs, ...(newRS ? [newRS] : [])]);
      const latestNew = newRS && all.find((rs) => rs.metadata.uid === newRS.metadata.uid);
      if (d.spec?.paused) await this.cleanUp(dx, all.filter((rs) => rs !== latestNew));
      return this.writeStatus(d, dx, calculateStatus(dx, all, latestNew, now));
    }
    if (d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate(d, dx, rss, now);
    return this.rolloutRolling(d, dx, rss, now);
  }

  private async rolloutRolling(d: Obj, dx: Obj, rss: Obj[], now: number): Promise<void> {
    const { newRS, oldRSs } = await this.replicaSetsWithRevision(dx, rss, true, now);
    let all = [...oldRSs, newRS!];
    // Scale the new ReplicaSet up (or down to the Deployment's size) first; old ones go once new pods are available.
    const want = replicasOf(dx);
    let scales: Scale[] = [];
    if (replicasOf(newRS!) > want) scales = [{ rs: newRS!, replicas: want }];
    else if (replicasOf(newRS!) < want) {
      const n = newRSNewReplicas(dx, all, newRS!);
      if (n !== replicasOf(newRS!)) scales = [{ rs: newRS!, replicas: n }];
    }
    if (!scales.length) scales = scaleDownOld(dx, oldRSs, newRS);
    all = await this.applyScales(dx, scales, all);
    const latestNew = all.find((rs) => rs.metadata.uid === newRS!.metadata.uid)!;
    const { status, requeueAfterMs } = rolloutStatus(dx, all, latestNew, now);
    if (!scales.length && status.updatedReplicas === want && status.availableReplicas === want) {
      await this.cleanUp(dx, all.filter((rs) => rs !== latestNew));
    }
    if (requeueAfterMs !== undefined) this.queue.addAfter(objectKey(d), requeueAfterMs);
    return this.writeStatus(d, dx, status);
  }

  private async rolloutRecreate(d: Obj, dx: Obj, rss: Obj[], now: number): Promise<void> {
    let { newRS, oldRSs } = await this.replicaSetsWithRevision(dx, rss, false, now);
    let all = [...oldRSs, ...(newRS ? [newRS] : [])];
    const downs = oldRSs.filter((rs) => replicasOf(rs) > 0).map((rs) => ({ rs, replicas: 0 }));
    if (downs.length) {
      all = await this.applyScales(dx, downs, all);
      return this.finishRollout(d, dx, all, newRS, now);
    }
    // Every old pod must be gone (or finished) before a new one starts.
    const oldRunning = oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0 || this.podIndex.owned(rs.metadata.uid).some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded'));
    if (oldRunning) return this.finishRollout(d, dx, all, newRS, now);
    if (!newRS) ({ newRS, oldRSs } = await this.replicaSetsWithRevision(dx, rss, true, now));
    all = [...oldRSs, newRS!];
    if (replicasOf(newRS!) !== replicasOf(dx)) all = await this.applyScales(dx, [{ rs: newRS!, replicas: replicasOf(dx) }], all);
    const latestNew = all.find((rs) => rs.metadata.uid === newRS!.metadata.uid);
    const s = calculateStatus(dx, all, latestNew, now);
    if (s.updatedReplicas === replicasOf(dx) && s.availableReplicas === replicasOf(dx)) await this.cleanUp(dx, all.filter((rs) => rs !== latestNew));
    return this.finishRollout(d, dx, all, latestNew, now);
  }

  private finishRollout(d: Obj, dx: Obj, all: Obj[], newRS: Obj | undefined, now: number): Promise<void> {
    const { status, requeueAfterMs } = rolloutStatus(dx, all, newRS && all.find((rs) => rs.metadata.uid === newRS.metadata.uid), now);
    if (requeueAfterMs !== undefined) this.queue.addAfter(objectKey(d), requeueAfterMs);
    return this.writeStatus(d, dx, status);
  }

  /**
   * Upstream getAllReplicaSetsAndSyncRevision: finds (or creates) the new ReplicaSet, gives it the
   * next revision, and records that revision on the Deployment.
   */
  private async replicaSetsWithRevision(dx: Obj, rss: Obj[], create: boolean, now: number): Promise<{ newRS?: Obj; oldRSs: Obj[] }> {
    const split = splitReplicaSets(dx, rss);
    const oldRSs = split.oldRSs;
    let newRS = split.newRS;
    const newRevision = maxRevision(oldRSs) + 1;
    if (newRS) {
      const annotations = { ...(newRS.metadata.annotations ?? {}) };
      let changed = false;
      if (revisionOf(newRS) < newRevision) {
        annotations[REVISION_ANNOTATION] = String(newRevision);
        changed = true;
      }
      const cause = dx.metadata.annotations?.['kubernetes.io/change-cause'];
      if (cause !== undefined && annotations['kubernetes.io/change-cause'] !== cause) {
        annotations['kubernetes.io/change-cause'] = cause;
        changed = true;
      }
      const minReady = dx.spec.minReadySeconds ?? 0;
      if (changed || (newRS.spec.minReadySeconds ?? 0) !== minReady) {
        newRS = await this.client.update(this.setsResource, { ...newRS, metadata: { ...newRS.metadata, annotations }, spec: { ...newRS.spec, minReadySeconds: minReady } });
      }
      if (!getCondition(dx.status, 'Progressing')) {
        dx.status.conditions = setCondition(dx.status.conditions ?? [], { type: 'Progressing', status: 'True', reason: 'FoundNewReplicaSet', message: `Found new replica set "${newRS!.metadata.name}"` }, now);
      }
    } else if (create) {
      const fresh = newReplicaSetFor(dx, newRevision);
      fresh.spec.replicas = newRSNewReplicas(dx, [...oldRSs, fresh], fresh);
      try {
        newRS = await this.client.create(this.setsResource, dx.metadata.namespace, fresh);
      } catch (err) {
        if (!isCode(err, 409)) throw err;
        // A namesake exists: ours if it has our template, else a hash collision, which the next hash avoids.
        const existing = await this.client.get(this.setsResource, dx.metadata.namespace, fresh.metadata.name);
        if (controllerRef(existing)?.uid === dx.metadata.uid && equalIgnoreHash(existing.spec?.template, dx.spec.template)) newRS = existing;
        else {
          dx.status.collisionCount = (dx.status.collisionCount ?? 0) + 1;
          await this.client.update(this.deployments.resource, dx, 'status').catch(() => {});
          throw new Error(`hash collision for the ReplicaSet of deployment ${dx.metadata.name}; retrying with collisionCount ${dx.status.collisionCount}`);
        }
      }
      if (replicasOf(newRS!) > 0) this.recorder.event(dx, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${newRS!.metadata.name} from 0 to ${replicasOf(newRS!)}`);
      dx.status.conditions = setCondition(dx.status.conditions ?? [], { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${newRS!.metadata.name}"` }, now);
    }
    if (newRS) {
      dx.metadata.annotations = { ...(dx.metadata.annotations ?? {}), [REVISION_ANNOTATION]: String(revisionOf(newRS)) };
    }
    return { newRS, oldRSs };
  }

  /** Scales each ReplicaSet (with its replica annotations) and returns the list with the written objects. */
  private async applyScales(dx: Obj, scales: Scale[], all: Obj[]): Promise<Obj[]> {
    const out = [...all];
    for (const { rs, replicas } of scales) {
      const from = replicasOf(rs);
      const updated = await this.client.update(this.setsResource, {
        ...rs,
        metadata: { ...rs.metadata, annotations: { ...(rs.metadata.annotations ?? {}), ...replicasAnnotations(dx) } },
        spec: { ...rs.spec, replicas },
      });
      if (from !== replicas) {
        this.recorder.event(dx, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
      }
      const i = out.findIndex((x) => x.metadata.uid === rs.metadata.uid);
      if (i >= 0) out[i] = updated;
    }
    return out;
  }

  private async cleanUp(dx: Obj, oldRSs: Obj[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(dx, oldRSs)) {
      await this.client.delete(this.setsResource, rs.metadata.namespace, rs.metadata.name, { preconditions: { uid: rs.metadata.uid } }).catch((err) => {
        if (!isCode(err, 404) && !isCode(err, 409)) throw err;
      });
    }
  }

  /** One status write carries the new status and the revision annotation, as upstream's UpdateStatus does. */
  private async writeStatus(d: Obj, dx: Obj, status: Obj): Promise<void> {
    const annotationsSame = JSON.stringify(d.metadata.annotations ?? {}) === JSON.stringify(dx.metadata.annotations ?? {});
    if (annotationsSame && sameDeploymentStatus(d.status, status)) return;
    try {
      await this.client.update(this.deployments.resource, { ...d, metadata: { ...d.metadata, annotations: dx.metadata.annotations }, status }, 'status');
    } catch (err) {
      // A newer Deployment is on its way through the informer and brings another sync.
      if (!isCode(err, 409) && !isCode(err, 404)) throw err;
    }
  }
}
