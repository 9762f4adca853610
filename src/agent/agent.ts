// The node agent (our kubelet): registers its Node, keeps its Lease in kube-node-lease renewed,
// and runs the pods bound to the node through a Runtime, one PodWorker per pod UID.
//
// Restart-safe: on start it re-registers (keeping what others set on the Node), and the first sync
// of every pod bound here adopts what the runtime already runs for it (or, for the simulated
// runtime, restores a pod that was Running) instead of starting a second copy.
import os from 'node:os';
import { readFileSync, statfsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Obj } from '../api/resource.ts';
import type { Client } from '../client/client.ts';
import { Informer } from '../client/informer.ts';
import { EventRecorder } from '../client/events.ts';
import { ApiError } from '../apiserver/errors.ts';
import { nowTimestamp } from '../apiserver/resource-store.ts';
import { log } from '../util/log.ts';
import { defaultLabels, goArch, microTime, nodeLease, nodeObject, nodeStatus, type NodeDescription } from './node-status.ts';
import { PodWorker, type WorkerContext } from './pod-worker.ts';
import { AgentStreaming } from './streaming.ts';
import type { Runtime } from './runtime/types.ts';
import { cloneJson } from '../util/json.ts';
import { LOCAL_PATH_DIR_ANNOTATION } from '../controllers/volume/plan.ts';
import { orphanSandboxes, removeOrphans, runtimePodList } from './housekeeping.ts';
import { NodeVolumeExpansion } from './volume-expansion.ts';
import { WorkersByKey } from './workers-by-key.ts';

export interface NodeAgentOptions {
  nodeName: string;
  runtime: Runtime;
  /**
   * The node's pod CIDR (e.g. 10.244.1.0/24); pod IPs come from it. Without it the node waits, after
   * registering, for the range the cluster's node IPAM assigns in spec.podCIDR (a joined node).
   */
  podCIDR?: string;
  /** The port of the node's own HTTPS API, published in status.daemonEndpoints (default 10250). */
  kubeletPort?: number;
  /** The node's InternalIP. Simulated nodes use a documentation address (192.0.2.0/24), never used for traffic. */
  internalIP?: string;
  /** Where the node keeps its state (its filesystem's size is the node's ephemeral storage). */
  dataDir?: string;
  /**
   * A directory of this machine for the cluster's local-path volumes of pods bound here, published
   * on the Node (LOCAL_PATH_DIR_ANNOTATION) so the provisioner puts their paths there: a node on
   * another machine than the server keeps its volumes on its own disk.
   */
  localPathDir?: string;
  /** Extra node labels (the standard hostname/os/arch labels are always set). */
  labels?: Record<string, string>;
  /** Taints to register the node with (only on first registration; later changes belong to users). */
  taints?: Obj[];
  /**
   * Capacity. Simulated nodes default to cpu 4, memory 16Gi, pods 110, ephemeral-storage 100Gi with
   * allocatable equal to capacity; real nodes report this machine's, with allocatable less the
   * kubelet's default hard eviction thresholds (memory.available 100Mi, nodefs.available 10%).
   */
  capacity?: Record<string, string>;
  /** Lease renewal period, default 10 s; lease duration default 40 s. */
  leaseRenewMs?: number;
  leaseDurationSeconds?: number;
  /** How often the full node status is re-posted even when nothing changed (heartbeat times), default 60 s. */
  nodeStatusReportMs?: number;
  /** Crash-loop back-off: first delay (default 10 s) doubling up to the cap (default 300 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Report Succeeded/Failed for pods stopped because they were deleted, as kubelets do since v1.27. Default true. */
  terminalPhaseOnDelete?: boolean;
  /** Record kubelet events (Pulled, Created, Started, Killing, BackOff). Default true; benchmarks may turn them off. */
  recordEvents?: boolean;
  /** How often the runtime is swept for sandboxes of pods not bound here (see housekeeping.ts), default 10 s. */
  housekeepingMs?: number;
}

const DEFAULT_CAPACITY = { cpu: '4', 'ephemeral-storage': '100Gi', memory: '16Gi', pods: '110' };

/** A stable address in 192.0.2.0/24 (TEST-NET-1) for a node name. */
export function documentationAddress(nodeName: string): string {
  let h = 2166136261;
  for (const ch of nodeName) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return `192.0.2.${1 + (h % 254)}`;
}

export class NodeAgent {
  private readonly client: Client;
  private readonly opts: NodeAgentOptions;
  private readonly runtime: Runtime;
  private readonly description: NodeDescription;
  private readonly pods: Informer;
  private readonly events: EventRecorder;
  /** Finishes expansions of the claims running pods mount, as the kubelet does. */
  private readonly volumeExpansion: NodeVolumeExpansion;
  private readonly workers = new Map<string, PodWorker>();
  /** Pods deleted from the API whose workers are still stopping them (their logs go after). */
  private readonly deletedPods = new Map<string, Obj>();
  /** Workers by pod namespace/name: more than one only while a replaced pod is still stopping. */
  private readonly byKey = new WorkersByKey<PodWorker>();
  private readonly hasWorker = (podUid: string): boolean => this.workers.has(podUid);
  private readonly bootID = randomUUID();
  private readonly ctx: WorkerContext;
  private unsubscribe: (() => void) | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private housekeepingRunning = false;
  private lease: Obj | undefined;
  /** When a lease renewal last succeeded. */
  private lastContact = Date.now();
  private heartbeatRunning = false;
  private heartbeatFailures = 0;
  private heartbeatRetry: NodeJS.Timeout | undefined;
  /** Pods a reconcile found gone from the API, whose deletion the informer may not have delivered yet. */
  private readonly forgotten = new Set<string>();
  private nodeUid: string | undefined;
  /** The Node was found deleted at the last status report (said once in the log). */
  private nodeMissing = false;
  private stopped = false;

  constructor(client: Client, opts: NodeAgentOptions) {
    this.client = client;
    this.opts = opts;
    this.runtime = opts.runtime;
    const arch = goArch(process.arch);
    const real = this.runtime.name !== 'sim' && !opts.capacity;
    const capacity = real ? machineCapacity(opts.dataDir) : { ...DEFAULT_CAPACITY, ...(opts.capacity ?? {}) };
    this.description = {
      name: opts.nodeName,
      internalIP: opts.internalIP ?? documentationAddress(opts.nodeName),
      podCIDR: opts.podCIDR,
      annotations: opts.localPathDir ? { [LOCAL_PATH_DIR_ANNOTATION]: opts.localPathDir } : undefined,
      labels: { ...defaultLabels(opts.nodeName, arch), ...(opts.labels ?? {}) },
      taints: opts.taints,
      capacity,
      allocatable: real ? allocatableOf(capacity) : { ...capacity },
      containerRuntimeVersion: `${this.runtime.name}://${this.runtime.version}`,
      osImage: this.runtime.name === 'sim' ? 'Ordinal simulated node' : osImage(),
      kernelVersion: os.release(),
      architecture: arch,
      kubeletPort: opts.kubeletPort ?? 10250,
    };
    this.events = new EventRecorder(client, 'kubelet', opts.nodeName);
    if (opts.recordEvents === false) this.events.event = () => {};
    this.pods = new Informer(client, client.resource('', 'pods'), { fieldSelector: `spec.nodeName=${opts.nodeName}` });
    this.volumeExpansion = new NodeVolumeExpansion(client, opts.nodeName, this.events);
    this.ctx = {
      client,
      runtime: this.runtime,
      events: this.events,
      nodeName: opts.nodeName,
      hostIP: this.description.internalIP,
      backoffBaseMs: opts.backoffBaseMs ?? 10_000,
      backoffMaxMs: opts.backoffMaxMs ?? 300_000,
      terminalPhaseOnDelete: opts.terminalPhaseOnDelete ?? true,
      currentPod: (uid) => this.currentPod(uid),
      finished: (uid) => this.workerFinished(uid),
    };
    this.pods.on({
      add: (pod) => this.podChanged(pod),
      update: (_old, pod) => this.podChanged(pod),
      delete: (pod) => this.podDeleted(pod),
    });
    this.pods.on({
      add: (pod) => this.volumeExpansion.podChanged(pod),
      update: (_old, pod) => this.volumeExpansion.podChanged(pod),
      delete: (pod) => this.volumeExpansion.podGone(pod),
    });
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  async start(): Promise<void> {
    if (this.opts.podCIDR) await this.runtime.updateRuntimeConfig({ podCIDR: this.opts.podCIDR });
    await this.register();
    if (!this.opts.podCIDR) await this.adoptAssignedPodCidr();
    await this.renewLease();
    this.lastContact = Date.now();
    this.leaseTimer = setInterval(() => this.heartbeat(), this.opts.leaseRenewMs ?? 10_000);
    this.statusTimer = setInterval(() => {
      // While the node is away (frozen, cut off) it reports nothing until it has reconciled.
      if (this.away()) return;
      void this.postStatus().catch((err) => log('warn', 'agent', 'node status update failed', { node: this.nodeName, error: String(err) }));
    }, this.opts.nodeStatusReportMs ?? 60_000);
    this.unsubscribe = this.runtime.subscribe((e) => this.workers.get(e.podUid)?.kick());
    // Before any pod starts: what the runtime still runs for pods not bound here goes, and with it the addresses they hold.
    const bound = await this.client.list(this.client.resource('', 'pods'), { fieldSelector: `spec.nodeName=${this.nodeName}` });
    await this.housekeeping(new Set(bound.items.map((p) => p.metadata.uid as string)));
    await this.pods.start();
    this.housekeepingTimer = setInterval(() => void this.housekeeping(), this.opts.housekeepingMs ?? 10_000);
    this.volumeExpansion.start();
    log('info', 'agent', 'node registered', { node: this.nodeName, internalIP: this.description.internalIP, podCIDR: this.description.podCIDR });
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.leaseTimer);
    clearTimeout(this.heartbeatRetry);
    clearInterval(this.statusTimer);
    clearInterval(this.housekeepingTimer);
    this.volumeExpansion.stop();
    this.unsubscribe?.();
    this.pods.stop();
    for (const w of this.workers.values()) w.stop();
    this.runtime.close?.();
  }

  // ------------------------------------------------------------------------- node and lease

  private async register(): Promise<void> {
    const nodes = this.client.resource('', 'nodes');
    const now = nowTimestamp();
    let node: Obj;
    try {
      node = await this.client.create(nodes, undefined, nodeObject(this.description, now, this.bootID));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
      // Already registered (agent restart): make sure our labels and pod CIDR are there, keep the rest.
      const existing = await this.client.get(nodes, undefined, this.nodeName);
      const patch: Obj = { metadata: { labels: this.description.labels, ...(this.description.annotations ? { annotations: this.description.annotations } : {}) } };
      if (this.opts.podCIDR && !existing.spec?.podCIDR) patch.spec = { podCIDR: this.opts.podCIDR, podCIDRs: [this.opts.podCIDR] };
      node = await this.client.patch(nodes, undefined, this.nodeName, 'application/merge-patch+json', patch);
      node = await this.writeStatus(node);
    }
    this.nodeUid = node.metadata.uid;
  }

  /**
   * Writes the node's status over `node`. The node lifecycle controller writes the same status
   * (Ready Unknown once the Lease is late, as after an agent restart): on a conflict the node is
   * read again and the write made over it, up to five times, as the kubelet retries its node status
   * updates. A conflict at registration used to end the agent.
   */
  private async writeStatus(node: Obj): Promise<Obj> {
    const nodes = this.client.resource('', 'nodes');
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.update(nodes, { ...node, status: nodeStatus(this.description, nowTimestamp(), node.status, this.bootID) }, 'status');
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409) || attempt >= 5) throw err;
      }
      node = await this.client.get(nodes, undefined, this.nodeName);
    }
  }

  /** Waits for node IPAM to give this node a pod range, then hands it to the runtime (as the kubelet does). */
  private async adoptAssignedPodCidr(): Promise<void> {
    const nodes = this.client.resource('', 'nodes');
    let waitedMs = 0;
    for (;;) {
      if (this.stopped) return;
      const node = await this.client.get(nodes, undefined, this.nodeName);
      const cidr: string | undefined = node.spec?.podCIDR;
      if (cidr) {
        this.description.podCIDR = cidr;
        await this.runtime.updateRuntimeConfig({ podCIDR: cidr });
        return;
      }
      if (waitedMs % 10_000 === 0 && waitedMs > 0) log('warn', 'agent', 'still waiting for a pod CIDR: is the nodeipam controller running?', { node: this.nodeName, waitedMs });
      await new Promise((r) => setTimeout(r, 250));
      waitedMs += 250;
    }
  }

  /** The node's pod range: given at start, or assigned by the cluster once registered. */
  get podCIDR(): string | undefined {
    return this.description.podCIDR;
  }

  /**
   * A status report. A Node deleted after registration is not registered again: upstream's kubelet
   * registers once per start, and the node's pods are then force-deleted by pod GC once the 40 s
   * quarantine has passed (their containers stop as their deletion arrives here). Registering again
   * raced with that quarantine, so a node's pods either went or stayed bound to the new Node.
   */
  private async postStatus(): Promise<void> {
    if (this.stopped) return;
    const nodes = this.client.resource('', 'nodes');
    const node = await this.client.get(nodes, undefined, this.nodeName).catch((err) => {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    });
    if (!node) {
      if (!this.nodeMissing) log('warn', 'agent', 'unable to update node status: the node was deleted; it is registered again when the agent restarts', { node: this.nodeName });
      this.nodeMissing = true;
      return;
    }
    this.nodeMissing = false;
    await this.writeStatus(node);
  }

  /**
   * One lease renewal. A node that has not been heard for more than two renewal periods (its
   * process was frozen, its network cut, its machine suspended) may have had pods force-deleted
   * and replaced elsewhere meanwhile: before it renews its Lease or reports anything, it stops
   * every pod the API no longer binds to it. Never two copies of one identity.
   */
  private heartbeat(): void {
    if (this.stopped || this.heartbeatRunning) return;
    this.heartbeatRunning = true;
    const absentMs = Date.now() - this.lastContact;
    const work = this.away() ? this.reconcileAfterAbsence(absentMs).then(() => this.renewLease()).then(() => this.postStatus()) : this.renewLease();
    work
      .then(
        () => {
          this.lastContact = Date.now();
          this.heartbeatFailures = 0;
        },
        (err) => {
          log('warn', 'agent', 'lease renewal failed', { node: this.nodeName, error: String(err), absentMs });
          // Retried soon, not at the next period (as the kubelet's lease controller backs off from
          // 200 ms): a node whose network returns reconciles and reports within a second.
          const delay = Math.min(1000, 200 * 2 ** this.heartbeatFailures++);
          clearTimeout(this.heartbeatRetry);
          this.heartbeatRetry = setTimeout(() => this.heartbeat(), delay);
        },
      )
      .finally(() => {
        this.heartbeatRunning = false;
      });
  }

  /** Whether the node has gone unheard for longer than two renewal periods. */
  private away(): boolean {
    return Date.now() - this.lastContact > 2 * (this.opts.leaseRenewMs ?? 10_000) + 1000;
  }

  /**
   * The node is back: a fresh LIST says which pods are still bound here; the workers of all others
   * stop their containers at once, and what the runtime runs for no pod goes too. Waits (up to the
   * runtime's kill time) until they are stopped. Throws while the API is still unreachable.
   */
  private async reconcileAfterAbsence(absentMs: number): Promise<void> {
    const listed = await this.client.list(this.client.resource('', 'pods'), { fieldSelector: `spec.nodeName=${this.nodeName}` });
    const bound = new Set(listed.items.map((p) => p.metadata.uid as string));
    const stopping: PodWorker[] = [];
    for (const [uid, w] of this.workers) {
      if (bound.has(uid) || this.forgotten.has(uid)) continue;
      // The informer may not have heard of the deletion yet: the worker must not see the pod again.
      this.forgotten.add(uid);
      stopping.push(w);
      w.kick();
    }
    await this.housekeeping(bound);
    const deadline = Date.now() + 15_000;
    while (stopping.some((w) => !w.isDone() && this.workers.get(w.uid) === w) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    log('info', 'agent', 'node back after an absence: pods no longer bound here were stopped before reporting', {
      node: this.nodeName,
      absentMs,
      stopped: stopping.map((w) => w.key),
    });
  }

  private async renewLease(): Promise<void> {
    if (this.stopped) return;
    const leases = this.client.resource('coordination.k8s.io', 'leases');
    const duration = this.opts.leaseDurationSeconds ?? 40;
    if (this.lease) {
      const next = cloneJson(this.lease);
      next.spec = { ...next.spec, holderIdentity: this.nodeName, leaseDurationSeconds: duration, renewTime: microTime() };
      try {
        this.lease = await this.client.update(leases, next);
        return;
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) throw err;
        this.lease = undefined;
      }
    }
    const existing = await this.client.get(leases, 'kube-node-lease', this.nodeName).catch(() => undefined);
    if (existing) {
      // The object read is shared with the cache: write a changed copy, never the object itself.
      const next = { ...existing, spec: { ...existing.spec, holderIdentity: this.nodeName, leaseDurationSeconds: duration, renewTime: microTime() } };
      this.lease = await this.client.update(leases, next);
    } else {
      this.lease = await this.client.create(leases, 'kube-node-lease', nodeLease(this.nodeName, this.nodeUid, duration, Date.now()));
    }
  }

  // ------------------------------------------------------------------------- housekeeping

  /**
   * Removes the runtime's sandboxes of pods that are not bound here (by default: not in the pod cache)
   * and that no worker handles (a deleted pod's worker stops its own). Returns how many went.
   */
  async housekeeping(bound?: ReadonlySet<string>): Promise<number> {
    if (this.housekeepingRunning || this.stopped) return 0;
    this.housekeepingRunning = true;
    try {
      // Sandboxes of pods a worker handles are never orphans: on the simulated runtime the common
      // sweep ends here, before anything is listed.
      if (this.runtime.allSandboxesOf?.(this.hasWorker)) return 0;
      const boundNow = () => bound ?? new Set(this.pods.list().map((p) => p.metadata.uid as string));
      const orphans = orphanSandboxes(await this.runtime.listPodSandboxes(), this.hasWorker, boundNow);
      return orphans.length ? await removeOrphans(this.runtime, orphans, this.nodeName) : 0;
    } catch (err) {
      log('warn', 'agent', 'housekeeping failed', { node: this.nodeName, error: String(err) });
      return 0;
    } finally {
      this.housekeepingRunning = false;
    }
  }

  /** What the runtime really runs here, as a v1 PodList (the node's read-only /pods listing). */
  runningPods(): Promise<Obj> {
    return runtimePodList(this.runtime);
  }

  // ------------------------------------------------------------------------- pods

  /** The worker running a pod (by UID), for the streaming endpoints; undefined when the pod is not on this node. */
  podWorker(uid: string): PodWorker | undefined {
    return this.workers.get(uid);
  }

  /** exec, attach, port-forward and logs for the pods this node runs (registered with the API server). */
  get streaming(): AgentStreaming {
    return (this.streamingEndpoint ??= new AgentStreaming(this, this.runtime));
  }
  private streamingEndpoint: AgentStreaming | undefined;

  /**
   * Where the API server finds this node's kubelet server: set before start(), or later (the next
   * status update carries it), once a server listening on a chosen-at-random port knows its port.
   */
  setKubeletPort(port: number): void {
    if (this.description.kubeletPort === port) return;
    this.description.kubeletPort = port;
    if (this.nodeUid && !this.stopped) void this.postStatus().catch((err) => log('warn', 'agent', 'node status update failed', { node: this.nodeName, error: String(err) }));
  }

  private currentPod(uid: string): Obj | undefined {
    const w = this.workers.get(uid);
    if (!w || this.forgotten.has(uid)) return undefined;
    const pod = this.pods.get(w.namespace, w.name);
    return pod?.metadata.uid === uid ? pod : undefined;
  }

  private podChanged(pod: Obj): void {
    const uid = pod.metadata.uid;
    // Gone from the API by a fresh LIST; a stale event from before that must not start it again.
    if (this.forgotten.has(uid)) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = new PodWorker(this.ctx, pod);
      this.workers.set(uid, w);
      this.byKey.add(w);
    }
    // Never two copies of one pod identity: a pod that replaces a force-deleted one of the same name
    // starts only once the old one is fully stopped.
    if (this.byKey.blocked(w)) return;
    w.podEvent(pod);
  }

  /** Logs of a pod stay while the pod exists (`kubectl logs` of a finished pod); they go once it is deleted and stopped. */
  private podDeleted(pod: Obj): void {
    this.forgotten.delete(pod.metadata.uid);
    const w = this.workers.get(pod.metadata.uid);
    if (!w) return this.runtime.removePodLogs?.(pod.metadata);
    this.deletedPods.set(pod.metadata.uid, pod);
    w.kick();
  }

  private workerFinished(uid: string): void {
    const deleted = this.deletedPods.get(uid);
    if (deleted) {
      this.deletedPods.delete(uid);
      this.runtime.removePodLogs?.(deleted.metadata);
    }
    const w = this.workers.get(uid);
    if (!w) return;
    w.stop();
    this.workers.delete(uid);
    // Start a successor that waited for this one.
    for (const other of this.byKey.remove(w)) other.kick();
  }
}

/** This machine's resources, as the kubelet reports them (memory and storage in Ki). */
function machineCapacity(dataDir: string | undefined): Record<string, string> {
  let storageKi = 0;
  try {
    const st = statfsSync(dataDir ?? '/');
    storageKi = Math.floor((st.blocks * st.bsize) / 1024);
  } catch {
    storageKi = 100 * 1024 * 1024;
  }
  return { cpu: String(os.availableParallelism()), 'ephemeral-storage': `${storageKi}Ki`, memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110' };
}

/** Capacity less the default hard eviction thresholds, as the kubelet's node allocatable. */
function allocatableOf(capacity: Record<string, string>): Record<string, string> {
  const ki = (q: string) => Number(q.replace(/Ki$/, ''));
  const memoryKi = Math.max(0, ki(capacity.memory!) - 100 * 1024);
  // The kubelet reports allocatable ephemeral storage in bytes.
  const storageBytes = Math.floor(ki(capacity['ephemeral-storage']!) * 1024 * 0.9);
  return { ...capacity, memory: `${memoryKi}Ki`, 'ephemeral-storage': String(storageBytes) };
}

function osImage(): string {
  // The kubelet shows /etc/os-release's PRETTY_NAME (e.g. "Debian GNU/Linux 12 (bookworm)").
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return m[1];
  } catch {
    // no os-release: fall back to the kernel's name
  }
  return `${os.type()} ${os.release()}`;
}
