// The namespace controller: when a namespace is deleted it deletes everything in it, and once
// nothing is left it removes the 'kubernetes' finalizer so the namespace itself goes.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { resources, storedResources } from '../../api/registry.ts';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { nowTimestamp } from '../../util/timestamp.ts';
import { deletionConditions, type ContentTotals } from './conditions.ts';
import { eachInFlight } from '../../util/in-flight.ts';

/**
 * Kinds whose controllers make other objects of the namespace, owners before what they own: they
 * go first, so that their controllers stop replacing the pods and claims deleted after them (a
 * StatefulSet's controller recreating its pods, each create refused, made a namespace with 3,000 of
 * them take minutes). Upstream's deleter takes kinds in no particular order, so no order is promised.
 */
const WORKLOADS = ['batch/cronjobs', 'apps/deployments', 'batch/jobs', 'apps/replicasets', 'apps/statefulsets', 'apps/daemonsets', '/replicationcontrollers'];
const workloadRank = (r: ResourceDef) => {
  const i = WORKLOADS.indexOf(`${r.group}/${r.plural}`);
  return i < 0 ? WORKLOADS.length : i;
};
// Custom kinds included: the set is read at each sync, as definitions come and go.
const namespaced = () =>
  storedResources()
    .filter((r) => r.namespaced && !(r.group === '' && r.kind === 'Event'))
    .sort((a, b) => workloadRank(a) - workloadRank(b));
const EVENTS = resources.find((r) => r.kind === 'Event')!;
/** Deletions of one kind under way at once, as deletecollection's workers upstream: their commits are shared. */
const DELETES_IN_FLIGHT = 16;

export class NamespaceController {
  private readonly client: Client;
  private readonly namespaces: Informer;
  private readonly queue: WorkQueue;

  constructor(client: Client) {
    this.client = client;
    this.namespaces = new Informer(client, client.resource('', 'namespaces'));
    this.queue = new WorkQueue((name) => this.sync(name), 2);
    const enqueue = (ns: Obj) => {
      if (ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name);
    };
    this.namespaces.on({ add: enqueue, update: (_o, n) => enqueue(n) });
  }

  async start(): Promise<void> {
    await this.namespaces.start();
  }

  stop(): void {
    this.namespaces.stop();
    this.queue.stop();
  }

  private async sync(name: string): Promise<void> {
    const ns = this.namespaces.get(undefined, name);
    if (!ns?.metadata.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes('kubernetes')) return;
    let remaining = 0;
    const totals: ContentTotals = { remaining: new Map(), finalizers: new Map(), failures: [] };
    // Events go last, so that what the deletions record can still be read until the end.
    for (const r of [...namespaced(), EVENTS]) {
      let { items } = await this.client.list(r, { namespace: name });
      const live = items.filter((obj) => !obj.metadata.deletionTimestamp);
      try {
        await eachInFlight(live, DELETES_IN_FLIGHT, (obj) =>
          this.client.delete(r, name, obj.metadata.name, { propagationPolicy: 'Background' }).catch((err) => {
            if (!(err instanceof ApiError && err.code === 404)) throw err;
          }),
        );
      } catch (err) {
        totals.failures.push(`${r.plural}.${r.group}: ${(err as Error).message}`);
      }
      // What is left once deleted (pods stopping, objects held by finalizers), for the conditions.
      if (live.length) items = (await this.client.list(r, { namespace: name })).items;
      remaining += items.length;
      if (items.length) totals.remaining.set(`${r.plural}.${r.group}`, items.length);
      for (const obj of items) for (const f of obj.metadata.finalizers ?? []) totals.finalizers.set(f, (totals.finalizers.get(f) ?? 0) + 1);
    }
    const current = await this.reportConditions(ns, totals);
    if (!current) return;
    if (remaining > 0 || totals.failures.length) {
      // Pods wait for their node to stop them and objects for their finalizers: look again shortly.
      this.queue.addAfter(name, 200);
      return;
    }
    log('info', 'namespace-controller', 'namespace emptied, finalizing', { namespace: name });
    const finalizers = (current.spec.finalizers as string[]).filter((f) => f !== 'kubernetes');
    await this.client.update(this.client.resource('', 'namespaces'), { ...current, spec: { ...current.spec, finalizers } }, 'finalize').catch((err) => {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    });
  }

  /**
   * Writes the deleter's conditions when a pass changed them, as upstream's deleter does at each
   * pass; answers the namespace as it now is (undefined once it is gone).
   */
  private async reportConditions(ns: Obj, totals: ContentTotals): Promise<Obj | undefined> {
    const conditions = deletionConditions(ns.status?.conditions, totals, nowTimestamp());
    if (!conditions) return ns;
    try {
      return await this.client.update(this.client.resource('', 'namespaces'), { ...ns, status: { ...ns.status, conditions } }, 'status');
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      // Another write came first: the next pass, on the namespace as it is then, writes them.
      if (err instanceof ApiError && err.code === 409) {
        this.queue.addAfter(ns.metadata.name, 200);
        return undefined;
      }
      throw err;
    }
  }
}
