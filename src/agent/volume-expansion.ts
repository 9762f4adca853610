// The node agent finishing volume expansions for the claims its running pods mount (decisions in
// volume-expansion-logic.ts). A node may only get its pods' claims, never list or watch them (the
// Node authorizer), so it reads them as the kubelet does: when a pod starts mounting one, then
// again on a per-claim timer (nextLookMs: soon while an expansion is under way, then backing off
// to the kubelet's pod resync). Which claims are mounted comes from the pod informer's events, so
// nothing runs for a claim between its looks and nothing at all on a node without claims.
import type { Obj } from '../api/resource.ts';
import type { Client } from '../client/client.ts';
import type { EventRecorder } from '../client/events.ts';
import { ApiError } from '../apiserver/errors.ts';
import { log } from '../util/log.ts';
import { awaitsNodeExpansion, expansionUnderWay, finishedExpansionStatus, mountsItsVolumes, nextLookMs, podClaimNames } from './volume-expansion-logic.ts';

export interface VolumeExpansionOptions {
  /** The longest wait between two looks at a claim nothing happens to (default: nextLookMs's, the kubelet's resync). */
  maxLookMs?: number;
}

/** One mounted claim: the running pods that mount it (by UID), and its next look. */
interface Mounted {
  pods: Map<string, Obj>;
  timer?: NodeJS.Timeout;
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
  /** Claim keys each pod (by UID) holds, so that a pod going away releases them. */
  private readonly podClaims = new Map<string, string[]>();
  private started = false;
  private stopped = false;

  constructor(client: Client, nodeName: string, events: EventRecorder, opts: VolumeExpansionOptions = {}) {
    this.client = client;
    this.nodeName = nodeName;
    this.events = events;
    this.opts = opts;
  }

  /** Looks at every claim already mounted, then at each on its own timer. */
  start(): void {
    this.started = true;
    for (const key of this.claims.keys()) this.schedule(key, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const m of this.claims.values()) clearTimeout(m.timer);
  }

  /** The informer's add or update of a pod bound here: a pod that starts mounting a claim has it looked at at once. */
  podChanged(pod: Obj): void {
    const uid: string = pod.metadata.uid;
    if (!mountsItsVolumes(pod)) return this.podGone(pod);
    const held = this.podClaims.get(uid);
    if (held) {
      // Still mounting: keep the newest copy (its events go to it).
      for (const key of held) this.claims.get(key)?.pods.set(uid, pod);
      return;
    }
    const keys = podClaimNames(pod).map((name) => `${pod.metadata.namespace}/${name}`);
    if (!keys.length) return;
    this.podClaims.set(uid, keys);
    for (const key of keys) {
      let m = this.claims.get(key);
      if (!m) {
        this.claims.set(key, (m = { pods: new Map(), looking: false }));
        m.pods.set(uid, pod);
        if (this.started) this.schedule(key, 0);
      } else {
        m.pods.set(uid, pod);
      }
    }
  }

  /** A pod deleted, or no longer mounting its volumes: claims no other running pod mounts are forgotten. */
  podGone(pod: Obj): void {
    const uid: string = pod.metadata.uid;
    const held = this.podClaims.get(uid);
    if (!held) return;
    this.podClaims.delete(uid);
    for (const key of held) {
      const m = this.claims.get(key);
      if (!m) continue;
      m.pods.delete(uid);
      if (m.pods.size) continue;
      clearTimeout(m.timer);
      this.claims.delete(key);
    }
  }

  /** How many claims are watched over (for tests). */
  get mountedClaims(): number {
    return this.claims.size;
  }

  private schedule(key: string, delayMs: number): void {
    const m = this.claims.get(key);
    if (!m || this.stopped) return;
    clearTimeout(m.timer);
    m.timer = setTimeout(() => void this.look(key), delayMs);
  }

  private async look(key: string): Promise<void> {
    const m = this.claims.get(key);
    if (!m || m.looking || this.stopped) return;
    m.looking = true;
    const busy = await this.check(key, [...m.pods.values()]).catch((err) => {
      log('debug', 'agent', 'volume expansion check failed', { node: this.nodeName, claim: key, error: String(err) });
      return true;
    });
    m.looking = false;
    // Released meanwhile (its pods stopped), or replaced by a fresh entry that schedules itself.
    if (this.claims.get(key) !== m) return;
    m.waitMs = nextLookMs(m.waitMs, busy, this.claims.size, this.opts.maxLookMs === undefined ? {} : { maxMs: this.opts.maxLookMs });
    // Jittered, so that claims first seen together are not read together ever after.
    this.schedule(key, m.waitMs * (0.75 + Math.random() / 2));
  }

  /** Looks at one claim and finishes its expansion if it waits for the node; true while an expansion is under way. */
  private async check(key: string, pods: Obj[]): Promise<boolean> {
    const [namespace, name] = key.split('/');
    const claims = this.client.resource('', 'persistentvolumeclaims');
    const claim = await this.client.get(claims, namespace, name);
    // Only a claim waiting for a node costs a volume read.
    if (!claim.spec?.volumeName || !awaitsNodeExpansion(claim)) return expansionUnderWay(claim);
    const volume = await this.client.get(this.client.resource('', 'persistentvolumes'), undefined, claim.spec.volumeName).catch((err) => {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    });
    const status = finishedExpansionStatus(claim, volume);
    if (!status) return true;
    const updated = await this.client.update(claims, { ...claim, status }, 'status');
    const message = `MountVolume.NodeExpandVolume succeeded for volume "${volume!.metadata.name}"`;
    for (const pod of pods) this.events.event(pod, 'Normal', 'FileSystemResizeSuccessful', message);
    this.events.event(updated, 'Normal', 'FileSystemResizeSuccessful', message);
    log('info', 'agent', 'volume expansion finished on the node', { node: this.nodeName, claim: key, capacity: status.capacity?.storage });
    return false;
  }
}
