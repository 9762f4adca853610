// The volume controller: upstream's persistent volume binder, the pvc/pv protection controllers
// and a local-path provisioner in one component. It keeps a default StorageClass, provisions a
// directory-backed PersistentVolume per claim of that class, binds claims to volumes (also to
// volumes an administrator made by hand), carries out reclaim policies and holds claims and
// volumes in use back from deletion. Decisions live in plan.ts; this file only applies them.
import { rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Obj, ResourceDef } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer, objectKey } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { EventRecorder } from '../../client/events.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { NewestView } from '../endpoints/view.ts';
import { ANN_BETA_STORAGE_PROVISIONER, ANN_STORAGE_PROVISIONER } from './match.ts';
import {
  PROVISIONER,
  LOCAL_PATH_DIR_ANNOTATION,
  boundClaimStatus,
  claimBoundTo,
  claimProtection,
  nodePlanningInputs,
  defaultStorageClassObject,
  planClaim,
  planVolume,
  provisionedVolume,
  releaseControllerFinalizer,
  unboundVolume,
  volumeBoundTo,
  volumeNameFor,
  volumeProtection,
  type FinalizerChange,
  type VolumeAction,
  type World,
} from './plan.ts';
import { cloneJson } from '../../util/json.ts';
import { DirectoryMaker } from './directories.ts';
import { OwnWrites } from './own-writes.ts';
import { VolumeResizer } from './resizer.ts';
import { PodsByClaim } from './pod-claims.ts';

export interface VolumeControllerOptions {
  /** Volumes live in <dataDir>/volumes/<pv-name>. */
  dataDir: string;
  /** Where Immediate-mode claims are provisioned; by default the first Ready node. */
  defaultNodeName?: string;
  /**
   * Who creates the default StorageClass: upstream that is the addon manager, not a controller, so
   * it is not in persistent-volume-binder's role. By default the controller's own client.
   */
  addonClient?: Client;
  /** How long pods stay watched after the last deleting claim is gone (pod-claims.ts); 30 s by default. */
  podWatchLingerMs?: number;
}

const COMPONENT = 'persistentvolume-controller';

const isNotFound = (err: unknown) => err instanceof ApiError && err.code === 404;
const ignoreNotFound = (err: unknown) => {
  if (!isNotFound(err)) throw err;
};

/** Logs a failed sync (conflicts are routine) and hands it back to the queue for a retry. */
const retryLater = (what: string, key: string) => (err: unknown) => {
  log('debug', COMPONENT, 'sync failed, will retry', { [what]: key, error: String(err) });
  throw err;
};

const NO_PODS: readonly Obj[] = Object.freeze([]);
/** The annotations a claim bound to a volume we provisioned gets (read only, shared by every bind). */
const PROVISIONED_ANNOTATIONS: Record<string, string> = Object.freeze({ [ANN_STORAGE_PROVISIONER]: PROVISIONER, [ANN_BETA_STORAGE_PROVISIONER]: PROVISIONER });

const claimKeyOfRef = (ref: Obj | undefined) => (ref?.name ? `${ref.namespace ?? ''}/${ref.name}` : undefined);

export class VolumeController {
  private readonly client: Client;
  private readonly opts: VolumeControllerOptions;
  private readonly volumesDir: string;
  private readonly pvcs: ResourceDef;
  private readonly pvs: ResourceDef;
  private readonly scs: ResourceDef;
  private readonly claimInformer: Informer;
  private readonly volumeInformer: Informer;
  private readonly classInformer: Informer;
  private readonly nodeInformer: Informer;
  /** Pods by the claims they name, watched only while claims are deleting (pod-claims.ts). */
  private readonly pods: PodsByClaim;
  private readonly claims = new NewestView((key, _old, c) => this.trackDeleting(key, c));
  /**
   * Claims on their way out: the only ones a pod's change can concern (pvc-protection). Usually
   * none, and then no pod is watched at all.
   */
  private readonly deletingClaims = new Set<string>();
  private readonly volumes: NewestView;
  /** Volumes nobody claims, and volumes by the claim they name: the only candidates a claim needs. */
  private readonly freeVolumes = new Map<string, Obj>();
  private readonly volumesByClaim = new Map<string, Set<string>>();
  private readonly claimQueue: WorkQueue;
  /** The binding chain's own writes, whose echoes need no sync (own-writes.ts). */
  private readonly ownClaimWrites = new OwnWrites();
  private readonly ownVolumeWrites = new OwnWrites();
  private readonly volumeQueue: WorkQueue;
  private readonly events: EventRecorder;
  /** Grows the volumes of claims whose request grew (resize-plan.ts). */
  private readonly resizer: VolumeResizer;
  /** World-writable like upstream's local-path provisioner's, as containers may run as any user. */
  private readonly directories = new DirectoryMaker(0o777);
  private retroactiveDefaultClass = true;
  /** The classes, listed once per change of any rather than once per claim sync. */
  private classList: Obj[] | undefined;
  /** What planClaim reads, reused by every sync: planning is synchronous, so no two syncs share it at once. */
  private readonly planWorld: World;
  private markReady!: () => void;
  private readonly ready = new Promise<void>((r) => (this.markReady = r));

  constructor(client: Client, opts: VolumeControllerOptions) {
    this.client = client;
    this.opts = opts;
    this.volumesDir = join(opts.dataDir, 'volumes');
    this.pvcs = client.resource('', 'persistentvolumeclaims');
    this.pvs = client.resource('', 'persistentvolumes');
    this.scs = client.resource('storage.k8s.io', 'storageclasses');
    this.events = new EventRecorder(client, COMPONENT);
    this.resizer = new VolumeResizer(client);
    this.volumes = new NewestView((key, old, obj) => this.indexVolume(key, old, obj));
    // Each claim is a chain of awaited writes (provision, volume, bind both sides), each waiting for a
    // group commit: many claims in flight let one commit carry many of them. On a loaded machine all
    // 64 workers stay busy through a 1,000-claim burst, yet 256 did not bind claims sooner: the wait
    // moved to the scheduler's selected-node decisions (two alternating Parallel 0 -> 1,000 rounds,
    // load 12-16: claim created -> Bound 2.8 / 3.6 s at 256 against 6.1 / 3.5 s at 64).
    this.claimQueue = new WorkQueue(async (key) => {
      await this.ready;
      await this.syncClaim(key).catch(retryLater('claim', key));
    }, 64);
    this.volumeQueue = new WorkQueue(async (key) => {
      await this.ready;
      await this.syncVolume(key).catch(retryLater('volume', key));
    }, 64);

    this.claimInformer = new Informer(client, this.pvcs);
    this.claimInformer.on({
      add: (c) => this.onClaim(c),
      update: (_o, c) => this.onClaim(c),
      delete: (c) => {
        this.claims.remove(c);
        this.ownClaimWrites.forget(objectKey(c));
        for (const name of this.volumesByClaim.get(objectKey(c)) ?? []) this.volumeQueue.add(name);
        if (c.spec?.volumeName) this.volumeQueue.add(c.spec.volumeName);
      },
    });
    this.volumeInformer = new Informer(client, this.pvs);
    this.volumeInformer.on({
      add: (v) => this.onVolume(v),
      update: (_o, v) => this.onVolume(v),
      delete: (v) => {
        this.volumes.remove(v);
        this.ownVolumeWrites.forget(v.metadata.name);
        const claimKey = claimKeyOfRef(v.spec?.claimRef);
        if (claimKey) this.claimQueue.add(claimKey);
      },
    });
    this.classInformer = new Informer(client, this.scs);
    this.nodeInformer = new Informer(client, client.resource('', 'nodes'));
    // A new class or node can unblock pending claims.
    const requeuePending = () => this.enqueuePendingClaims();
    const classesChanged = () => {
      this.classList = undefined;
      requeuePending();
    };
    this.classInformer.on({ add: classesChanged, update: classesChanged, delete: () => (this.classList = undefined) });
    // Heartbeats (every node, every minute) change nothing a claim's plan reads: requeueing every
    // pending claim for them would cost O(claims) per heartbeat.
    this.nodeInformer.on({ add: requeuePending, update: (o, n) => nodePlanningInputs(o) !== nodePlanningInputs(n) && requeuePending() });
    this.pods = new PodsByClaim(
      client,
      (claimKey) => {
        if (this.deletingClaims.has(claimKey)) this.claimQueue.add(claimKey);
      },
      opts.podWatchLingerMs,
    );
    const nodeInformer = this.nodeInformer;
    const classes = () => (this.classList ??= this.classInformer.list());
    let nodes: Obj[] | undefined;
    this.planWorld = {
      get classes() {
        return classes();
      },
      volumes: [],
      // Listed only when the plan asks (placing an Immediate claim without a default node): a
      // selected node is looked up by name instead, and the list is a copy of every node.
      get nodes() {
        return (nodes ??= nodeInformer.list());
      },
      nodeNamed: (name) => nodeInformer.get(undefined, name),
      defaultNodeName: opts.defaultNodeName,
      retroactiveDefaultClass: true,
    };
    // Nodes change rarely; a stale list would only pick a node that is not Ready any more.
    this.nodeInformer.on({ add: () => (nodes = undefined), update: () => (nodes = undefined), delete: () => (nodes = undefined) });
  }

  /** Whether pods are being watched now: only while claims are deleting, and a while after. */
  get watchingPods(): boolean {
    return this.pods.watching;
  }

  /** Keeps deletingClaims current, and pods watched exactly while it is not empty. */
  private trackDeleting(key: string, c: Obj | undefined): void {
    if (c?.metadata.deletionTimestamp) {
      if (this.deletingClaims.size === 0) void this.pods.want();
      this.deletingClaims.add(key);
    } else if (this.deletingClaims.delete(key) && this.deletingClaims.size === 0) {
      this.pods.idle();
    }
  }

  async start(): Promise<void> {
    await this.ensureDefaultClass();
    const informers = [this.classInformer, this.nodeInformer, this.volumeInformer, this.claimInformer];
    await Promise.all(informers.map((i) => i.start()));
    await Promise.all(informers.map((i) => i.waitForSync()));
    this.markReady();
  }

  stop(): void {
    for (const i of [this.classInformer, this.nodeInformer, this.volumeInformer, this.claimInformer]) i.stop();
    this.pods.stop();
    this.claimQueue.stop();
    this.volumeQueue.stop();
    this.directories.stop();
  }

  /** Creates the default class when missing; an existing one (possibly edited by the user) is left alone. */
  private async ensureDefaultClass(): Promise<void> {
    const sc = defaultStorageClassObject();
    try {
      await this.client.get(this.scs, undefined, sc.metadata.name);
      return;
    } catch (err) {
      ignoreNotFound(err);
    }
    await (this.opts.addonClient ?? this.client).create(this.scs, undefined, sc).catch((err) => {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    });
  }

  // ---------------------------------------------------------------- cache upkeep

  private onClaim(c: Obj): void {
    this.claims.upsert(c);
    const key = objectKey(c);
    if (!this.ownClaimWrites.absorbs(key, c)) this.claimQueue.add(key);
  }

  private onVolume(v: Obj): void {
    this.volumes.upsert(v);
    if (!this.ownVolumeWrites.absorbs(v.metadata.name, v)) this.volumeChanged(v.metadata.name);
  }

  /** A volume changed: it, and the claim it names (or, when free, every pending claim), need a sync. */
  private volumeChanged(name: string): void {
    this.volumeQueue.add(name);
    const v = this.volumes.get(name);
    const claimKey = claimKeyOfRef(v?.spec?.claimRef);
    if (claimKey) this.claimQueue.add(claimKey);
    else if (v) this.enqueuePendingClaims();
  }

  private indexVolume(name: string, old: Obj | undefined, obj: Obj | undefined): void {
    // The usual change (a phase, a finalizer) keeps the claim the volume names: nothing moves.
    const oldRef = old?.spec?.claimRef;
    const ref = obj?.spec?.claimRef;
    if (oldRef && ref && (oldRef === ref || (oldRef.name === ref.name && oldRef.namespace === ref.namespace)) && ref.name) return;
    const oldKey = claimKeyOfRef(old?.spec?.claimRef);
    if (oldKey) {
      const set = this.volumesByClaim.get(oldKey);
      set?.delete(name);
      if (set?.size === 0) this.volumesByClaim.delete(oldKey);
    }
    this.freeVolumes.delete(name);
    if (!obj) return;
    const key = claimKeyOfRef(obj.spec?.claimRef);
    if (!key) {
      this.freeVolumes.set(name, obj);
      return;
    }
    let set = this.volumesByClaim.get(key);
    if (!set) this.volumesByClaim.set(key, (set = new Set()));
    set.add(name);
  }

  private enqueuePendingClaims(): void {
    for (const c of this.claims.values()) if (!c.spec?.volumeName && !c.metadata.deletionTimestamp) this.claimQueue.add(objectKey(c));
  }

  /** The volumes a claim could bind to: the ones pre-bound to it, the free ones, and the one it names. */
  private candidatesFor(claim: Obj): Obj[] {
    const preBound = this.volumesByClaim.get(objectKey(claim));
    // Usually no volume is free and none names the claim yet: no merge to build.
    if (!preBound && !claim.spec?.volumeName) return this.freeVolumes.size === 0 ? [] : [...this.freeVolumes.values()];
    const out = new Map<string, Obj>(this.freeVolumes);
    for (const name of preBound ?? []) {
      const v = this.volumes.get(name);
      if (v) out.set(name, v);
    }
    const named = claim.spec?.volumeName && this.volumes.get(claim.spec.volumeName);
    if (named) out.set(named.metadata.name, named);
    return [...out.values()];
  }

  private world(claim: Obj): World {
    const w = this.planWorld;
    w.volumes = this.candidatesFor(claim);
    w.retroactiveDefaultClass = this.retroactiveDefaultClass;
    return w;
  }

  // ---------------------------------------------------------------- claims

  private async syncClaim(key: string): Promise<void> {
    let claim = this.claims.get(key);
    if (!claim) return;
    if (claim.metadata.deletionTimestamp && !this.pods.ready) {
      // Pods are watched from the first deleting claim on: wait for their list before judging.
      if (!(await this.pods.want())) {
        this.claimQueue.addAfter(key, 100);
        return;
      }
      claim = this.claims.get(key);
      if (!claim) return;
    }
    // Pods matter only to a claim on its way out, and only those that name it.
    const change = claimProtection(claim, claim.metadata.deletionTimestamp ? this.pods.podsOf(key) : NO_PODS);
    if (change) {
      claim = await this.changeFinalizer(this.pvcs, claim, change);
      if (!claim) return;
      this.claims.upsert(claim);
    }
    // A claim on its way out gets no new volume; its bound volume stays bound until it is gone.
    if (claim.metadata.deletionTimestamp) return;
    const action = planClaim(claim, this.world(claim));
    switch (action.kind) {
      case 'none':
        return;
      case 'bind':
        await this.bind(action.volume, claim);
        return;
      case 'assignDefaultClass': {
        const next = cloneJson(claim);
        next.spec.storageClassName = action.className;
        try {
          this.claims.upsert(await this.client.update(this.pvcs, next));
        } catch (err) {
          if (err instanceof ApiError && err.code === 422) {
            // This API server does not let a claim's class be set after creation: stop trying.
            log('warn', COMPONENT, 'cannot assign the default storage class to an existing claim', { claim: key, error: err.message });
            this.retroactiveDefaultClass = false;
            this.claimQueue.add(key);
            return;
          }
          throw err;
        }
        return;
      }
      case 'provision':
        await this.provision(claim, action.className, action.node);
        return;
      case 'event':
        this.events.event(claim, action.type, action.reason, action.message);
        if (action.requeue) this.claimQueue.addAfter(key, 2000);
        return;
      case 'lost':
        this.events.event(claim, 'Warning', action.reason, action.message);
        if (claim.status?.phase !== 'Lost') {
          this.claims.upsert(await this.client.update(this.pvcs, { ...claim, status: { ...(claim.status ?? {}), phase: 'Lost' } }, 'status'));
        }
        return;
    }
  }

  /**
   * Binds in upstream's order: volume → claim, volume phase, claim → volume, claim phase. Each step
   * is skipped when done. The states written are taken to their end here (the volume's checked,
   * the claim's resize step run), so their echoes need no sync.
   */
  private async bind(volume: Obj, claim: Obj, extraClaimAnnotations?: Record<string, string>): Promise<void> {
    const name: string = volume.metadata.name;
    const key = objectKey(claim);
    const v = volumeBoundTo(volume, claim);
    if (v) volume = await this.writeVolume(name, v);
    if (volume.status?.phase !== 'Bound') volume = await this.writeVolume(name, { ...volume, status: { phase: 'Bound' } }, 'status');
    const c = claimBoundTo(claim, volume, extraClaimAnnotations);
    if (c) claim = await this.writeClaim(key, c);
    const status = boundClaimStatus(claim, volume);
    if (status) claim = await this.writeClaim(key, { ...claim, status }, 'status');
    // What a sync of the volume would find to do; normally nothing, as it is bound to this claim now.
    if (volumeProtection(volume) || releaseControllerFinalizer(volume) || planVolume(volume, claim).kind !== 'none') this.volumeQueue.add(name);
    await this.resize(key);
  }

  /**
   * An update of a volume in the binding chain, whose result goes into the view: its echo needs no
   * sync (own-writes.ts), unless somebody else's change came in meanwhile.
   */
  private async writeVolume(name: string, obj: Obj, subresource?: 'status'): Promise<Obj> {
    this.ownVolumeWrites.begin(name);
    let written: Obj | undefined;
    try {
      written = await this.client.update(this.pvs, obj, subresource);
    } finally {
      if (this.ownVolumeWrites.end(name, written)) this.volumeChanged(name);
    }
    this.volumes.upsert(written);
    return written;
  }

  /** As writeVolume, for the claim. */
  private async writeClaim(key: string, obj: Obj, subresource?: 'status'): Promise<Obj> {
    this.ownClaimWrites.begin(key);
    let written: Obj | undefined;
    try {
      written = await this.client.update(this.pvcs, obj, subresource);
    } finally {
      if (this.ownClaimWrites.end(key, written)) this.claimQueue.add(key);
    }
    this.claims.upsert(written);
    return written;
  }

  /** One step of an expansion of a bound claim; the write it makes brings the claim (or its volume) back for the next. */
  private async resize(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim?.spec?.volumeName) return;
    const written = await this.resizer.step(claim, this.volumes.get(claim.spec.volumeName));
    if (written?.claim) this.claims.upsert(written.claim);
    if (written?.volume) this.volumes.upsert(written.volume);
  }

  private async provision(claim: Obj, className: string, node: string): Promise<void> {
    const sc = this.classInformer.get(undefined, className);
    if (!sc) return;
    const name = volumeNameFor(claim);
    let volume = this.volumes.get(name);
    if (!volume) {
      // A node on another machine keeps its volumes on its own disk, where it makes the directory
      // when a pod first mounts it; the server's own nodes get one under the server's data dir.
      const nodeDir: string | undefined = this.nodeInformer.get(undefined, node)?.metadata.annotations?.[LOCAL_PATH_DIR_ANNOTATION];
      // The name is pvc-<uid>: nothing in it for join() to normalize under our own directory.
      const path = nodeDir ? join(nodeDir, name) : `${this.volumesDir}${sep}${name}`;
      if (!nodeDir) await this.directories.make(path);
      const pv = provisionedVolume(claim, sc, node, path);
      this.ownVolumeWrites.begin(name);
      let created: Obj | undefined;
      try {
        created = await this.client.create(this.pvs, undefined, pv);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      } finally {
        if (this.ownVolumeWrites.end(name, created)) this.volumeChanged(name);
      }
      if (created) {
        volume = created;
        this.events.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name} using ${PROVISIONER}`);
        log('info', COMPONENT, 'provisioned volume', { claim: objectKey(claim), volume: name, node, path });
      } else {
        volume = await this.client.get(this.pvs, undefined, name);
      }
      this.volumes.upsert(volume);
    }
    await this.bind(volume, claim, PROVISIONED_ANNOTATIONS);
  }

  // ---------------------------------------------------------------- volumes

  private async syncVolume(name: string): Promise<void> {
    let pv = this.volumes.get(name);
    if (!pv) return;
    const protection = volumeProtection(pv);
    if (protection) {
      pv = await this.changeFinalizer(this.pvs, pv, protection);
      if (!pv) return;
      this.volumes.upsert(pv);
    }
    const release = releaseControllerFinalizer(pv);
    if (release) {
      if (release === 'deleteAssetThenRelease') await this.removeDirectory(pv);
      pv = await this.changeFinalizer(this.pvs, pv, { remove: 'kubernetes.io/pv-controller' });
      if (!pv) return;
      this.volumes.upsert(pv);
    }
    const claim = await this.claimOf(pv);
    await this.applyVolumeAction(pv, planVolume(pv, claim));
  }

  /** The claim a volume names; a miss in the cache is confirmed with the API server before it counts. */
  private async claimOf(pv: Obj): Promise<Obj | undefined> {
    const ref = pv.spec?.claimRef;
    if (!ref?.uid) return undefined;
    const cached = this.claims.get(`${ref.namespace}/${ref.name}`);
    if (cached && cached.metadata.uid === ref.uid) return cached;
    const phase = pv.status?.phase;
    if (phase === 'Released' || phase === 'Failed') return cached;
    try {
      return await this.client.get(this.pvcs, ref.namespace, ref.name);
    } catch (err) {
      ignoreNotFound(err);
      return undefined;
    }
  }

  private async applyVolumeAction(pv: Obj, action: VolumeAction): Promise<void> {
    switch (action.kind) {
      case 'none':
        return;
      case 'phase': {
        const status: Obj = { phase: action.phase };
        if (action.message) status.message = action.message;
        const updated = await this.client.update(this.pvs, { ...pv, status: { ...status, lastPhaseTransitionTime: pv.status?.lastPhaseTransitionTime } }, 'status').catch((err) => {
          ignoreNotFound(err);
          return undefined;
        });
        if (!updated) return;
        this.volumes.upsert(updated);
        if (action.then) await this.applyVolumeAction(updated, action.then);
        return;
      }
      case 'deleteAsset':
        await this.removeDirectory(pv);
        if (!pv.metadata.deletionTimestamp) {
          log('info', COMPONENT, 'deleting released volume', { volume: pv.metadata.name });
          await this.client.delete(this.pvs, undefined, pv.metadata.name, { preconditions: { uid: pv.metadata.uid } }).catch(ignoreNotFound);
        }
        return;
      case 'enqueueClaim':
        this.claimQueue.add(`${action.namespace}/${action.name}`);
        return;
      case 'unbind':
        this.volumes.upsert(await this.client.update(this.pvs, unboundVolume(pv, action.keepClaimName)));
        return;
      case 'event':
        this.events.event(pv, action.type, action.reason, action.message);
        return;
    }
  }

  private async removeDirectory(pv: Obj): Promise<void> {
    // Only ever our own directory for this name, whatever path the object claims.
    const name: string = pv.metadata.name;
    if (!name || name.includes('/') || name.startsWith('.')) return;
    await rm(join(this.volumesDir, name), { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- finalizers

  /**
   * Adds or removes one finalizer by an update of the version judged (a newer one conflicts, and
   * the sync is retried); undefined when the object is gone. An update, not a patch: the roles
   * upstream gives the controllers that do this (persistent-volume-binder, pvc-protection- and
   * pv-protection-controller) grant update on claims and volumes, not patch, and in `ordinal up`
   * this controller acts as persistent-volume-binder.
   */
  private async changeFinalizer(r: ResourceDef, obj: Obj, change: NonNullable<FinalizerChange>): Promise<Obj | undefined> {
    const current: string[] = obj.metadata.finalizers ?? [];
    const finalizers = 'add' in change ? [...current, change.add] : current.filter((f) => f !== change.remove);
    try {
      // A shallow copy: the cached object is shared, and the update copies what it is given.
      const updated = await this.client.update(r, { ...obj, metadata: { ...obj.metadata, finalizers } });
      // Removing the last finalizer of a deleted object removes the object.
      if (updated.metadata.deletionTimestamp && finalizers.length === 0) return undefined;
      return updated;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

}
