// kube-controller-manager's "nodeipam" controller (range allocator): every node without a pod range
// gets the lowest free range of the cluster CIDR in spec.podCIDR / spec.podCIDRs. The API server
// refuses to change a range once set, so a node keeps its range for life; a deleted node's range is
// free again because the next allocation only counts the nodes that exist.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { EventRecorder } from '../../client/events.ts';
import { log } from '../../util/log.ts';
import { clusterCidr, nextFreeRange, usedRanges, type ClusterCidr } from './allocate.ts';

export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';

export class NodeIpamController {
  private readonly client: Client;
  private readonly nodes: Informer;
  private readonly queue: WorkQueue;
  private readonly cidr: ClusterCidr;
  private readonly events: EventRecorder;
  /** Ranges handed out whose node update the informer has not shown yet: never give one twice. */
  private readonly pending = new Map<number, string>();

  constructor(client: Client, opts: { clusterCIDR?: string; nodeCIDRMaskSize?: number } = {}) {
    this.client = client;
    this.cidr = clusterCidr(opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDR, opts.nodeCIDRMaskSize ?? 24);
    this.events = new EventRecorder(client, 'cidrAllocator');
    this.nodes = new Informer(client, client.resource('', 'nodes'));
    // One worker: allocations are decided one at a time against everything already handed out.
    this.queue = new WorkQueue((name) => this.sync(name), 1);
    const enqueue = (n: Obj) => {
      if (!n.spec?.podCIDR && !n.metadata.deletionTimestamp) this.queue.add(n.metadata.name);
    };
    this.nodes.on({ add: enqueue, update: (_o, n) => enqueue(n) });
  }

  async start(): Promise<void> {
    await this.nodes.start();
  }

  stop(): void {
    this.nodes.stop();
    this.queue.stop();
  }

  private async sync(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    if (!node || node.spec?.podCIDR || node.metadata.deletionTimestamp) return;
    const all = this.nodes.list();
    const used = usedRanges(this.cidr, all.flatMap((n) => (n.spec?.podCIDRs as string[] | undefined) ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])));
    for (const [n, owner] of this.pending) {
      if (all.some((x) => x.metadata.name === owner && !x.spec?.podCIDR)) used.add(n);
      else this.pending.delete(n);
    }
    const range = nextFreeRange(this.cidr, used);
    if (!range) {
      this.events.event(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      log('warn', 'nodeipam', 'no pod range left for node', { node: name });
      return;
    }
    try {
      await this.client.patch(this.client.resource('', 'nodes'), undefined, name, 'application/merge-patch+json', {
        metadata: { resourceVersion: node.metadata.resourceVersion },
        spec: { podCIDR: range, podCIDRs: [range] },
      });
      this.pending.set(usedRanges(this.cidr, [range]).values().next().value!, name);
      log('info', 'nodeipam', 'pod range assigned', { node: name, podCIDR: range });
    } catch (err) {
      // Changed meanwhile (its agent may have set a range itself): decided again on the next event.
      if (err instanceof ApiError && (err.code === 409 || err.code === 404 || err.code === 422)) return;
      throw err;
    }
  }
}
