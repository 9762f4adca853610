// The node agent finishing volume expansions for the claims its running pods mount (decisions in
// volume-expansion-logic.ts). A node may only get its pods' claims, never list or watch them (the
// Node authorizer), so it reads them as the kubelet does: when a pod starts mounting one, then
// again on a per-claim schedule (nextLookMs: soon while an expansion is under way, then backing off
// to the kubelet's pod resync), all served by one timer (due-queue.ts). Which claims are mounted
// comes from the pod informer's events, so nothing runs for a claim between its looks and nothing
// at all on a node without claims.
import type { Obj, ResourceDef } from '../api/resource.ts';
import type { Client } from '../client/client.ts';
import type { EventRecorder } from '../client/events.ts';
import { ApiError } from '../apiserver/errors.ts';
import { log } from '../util/log.ts';
import { DueQueue, type DueItem } from './due-queue.ts';
import { awaitsNodeExpansion, expansionUnderWay, finishedExpansionStatus, mountsItsVolumes, nextLookMs, podClaimNames } from './volume-expansion-logic.ts';

export interface VolumeExpansionOptions {
  /** The longest wait between two looks at a claim nothing happens to (default: nextLookMs's, the kubelet's resync). */
  maxLookMs?: number;
}

/** One mounted claim: the running pods that mount it (newest copy of each), and its next look. */
interface Mounted extends DueItem {
  key: string;
  namespace: string;
  name: string;
  /** An array, not a Map: a claim is nearly always mounted by one pod, and a node keeps one entry per claim. */
  pods: Obj[];
  /** The wait before the scheduled look; undefined before the first. */
  waitMs?: number;
  /** A look is in flight: a new pod does not start a second one. */
  looking: boolean;
}

export class NodeVolumeExpansion {
  private readonly client: Client;
  private readonly nodeName: string;
  private readonly events: EventRecorder;
  private readonly opts: VolumeExpansionOptions;
  /** Claims mounted by this node's running pods, by namespace/name. */
  private readonly claims = new Map<string, Mounted>();
  /** The claims each pod (by UID) holds, so that a pod going away releases them. */
  private readonly podClaims = new Map<string, Mounted[]>();
  /** The next look of each claim. */
  private readonly looks = new DueQueue<Mounted>((m) => this.look(m));
  private readonly lookLimits: { maxMs?: number };
  private readonly claimsResource: ResourceDef;
  private readonly volumesResource: ResourceDef;
  private started = false;
  private stopped = false;

  constructor(client: Client, nodeName: string, events: EventRecorder, opts: VolumeExpansionOptions = {}) {
    this.client = client;
    this.nodeName = nodeName;
    this.events = events;
    this.opts = opts;
    this.lookLimits = opts.maxLookMs === undefined ? {} : { maxMs: opts.maxLookMs };
    this.claimsResource = client.resource('', 'persistentvolumeclaims');
    this.volumesResource = client.resource('', 'persistentvolumes');
  }

  /** Looks at every claim already mounted, then at each on its own timer. */
  start(): void {
    this.started = true;
    for (const m of this.claims.values()) this.looks.schedule(m, 0);
  }

  stop(): void {
    this.stopped = true;
    this.looks.stop();
  }

  /** The informer's add or update of a pod bound here: a pod that starts mounting a claim has it looked at at once. */
  podChanged(pod: Obj): void {
    const uid: string = pod.metadata.uid;
    if (!mountsItsVolumes(pod)) return this.podGone(pod);
    const held = this.podClaims.get(uid);
    if (held) {
      // Still mounting: keep the newest copy (its events go to it).
      for (const m of held) putPod(m.pods, pod);
      return;
    }
    const names = podClaimNames(pod);
    if (!names.length) return;
    const namespace: string = pod.metadata.namespace;
    const mounted: Mounted[] = [];
    for (const name of names) {
      const key = `${namespace}/${name}`;
      let m = this.claims.get(key);
      if (!m) {
        this.claims.set(key, (m = { key, namespace, name, pods: [pod], looking: false }));
        if (this.started) this.looks.schedule(m, 0);
      } else {
        putPod(m.pods, pod);
      }
      mounted.push(m);
    }
    this.podClaims.set(uid, mounted);
  }

  /** A pod deleted, or no longer mounting its volumes: claims no other running pod mounts are forgotten. */
  podGone(pod: Obj): void {
    const uid: string = pod.metadata.uid;
    const held = this.podClaims.get(uid);
    if (!held) return;
    this.podClaims.delete(uid);
    for (const m of held) {
      dropPod(m.pods, uid);
      if (m.pods.length) continue;
      this.looks.cancel(m);
      if (this.claims.get(m.key) === m) this.claims.delete(m.key);
    }
  }

  /** How many claims are watched over (for tests). */
  get mountedClaims(): number {
    return this.claims.size;
  }

  /**
   * One look: a read of the claim, and the expansion finished when it waits for the node. Most
   * looks find nothing to do; theirs is one promise (the read's) and one callback, not a chain of
   * async steps: a node with a hundred claims makes hundreds of looks a minute, a cluster's nodes
   * tens of thousands while its pods start.
   */
  private look(m: Mounted): void {
    if (m.looking || this.stopped || this.claims.get(m.key) !== m) return;
    m.looking = true;
    this.client.get(this.claimsResource, m.namespace, m.name).then(
      (claim) => {
        let waitsForNode: boolean;
        try {
          // Only a claim waiting for a node costs a volume read.
          waitsForNode = !!claim.spec?.volumeName && awaitsNodeExpansion(claim);
          if (!waitsForNode) return this.looked(m, expansionUnderWay(claim));
        } catch (err) {
          return this.lookFailed(m, err);
        }
        this.finish(m, claim).then(
          (busy) => this.looked(m, busy),
          (err) => this.lookFailed(m, err),
        );
      },
      (err) => this.lookFailed(m, err),
    );
  }

  private lookFailed(m: Mounted, err: unknown): void {
    log('debug', 'agent', 'volume expansion check failed', { node: this.nodeName, claim: m.key, error: String(err) });
    this.looked(m, true);
  }

  /** A look is over: the next one is scheduled, soon while an expansion is under way (`busy`). */
  private looked(m: Mounted, busy: boolean): void {
    m.looking = false;
    // Released meanwhile (its pods stopped), or replaced by a fresh entry that schedules itself.
    if (this.claims.get(m.key) !== m || this.stopped) return;
    m.waitMs = nextLookMs(m.waitMs, busy, this.claims.size, this.lookLimits);
    // Jittered (±25 %), so that claims first seen together are not read together ever after.
    this.looks.schedule(m, m.waitMs * 0.75, m.waitMs * 1.25);
  }

  /** Finishes the expansion of a claim that waits for the node; true while it is still under way. */
  private async finish(m: Mounted, claim: Obj): Promise<boolean> {
    const claims = this.claimsResource;
    const volume = await this.client.get(this.volumesResource, undefined, claim.spec.volumeName).catch((err) => {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    });
    const status = finishedExpansionStatus(claim, volume);
    if (!status) return true;
    const updated = await this.client.update(claims, { ...claim, status }, 'status');
    const message = `MountVolume.NodeExpandVolume succeeded for volume "${volume!.metadata.name}"`;
    for (const pod of m.pods) this.events.event(pod, 'Normal', 'FileSystemResizeSuccessful', message);
    this.events.event(updated, 'Normal', 'FileSystemResizeSuccessful', message);
    log('info', 'agent', 'volume expansion finished on the node', { node: this.nodeName, claim: m.key, capacity: status.capacity?.storage });
    return false;
  }
}

/** Puts the newest copy of a pod in a claim's list, replacing the one of the same UID. */
function putPod(pods: Obj[], pod: Obj): void {
  const uid = pod.metadata.uid;
  for (let i = 0; i < pods.length; i++) {
    if (pods[i]!.metadata.uid !== uid) continue;
    pods[i] = pod;
    return;
  }
  pods.push(pod);
}

/** Takes a pod (by UID) out of a claim's list. */
function dropPod(pods: Obj[], uid: string): void {
  for (let i = 0; i < pods.length; i++) {
    if (pods[i]!.metadata.uid !== uid) continue;
    pods.splice(i, 1);
    return;
  }
}
