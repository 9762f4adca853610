// kube-controller-manager's pod garbage collector ("pod-garbage-collector-controller"). Every 20 s:
// terminated pods beyond --terminated-pod-gc-threshold; terminating pods of out-of-service nodes;
// pods bound to nodes that are gone (after a 40 s quarantine and a live check); terminating pods
// never scheduled. Each is first moved to phase Failed (with a DisruptionTarget condition for
// orphans), then deleted with grace 0. No events, as upstream.
import type { Obj } from '../../api/resource.ts';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../client/informer.ts';
import { ApiError } from '../../apiserver/errors.ts';
import { log } from '../../util/log.ts';
import { missingNodes, outOfServiceTerminating, terminatedToDelete, unscheduledTerminating } from './select.ts';

export const POD_GC_CONTROLLER = 'pod-garbage-collector-controller';

export interface PodGcOptions {
  /** --terminated-pod-gc-threshold (default 12500; 0 or less disables that part). */
  terminatedPodThreshold: number;
  /** How often it runs (upstream's gcCheckPeriod, 20 s). */
  periodMs: number;
  /** How long a missing node is waited for before its pods count as orphans (40 s). */
  quarantineMs: number;
}

export const DEFAULT_POD_GC_OPTIONS: PodGcOptions = { terminatedPodThreshold: 12500, periodMs: 20_000, quarantineMs: 40_000 };

export class PodGarbageCollector {
  private readonly client: Client;
  private readonly opts: PodGcOptions;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  /** Missing node name → when its quarantine ends (ms). */
  private readonly quarantine = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(client: Client, opts: Partial<PodGcOptions> = {}) {
    this.client = client;
    this.opts = { ...DEFAULT_POD_GC_OPTIONS, ...opts };
    this.pods = new Informer(client, client.resource('', 'pods'));
    this.nodes = new Informer(client, client.resource('', 'nodes'));
  }

  async start(): Promise<void> {
    await Promise.all([this.pods.start(), this.nodes.start()]);
    this.timer = setInterval(() => void this.gcOnce(), this.opts.periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.pods.stop();
    this.nodes.stop();
  }

  private async gcOnce(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.gc();
    } catch (err) {
      log('warn', 'podgc', 'pod garbage collection failed', { error: String(err) });
    } finally {
      this.running = false;
    }
  }

  async gc(): Promise<void> {
    const pods = this.pods.list();
    const nodes = this.nodes.list();
    const nodeNames = new Set(nodes.map((n) => n.metadata.name));
    const victims = terminatedToDelete(pods, this.opts.terminatedPodThreshold);
    if (victims.length) log('info', 'podgc', 'Garbage collecting pods', { numPods: victims.length });
    await Promise.all(victims.map((p) => this.forceDelete(p)));

    await Promise.all(outOfServiceTerminating(pods, (n) => this.nodes.get(undefined, n)).map((p) => this.forceDelete(p)));

    await this.gcOrphaned(pods, nodeNames);

    for (const p of unscheduledTerminating(pods)) await this.forceDelete(p);
  }

  private async gcOrphaned(pods: Obj[], nodeNames: Set<string>): Promise<void> {
    const now = Date.now();
    for (const name of missingNodes(pods, nodeNames)) if (!this.quarantine.has(name)) this.quarantine.set(name, now + this.opts.quarantineMs);
    const gone = new Set<string>();
    for (const [name, until] of this.quarantine) {
      if (until > now) continue;
      this.quarantine.delete(name);
      if (nodeNames.has(name)) continue;
      // The cache may lag: only a node the API itself does not have is gone.
      try {
        await this.client.get(this.nodes.resource, undefined, name);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) gone.add(name);
        else log('warn', 'podgc', 'error while getting node', { node: name, error: String(err) });
      }
    }
    for (const p of pods) {
      if (!gone.has(p.spec?.nodeName)) continue;
      log('info', 'podgc', 'Found orphaned Pod assigned to the Node, deleting', { pod: `${p.metadata.namespace}/${p.metadata.name}`, node: p.spec.nodeName });
      await this.forceDelete(p, { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
    }
  }

  /** Phase Failed first (nothing else will ever end these pods), then DELETE with grace 0. */
  private async forceDelete(pod: Obj, condition?: Obj): Promise<void> {
    const { namespace, name } = pod.metadata;
    const r = this.pods.resource;
    log('info', 'podgc', 'PodGC is force deleting Pod', { pod: `${namespace}/${name}` });
    try {
      if (pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') {
        const status: Obj = { phase: 'Failed' };
        if (condition) status.conditions = [{ ...condition, lastProbeTime: null, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }];
        await this.client.patch(r, namespace, name, 'application/strategic-merge-patch+json', { metadata: { uid: pod.metadata.uid }, status }, 'status');
      }
      await this.client.delete(r, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      log('warn', 'podgc', 'force deletion failed', { pod: `${namespace}/${name}`, error: String(err) });
    }
  }
}
