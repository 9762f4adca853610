// The endpoints controller: keeps one core/v1 Endpoints per selector Service listing the selected
// pods' addresses, as upstream's. What to write is computed in compute.ts; this file watches
// Services, Pods and Endpoints and writes only when something changed.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { desiredEndpoints, endpointsObject, endpointsUpToDate, managesService, selects } from './compute.ts';
import { TriggerTimeTracker } from './trigger-time.ts';
import { NewestView } from './view.ts';

/** Pod changes within this window are folded into one sync of their Service. */
const POD_BATCH_MS = 20;

/**
 * What both endpoints controllers sync on: a Service's own changes at once, and changes of the
 * pods it selects (now or before) batched per Service.
 */
export function queueServicesOnChanges(services: Informer, pods: Informer, queue: WorkQueue): void {
  services.on({
    add: (s) => queue.add(objectKey(s)),
    update: (_o, s) => queue.add(objectKey(s)),
    delete: (s) => queue.add(objectKey(s)),
  });
  const onPod = (pod: Obj, old?: Obj) => {
    for (const key of servicesForPod(services.list(pod.metadata.namespace), pod, old)) queue.addBatched(key, POD_BATCH_MS);
  };
  pods.on({ add: (p) => onPod(p), update: (o, p) => onPod(p, o), delete: (p) => onPod(p) });
}

const isNotFound = (err: unknown) => err instanceof ApiError && err.code === 404;

/** Queues every service of the pod's namespace that selects the pod now or selected it before. */
export function servicesForPod(services: Obj[], pod: Obj, old?: Obj): string[] {
  const out: string[] = [];
  for (const svc of services) {
    if (!managesService(svc)) continue;
    if (selects(svc, pod) || (old && selects(svc, old))) out.push(objectKey(svc));
  }
  return out;
}

export class EndpointsController {
  private readonly client: Client;
  private readonly endpointsResource: ResourceDef;
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly endpointsInformer: Informer;
  private readonly endpoints = new NewestView();
  private readonly queue: WorkQueue;
  private readonly triggers = new TriggerTimeTracker();
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

    queueServicesOnChanges(this.services, this.pods, this.queue);
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
    const pods = this.pods.list(namespace);
    const want = desiredEndpoints(svc, pods);
    const triggerTime = this.triggers.compute(key, svc, pods.filter((p) => selects(svc, p)));
    if (current && endpointsUpToDate(current, want)) return;
    const ep = endpointsObject(svc, want, current, triggerTime);
    try {
      const written = current ? await this.client.update(this.endpointsResource, ep) : await this.client.create(this.endpointsResource, namespace, ep);
      this.endpoints.upsert(written);
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
