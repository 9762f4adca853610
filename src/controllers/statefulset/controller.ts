// The StatefulSet controller: informers on StatefulSets, Pods, ControllerRevisions and claims, a
// work queue keyed by namespace/name, and a sync that adopts and releases, settles the revisions,
// asks the control (control.ts) what to do, lets pod control (podcontrol.ts) do it, writes the
// status and trims the history. Level-triggered: every sync starts from what the API holds.
import type { Obj, ResourceDef } from '../../api/resource.ts';
import { labelSelectorFromObject, type LabelSelector } from '../../api/selectors/index.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { EventRecorder } from '../../client/events.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { ControllerHistory } from '../history/control.ts';
import { controllerOf, revisionsToTruncate, sortRevisions } from '../history/history.ts';
import { OwnedMemo, adoptPatch, claimDecision, ownedOrOrphanRevisions, releasePatch } from './adoption.ts';
import { completeRollingUpdate, planSync, statusNeedsWrite, statusToJson, type Action, type SetStatus, type SyncPlan } from './control.ts';
import { SET_KIND, isReady, parentAndOrdinal, podRevision, replicasOf } from './identity.ts';
import { StatefulPodControl } from './podcontrol.ts';
import { ReplicaMemo } from './memo.ts';
import { claimChangeMatters, jsonEqual, podChangeIsStatusOnly, setChangeIsStatusOnly } from './triggers.ts';
import { UpdateRevisionMemo, findCurrentRevision } from './revisions.ts';
import { planProgress, withProgress, type ProgressDecision } from './progress.ts';
import { progressMetrics } from './progress-metrics.ts';
import { registerMetricsSource } from '../../apiserver/metrics.ts';
import { ClaimUpdater } from './claim-updater.ts';
import { SteadyWalk } from './steady-walk.ts';
import { claimSizeChanged } from './claim-update.ts';
import { eachInFlight } from '../../util/in-flight.ts';

/** How many times its own walk a set waits before an event-driven sync (see enqueue); at most MAX_PACED_MS is counted. */
const SYNC_PACING = 2;
const MAX_PACED_MS = 50;
/** A status-only change of a steady set's pod is looked at after this many µs per pod of the set (see enqueueStatusChange), at most MAX_STATUS_WAIT_MS. */
const STATUS_PACING_US = 200;
const MAX_STATUS_WAIT_MS = 500;
const COMPONENT = 'statefulset-controller';
/** Upstream caps Parallel batches at this many requests in flight. */
const MAX_BATCH = 500;
/** Pods adopted or released at once (upstream's controller-ref manager patches one at a time). */
const CLAIMS_IN_FLIGHT = 16;

export interface StatefulSetControllerOptions {
  /** Sets synced at once (one key is never synced twice at the same time). Default 4. */
  workers?: number;
  /** Clock in ms, for minReadySeconds; tests may pin it. */
  now?: () => number;
}

const isCode = (err: unknown, code: number) => err instanceof ApiError && err.code === code;
const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** One pod known to the index: its latest object, and the groups it is filed under. */
interface IndexEntry {
  pod: Obj;
  /** `<namespace>/<set name its own name implies>`. */
  parent: string;
  owner: string | undefined;
}

/**
 * Pods of a namespace grouped by the set name their own name implies, and by controller uid (the
 * latest object of each). Entries are found by namespace and name, and a new version of a pod whose
 * controller stays only replaces the object in its entry: every pod event passes through here.
 */
class PodIndex {
  private readonly byParent = new Map<string, Set<IndexEntry>>();
  private readonly byOwner = new Map<string, Set<IndexEntry>>();
  private readonly entries = new Map<string, Map<string, IndexEntry>>();

  upsert(pod: Obj): void {
    const ns: string = pod.metadata.namespace ?? '';
    const owner = controllerOf(pod)?.uid as string | undefined;
    let bucket = this.entries.get(ns);
    const e = bucket?.get(pod.metadata.name);
    // The parent comes from the name: only the owner can move a known pod.
    if (e && e.owner === owner) {
      e.pod = pod;
      return;
    }
    if (e) this.remove(pod);
    if (!bucket) this.entries.set(ns, (bucket = new Map()));
    const entry: IndexEntry = { pod, parent: `${ns}/${parentAndOrdinal(pod.metadata.name).parent}`, owner };
    bucket.set(pod.metadata.name, entry);
    add(this.byParent, entry.parent, entry);
    if (owner) add(this.byOwner, owner, entry);
  }

  remove(pod: Obj): void {
    const ns: string = pod.metadata.namespace ?? '';
    const bucket = this.entries.get(ns);
    const e = bucket?.get(pod.metadata.name);
    if (!e) return;
    bucket!.delete(pod.metadata.name);
    if (!bucket!.size) this.entries.delete(ns);
    del(this.byParent, e.parent, e);
    if (e.owner) del(this.byOwner, e.owner, e);
  }

  /** Pods named like the set's or controlled by it. */
  candidates(set: Obj): Obj[] {
    const parent = `${set.metadata.namespace}/${set.metadata.name}`;
    const named = this.byParent.get(parent);
    const owned = this.byOwner.get(set.metadata.uid);
    const out: Obj[] = [];
    if (named) for (const e of named) out.push(e.pod);
    if (owned) for (const e of owned) if (e.parent !== parent) out.push(e.pod);
    return out;
  }
}

function add(m: Map<string, Set<IndexEntry>>, k: string, e: IndexEntry) {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(e);
}
function del(m: Map<string, Set<IndexEntry>>, k: string, e: IndexEntry) {
  const s = m.get(k);
  s?.delete(e);
  if (s && !s.size) m.delete(k);
}

/**
 * What happened to a set since a sync last read its pods: a change that may lead to another
 * decision (structural), or only status changes of these pods of it.
 */
interface SetChanges {
  structural: boolean;
  pods: Set<string>;
}

/** What the controller remembers of a set between syncs; every entry is checked against the objects it came from. */
interface SetMemo {
  replicas: ReplicaMemo;
  owned: OwnedMemo;
  revision: UpdateRevisionMemo;
}

export class StatefulSetController {
  private readonly client: Client;
  private readonly now: () => number;
  private readonly setsResource: ResourceDef;
  private readonly podsResource: ResourceDef;
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly revisions: Informer;
  private readonly claims: Informer;
  private readonly podIndex = new PodIndex();
  private readonly queue: WorkQueue;
  /** Per set key: performance.now() before which an event-driven sync is deferred (see enqueue). */
  private readonly earliestSync = new Map<string, number>();
  /** Per steady set key (see SyncPlan.steady): how long a status-only pod change may wait for a sync. */
  private readonly steadyWait = new Map<string, number>();
  /** Per set key: the timer of a sync deferred for status-only changes (see enqueueStatusChange). */
  private readonly statusTimers = new Map<string, NodeJS.Timeout>();
  /** Per set key: what the last walks found (see memo.ts), and the pods already known to be owned. */
  private readonly memos = new Map<string, SetMemo>();
  /** Per steady set key: its last walk, which status-only changes are counted into (steady-walk.ts). */
  private readonly steadyWalks = new Map<string, SteadyWalk>();
  /** Per set key: what changed since its last sync read its pods (see takeChanges). */
  private readonly changes = new Map<string, SetChanges>();
  private readonly podControl: StatefulPodControl;
  private readonly recorder: EventRecorder;
  /** Grows existing claims to their template's request (volumeClaimUpdatePolicy: InPlace). */
  private readonly claimUpdater: ClaimUpdater;
  private readonly history: ControllerHistory;
  private ready = false;
  private stopped = false;

  constructor(client: Client, opts: StatefulSetControllerOptions = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.setsResource = client.resource('apps', 'statefulsets');
    this.podsResource = client.resource('', 'pods');
    this.sets = new Informer(client, this.setsResource);
    this.pods = new Informer(client, this.podsResource);
    this.revisions = new Informer(client, client.resource('apps', 'controllerrevisions'));
    this.claims = new Informer(client, client.resource('', 'persistentvolumeclaims'));
    this.queue = new WorkQueue((key) => this.sync(key), opts.workers ?? 4);
    const recorder = (this.recorder = new EventRecorder(client, COMPONENT));
    this.podControl = new StatefulPodControl(client, recorder);
    this.claimUpdater = new ClaimUpdater(client, recorder);
    this.history = new ControllerHistory(client);

    const enqueueSet = (set: Obj) => this.enqueue(objectKey(set));
    this.sets.on({
      add: enqueueSet,
      // Mostly the status this controller just wrote: for a steady set, nothing to decide about.
      update: (o, n) => (setChangeIsStatusOnly(o, n) ? this.enqueueStatusChange(objectKey(n)) : enqueueSet(n)),
      delete: enqueueSet,
    });
    this.pods.on({
      add: (pod) => {
        this.podIndex.upsert(pod);
        this.podAdded(pod);
      },
      update: (old, pod) => {
        this.podIndex.upsert(pod);
        this.podUpdated(old, pod);
      },
      delete: (pod) => {
        this.podIndex.remove(pod);
        this.podDeleted(pod);
      },
    });
    // Upstream only lists claims; we also look again when one goes or changes, so a pod waiting for
    // a stale claim to be collected (whenScaled: Delete) is created as soon as it is gone. A claim's
    // status and binding are read by no decision but the growth of claims (claim-update.ts), which
    // waits for their sizes: other changes to them alone do not wake the set.
    this.claims.on({
      // A new claim is looked at by the next sync, as upstream's, which must then walk (see SteadyWalk).
      add: (c) => this.claimChanged(c, false),
      update: (o, c) => {
        if (claimChangeMatters(o, c) || claimSizeChanged(o, c)) this.claimChanged(c);
      },
      delete: (c) => this.claimChanged(c),
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    const informers = [this.sets, this.pods, this.revisions, this.claims];
    await Promise.all(informers.map((i) => i.start()));
    await Promise.all(informers.map((i) => i.waitForSync()));
    this.ready = true;
    registerMetricsSource(progressMetrics.render);
    for (const set of this.sets.list()) this.enqueue(objectKey(set));
    log('info', COMPONENT, 'started', { statefulsets: this.sets.list().length });
  }

  stop(): void {
    this.stopped = true;
    this.ready = false;
    for (const i of [this.sets, this.pods, this.revisions, this.claims]) i.stop();
    for (const t of this.statusTimers.values()) clearTimeout(t);
    this.statusTimers.clear();
    this.queue.stop();
    progressMetrics.reset();
  }

  /**
   * Event-driven syncs of a set are paced by what the last one cost: a sync walks every pod of the
   * set, and during a burst (a thousand pods starting) each pod event would otherwise trigger
   * another full walk right after the last, so the controller's cost grew with the square of the
   * set. The next sync waits SYNC_PACING times the CPU the previous one took; small sets (a
   * fraction of a millisecond) are not delayed noticeably, so OrderedReady steps stay immediate.
   * (Status-only changes of a steady set are paced separately: see enqueueStatusChange.)
   */
  private enqueue(key: string): void {
    this.touch(key);
    this.schedule(key);
  }

  /** Notes a change of the set, its pods or claims that the next sync must walk for (not a status-only one). */
  private touch(key: string): void {
    this.changesOf(key).structural = true;
  }

  private changesOf(key: string): SetChanges {
    let c = this.changes.get(key);
    if (!c) this.changes.set(key, (c = { structural: false, pods: new Set() }));
    return c;
  }

  /** What changed since the last call (for the sync about to read the set's pods). */
  private takeChanges(key: string): SetChanges {
    const c = this.changes.get(key);
    this.changes.delete(key);
    return c ?? { structural: false, pods: new Set() };
  }

  private schedule(key: string): void {
    if (!this.ready) return;
    const wait = (this.earliestSync.get(key) ?? 0) - performance.now();
    if (wait >= 1) this.queue.addBatched(key, Math.ceil(wait));
    else this.queue.add(key);
  }

  /**
   * A pod (or the set) of a steady set changed only its status (triggers.ts): no decision can change, only the
   * counts the set reports, so the sync may wait a little (longer for bigger sets, whose walks
   * cost more) and take the other changes of a burst along. Any other event syncs as usual, and a
   * sync that runs in between takes this change along and cancels the wait.
   */
  private enqueueStatusChange(key: string, pod?: Obj): void {
    if (pod) this.changesOf(key).pods.add(pod.metadata.name);
    const wait = this.steadyWait.get(key);
    if (wait === undefined || wait < 1) return this.schedule(key);
    if (!this.ready || this.statusTimers.has(key)) return;
    this.statusTimers.set(
      key,
      setTimeout(() => {
        this.statusTimers.delete(key);
        this.schedule(key);
      }, wait),
    );
  }

  private enqueueAfter(key: string, ms: number): void {
    if (this.ready) this.queue.addAfter(key, ms);
  }

  // ------------------------------------------------------------ event routing

  /** The set a controller ref points at, if it is a StatefulSet we know with that uid. */
  private resolveControllerRef(namespace: string, ref: Obj | undefined): Obj | undefined {
    if (!ref || ref.kind !== 'StatefulSet' || String(ref.apiVersion).split('/')[0] !== 'apps') return undefined;
    const set = this.sets.get(namespace, ref.name);
    return set && set.metadata.uid === ref.uid ? set : undefined;
  }

  /** Sets whose (non-empty) selector matches an orphan pod: candidates to adopt it. */
  private setsForPod(pod: Obj): Obj[] {
    const out: Obj[] = [];
    for (const set of this.sets.list(pod.metadata.namespace)) {
      let sel: LabelSelector;
      try {
        sel = labelSelectorFromObject(set.spec?.selector);
      } catch {
        continue;
      }
      if (sel.requirements.length === 0 || !sel.matches(pod.metadata.labels)) continue;
      out.push(set);
    }
    if (out.length > 1) log('warn', COMPONENT, 'more than one StatefulSet selects a pod', { pod: objectKey(pod), sets: out.map((s) => s.metadata.name) });
    return out;
  }

  private podAdded(pod: Obj): void {
    if (pod.metadata.deletionTimestamp) {
      // Seen for the first time already terminating (e.g. after a restart): not a creation.
      this.podDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const set = this.resolveControllerRef(pod.metadata.namespace, ref);
      if (set) this.enqueue(objectKey(set));
      return;
    }
    for (const set of this.setsForPod(pod)) this.enqueue(objectKey(set));
  }

  private podUpdated(old: Obj, pod: Obj): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const oldRef = controllerOf(old);
    const ref = controllerOf(pod);
    const refChanged = !jsonEqual(oldRef ?? null, ref ?? null);
    if (refChanged && oldRef) {
      const prev = this.resolveControllerRef(old.metadata.namespace, oldRef);
      if (prev) this.enqueue(objectKey(prev));
    }
    if (ref) {
      const set = this.resolveControllerRef(pod.metadata.namespace, ref);
      if (!set) return;
      if (!refChanged && podChangeIsStatusOnly(old, pod)) this.enqueueStatusChange(objectKey(set), pod);
      else this.enqueue(objectKey(set));
      const mrs = set.spec?.minReadySeconds ?? 0;
      // Becoming available is not an event of its own: look again once minReadySeconds have passed.
      if (!isReady(old) && isReady(pod) && mrs > 0) this.enqueueAfter(objectKey(set), mrs * 1000 + 1000);
      return;
    }
    const labelsChanged = !jsonEqual(old.metadata.labels ?? {}, pod.metadata.labels ?? {});
    if (labelsChanged || refChanged) for (const set of this.setsForPod(pod)) this.enqueue(objectKey(set));
  }

  private podDeleted(pod: Obj): void {
    const set = this.resolveControllerRef(pod.metadata.namespace, controllerOf(pod));
    if (set) this.enqueue(objectKey(set));
  }

  private claimChanged(claim: Obj, sync = true): void {
    const name: string = claim.metadata.name;
    for (const set of this.sets.list(claim.metadata.namespace)) {
      for (const t of set.spec?.volumeClaimTemplates ?? []) {
        const prefix = `${t.metadata?.name}-${set.metadata.name}-`;
        if (name.startsWith(prefix) && /^[0-9]+$/.test(name.slice(prefix.length))) {
          if (sync) this.enqueue(objectKey(set));
          else this.touch(objectKey(set));
          break;
        }
      }
    }
  }

  // ------------------------------------------------------------ sync

  private async sync(key: string): Promise<void> {
    if (this.stopped) return;
    // This sync sees every change so far: a deferred one need not run.
    const deferred = this.statusTimers.get(key);
    if (deferred) {
      clearTimeout(deferred);
      this.statusTimers.delete(key);
    }
    const [namespace, name] = key.split('/');
    const set = this.sets.get(namespace, name);
    if (!set) {
      this.earliestSync.delete(key);
      this.memos.delete(key);
      this.steadyWait.delete(key);
      this.steadyWalks.delete(key);
      this.changes.delete(key);
      progressMetrics.forget(key);
      return;
    }
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromObject(set.spec?.selector);
    } catch (err) {
      // Not transient: retrying cannot help.
      log('warn', COMPONENT, 'invalid selector', { statefulset: key, error: errText(err) });
      return;
    }
    const canAdopt = this.adoptionCheck(set);
    await this.adoptOrphanRevisions(set, selector, canAdopt);
    const started = performance.now();
    // Taken right before the pods are read (claimPods reads them before it first waits): what
    // changes from here on is the next sync's to look at.
    const changes = this.takeChanges(key);
    const steady = changes.structural ? undefined : this.steadyStatus(key, set, selector, changes.pods);
    if (steady) return this.syncSteady(set, steady, started);
    this.steadyWalks.delete(key);
    const pods = await this.claimPods(set, selector, canAdopt);
    await this.syncStatefulSet(set, selector, pods, started);
  }

  /**
   * Adoption re-reads the set from the API, once per sync, so that a set deleted or replaced by a
   * namesake since the cache saw it cannot adopt anything.
   */
  private adoptionCheck(set: Obj): () => Promise<void> {
    let result: Promise<void> | undefined;
    return () =>
      (result ??= (async () => {
        const fresh = await this.client.get(this.setsResource, set.metadata.namespace, set.metadata.name);
        if (fresh.metadata.uid !== set.metadata.uid) {
          throw new Error(`original StatefulSet ${set.metadata.namespace}/${set.metadata.name} is gone: got uid ${fresh.metadata.uid}, wanted ${set.metadata.uid}`);
        }
        if (fresh.metadata.deletionTimestamp) throw new Error(`${set.metadata.namespace}/${set.metadata.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
      })());
  }

  private listRevisions(set: Obj, selector: LabelSelector): Obj[] {
    return ownedOrOrphanRevisions(set, selector, this.revisions.list(set.metadata.namespace));
  }

  private async adoptOrphanRevisions(set: Obj, selector: LabelSelector, canAdopt: () => Promise<void>): Promise<void> {
    const orphans = this.listRevisions(set, selector).filter((r) => !controllerOf(r));
    if (!orphans.length) return;
    try {
      await canAdopt();
    } catch (err) {
      throw new Error(`can't adopt ControllerRevisions: ${errText(err)}`);
    }
    for (const r of orphans) await this.history.adopt(set, SET_KIND, r);
  }

  private memoOf(set: Obj) {
    const key = objectKey(set);
    let m = this.memos.get(key);
    if (!m) this.memos.set(key, (m = { replicas: new ReplicaMemo(), owned: new OwnedMemo(), revision: new UpdateRevisionMemo() }));
    return m;
  }

  /** The pods the set owns after adopting matching orphans and releasing its pods that no longer match. */
  private async claimPods(set: Obj, selector: LabelSelector, canAdopt: () => Promise<void>): Promise<Obj[]> {
    const owned: (Obj | undefined)[] = [];
    const work: { pod: Obj; adopt: boolean; slot: number }[] = [];
    const errors: string[] = [];
    const memo = this.memoOf(set).owned;
    memo.begin(set);
    for (const pod of this.podIndex.candidates(set)) {
      if (memo.isOwned(pod)) {
        owned.push(pod);
        continue;
      }
      const decision = claimDecision(set, selector, pod);
      if (decision === 'owned') {
        owned.push(pod);
        memo.remember(pod);
      } else if (decision === 'adopt') {
        work.push({ pod, adopt: true, slot: owned.length });
        owned.push(undefined);
      } else if (decision === 'release') {
        work.push({ pod, adopt: false, slot: -1 });
      }
    }
    // Several at a time, so that their commits are shared: re-creating a set to adopt the 10,000
    // pods an orphaning delete left took 12-15 s one patch at a time.
    await eachInFlight(work, CLAIMS_IN_FLIGHT, async ({ pod, adopt, slot }) => {
      const ns: string = pod.metadata.namespace;
      const name: string = pod.metadata.name;
      if (adopt) {
        try {
          await canAdopt();
          owned[slot] = await this.client.patch(this.podsResource, ns, name, 'application/strategic-merge-patch+json', adoptPatch(set, pod));
          log('info', COMPONENT, 'adopted pod', { statefulset: objectKey(set), pod: name });
        } catch (err) {
          if (!isCode(err, 404)) errors.push(errText(err));
        }
        return;
      }
      try {
        await this.client.patch(this.podsResource, ns, name, 'application/strategic-merge-patch+json', releasePatch(set, pod));
        log('info', COMPONENT, 'released pod', { statefulset: objectKey(set), pod: name });
      } catch (err) {
        // Gone, or no longer ours to release (422): nothing to do.
        if (!isCode(err, 404) && !isCode(err, 422)) errors.push(errText(err));
      }
    });
    if (errors.length) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
    return work.length ? owned.filter((p): p is Obj => p !== undefined) : (owned as Obj[]);
  }

  private async syncStatefulSet(set: Obj, selector: LabelSelector, pods: Obj[], started = performance.now()): Promise<void> {
    const key = objectKey(set);
    const namespace: string = set.metadata.namespace;
    const revisions = sortRevisions(this.listRevisions(set, selector));
    const collision = { count: set.status?.collisionCount ?? 0 };
    let current: Obj | undefined;
    let podRevisions: Set<string> | undefined;
    let update: Obj | undefined;
    let walk: SteadyWalk | undefined;
    const errors: unknown[] = [];
    try {
      const decision = this.memoOf(set).revision.decide(set, revisions, collision.count);
      if (decision.kind === 'existing') update = decision.revision;
      else if (decision.kind === 'rollback') update = await this.history.renumber(decision.revision, decision.to);
      else update = await this.history.create(set, decision.revision, collision);
      current = findCurrentRevision(set, revisions, update);

      const plan = planSync({
        set,
        pods,
        claims: (name) => this.claims.get(namespace, name),
        memo: this.memoOf(set).replicas,
        currentRevision: current,
        updateRevision: update,
        collisionCount: collision.count,
        now: this.now(),
      });
      podRevisions = plan.podRevisions;
      walk = decision.kind === 'existing' ? SteadyWalk.from(set, plan, revisions, current, update) : undefined;
      // Adopting pods and writing revisions above are rare; the walk is what a busy set pays for each sync.
      this.pace(key, started);
      if (plan.steady) this.steadyWait.set(key, Math.min((pods.length * STATUS_PACING_US) / 1000, MAX_STATUS_WAIT_MS));
      else this.steadyWait.delete(key);
      if (plan.waitingFor) log('debug', COMPONENT, 'waiting', { statefulset: key, for: plan.waitingFor });
      const { error, restoreCurrent } = await this.execute(set, plan);
      if (error) errors.push(error);
      const claimError = await this.claimUpdater.sync(set, pods, (n) => this.claims.get(namespace, n));
      if (claimError) errors.push(claimError);
      let status: SetStatus | undefined;
      try {
        status = await this.finishStatus(set, { ...plan.status, currentReplicas: plan.status.currentReplicas + restoreCurrent });
      } catch (err) {
        errors.push(err);
      }
      if (status && !errors.length) {
        const mrs = set.spec?.minReadySeconds ?? 0;
        if (mrs > 0 && status.availableReplicas !== replicasOf(set)) this.enqueueAfter(key, mrs * 1000);
      }
    } catch (err) {
      errors.push(err);
    }
    try {
      await this.truncateHistory(set, podRevisions ?? new Set(pods.map(podRevision)), revisions, current, update);
    } catch (err) {
      errors.push(err);
    }
    if (errors.length) {
      log('debug', COMPONENT, 'sync failed, will retry', { statefulset: key, errors: errors.map(errText) });
      throw errors[0];
    }
    if (walk) this.steadyWalks.set(key, walk);
  }

  /**
   * The status of a steady set whose pods changed only in status since its last walk (steady-walk.ts),
   * without a walk; undefined when a walk is needed: no steady walk kept, other revisions, or a
   * changed pod the walk cannot take in. Synchronous, so that a walk that follows reads the pods
   * as they were when the changes were taken.
   */
  private steadyStatus(key: string, set: Obj, selector: LabelSelector, changed: Set<string>): { walk: SteadyWalk; status: SetStatus } | undefined {
    const walk = this.steadyWalks.get(key);
    if (!walk) return undefined;
    const revisions = sortRevisions(this.listRevisions(set, selector));
    if (revisions.length !== walk.revisions.length || revisions.some((r, i) => r !== walk.revisions[i])) return undefined;
    const decision = this.memoOf(set).revision.decide(set, revisions, set.status?.collisionCount ?? 0);
    if (decision.kind !== 'existing' || decision.revision !== walk.update || findCurrentRevision(set, revisions, walk.update) !== walk.current) return undefined;
    const memo = this.memoOf(set).replicas;
    for (const name of changed) {
      const pod = this.pods.get(set.metadata.namespace, name);
      if (!pod || !walk.replace(pod, memo.facts(pod))) return undefined;
    }
    return { walk, status: walk.status(set) };
  }

  /** The rest of a sync for a steady set (as syncStatefulSet after a walk that planned nothing). */
  private async syncSteady(set: Obj, { walk, status }: { walk: SteadyWalk; status: SetStatus }, started: number): Promise<void> {
    const key = objectKey(set);
    this.pace(key, started);
    const waitingFor = walk.waitingFor();
    if (waitingFor) log('debug', COMPONENT, 'waiting', { statefulset: key, for: waitingFor });
    const errors: unknown[] = [];
    try {
      await this.finishStatus(set, status);
    } catch (err) {
      errors.push(err);
    }
    try {
      await this.truncateHistory(set, walk.podRevisions, walk.revisions, walk.current, walk.update);
    } catch (err) {
      errors.push(err);
    }
    if (errors.length) {
      this.steadyWalks.delete(key);
      log('debug', COMPONENT, 'sync failed, will retry', { statefulset: key, errors: errors.map(errText) });
      throw errors[0];
    }
  }

  /** The set's next sync waits in proportion to what this one's walk took (SYNC_PACING). */
  private pace(key: string, started: number): void {
    const walkMs = Math.min(performance.now() - started, MAX_PACED_MS);
    this.earliestSync.set(key, performance.now() + SYNC_PACING * walkMs);
  }

  /** Writes the status a sync arrived at, completing a finished rolling update, with its progress condition; answers what was written. */
  private async finishStatus(set: Obj, status: SetStatus): Promise<SetStatus> {
    const done = completeRollingUpdate(set, status);
    const progress = planProgress(set, done, this.now());
    await this.writeStatus(set, done, progress);
    this.progressWritten(set, progress);
    return done;
  }

  /** Runs the plan's phases in order; the first phase with a failure ends the sync. */
  private async execute(set: Obj, plan: SyncPlan): Promise<{ error?: unknown; restoreCurrent: number }> {
    let restoreCurrent = 0;
    const runUnit = async (unit: Action[]): Promise<unknown> => {
      for (const action of unit) {
        if (this.stopped) return new Error('controller stopped');
        try {
          await this.podControl.run(set, action);
        } catch (err) {
          // An update deletion that failed did not take a pod away from the current revision.
          if (action.type === 'deletePod' && action.why === 'update') restoreCurrent++;
          return err;
        }
      }
      return undefined;
    };
    for (const phase of plan.phases) {
      if (phase.sequential) {
        for (const unit of phase.units) {
          const err = await runUnit(unit);
          if (err !== undefined) return { error: err, restoreCurrent };
        }
        continue;
      }
      // Slow start: 1, 2, 4, ... units at once, so a failing API is not flooded.
      let i = 0;
      for (let size = Math.min(1, phase.units.length); size > 0; size = Math.min(2 * size, phase.units.length - i, MAX_BATCH)) {
        const results = await Promise.all(phase.units.slice(i, i + size).map(runUnit));
        i += size;
        const failed = results.filter((r) => r !== undefined);
        if (failed.length) return { error: failed.length === 1 ? failed[0] : new Error(`[${failed.map(errText).join(', ')}]`), restoreCurrent };
      }
    }
    return { restoreCurrent };
  }

  /** After a status write: the deadline's event and metric, and a look when the deadline would pass (progress.ts). */
  private progressWritten(set: Obj, d: ProgressDecision): void {
    progressMetrics.observe(objectKey(set), d);
    if (d.newlyExceeded) this.recorder.event(set, 'Warning', 'ProgressDeadlineExceeded', d.message);
    if (d.recheckAfterMs !== undefined) this.enqueueAfter(objectKey(set), d.recheckAfterMs);
  }

  /** Writes the whole computed status (and the deadline's condition, see progress.ts) through /status when it differs, retrying conflicts on a fresh read. */
  private async writeStatus(set: Obj, status: SetStatus, progress?: ProgressDecision): Promise<void> {
    if (!statusNeedsWrite(set, status) && !progress?.write) return;
    let target = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.update(this.setsResource, withProgress(target, statusToJson(status), progress), 'status');
        return;
      } catch (err) {
        if (isCode(err, 404)) return;
        if (!isCode(err, 409) || attempt >= 4) throw err;
        target = await this.client.get(this.setsResource, set.metadata.namespace, set.metadata.name);
        if (target.metadata.uid !== set.metadata.uid) return;
      }
    }
  }

  /** Deletes unused revisions beyond revisionHistoryLimit, oldest first; `podRevisions` are those the set's pods name. */
  private async truncateHistory(set: Obj, podRevisions: Set<string>, sorted: readonly Obj[], current: Obj | undefined, update: Obj | undefined): Promise<void> {
    const live = new Set(podRevisions);
    if (current) live.add(current.metadata.name);
    if (update) live.add(update.metadata.name);
    for (const r of revisionsToTruncate(sorted, live, set.spec?.revisionHistoryLimit ?? 10)) await this.history.delete(r);
  }
}
