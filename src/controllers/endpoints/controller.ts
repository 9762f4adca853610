// The endpoints controller: keeps one core/v1 Endpoints per selector Service listing the selected
// pods' addresses, as upstream's. What to write is computed in compute.ts; this file watches
// Services, Pods and Endpoints and writes only when something changed.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { compareAddresses, desiredFromSorted, endpointsObject, endpointsUpToDate, managesService, podEntry, sameDesired } from './compute.ts';
import type { DesiredEndpoints, Entry } from './compute.ts';
import { PodMemo } from './pod-memo.ts';
import { watchServicePods } from './service-pods.ts';
import type { ServicePods } from './service-pods.ts';
import { TriggerTimeTracker } from './trigger-time.ts';
import { NewestView } from './view.ts';

const isNotFound = (err: unknown) => err instanceof ApiError && err.code === 404;

export class EndpointsController {
  private readonly client: Client;
  private readonly endpointsResource: ResourceDef;
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly endpointsInformer: Informer;
  private readonly endpoints = new NewestView();
  private readonly queue: WorkQueue;
  private readonly triggers = new TriggerTimeTracker();
  private readonly index: ServicePods;
  /** Each Service's pod entries from its last sync, so that a sync recomputes only changed pods. */
  private readonly memos = new Map<string, PodMemo<Entry>>();
  /**
   * Per Service, what the stored Endpoints was last found or written to say, at which version:
   * while the version is the same, the next sync compares with this instead, which mostly meets
   * the very same address objects rather than a thousand decoded ones.
   */
  private readonly settled = new Map<string, { rv: string; want: DesiredEndpoints }>();
  /** Per Service, the content last computed and from what: the same Service object and entries give the same content. */
  private readonly computed = new Map<string, { svc: Obj; entries: Entry[]; want: DesiredEndpoints }>();
  private markReady!: () => void;
  private readonly ready = new Promise<void>((r) => (this.markReady = r));

  constructor(client: Client, opts: { workers?: number } = {}) {
    this.client = client;
    this.endpointsResource = client.resource('', 'endpoints');
    this.queue = new WorkQueue(async (key) => {
      await this.ready;
      await this.sync(key).catch((err) => {
        // Conflicts with a concurrent writer are routine: the queue retries with back-off.
        log('debug', 'endpoints-controller', 'sync failed, will retry', { service: key, error: String(err) });
        throw err;
      });
    }, opts.workers ?? 4);
    this.services = new Informer(client, client.resource('', 'services'));
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.endpointsInformer = new Informer(client, this.endpointsResource);

    this.index = watchServicePods(this.services, this.pods, this.queue);
    this.endpointsInformer.on({
      add: (e) => this.endpoints.upsert(e),
      update: (_o, e) => this.endpoints.upsert(e),
      // Someone deleted an Endpoints we keep: put it back.
      delete: (e) => {
        this.endpoints.remove(e);
        this.queue.add(objectKey(e));
      },
    });
  }

  async start(): Promise<void> {
    const informers = [this.services, this.pods, this.endpointsInformer];
    await Promise.all(informers.map((i) => i.start()));
    await Promise.all(informers.map((i) => i.waitForSync()));
    // Endpoints whose Service went away while we were not watching go now.
    for (const ep of this.endpointsInformer.list()) {
      if (!this.services.get(ep.metadata.namespace, ep.metadata.name)) this.queue.add(objectKey(ep));
    }
    this.markReady();
  }

  stop(): void {
    for (const i of [this.services, this.pods, this.endpointsInformer]) i.stop();
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const svc = this.services.get(namespace, name);
    const current = this.endpoints.get(key);
    if (!svc || !managesService(svc)) {
      this.memos.delete(key);
      this.settled.delete(key);
      this.computed.delete(key);
    }
    if (!svc) {
      this.triggers.forget(key);
      // Leader-election records are Endpoints without a Service; they are not ours to remove.
      if (!current || current.metadata.annotations?.['control-plane.alpha.kubernetes.io/leader']) return;
      await this.client.delete(this.endpointsResource, namespace, name).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      return;
    }
    if (!managesService(svc)) return;
    const pods = this.index.podsOf(key);
    let memo = this.memos.get(key);
    if (!memo) this.memos.set(key, (memo = new PodMemo<Entry>((a, b) => compareAddresses(a.address, b.address))));
    const changed = this.index.changes(key);
    const entries = memo.values(svc, pods, (pod) => podEntry(svc, pod), changed);
    let want: DesiredEndpoints;
    const last = this.computed.get(key);
    if (last && last.svc === svc && last.entries === entries) want = last.want;
    else this.computed.set(key, { svc, entries, want: (want = desiredFromSorted(svc, entries)) });
    const triggerTime = this.triggers.compute(key, svc, pods, changed);
    this.index.changesDone(key);
    if (current) {
      const last = this.settled.get(key);
      const rv = current.metadata.resourceVersion;
      if (last && last.rv === rv ? sameDesired(last.want, want) : endpointsUpToDate(current, want)) {
        this.settled.set(key, { rv, want });
        return;
      }
    }
    const ep = endpointsObject(svc, want, current, triggerTime);
    try {
      const written = current ? await this.client.update(this.endpointsResource, ep) : await this.client.create(this.endpointsResource, namespace, ep);
      this.endpoints.upsert(written);
      this.settled.set(key, { rv: written.metadata.resourceVersion, want });
    } catch (err) {
      // A namespace being deleted refuses new objects; its services are going too.
      if (err instanceof ApiError && err.code === 403 && !current) {
        log('debug', 'endpoints-controller', 'cannot create endpoints', { service: key, error: err.message });
        return;
      }
      throw err;
    }
  }
}

