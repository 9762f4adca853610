// kube-controller-manager's "root-ca-cert-publisher": the kube-root-ca.crt ConfigMap, holding the
// cluster CA under ca.crt, in every namespace, put back whenever it is changed or deleted. Pods'
// API access volumes read it to trust the API server.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { isActive, ROOT_CA_CONFIGMAP, rootCaAction } from './plan.ts';

export class RootCaCertPublisher {
  private readonly client: Client;
  private readonly caPem: string;
  private readonly namespaces: Informer;
  private readonly configMaps: Informer;
  private readonly queue: WorkQueue;

  constructor(client: Client, caPem: string) {
    this.client = client;
    this.caPem = caPem;
    this.namespaces = new Informer(client, client.resource('', 'namespaces'));
    // Only the one ConfigMap per namespace matters: the rest of the cluster's are not cached.
    this.configMaps = new Informer(client, client.resource('', 'configmaps'), { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
    this.queue = new WorkQueue((ns) => this.sync(ns), 2);
    this.namespaces.on({ add: (ns) => this.queue.add(ns.metadata.name), update: (_o, ns) => isActive(ns) && this.queue.add(ns.metadata.name) });
    const enqueue = (cm: Obj) => cm.metadata.name === ROOT_CA_CONFIGMAP && this.queue.add(cm.metadata.namespace);
    this.configMaps.on({ update: (_o, cm) => enqueue(cm), delete: enqueue });
  }

  async start(): Promise<void> {
    await this.configMaps.start();
    await this.namespaces.start();
  }

  stop(): void {
    this.namespaces.stop();
    this.configMaps.stop();
    this.queue.stop();
  }

  private async sync(namespace: string): Promise<void> {
    if (!isActive(this.namespaces.get(undefined, namespace))) return;
    const plan = rootCaAction(namespace, this.configMaps.get(namespace, ROOT_CA_CONFIGMAP), this.caPem);
    const configmaps = this.client.resource('', 'configmaps');
    try {
      if (plan.action === 'create') await this.client.create(configmaps, namespace, plan.configMap);
      else if (plan.action === 'update') await this.client.update(configmaps, plan.configMap);
    } catch (err) {
      // The namespace went away or began terminating: nothing to publish there.
      if (err instanceof ApiError && (err.code === 404 || (err.code === 403 && /being terminated/.test(err.message)))) return;
      throw err;
    }
  }
}
