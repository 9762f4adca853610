// kube-controller-manager's "serviceaccount" controller: a "default" ServiceAccount in every active
// namespace, created when the namespace appears and again whenever it is deleted.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { serviceAccountsToCreate } from './plan.ts';

export class ServiceAccountsController {
  private readonly client: Client;
  private readonly namespaces: Informer;
  private readonly serviceAccounts: Informer;
  private readonly queue: WorkQueue;

  constructor(client: Client) {
    this.client = client;
    this.namespaces = new Informer(client, client.resource('', 'namespaces'));
    this.serviceAccounts = new Informer(client, client.resource('', 'serviceaccounts'));
    this.queue = new WorkQueue((ns) => this.sync(ns), 2);
    const enqueue = (ns: Obj) => this.queue.add(ns.metadata.name);
    this.namespaces.on({ add: enqueue, update: (_o, n) => enqueue(n) });
    this.serviceAccounts.on({ delete: (sa) => this.queue.add(sa.metadata.namespace) });
  }

  async start(): Promise<void> {
    // Accounts first: namespaces listed before them would find every account missing.
    await this.serviceAccounts.start();
    await this.namespaces.start();
  }

  stop(): void {
    this.namespaces.stop();
    this.serviceAccounts.stop();
    this.queue.stop();
  }

  private async sync(name: string): Promise<void> {
    const ns = this.namespaces.get(undefined, name);
    const sas = this.client.resource('', 'serviceaccounts');
    for (const sa of serviceAccountsToCreate(ns, (n) => !!this.serviceAccounts.get(name, n))) {
      await this.client.create(sas, name, sa).catch((err) => {
        // Already there (our cache lags), or the namespace went away or began terminating meanwhile.
        if (err instanceof ApiError && (err.code === 409 || err.code === 404 || (err.code === 403 && /being terminated/.test(err.message)))) return;
        throw err;
      });
    }
  }
}
