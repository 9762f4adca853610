// The scheduler: watches pods without a node, nodes and storage, decides with the pure plan in
// plan.ts and carries the decision out through the API (pods/binding, the selected-node annotation
// on delayed-binding claims, the PodScheduled condition, events).
//
// Decisions are taken one at a time: each is computed and "assumed" (its node's books updated)
// synchronously, before any await, so concurrent bindings never overcommit a node or break
// anti-affinity even though the API writes overlap.
import type { Obj, ResourceDef } from '../api/resource.ts';
import type { Client } from '../client/client.ts';
import { Informer, objectKey } from '../client/informer.ts';
import { WorkQueue } from '../client/workqueue.ts';
import { EventRecorder } from '../client/events.ts';
import { ApiError } from '../apiserver/errors.ts';
import { nowTimestamp } from '../apiserver/resource-store.ts';
import { log } from '../util/log.ts';
import { NodeBooks } from './node-books.ts';
import { NodeOrder } from './node-order.ts';
import { Backoffs } from './backoff.ts';
import { claimNames, claimReadsVolume, sameClaimSchedulingInputs, schedulePod, selectedNodeOnlyChange, SELECTED_NODE_ANNOTATION, type ClusterView } from './plan.ts';

export interface SchedulerOptions {
  /** Pods naming another scheduler are left alone. Default `default-scheduler`. */
  schedulerName?: string;
  /** Unschedulable pods are tried again at least this often, besides on every relevant change. Default 60 s. */
  retryIntervalMs?: number;
  /** API writes in flight at once. Default 32. */
  concurrency?: number;
}

const isTerminal = (pod: Obj) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export class Scheduler {
  private readonly client: Client;
  private readonly schedulerName: string;
  private readonly retryIntervalMs: number;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly claims: Informer;
  private readonly volumes: Informer;
  private readonly classes: Informer;
  private readonly queue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly claimResource: ResourceDef;
  private readonly podResource: ResourceDef;
  private readonly entries = new Map<string, NodeBooks>();
  /** The books of the nodes the informer knows, in `entries` order; rebuilt only when either set changes. */
  private nodeList: NodeBooks[] | undefined;
  /** nodeList in spread order, kept as pods are booked (see NodeOrder); reset with nodeList. */
  private readonly order = new NodeOrder();
  /** label key → value → those nodes, built per key on first use; dropped with nodeList or on a label change. */
  private labelIndex = new Map<string, Map<string, NodeBooks[]>>();
  /** Where each counted pod is booked. */
  private readonly bookedOn = new Map<string, string>();
  /** Pods decided but not yet seen bound (binding in flight, or waiting for their volumes). */
  private readonly assumed = new Map<string, string>();
  /** Pods that could not be bound yet, by key, retried when something they depend on changes. */
  private readonly pending = new Set<string>();
  private readonly claimUsers = new Map<string, Set<string>>();
  /** Bound claims (by key) by the volume they are bound to. */
  private readonly boundClaims = new Map<string, Set<string>>();
  /** Pods (by key) whose current version has required pod affinity: the ones a newly bound pod may unblock. */
  private readonly affinityPods = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed attempts of unschedulable pods (backoff.ts), and the retries waiting for their backoff to end. */
  private readonly backoffs = new Backoffs();
  private readonly backoffTimers = new Map<string, NodeJS.Timeout>();
  /**
   * No decision before the first LIST of pods is on the books: that LIST is applied pod by pod, and
   * a pod decided halfway would see only the bound pods listed before it (a new leader's scheduler
   * overfilled nodes that way). Keys that come up earlier wait here; upstream's scheduler likewise
   * waits for its caches to sync before it schedules.
   */
  private synced = false;
  private readonly beforeSync = new Set<string>();

  constructor(client: Client, opts: SchedulerOptions = {}) {
    this.client = client;
    this.schedulerName = opts.schedulerName ?? 'default-scheduler';
    this.retryIntervalMs = opts.retryIntervalMs ?? 60_000;
    this.events = new EventRecorder(client, this.schedulerName);
    this.queue = new WorkQueue((key) => this.sync(key), opts.concurrency ?? 32);
    this.claimResource = client.resource('', 'persistentvolumeclaims');
    this.podResource = client.resource('', 'pods');
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.nodes = new Informer(client, client.resource('', 'nodes'));
    this.claims = new Informer(client, client.resource('', 'persistentvolumeclaims'));
    this.volumes = new Informer(client, client.resource('', 'persistentvolumes'));
    this.classes = new Informer(client, client.resource('storage.k8s.io', 'storageclasses'));

    this.pods.on({
      add: (pod) => {
        this.indexClaims(undefined, pod);
        this.indexAffinity(pod, true);
        this.podChanged(undefined, pod);
      },
      update: (old, pod) => {
        this.indexClaims(old, pod);
        // Affinity is part of the spec a pod keeps for life: only a new pod under the same name can differ.
        if (old.metadata.uid !== pod.metadata.uid) this.indexAffinity(pod, true);
        this.podChanged(old, pod);
      },
      delete: (pod) => {
        this.indexClaims(pod, undefined);
        this.indexAffinity(pod, false);
        this.podDeleted(pod);
      },
    });
    this.nodes.on({
      add: (node) => this.nodeChanged(undefined, node),
      update: (old, node) => this.nodeChanged(old, node),
      delete: (node) => {
        const e = this.entries.get(node.metadata.name);
        if (e && e.size === 0) this.entries.delete(node.metadata.name);
        this.nodeList = undefined;
        this.retryAll();
      },
    });
    const claimChanged = (claim: Obj) => this.retryUsersOf(objectKey(claim));
    this.claims.on({
      add: (c) => {
        this.indexBoundClaim(undefined, c);
        claimChanged(c);
      },
      update: (o, c) => {
        this.indexBoundClaim(o, c);
        // Most claim updates on the way to Bound change nothing a decision reads.
        if (sameClaimSchedulingInputs(o, c)) return;
        const selected = selectedNodeOnlyChange(o, c);
        this.retryUsersOf(objectKey(c), selected);
      },
      delete: (c) => {
        this.indexBoundClaim(c, undefined);
        claimChanged(c);
      },
    });
    // A volume is read only for the claims bound to it (its node affinity): other changes cannot matter.
    const volumeChanged = (pv: Obj) => {
      for (const key of this.boundClaims.get(pv.metadata.name) ?? []) this.retryUsersOf(key);
    };
    this.volumes.on({ add: volumeChanged, update: (_o, v) => volumeChanged(v), delete: volumeChanged });
    this.classes.on({ add: () => this.retryAll(), update: () => this.retryAll(), delete: () => this.retryAll() });
  }

  async start(): Promise<void> {
    // Storage and nodes first, so the first decisions see them.
    await Promise.all([this.nodes.start(), this.claims.start(), this.volumes.start(), this.classes.start()]);
    await this.pods.start();
    await this.pods.waitForSync();
    this.synced = true;
    for (const key of this.beforeSync) this.queue.add(key);
    this.beforeSync.clear();
    this.retryTimer = setInterval(() => this.retryAll(), this.retryIntervalMs);
    this.retryTimer.unref?.();
  }

  stop(): void {
    clearInterval(this.retryTimer);
    for (const t of this.backoffTimers.values()) clearTimeout(t);
    this.backoffTimers.clear();
    this.queue.stop();
    for (const i of [this.pods, this.nodes, this.claims, this.volumes, this.classes]) i.stop();
  }

  // ------------------------------------------------------------------------- bookkeeping

  private entry(name: string): NodeBooks {
    let e = this.entries.get(name);
    if (!e) {
      e = new NodeBooks({ metadata: { name } });
      this.entries.set(name, e);
      this.nodeList = undefined;
    }
    return e;
  }

  private book(pod: Obj, nodeName: string): void {
    const uid = pod.metadata.uid;
    const prev = this.bookedOn.get(uid);
    if (prev && prev !== nodeName) this.entries.get(prev)?.remove(uid);
    this.entry(nodeName).add(pod);
    this.bookedOn.set(uid, nodeName);
  }

  private unbook(uid: string): void {
    const prev = this.bookedOn.get(uid);
    if (!prev) return;
    this.entries.get(prev)?.remove(uid);
    this.bookedOn.delete(uid);
  }

  private ours(pod: Obj): boolean {
    return (pod.spec?.schedulerName ?? 'default-scheduler') === this.schedulerName;
  }

  private needsScheduling(pod: Obj): boolean {
    return !pod.spec?.nodeName && !pod.metadata.deletionTimestamp && !isTerminal(pod) && this.ours(pod) && !(pod.spec?.schedulingGates?.length > 0);
  }

  private podChanged(old: Obj | undefined, pod: Obj): void {
    const uid = pod.metadata.uid;
    const key = objectKey(pod);
    if (pod.spec?.nodeName) {
      this.assumed.delete(uid);
      this.noLongerWaiting(key);
      if (isTerminal(pod)) this.unbook(uid);
      else this.book(pod, pod.spec.nodeName);
      // Freed room (a pod finished or is going) or a new peer for affinity: pending pods may fit now.
      const freed = isTerminal(pod) && old && !isTerminal(old);
      const going = !!pod.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp;
      if (freed || going) this.retryAll();
      else if (!old?.spec?.nodeName) this.retryAffinityWaiters();
      return;
    }
    if (this.needsScheduling(pod)) {
      const assumedOn = this.assumed.get(uid);
      if (assumedOn) this.book(pod, assumedOn);
      // Our own condition writes come back as updates: a waiting pod is retried for its causes, not for those.
      const sameSpec = old && this.pending.has(key) && JSON.stringify(old.spec) === JSON.stringify(pod.spec) && JSON.stringify(old.metadata.labels) === JSON.stringify(pod.metadata.labels);
      if (!sameSpec) this.retry(key);
    } else {
      this.assumed.delete(uid);
      this.unbook(uid);
      this.noLongerWaiting(key);
    }
  }

  private podDeleted(pod: Obj): void {
    const uid = pod.metadata.uid;
    this.assumed.delete(uid);
    this.noLongerWaiting(objectKey(pod));
    const wasBooked = this.bookedOn.has(uid);
    this.unbook(uid);
    if (wasBooked) this.retryAll();
  }

  private nodeChanged(old: Obj | undefined, node: Obj): void {
    this.entry(node.metadata.name).node = node;
    if (!old) this.nodeList = undefined;
    else if (this.labelIndex.size && JSON.stringify(old.metadata.labels) !== JSON.stringify(node.metadata.labels)) this.labelIndex.clear();
    // Heartbeats change nothing a decision depends on; only retry for real changes.
    if (!old || schedulingView(old) !== schedulingView(node)) this.retryAll();
  }

  private retryAll(): void {
    for (const key of this.pending) this.retry(key);
  }

  /** Queues a waiting pod now, or, while it backs off from a failed attempt, once its backoff ends. */
  private retry(key: string): void {
    const now = Date.now();
    const until = this.backoffs.waitUntil(key, now);
    if (until === undefined) {
      this.queue.add(key);
      return;
    }
    if (this.backoffTimers.has(key)) return;
    const t = setTimeout(() => {
      this.backoffTimers.delete(key);
      if (this.pending.has(key)) this.queue.add(key);
    }, until - now);
    t.unref?.();
    this.backoffTimers.set(key, t);
  }

  /** The pod is bound, gone or not ours to schedule: it waits for nothing, and backs off from nothing. */
  private noLongerWaiting(key: string): void {
    this.pending.delete(key);
    this.forgetBackoff(key);
  }

  private forgetBackoff(key: string): void {
    this.backoffs.forget(key);
    const t = this.backoffTimers.get(key);
    if (t) {
      clearTimeout(t);
      this.backoffTimers.delete(key);
    }
  }

  /** Retries the waiting pods that use the claim (by namespace/name), except those already waiting on `exceptAssumedOn`. */
  private retryUsersOf(claimKey: string, exceptAssumedOn?: string): void {
    for (const key of this.claimUsers.get(claimKey) ?? []) {
      if (!this.pending.has(key)) continue;
      if (exceptAssumedOn !== undefined) {
        const slash = key.indexOf('/');
        const uid = this.pods.get(key.slice(0, slash), key.slice(slash + 1))?.metadata.uid;
        if (uid !== undefined && this.assumed.get(uid) === exceptAssumedOn) continue;
      }
      this.retry(key);
    }
  }

  /** Keeps claim → pods that mount it, so a claim's change retries its users without scanning every pending pod. */
  private indexClaims(old: Obj | undefined, pod: Obj | undefined): void {
    // A pod's volumes cannot change once it exists: an update of the same pod leaves the index as it is.
    if (old && pod && old.metadata.uid === pod.metadata.uid) return;
    const key = objectKey((pod ?? old)!);
    const before = old ? claimNames(old) : [];
    const after = pod ? claimNames(pod) : [];
    if (before.length === after.length && before.every((c, i) => c === after[i])) return;
    for (const c of before) {
      const users = this.claimUsers.get(`${old!.metadata.namespace}/${c}`);
      users?.delete(key);
      if (users?.size === 0) this.claimUsers.delete(`${old!.metadata.namespace}/${c}`);
    }
    for (const c of after) {
      const k = `${pod!.metadata.namespace}/${c}`;
      let users = this.claimUsers.get(k);
      if (!users) this.claimUsers.set(k, (users = new Set()));
      users.add(key);
    }
  }

  private indexBoundClaim(old: Obj | undefined, claim: Obj | undefined): void {
    const volumeOf = (c: Obj | undefined) => (c && claimReadsVolume(c, c.spec?.volumeName) ? (c.spec.volumeName as string) : undefined);
    const before = volumeOf(old);
    const after = volumeOf(claim);
    if (before === after) return;
    const key = objectKey((claim ?? old)!);
    if (before) {
      const set = this.boundClaims.get(before);
      set?.delete(key);
      if (set?.size === 0) this.boundClaims.delete(before);
    }
    if (after) {
      let set = this.boundClaims.get(after);
      if (!set) this.boundClaims.set(after, (set = new Set()));
      set.add(key);
    }
  }

  private indexAffinity(pod: Obj, present: boolean): void {
    const key = objectKey(pod);
    if (present && hasRequiredAffinity(pod)) this.affinityPods.add(key);
    else this.affinityPods.delete(key);
  }

  /** Retries the waiting pods with required pod affinity: a pod just bound may be the peer they need. */
  private retryAffinityWaiters(): void {
    // Walk the smaller set: usually few pods use pod affinity, but many may be pending.
    if (this.affinityPods.size <= this.pending.size) {
      for (const key of this.affinityPods) if (this.pending.has(key)) this.retry(key);
    } else {
      for (const key of this.pending) if (this.affinityPods.has(key)) this.retry(key);
    }
  }

  private nodeStates(): NodeBooks[] {
    if (!this.nodeList) {
      this.nodeList = [...this.entries.values()].filter((e) => this.nodes.get(undefined, e.node.metadata.name));
      this.labelIndex.clear();
      this.order.reset(this.nodeList);
    }
    return this.nodeList;
  }

  private view(): ClusterView {
    return {
      nodes: this.nodeStates(),
      nodesWithLabel: (key, value) => {
        const nodes = this.nodeStates();
        let byValue = this.labelIndex.get(key);
        if (!byValue) {
          this.labelIndex.set(key, (byValue = new Map()));
          for (const n of nodes) {
            const v = n.node.metadata?.labels?.[key];
            if (v === undefined) continue;
            let list = byValue.get(v);
            if (!list) byValue.set(v, (list = []));
            list.push(n);
          }
        }
        return byValue.get(value) ?? [];
      },
      firstBySpread: (accept) => this.order.first(accept),
      claim: (ns, name) => this.claims.get(ns, name),
      volume: (name) => this.volumes.get(undefined, name),
      storageClass: (name) => this.classes.get(undefined, name),
      storageClasses: () => this.classes.list(),
    };
  }

  // ------------------------------------------------------------------------- one decision

  private async sync(key: string): Promise<void> {
    if (!this.synced) {
      this.beforeSync.add(key);
      return;
    }
    const slash = key.indexOf('/');
    const pod = this.pods.get(key.slice(0, slash), key.slice(slash + 1));
    if (!pod || !this.needsScheduling(pod)) {
      this.noLongerWaiting(key);
      return;
    }
    const uid = pod.metadata.uid;
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name;
    // Decide afresh, without the pod's own earlier assumption on the books.
    this.unbook(uid);
    this.assumed.delete(uid);
    const decision = schedulePod(pod, this.view());

    if (decision.kind === 'unschedulable') {
      this.pending.add(key);
      this.backoffs.failed(key, Date.now());
      await this.reportUnschedulable(pod, decision.message);
      return;
    }
    // It fits: what remains (volumes, the binding) is not a failed attempt to back off from.
    this.forgetBackoff(key);
    this.assumed.set(uid, decision.node);
    this.book(pod, decision.node);

    if (decision.kind === 'waitForClaims') {
      this.pending.add(key);
      return;
    }
    if (decision.kind === 'selectNode') {
      this.pending.add(key);
      for (const claim of decision.claims) {
        const patch = { metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: decision.node } } };
        await this.client.patch(this.claimResource, ns, claim, 'application/merge-patch+json', patch).catch((err) => {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        });
      }
      log('debug', 'scheduler', 'asked for volumes on node', { pod: key, node: decision.node, claims: decision.claims });
      return;
    }

    try {
      await this.client.bind(ns, name, decision.node, uid);
    } catch (err) {
      if (this.assumed.get(uid) === decision.node) {
        this.assumed.delete(uid);
        this.unbook(uid);
      }
      // Gone, or already bound by someone else: nothing left to do for this pod.
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
    this.noLongerWaiting(key);
    this.events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${decision.node}`);
  }

  private async reportUnschedulable(pod: Obj, message: string): Promise<void> {
    this.events.event(pod, 'Warning', 'FailedScheduling', message);
    const current = (pod.status?.conditions ?? []).find((c: Obj) => c.type === 'PodScheduled');
    if (current && current.status === 'False' && current.reason === 'Unschedulable' && current.message === message) return;
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null,
      lastTransitionTime: current?.status === 'False' && current.lastTransitionTime ? current.lastTransitionTime : nowTimestamp(),
    };
    const conditions = [...(pod.status?.conditions ?? []).filter((c: Obj) => c.type !== 'PodScheduled'), condition];
    const patch = [
      { op: 'test', path: '/metadata/uid', value: pod.metadata.uid },
      { op: 'add', path: pod.status ? '/status/conditions' : '/status', value: pod.status ? conditions : { conditions } },
    ];
    await this.client.patch(this.podResource, pod.metadata.namespace, pod.metadata.name, 'application/json-patch+json', patch, 'status').catch((err) => {
      if (err instanceof ApiError && (err.code === 404 || err.code === 422 || err.code === 409)) return;
      throw err;
    });
  }
}

const hasRequiredAffinity = (pod: Obj): boolean => (pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;

/** The parts of a node that affect scheduling decisions. */
function schedulingView(node: Obj): string {
  const ready = (node.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready')?.status;
  return JSON.stringify([node.metadata.labels, node.spec?.taints, node.spec?.unschedulable, node.status?.allocatable, ready, node.metadata.deletionTimestamp]);
}
