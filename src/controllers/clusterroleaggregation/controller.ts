// kube-controller-manager's "clusterrole-aggregation" controller: keeps the rules of every
// ClusterRole with an aggregationRule equal to the union of the ClusterRoles its selectors match
// (aggregate.ts decides). Any ClusterRole change may affect any aggregated role, so each change
// requeues all of them, as upstream does.
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { aggregatedRules, rulesEqual } from './aggregate.ts';

export class ClusterRoleAggregationController {
  private readonly client: Client;
  private readonly roles: Informer;
  private readonly queue: WorkQueue;

  constructor(client: Client) {
    this.client = client;
    this.roles = new Informer(client, client.resource('rbac.authorization.k8s.io', 'clusterroles'));
    this.queue = new WorkQueue((name) => this.sync(name), 1);
    const enqueueAll = () => {
      for (const r of this.roles.list()) if (r.aggregationRule) this.queue.add(r.metadata.name);
    };
    this.roles.on({ add: enqueueAll, update: enqueueAll, delete: enqueueAll });
  }

  async start(): Promise<void> {
    await this.roles.start();
  }

  stop(): void {
    this.roles.stop();
    this.queue.stop();
  }

  private async sync(name: string): Promise<void> {
    const role = this.roles.get(undefined, name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.roles.list());
    if (rulesEqual(role.rules, rules)) return;
    try {
      await this.client.update(this.client.resource('rbac.authorization.k8s.io', 'clusterroles'), { ...role, rules });
    } catch (err) {
      // A stale copy: the informer brings the newer one, which requeues the role.
      if (err instanceof ApiError && (err.code === 409 || err.code === 404)) return;
      throw err;
    }
  }
}
