// kube-controller-manager's "disruption" controller: keeps every PodDisruptionBudget's status
// (expected, desired and current healthy pods, disruptions allowed, pending evictions) current, so
// that the eviction subresource, and `kubectl drain` through it, can honour the budget.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { budgetStatus, selectsPod, statusObject, type ScaleOf } from './plan.ts';

const sameStatus = (a: Obj | undefined, b: Obj): boolean => {
  const strip = (s: Obj | undefined) => JSON.stringify({ ...(s ?? {}), conditions: (s?.conditions ?? []).map((c: Obj) => ({ ...c, lastTransitionTime: undefined })) });
  return strip(a) === strip(b);
};

export class DisruptionController {
  private readonly client: Client;
  private readonly budgets: Informer;
  private readonly pods: Informer;
  private readonly statefulSets: Informer;
  private readonly queue: WorkQueue;

  constructor(client: Client) {
    this.client = client;
    this.budgets = new Informer(client, client.resource('policy', 'poddisruptionbudgets'));
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.statefulSets = new Informer(client, client.resource('apps', 'statefulsets'));
    this.queue = new WorkQueue((key) => this.sync(key), 2);
    const budget = (pdb: Obj) => this.queue.add(objectKey(pdb));
    this.budgets.on({ add: budget, update: (_o, n) => budget(n) });
    const podChanged = (...pods: Obj[]) => {
      for (const pdb of this.budgets.list(pods[0].metadata.namespace)) {
        if (pods.some((p) => selectsPod(pdb, p))) this.queue.add(objectKey(pdb));
      }
    };
    this.pods.on({ add: (p) => podChanged(p), update: (o, n) => podChanged(o, n), delete: (p) => podChanged(p) });
    // A controller's scale is the expected pod count of percentage and maxUnavailable budgets.
    const setChanged = (sts: Obj) => {
      for (const pdb of this.budgets.list(sts.metadata.namespace)) this.queue.add(objectKey(pdb));
    };
    this.statefulSets.on({ add: setChanged, update: (_o, n) => setChanged(n), delete: setChanged });
  }

  async start(): Promise<void> {
    await Promise.all([this.pods.start(), this.statefulSets.start()]);
    await this.budgets.start();
  }

  stop(): void {
    this.budgets.stop();
    this.pods.stop();
    this.statefulSets.stop();
    this.queue.stop();
  }

  private readonly scaleOf: ScaleOf = (pod) => {
    const ref = (pod.metadata.ownerReferences ?? []).find((r: Obj) => r.controller === true);
    if (!ref) return { error: `found no controller ref for pod "${pod.metadata.name}"` };
    if (ref.kind === 'StatefulSet' && String(ref.apiVersion).startsWith('apps/')) {
      const sts = this.statefulSets.get(pod.metadata.namespace, ref.name);
      if (sts && sts.metadata.uid === ref.uid) return { uid: ref.uid, replicas: sts.spec?.replicas ?? 1 };
    }
    return { error: `found no controllers for pod "${pod.metadata.name}"` };
  };

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const pdb = this.budgets.get(namespace, name);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const pods = this.pods.list(namespace).filter((p) => selectsPod(pdb, p));
    const computed = budgetStatus(pdb, pods, this.scaleOf, Date.now());
    if (computed.recheckAtMs !== undefined) this.queue.addAfter(key, Math.max(0, computed.recheckAtMs - Date.now()) + 10);
    const status = statusObject(pdb, computed, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    if (sameStatus(pdb.status, status)) return;
    await this.client.update(this.budgets.resource, { ...pdb, status }, 'status').catch((err) => {
      // A newer version is on its way through the informer, and brings another sync.
      if (err instanceof ApiError && (err.code === 409 || err.code === 404)) return;
      throw err;
    });
  }
}
