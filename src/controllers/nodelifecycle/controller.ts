// kube-controller-manager's node lifecycle controller ("node-lifecycle-controller"; its events come
// from "node-controller"). Every --node-monitor-period it judges each node's health from its Lease
// and Ready heartbeats; a node silent for longer than the grace turns Unknown, its pods NotReady
// (so endpoints and DNS drop them), and it gets the unreachable (or not-ready) taints: NoSchedule at
// once, NoExecute at each zone's eviction rate. The taint eviction controller acts on the latter.
// The pure decisions are in health.ts, taints.ts and zones.ts; this file holds the effects.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { EventRecorder } from '../../client/events.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { decideNodeHealth, findCondition, type NodeHealth } from './health.ts';
import { noScheduleTaintChanges, NOT_READY_NO_EXECUTE, swapTaints, taintExists, UNREACHABLE_NO_EXECUTE } from './taints.ts';
import { EXCLUDE_DISRUPTION_LABEL, planDisruption, zoneKey, type ZoneState } from './zones.ts';
import { RateLimitedTimedQueue } from './rate-limited-queue.ts';
import { DEFAULT_NODE_LIFECYCLE_OPTIONS, type NodeLifecycleOptions } from './options.ts';

export const NODE_CONTROLLER_COMPONENT = 'node-controller';

const rvNumber = (o: Obj | undefined): number => Number(o?.metadata?.resourceVersion ?? 0) || 0;

export class NodeLifecycleController {
  private readonly client: Client;
  private readonly opts: NodeLifecycleOptions;
  private readonly now: () => number;
  private readonly nodes: Informer;
  private readonly leases: Informer;
  private readonly pods: Informer;
  private readonly events: EventRecorder;
  private readonly noSchedule: WorkQueue;
  private readonly podQueue: WorkQueue;
  private readonly health = new Map<string, NodeHealth>();
  private readonly known = new Map<string, Obj>();
  /** Our own latest writes of nodes, newer than the informer's copy until its watch catches up. */
  private readonly written = new Map<string, Obj>();
  private readonly zoneQueues = new Map<string, RateLimitedTimedQueue>();
  private zoneStates = new Map<string, ZoneState>();
  /** Nodes whose pods could not all be marked NotReady: tried again on the next pass. */
  private readonly retryPods = new Set<string>();
  private monitorTimer: NodeJS.Timeout | undefined;
  private taintTimer: NodeJS.Timeout | undefined;
  private monitoring = false;
  private tainting = false;
  private stopped = false;

  constructor(client: Client, opts: Partial<NodeLifecycleOptions> = {}, now: () => number = Date.now) {
    this.client = client;
    this.opts = { ...DEFAULT_NODE_LIFECYCLE_OPTIONS, ...opts };
    this.now = now;
    this.nodes = new Informer(client, client.resource('', 'nodes'));
    this.leases = new Informer(client, client.resource('coordination.k8s.io', 'leases'), { namespace: 'kube-node-lease' });
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.events = new EventRecorder(client, NODE_CONTROLLER_COMPONENT);
    this.noSchedule = new WorkQueue((name) => this.noScheduleTaintingPass(name), 4);
    this.podQueue = new WorkQueue((key) => this.processPod(key), 4);
    this.nodes.on({ add: (n) => this.noSchedule.add(n.metadata.name), update: (_o, n) => this.noSchedule.add(n.metadata.name) });
    this.pods.on({
      add: (p) => p.spec?.nodeName && this.podQueue.add(objectKey(p)),
      update: (o, p) => p.spec?.nodeName && p.spec.nodeName !== o.spec?.nodeName && this.podQueue.add(objectKey(p)),
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.nodes.start(), this.leases.start(), this.pods.start()]);
    this.monitorTimer = setInterval(() => void this.monitorOnce(), this.opts.nodeMonitorPeriodMs);
    // Upstream drains the NoExecute tainting queues every 100 ms; the zones' rates pace it.
    this.taintTimer = setInterval(() => void this.noExecuteTaintingPass(), 100);
    void this.monitorOnce();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.monitorTimer);
    clearInterval(this.taintTimer);
    this.nodes.stop();
    this.leases.stop();
    this.pods.stop();
    this.noSchedule.stop();
    this.podQueue.stop();
  }

  private latest(name: string): Obj | undefined {
    const cached = this.nodes.get(undefined, name);
    const mine = this.written.get(name);
    if (!cached) return undefined;
    if (mine && rvNumber(mine) > rvNumber(cached)) return mine;
    this.written.delete(name);
    return cached;
  }

  private async monitorOnce(): Promise<void> {
    if (this.monitoring || this.stopped) return;
    this.monitoring = true;
    try {
      await this.monitorNodeHealth();
    } catch (err) {
      log('warn', 'node-lifecycle', 'node health pass failed', { error: String(err) });
    } finally {
      this.monitoring = false;
    }
  }

  /** One pass of upstream's monitorNodeHealth. */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.nodes.list().map((n) => this.latest(n.metadata.name)!);
    const names = new Set(nodes.map((n) => n.metadata.name));
    for (const node of nodes) {
      if (this.known.has(node.metadata.name)) continue;
      this.known.set(node.metadata.name, node);
      this.events.event(nodeRef(node), 'Normal', 'RegisteredNode', `Node ${node.metadata.name} event: Registered Node ${node.metadata.name} in Controller`);
      this.zoneQueue(zoneKey(node));
      await this.markNodeAsReachable(node);
    }
    for (const [name, node] of this.known) {
      if (names.has(name)) continue;
      this.events.event(nodeRef(node), 'Normal', 'RemovingNode', `Node ${name} event: Removing Node ${name} from Controller`);
      this.known.delete(name);
      this.health.delete(name);
      this.written.delete(name);
      for (const q of this.zoneQueues.values()) q.remove(name);
    }

    const zones = new Map<string, (string | undefined)[]>();
    await Promise.all(
      nodes.map(async (node) => {
        const ready = await this.updateNodeHealth(node);
        if (ready === null) return;
        // Nodes labelled for exclusion do not count towards their zone's state (the label's value is ignored).
        if (node.metadata.labels?.[EXCLUDE_DISRUPTION_LABEL] === undefined) {
          const k = zoneKey(node);
          zones.set(k, [...(zones.get(k) ?? []), ready?.status]);
        }
      }),
    );
    await this.handleDisruption(zones, nodes);
  }

  /** Judges one node, writes what changed; the node's current Ready condition, or null on failure. */
  private async updateNodeHealth(node: Obj): Promise<Obj | undefined | null> {
    const name = node.metadata.name;
    const now = this.now();
    const lease = this.leases.get('kube-node-lease', name);
    const d = decideNodeHealth(this.health.get(name), node, lease, now, {
      gracePeriodMs: this.opts.nodeMonitorGracePeriodMs,
      startupGracePeriodMs: this.opts.nodeStartupGracePeriodMs,
    });
    let current = node;
    if (d.conditions) {
      try {
        current = await this.client.update(this.nodes.resource, { ...node, status: { ...node.status, conditions: d.conditions } }, 'status');
        this.written.set(name, current);
      } catch (err) {
        // Changed meanwhile (a heartbeat, most likely): judged again on the next pass.
        log('debug', 'node-lifecycle', 'node status update failed', { node: name, error: String(err) });
        return null;
      }
    }
    this.health.set(name, d.health);
    if (!d.currentReady) return undefined;

    await this.processTaintBaseEviction(current, d.observedReady);
    const wentDown = d.currentReady.status !== 'True' && d.observedReady.status === 'True';
    if (wentDown) {
      log('info', 'node-lifecycle', 'node is not ready', { node: name, status: d.currentReady.status });
      this.events.event(nodeRef(current), 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    if (wentDown || (this.retryPods.has(name) && d.observedReady.status !== 'True')) {
      const ok = await this.markPodsNotReady(this.pods.list().filter((p) => p.spec?.nodeName === name), name);
      if (!ok) {
        this.retryPods.add(name);
        return d.currentReady;
      }
    }
    this.retryPods.delete(name);
    return d.currentReady;
  }

  /** Upstream's MarkPodsNotReady: Ready=False through pods/status, and a warning on each pod. */
  private async markPodsNotReady(pods: Obj[], nodeName: string): Promise<boolean> {
    let ok = true;
    for (const pod of pods) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const conditions: Obj[] = pod.status?.conditions ?? [];
      const ready = conditions.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      const now = new Date(this.now()).toISOString().replace(/\.\d+Z$/, 'Z');
      const next = conditions.map((c) => (c === ready ? { ...c, status: 'False', lastTransitionTime: now } : c));
      try {
        await this.client.update(this.pods.resource, { ...pod, status: { ...pod.status, conditions: next } }, 'status');
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) continue;
        log('info', 'node-lifecycle', 'failed to update status for pod', { pod: objectKey(pod), error: String(err) });
        ok = false;
        continue;
      }
      this.events.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    }
    return ok;
  }

  /** Pods newly bound to a node that is not Ready are marked NotReady too (upstream's processPod). */
  private async processPod(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const pod = this.pods.get(namespace, name);
    if (!pod?.spec?.nodeName) return;
    const ready = this.health.get(pod.spec.nodeName)?.ready;
    if (!ready || !this.nodes.get(undefined, pod.spec.nodeName)) return;
    if (ready.status !== 'True' && !(await this.markPodsNotReady([pod], pod.spec.nodeName))) throw new Error(`pod ${key} not marked NotReady yet`);
  }

  /**
   * Queues a node for its NoExecute taint, from the Ready condition as it was before this pass (so
   * the taint follows the condition by one monitor period), or swaps the opposite taint at once.
   */
  private async processTaintBaseEviction(node: Obj, observedReady: Obj): Promise<void> {
    const name = node.metadata.name;
    const queue = this.zoneQueue(zoneKey(node));
    if (observedReady.status === 'False' || observedReady.status === 'Unknown') {
      const [want, opposite] = observedReady.status === 'False' ? [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE] : [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE];
      if (taintExists(node.spec?.taints, opposite)) {
        if (!(await this.swapNodeTaints(name, [want], [opposite]))) log('warn', 'node-lifecycle', 'failed to swap NoExecute taints; trying again next pass', { node: name });
      } else if (queue.add(name, node.metadata.uid, this.now())) {
        log('info', 'node-lifecycle', observedReady.status === 'False' ? 'node is NotReady: queued for tainting' : 'node is unresponsive: queued for tainting', { node: name });
      }
    } else if (observedReady.status === 'True') {
      await this.markNodeAsReachable(node);
    }
  }

  /** Removes both NoExecute taints and takes the node out of its zone's queue. */
  private async markNodeAsReachable(node: Obj): Promise<void> {
    const name = node.metadata.name;
    if (taintExists(node.spec?.taints, UNREACHABLE_NO_EXECUTE) || taintExists(node.spec?.taints, NOT_READY_NO_EXECUTE)) {
      if (await this.swapNodeTaints(name, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE])) log('info', 'node-lifecycle', 'node is healthy again: NoExecute taints removed', { node: name });
    }
    this.zoneQueue(zoneKey(node)).remove(name);
  }

  private zoneQueue(zone: string): RateLimitedTimedQueue {
    let q = this.zoneQueues.get(zone);
    if (!q) {
      q = new RateLimitedTimedQueue(this.opts.evictionRate, this.now());
      this.zoneQueues.set(zone, q);
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, 'Initial');
    }
    return q;
  }

  /** Upstream's doNoExecuteTaintingPass: each zone's queue, at its rate. */
  private async noExecuteTaintingPass(): Promise<void> {
    if (this.tainting || this.stopped) return;
    this.tainting = true;
    try {
      for (const q of this.zoneQueues.values()) {
        await q.try(this.now, async (name) => {
          const node = this.latest(name);
          if (!node) return { done: true };
          const ready = findCondition(node, 'Ready');
          if (!ready) return { done: false, retryMs: 50 };
          // The two taints mirror Ready's status, so they never coexist.
          let swapped = true;
          if (ready.status === 'False') swapped = await this.swapNodeTaints(name, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE]);
          else if (ready.status === 'Unknown') swapped = await this.swapNodeTaints(name, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE]);
          return swapped ? { done: true } : { done: false, retryMs: 0 };
        });
      }
    } catch (err) {
      log('warn', 'node-lifecycle', 'NoExecute tainting pass failed', { error: String(err) });
    } finally {
      this.tainting = false;
    }
  }

  /** Upstream's doNoScheduleTaintingPass, on every node add and update. */
  private async noScheduleTaintingPass(name: string): Promise<void> {
    const node = this.latest(name);
    if (!node) return;
    const { add, remove } = noScheduleTaintChanges(node);
    if (add.length === 0 && remove.length === 0) return;
    if (!(await this.swapNodeTaints(name, add, remove))) throw new Error(`failed to swap taints of node ${name}`);
  }

  /** Adds and removes taints on the node's current version, retrying on conflicts; false on failure. */
  private async swapNodeTaints(name: string, add: Obj[], remove: Obj[]): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let node: Obj;
      try {
        node = attempt === 0 ? (this.latest(name) ?? (await this.client.get(this.nodes.resource, undefined, name))) : await this.client.get(this.nodes.resource, undefined, name);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return true;
        return false;
      }
      const taints = swapTaints(node.spec?.taints, add, remove, this.now());
      if (!taints) return true;
      try {
        const written = await this.client.patch(this.nodes.resource, undefined, name, 'application/merge-patch+json', {
          metadata: { resourceVersion: node.metadata.resourceVersion },
          spec: { taints: taints.length ? taints : null },
        });
        this.written.set(name, written);
        return true;
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return true;
        if (!(err instanceof ApiError && err.code === 409)) {
          log('warn', 'node-lifecycle', 'taint update failed', { node: name, error: String(err) });
          return false;
        }
      }
    }
    return false;
  }

  /** Upstream's handleDisruption: zone states, their rates, and the master disruption mode. */
  private async handleDisruption(zones: Map<string, (string | undefined)[]>, nodes: Obj[]): Promise<void> {
    const plan = planDisruption(this.zoneStates, zones, this.opts);
    this.zoneStates = plan.states;
    const now = this.now();
    if (plan.kind === 'enter-master-disruption') {
      log('info', 'node-lifecycle', 'Controller detected that all Nodes are not-Ready. Entering master disruption mode');
      for (const node of nodes) await this.markNodeAsReachable(this.latest(node.metadata.name) ?? node);
      for (const zone of plan.states.keys()) this.zoneQueue(zone).swapLimiter(0, now);
      return;
    }
    if (plan.kind === 'exit-master-disruption') {
      log('info', 'node-lifecycle', 'Controller detected that some Nodes are Ready. Exiting master disruption mode');
      // Every node gets a full grace period again before it can be judged.
      for (const node of nodes) {
        const h = this.health.get(node.metadata.name);
        if (h) this.health.set(node.metadata.name, { ...h, probeMs: now });
      }
    }
    if (plan.kind === 'rates' || plan.kind === 'exit-master-disruption') {
      for (const [zone, rate] of plan.rates) {
        if (plan.kind === 'rates') log('info', 'node-lifecycle', 'Controller detected that zone is now in new state', { zone: zone.replace('\u0000', ''), newState: plan.states.get(zone) });
        this.zoneQueue(zone).swapLimiter(rate, now);
      }
    }
  }

  /** For tests and metrics: the zones' states. */
  zones(): Map<string, ZoneState> {
    return new Map(this.zoneStates);
  }
}

/** The reference upstream's node events carry: the Node, by name and UID, in no namespace. */
const nodeRef = (node: Obj): Obj => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata.name, uid: node.metadata.uid } });
