// The node agent finishing volume expansions for the claims its running pods mount (decisions in
// volume-expansion-logic.ts). Claims are polled: a claim first seen at once (a pod just started),
// then less and less often while nothing happens to it (nextLookMs).
import type { Obj } from '../api/resource.ts';
import type { Client } from '../client/client.ts';
import type { EventRecorder } from '../client/events.ts';
import { ApiError } from '../apiserver/errors.ts';
import { log } from '../util/log.ts';
import { awaitsNodeExpansion, expansionUnderWay, finishedExpansionStatus, mountsItsVolumes, nextLookMs, podClaimNames } from './volume-expansion-logic.ts';

export interface VolumeExpansionOptions {
  /** How often due claims are looked for, default 1 s. */
  tickMs?: number;
}

export class NodeVolumeExpansion {
  private readonly client: Client;
  private readonly nodeName: string;
  private readonly pods: () => Obj[];
  private readonly events: EventRecorder;
  private readonly opts: VolumeExpansionOptions;
  /** Per claim namespace/name: when to look at it next, and the wait before that look. */
  private readonly due = new Map<string, { at: number; waitMs: number }>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(client: Client, nodeName: string, pods: () => Obj[], events: EventRecorder, opts: VolumeExpansionOptions = {}) {
    this.client = client;
    this.nodeName = nodeName;
    this.pods = pods;
    this.events = events;
    this.opts = opts;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const mounted = new Map<string, Obj[]>();
      for (const pod of this.pods()) {
        if (!mountsItsVolumes(pod)) continue;
        for (const name of podClaimNames(pod)) {
          const key = `${pod.metadata.namespace}/${name}`;
          const list = mounted.get(key);
          if (list) list.push(pod);
          else mounted.set(key, [pod]);
        }
      }
      for (const key of this.due.keys()) if (!mounted.has(key)) this.due.delete(key);
      const now = Date.now();
      for (const [key, pods] of mounted) {
        const due = this.due.get(key);
        if (due && due.at > now) continue;
        const busy = await this.check(key, pods).catch((err) => {
          log('debug', 'agent', 'volume expansion check failed', { node: this.nodeName, claim: key, error: String(err) });
          return true;
        });
        const waitMs = nextLookMs(due?.waitMs, busy, mounted.size);
        // Jittered, so that claims first seen together are not read together ever after.
        this.due.set(key, { at: now + waitMs * (0.75 + Math.random() / 2), waitMs });
      }
    } finally {
      this.running = false;
    }
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
