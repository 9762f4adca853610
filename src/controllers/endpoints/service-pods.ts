// Which pods each managed Service selects, kept current from the Service and Pod events rather
// than found by scanning the namespace's pods on every sync, and which Services a change concerns.
// Shared by the endpoints and endpointslice controllers.
//
// Consistency: a Service's members are rebuilt from the pod cache when its selector changes, and
// a pod's memberships are re-evaluated against the cached Services on each of its events; both
// caches are current when a handler runs, so whichever of a (Service, pod) pair changed last
// decides, as a full scan at that moment would.
import type { Obj } from '../../api/resource.ts';
import { objectKey } from '../../client/informer.ts';
import type { Informer } from '../../client/informer.ts';
import type { WorkQueue } from '../../client/workqueue.ts';
import { managesService, sameEndpointState, selects } from './compute.ts';
import { jsonEqual } from './equal.ts';

/** Pod changes within this window are folded into one sync of their Service. */
export const POD_BATCH_MS = 20;
/** Per selected pod, the window grows by this much (see podBatchMs), up to MAX_POD_BATCH_MS. */
export const POD_BATCH_MS_PER_POD = 0.2;
export const MAX_POD_BATCH_MS = 1000;

/**
 * How long a Service's pod changes are gathered before its endpoints are synced, given how many
 * pods it selects. Every sync that changes something rewrites the whole Endpoints (and rebuilds the
 * slices' plan), so its cost grows with the pods: a window growing alike keeps the work per second
 * about the same at any size, where a fixed one would rewrite a thousand addresses fifty times a
 * second during a rollout. Small Services keep the short window; at a thousand pods it is 200 ms,
 * well under upstream kube-proxy's default minimum of one second between its own syncs.
 */
export function podBatchMs(selectedPods: number): number {
  return Math.min(MAX_POD_BATCH_MS, Math.max(POD_BATCH_MS, Math.round(selectedPods * POD_BATCH_MS_PER_POD)));
}

const NO_PODS: ReadonlyMap<string, Obj> = new Map();

export class ServicePods {
  private readonly listPods: (namespace: string) => Obj[];
  /** Managed Services by namespace, then by key. */
  private readonly services = new Map<string, Map<string, Obj>>();
  /** Selected pods by Service key, then by pod key. */
  private readonly members = new Map<string, Map<string, Obj>>();
  /** Per Service, the pod keys whose membership entry changed since changesDone, or all. */
  private readonly changed = new Map<string, Set<string> | 'all'>();

  constructor(listPods: (namespace: string) => Obj[]) {
    this.listPods = listPods;
  }

  /** The pods the Service selects, by namespace/name. */
  podsOf(serviceKey: string): ReadonlyMap<string, Obj> {
    return this.members.get(serviceKey) ?? NO_PODS;
  }

  /**
   * The keys of the Service's pods that joined, left or changed what endpoints show of them
   * (sameEndpointState, or another uid) since the last changesDone (or 'all'): a consumer that saw
   * the pods then need look at only these now. Its view of a pod is then as good as the newest
   * object's, as long as it reads only what sameEndpointState compares (the entries of both
   * controllers do).
   */
  changes(serviceKey: string): ReadonlySet<string> | 'all' {
    return this.changed.get(serviceKey) ?? 'all';
  }

  /** The changes were taken in; the next ones start from here. */
  changesDone(serviceKey: string): void {
    if (this.changed.has(serviceKey)) this.changed.set(serviceKey, new Set());
  }

  private mark(serviceKey: string, podKey: string): void {
    const set = this.changed.get(serviceKey);
    if (set !== 'all') set?.add(podKey);
  }

  /** A Service was added or changed. */
  serviceChanged(svc: Obj): void {
    const key = objectKey(svc);
    const ns = svc.metadata.namespace;
    if (!managesService(svc)) {
      this.serviceDeleted(svc);
      return;
    }
    let inNs = this.services.get(ns);
    if (!inNs) this.services.set(ns, (inNs = new Map()));
    const before = inNs.get(key);
    inNs.set(key, svc);
    if (before && this.members.has(key) && jsonEqual(before.spec?.selector, svc.spec?.selector)) return;
    const members = new Map<string, Obj>();
    for (const pod of this.listPods(ns)) if (selects(svc, pod)) members.set(objectKey(pod), pod);
    this.members.set(key, members);
    this.changed.set(key, 'all');
  }

  serviceDeleted(svc: Obj): void {
    const key = objectKey(svc);
    const inNs = this.services.get(svc.metadata.namespace);
    inNs?.delete(key);
    if (inNs?.size === 0) this.services.delete(svc.metadata.namespace);
    this.members.delete(key);
    this.changed.delete(key);
  }

  /**
   * A pod was added or changed: the keys of the Services whose endpoints this may change — those
   * it joined or left, and those it stays in when what endpoints show of it changed (as upstream,
   * a status update that changes none of that syncs nothing).
   */
  podChanged(pod: Obj): string[] {
    const out: string[] = [];
    const podKey = objectKey(pod);
    for (const [key, svc] of this.services.get(pod.metadata.namespace) ?? []) {
      const members = this.members.get(key)!;
      const before = members.get(podKey);
      if (selects(svc, pod)) {
        members.set(podKey, pod);
        // Most pod updates (status details) show nothing new to endpoints: marking them had each
        // sync recompute both controllers' entries for those pods only to find them equal.
        if (before && before.metadata.uid === pod.metadata.uid && sameEndpointState(before, pod)) continue;
        this.mark(key, podKey);
        out.push(key);
      } else if (before) {
        members.delete(podKey);
        this.mark(key, podKey);
        out.push(key);
      }
    }
    return out;
  }

  /** A pod was deleted: the keys of the Services it was in. */
  podDeleted(pod: Obj): string[] {
    const out: string[] = [];
    const podKey = objectKey(pod);
    for (const [key, svc] of this.services.get(pod.metadata.namespace) ?? []) {
      const was = this.members.get(key)!.delete(podKey);
      if (was) this.mark(key, podKey);
      if (was || selects(svc, pod)) out.push(key);
    }
    return out;
  }
}

/**
 * What both endpoints controllers sync on: a Service's own changes at once, and changes of the
 * pods it selects (now or before) batched per Service. Returns the membership index.
 */
export function watchServicePods(services: Informer, pods: Informer, queue: WorkQueue): ServicePods {
  const index = new ServicePods((ns) => pods.list(ns));
  services.on({
    add: (s) => {
      index.serviceChanged(s);
      queue.add(objectKey(s));
    },
    update: (_o, s) => {
      index.serviceChanged(s);
      queue.add(objectKey(s));
    },
    delete: (s) => {
      index.serviceDeleted(s);
      queue.add(objectKey(s));
    },
  });
  const batch = (keys: string[]) => {
    for (const key of keys) queue.addBatched(key, podBatchMs(index.podsOf(key).size));
  };
  pods.on({
    add: (p) => batch(index.podChanged(p)),
    update: (_o, p) => batch(index.podChanged(p)),
    delete: (p) => batch(index.podDeleted(p)),
  });
  return index;
}
