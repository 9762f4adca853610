// The EndpointSlice controller: keeps discovery.k8s.io/v1 EndpointSlices for every selector
// Service, as upstream's. The slices carry a controller ownerReference to their Service, so the
// garbage collector removes them with it; the plan of writes comes from reconcile.ts.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { managesService } from '../endpoints/compute.ts';
import { PodMemo } from '../endpoints/pod-memo.ts';
import { watchServicePods } from '../endpoints/service-pods.ts';
import type { ServicePods } from '../endpoints/service-pods.ts';
import { TriggerTimeTracker } from '../endpoints/trigger-time.ts';
import { NewestView } from '../endpoints/view.ts';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, SERVICE_NAME_LABEL, compareSliceEntries, groupsFromSorted, planSlices, podSliceEntry } from './reconcile.ts';
import type { PortGroup, SliceEntry, SlicePlan } from './reconcile.ts';
import { SliceBook } from './book.ts';

const ignoreNotFound = (err: unknown) => {
  if (!(err instanceof ApiError && err.code === 404)) throw err;
};

export interface EndpointSliceControllerOptions {
  /** Endpoints per slice; upstream's --max-endpoints-per-slice, 100 by default. */
  maxEndpointsPerSlice?: number;
  workers?: number;
}

export class EndpointSliceController {
  private readonly client: Client;
  private readonly sliceResource: ResourceDef;
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly sliceInformer: Informer;
  private readonly slices: NewestView;
  /** Slice keys by the "<namespace>/<service>" they serve. */
  private readonly byService = new Map<string, Set<string>>();
  private readonly queue: WorkQueue;
  private readonly triggers = new TriggerTimeTracker();
  private readonly index: ServicePods;
  /** Each Service's pod entries from its last sync, so that a sync recomputes only changed pods. */
  private readonly memos = new Map<string, PodMemo<SliceEntry>>();
  /** Per slice key, the endpoints our last write of it sent and the version that write made (see planSlices). */
  private readonly sent = new Map<string, { rv: string; endpoints: Obj[] }>();
  /**
   * Per Service, what its last completed sync started from (Service object, pod entries) and the
   * slices it left: a sync finding all three as they were has nothing to write; one finding only
   * some pods changed plans from those (the book) when it can.
   */
  private readonly settled = new Map<string, { svc: Obj; entries: SliceEntry[]; groups: Map<string, PortGroup> | undefined; slices: Obj[]; book: SliceBook | undefined }>();
  private readonly max: number;
  private markReady!: () => void;
  private readonly ready = new Promise<void>((r) => (this.markReady = r));

  constructor(client: Client, opts: EndpointSliceControllerOptions = {}) {
    this.client = client;
    this.max = opts.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.sliceResource = client.resource('discovery.k8s.io', 'endpointslices');
    this.queue = new WorkQueue(async (key) => {
      await this.ready;
      await this.sync(key).catch((err) => {
        // Conflicts with a concurrent writer are routine: the queue retries with back-off.
        log('debug', 'endpointslice-controller', 'sync failed, will retry', { service: key, error: String(err) });
        throw err;
      });
    }, opts.workers ?? 4);
    this.slices = new NewestView((key, old, obj) => {
      const before = old && serviceKeyOf(old);
      const after = obj && serviceKeyOf(obj);
      if (before && before !== after) this.byService.get(before)?.delete(key);
      if (after) {
        let set = this.byService.get(after);
        if (!set) this.byService.set(after, (set = new Set()));
        set.add(key);
      }
    });
    this.services = new Informer(client, client.resource('', 'services'));
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.sliceInformer = new Informer(client, this.sliceResource, { labelSelector: `${MANAGED_BY_LABEL}=${CONTROLLER_NAME}` });

    this.index = watchServicePods(this.services, this.pods, this.queue);
    const onSlice = (s: Obj) => {
      this.slices.upsert(s);
      // The echo of our own write tells nothing new (upstream's slice tracker skips it too).
      if (this.sent.get(objectKey(s))?.rv === s.metadata.resourceVersion) return;
      const key = serviceKeyOf(s);
      if (key) this.queue.add(key);
    };
    this.sliceInformer.on({
      add: onSlice,
      update: (_o, s) => onSlice(s),
      delete: (s) => {
        this.slices.remove(s);
        this.sent.delete(objectKey(s));
        const key = serviceKeyOf(s);
        if (key) this.queue.add(key);
      },
    });
  }

  async start(): Promise<void> {
    const informers = [this.services, this.pods, this.sliceInformer];
    await Promise.all(informers.map((i) => i.start()));
    await Promise.all(informers.map((i) => i.waitForSync()));
    this.markReady();
  }

  stop(): void {
    for (const i of [this.services, this.pods, this.sliceInformer]) i.stop();
    this.queue.stop();
  }

  private slicesOf(serviceKey: string): Obj[] {
    const out: Obj[] = [];
    for (const k of this.byService.get(serviceKey) ?? []) {
      const s = this.slices.get(k);
      if (s) out.push(s);
    }
    return out;
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const svc = this.services.get(namespace, name);
    if (!svc || !managesService(svc) || svc.metadata.deletionTimestamp) {
      // The garbage collector removes slices of a deleted Service through their ownerReference.
      this.triggers.forget(key);
      this.memos.delete(key);
      this.settled.delete(key);
      return;
    }
    const existing = this.slicesOf(key).filter((s) => s.addressType === 'IPv4');
    const pods = this.index.podsOf(key);
    let memo = this.memos.get(key);
    if (!memo) this.memos.set(key, (memo = new PodMemo<SliceEntry>(compareSliceEntries, true)));
    const changed = this.index.changes(key);
    const entries = memo.values(svc, pods, (pod) => podSliceEntry(svc, pod), changed);
    const triggerTime = this.triggers.compute(key, svc, pods, changed);
    this.index.changesDone(key);
    const last = this.settled.get(key);
    this.settled.delete(key);
    const sameSlices = !!last && sameVersions(last.slices, existing);
    if (last && last.svc === svc && last.entries === entries && sameSlices) {
      this.settled.set(key, last);
      return;
    }
    const sentTo = (s: Obj) => {
      const w = this.sent.get(objectKey(s));
      return w && w.rv === s.metadata.resourceVersion ? w.endpoints : undefined;
    };
    // From the changed pods when the slices are as the last sync left them for the entries the changes start from.
    let plan: SlicePlan | undefined;
    let book: SliceBook | undefined;
    let groups: Map<string, PortGroup> | undefined;
    const delta = memo.delta;
    if (last && sameSlices && last.svc === svc && delta && delta.from === last.entries) {
      book = last.book ?? SliceBook.build(svc, last.entries, existing, (s) => sentTo(s) ?? s.endpoints ?? [], this.max);
      plan = book?.planFromChanges(svc, existing, delta.changes, entries.length, triggerTime, this.max);
    }
    if (!plan) {
      book = undefined;
      groups = last && last.svc === svc && last.entries === entries && last.groups ? last.groups : groupsFromSorted(entries);
      plan = planSlices(svc, existing, groups, triggerTime, this.max, sentTo);
    }
    // Creations before deletions, so that consumers never see the service with no endpoints in between.
    const created: string[] = [];
    for (const s of plan.create) {
      try {
        const written = await this.client.create(this.sliceResource, namespace, s);
        created.push(written.metadata.name);
        this.wrote(s, written);
        book?.created(written.metadata.name, s.endpoints);
      } catch (err) {
        if (err instanceof ApiError && err.code === 403) {
          log('debug', 'endpointslice-controller', 'cannot create slice', { service: key, error: err.message });
          return;
        }
        throw err;
      }
    }
    for (const s of plan.update) this.wrote(s, await this.client.update(this.sliceResource, s));
    for (const s of plan.delete) {
      await this.client.delete(this.sliceResource, namespace, s.metadata.name, { preconditions: { uid: s.metadata.uid } }).catch(ignoreNotFound);
      this.slices.remove(s);
      this.sent.delete(objectKey(s));
    }
    const slices = this.slicesOf(key).filter((s) => s.addressType === 'IPv4');
    // What the next sync may take as planned (to write nothing, or to plan from the changed pods):
    // only slices as we wrote them or as this plan found them. Another writer's change, creation or
    // deletion that came in during our writes is neither; its event has queued the next sync, which
    // then plans in full.
    if (!this.asPlanned(slices, existing, plan, created, sentTo)) return;
    this.settled.set(key, { svc, entries, groups, slices, book });
  }

  /** Whether `slices`, found after carrying out `plan` on `existing`, are exactly what it left. */
  private asPlanned(slices: Obj[], existing: Obj[], plan: SlicePlan, created: string[], sentTo: (s: Obj) => Obj[] | undefined): boolean {
    const before = new Map<string, string>();
    for (const s of existing) before.set(s.metadata.name, s.metadata.resourceVersion);
    for (const s of plan.delete) before.delete(s.metadata.name);
    const names = new Set<string>();
    for (const s of slices) {
      names.add(s.metadata.name);
      if (sentTo(s) === undefined && (before.get(s.metadata.name) !== s.metadata.resourceVersion || s.metadata.resourceVersion === undefined)) return false;
    }
    for (const name of before.keys()) if (!names.has(name)) return false;
    return created.every((name) => names.has(name));
  }

  private wrote(sent: Obj, written: Obj): void {
    this.slices.upsert(written);
    this.sent.set(objectKey(written), { rv: written.metadata.resourceVersion, endpoints: sent.endpoints });
  }
}

/**
 * Whether two lists hold the same versions of the same slices (in any order). By version, not by
 * object: the informer's echo of our own write is another object of the version the write returned.
 */
function sameVersions(a: Obj[], b: Obj[]): boolean {
  if (a.length !== b.length) return false;
  if (a.every((x, i) => x === b[i])) return true;
  const rv = new Map<string, string>();
  for (const x of a) rv.set(x.metadata.name, x.metadata.resourceVersion);
  return b.every((x) => x.metadata.resourceVersion !== undefined && rv.get(x.metadata.name) === x.metadata.resourceVersion);
}

function serviceKeyOf(slice: Obj): string | undefined {
  const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return name ? `${slice.metadata.namespace}/${name}` : undefined;
}

