// A simulated container runtime (like kwok): sandboxes and containers are records moved through
// their lifecycle by timers; no processes, no images, no network. Pod IPs come from the node's pod
// CIDR and are unique among the sandboxes that exist.
//
// Test hooks, set as annotations on the pod (e.g. `kubectl annotate pod web-0 sim.ordinal.dev/fail=true`):
//   sim.ordinal.dev/ready: "false"   readiness fails: the pod stays Running but turns NotReady
//                                    (Ready=False, container ready=false); removing it makes it Ready again.
//   sim.ordinal.dev/fail: "true"     every container exits with code 1, now and after each restart, while set:
//                                    with restartPolicy Always the pod goes into CrashLoopBackOff, with Never it fails.
//   sim.ordinal.dev/crash: "<any>"   one crash: the running containers exit with code 1 once (restartCount+1);
//                                    set another value to crash again.
//   sim.ordinal.dev/complete: "true" every container exits with code 0 (a pod with restartPolicy Never or
//                                    OnFailure then Succeeds).
//   sim.ordinal.dev/run-for: "<duration>"  each container exits 0 that long after it starts (a Go duration
//                                    such as "3s" or "500ms"): a Job's pods, given it in their template, finish on their own.
//   sim.ordinal.dev/live: "false"    every livenessProbe run fails (a container must define one): after
//                                    failureThreshold runs the container is killed and restarted.
//   sim.ordinal.dev/startup: "false" every startupProbe run fails (a container must define one): the
//                                    container does not count as started, and is killed after failureThreshold runs.
//   A readinessProbe that the pod defines fails while sim.ordinal.dev/ready is "false", as above.
//   sim.ordinal.dev/post-start: "false"  every exec/httpGet postStart hook fails (the container is then
//                                    killed and restarted per the restart policy, as a real failure would).
//   sim.ordinal.dev/pre-stop: "false"    every exec/httpGet preStop hook fails (FailedPreStopHook; the kill goes on).
//   Otherwise exec and httpGet hooks succeed at once; sleep hooks are timed by the agent, so they take
//   their seconds here too.
import { createHash } from 'node:crypto';
import type { Obj } from '../../api/resource.ts';
import { Ipam } from '../ipam.ts';
import { parseGoDuration } from '../../util/cron.ts';
import { nowSeconds as nowIso, randomId as newId } from './sim-ids.ts';
import type { ContainerSummary, ImagePullResult, ProbeKind, PullPolicy, Runtime, RuntimeContainerStatus, RuntimeHookResult, RuntimeProbeResult, RuntimeEvent, SandboxInfo, SandboxSummary } from './types.ts';

export const SIM_HOOKS = {
  ready: 'sim.ordinal.dev/ready',
  fail: 'sim.ordinal.dev/fail',
  crash: 'sim.ordinal.dev/crash',
  complete: 'sim.ordinal.dev/complete',
  live: 'sim.ordinal.dev/live',
  startup: 'sim.ordinal.dev/startup',
  postStart: 'sim.ordinal.dev/post-start',
  preStop: 'sim.ordinal.dev/pre-stop',
  runFor: 'sim.ordinal.dev/run-for',
} as const;

export interface SimRuntimeOptions {
  /** How long creating a pod's sandbox takes: the time a pod shows ContainerCreating. Default 500 ms. */
  startDelayMs?: number;
  /** How long a container takes to stop after being asked (capped by its grace period). Default 200 ms. */
  stopDelayMs?: number;
  /** How long an init container runs before it exits 0. Default 0. */
  initRunMs?: number;
}

interface SimSandbox {
  id: string;
  podUid: string;
  namespace: string;
  name: string;
  ip: string;
  state: 'ready' | 'notready';
}

interface SimContainer {
  id: string;
  sandboxId: string;
  podUid: string;
  name: string;
  attempt: number;
  init: boolean;
  /** From the run-for hook: how long the container runs before it exits 0. */
  runForMs?: number;
  status: RuntimeContainerStatus;
}


/**
 * Removes `item` from a pod's list; true if it was there. A pod has a sandbox or two and a few
 * containers: a short array costs a third of a Set's memory, and 10,000 pods keep two each.
 */
function removeItem<T>(list: T[], item: T): boolean {
  const i = list.indexOf(item);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/** What a pod without annotations reads its hooks from: one shared, never written, instead of a new object per sync. */
const NO_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({});

/** Whether `name` is one of the pod's init containers proper (not a sidecar, which keeps running). */
function isInitContainer(pod: Obj, name: string): boolean {
  for (const c of pod.spec?.initContainers ?? []) if (c.name === name && c.restartPolicy !== 'Always') return true;
  return false;
}

/** A Go duration ("1m30s", "500ms") in ms; an unreadable value runs for no time at all. */
function durationMs(text: string): number {
  try {
    return parseGoDuration(text.trim());
  } catch {
    return 0;
  }
}

export class SimRuntime implements Runtime {
  readonly name = 'sim';
  readonly version = '1.0';
  private readonly startDelayMs: number;
  private readonly stopDelayMs: number;
  private readonly initRunMs: number;
  private ipam: Ipam | undefined;
  private readonly sandboxes = new Map<string, SimSandbox>();
  private readonly sandboxesOf = new Map<string, SimSandbox[]>();
  private readonly containers = new Map<string, SimContainer>();
  /** Containers by pod UID, so hooks do not scan every container on the node (an array: a pod has few). */
  private readonly byPod = new Map<string, SimContainer[]>();
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The latest annotations of each pod, for the hooks. */
  private readonly hooks = new Map<string, Record<string, string>>();
  /** The crash hook value already acted on, per pod. */
  private readonly crashed = new Map<string, string>();

  constructor(opts: SimRuntimeOptions = {}) {
    this.startDelayMs = opts.startDelayMs ?? 500;
    this.stopDelayMs = opts.stopDelayMs ?? 200;
    this.initRunMs = opts.initRunMs ?? 0;
  }

  async updateRuntimeConfig(config: { podCIDR?: string }): Promise<void> {
    if (config.podCIDR && !this.ipam) this.ipam = new Ipam(config.podCIDR);
  }

  async runPodSandbox(pod: Obj): Promise<SandboxInfo> {
    if (!this.ipam) throw new Error('no pod CIDR configured: the runtime cannot give pods addresses');
    await this.sleep(this.startDelayMs);
    const ip = this.ipam.allocate();
    const sb: SimSandbox = { id: newId(), podUid: pod.metadata.uid, namespace: pod.metadata.namespace, name: pod.metadata.name, ip, state: 'ready' };
    this.addSandbox(sb);
    return { sandboxId: sb.id, ip };
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const sb = this.sandboxes.get(sandboxId);
    if (!sb) return;
    for (const c of this.byPod.get(sb.podUid) ?? []) if (c.sandboxId === sandboxId && c.status.state === 'running') this.exit(c, 137, 'Error');
    if (sb.state === 'ready') {
      sb.state = 'notready';
      this.ipam?.release(sb.ip);
    }
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    await this.stopPodSandbox(sandboxId);
    const sb = this.sandboxes.get(sandboxId);
    // A copy: removing a container takes it out of the pod's list.
    const containers = sb ? (this.byPod.get(sb.podUid) ?? []).slice() : [];
    for (const c of containers) if (c.sandboxId === sandboxId) await this.removeContainer(c.id);
    this.sandboxes.delete(sandboxId);
    if (sb) {
      const of = this.sandboxesOf.get(sb.podUid);
      if (of && removeItem(of, sb) && !of.length) this.sandboxesOf.delete(sb.podUid);
    }
    if (sb && !this.byPod.get(sb.podUid)?.length) {
      this.byPod.delete(sb.podUid);
      this.hooks.delete(sb.podUid);
      this.crashed.delete(sb.podUid);
    }
  }

  async listPodSandboxes(filter: { podUid?: string } = {}): Promise<SandboxSummary[]> {
    const found = filter.podUid ? (this.sandboxesOf.get(filter.podUid) ?? []) : [...this.sandboxes.values()];
    return found.map((x) => ({ sandboxId: x.id, ip: x.ip, podUid: x.podUid, namespace: x.namespace, name: x.name, state: x.state }));
  }

  allSandboxesOf(handled: (podUid: string) => boolean): boolean {
    for (const uid of this.sandboxesOf.keys()) if (!handled(uid)) return false;
    return true;
  }

  /** Every image counts as present on the simulated node, whatever the policy: nothing is ever pulled. */
  async pullImage(image: string, policy: PullPolicy): Promise<ImagePullResult> {
    void policy;
    return { imageRef: imageRef(image) };
  }

  async createContainer(sandboxId: string, pod: Obj, container: Obj, attempt: number): Promise<string> {
    const sb = this.sandboxes.get(sandboxId);
    if (!sb || sb.state !== 'ready') throw new Error(`sandbox ${sandboxId} is not ready`);
    const init = isInitContainer(pod, container.name);
    const id = newId();
    const runFor = pod.metadata?.annotations?.[SIM_HOOKS.runFor];
    this.add({
      id,
      sandboxId,
      podUid: sb.podUid,
      name: container.name,
      attempt,
      init,
      runForMs: runFor === undefined ? undefined : durationMs(runFor),
      status: { id, state: 'created', createdAt: nowIso(), imageRef: imageRef(container.image ?? '') },
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.mustGet(id);
    if (c.status.state !== 'created') throw new Error(`container ${id} is ${c.status.state}, not created`);
    c.status = { ...c.status, state: 'running', startedAt: nowIso() };
    const hooks = this.hooks.get(c.podUid) ?? NO_ANNOTATIONS;
    // A container "runs" until a hook or a stop ends it; init containers finish on their own.
    if (c.init) this.later(this.initRunMs, () => this.exit(c, 0, 'Completed'));
    else if (hooks[SIM_HOOKS.fail] === 'true') this.later(0, () => this.exit(c, 1, 'Error'));
    else if (hooks[SIM_HOOKS.complete] === 'true') this.later(0, () => this.exit(c, 0, 'Completed'));
    else if (c.runForMs !== undefined) {
      this.later(c.runForMs, () => {
        if (c.status.state === 'running') this.exit(c, 0, 'Completed');
      });
    }
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    if (!c || c.status.state !== 'running') return;
    const graceMs = Math.max(0, graceSeconds) * 1000;
    // The simulated process shuts down in stopDelayMs; one that is not done within its grace period is killed.
    const killed = graceMs < this.stopDelayMs;
    await this.sleep(Math.min(graceMs, this.stopDelayMs));
    if (c.status.state === 'running') this.exit(c, killed ? 137 : 0, killed ? 'Error' : 'Completed');
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.containers.delete(id);
    const of = this.byPod.get(c.podUid);
    if (of) removeItem(of, c);
  }

  /** The record itself: a container's status is replaced on every change, never changed in place, so callers may keep it. */
  async containerStatus(id: string): Promise<RuntimeContainerStatus> {
    return this.mustGet(id).status;
  }

  async listContainers(filter: { sandboxId?: string } = {}): Promise<ContainerSummary[]> {
    const sb = filter.sandboxId ? this.sandboxes.get(filter.sandboxId) : undefined;
    if (filter.sandboxId && !sb) return [];
    return (sb ? (this.byPod.get(sb.podUid) ?? []) : [...this.containers.values()])
      .filter((c) => !filter.sandboxId || c.sandboxId === filter.sandboxId)
      .map((c) => ({ id: c.id, sandboxId: c.sandboxId, name: c.name, attempt: c.attempt, state: c.status.state }));
  }

  readyWithoutProbe(pod: Obj): boolean {
    return pod.metadata?.annotations?.[SIM_HOOKS.ready] !== 'false';
  }

  async probe(pod: Obj, _container: Obj, _containerId: string, kind: ProbeKind, probe?: Obj): Promise<RuntimeProbeResult> {
    const hook = kind === 'readiness' ? SIM_HOOKS.ready : kind === 'liveness' ? SIM_HOOKS.live : SIM_HOOKS.startup;
    // The readiness hook also works for containers without a readiness probe; the others need a probe to fail.
    if ((probe || kind === 'readiness') && pod.metadata?.annotations?.[hook] === 'false') {
      return { ok: false, output: `simulated failure (annotation ${hook}=false)` };
    }
    return { ok: true };
  }

  /** exec and httpGet hooks succeed at once, unless the pod's hook annotation says they fail (as probes do here). */
  async runHook(pod: Obj, _container: Obj, _containerId: string, kind: 'postStart' | 'preStop', handler: Obj): Promise<RuntimeHookResult> {
    const hook = kind === 'postStart' ? SIM_HOOKS.postStart : SIM_HOOKS.preStop;
    const annotations = pod.metadata?.annotations ?? this.hooks.get(pod.metadata?.uid) ?? {};
    if (annotations[hook] !== 'false') return { ok: true };
    const why = `simulated failure (annotation ${hook}=false)`;
    if (handler.exec) return { ok: false, error: `command '${(handler.exec.command ?? []).join(' ')}' exited with 1: ${why}`, output: why };
    return { ok: false, error: why };
  }

  subscribe(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  podUpdated(pod: Obj): void {
    const uid = pod.metadata.uid;
    const annotations: Record<string, string> = pod.metadata.annotations ?? NO_ANNOTATIONS;
    this.hooks.set(uid, annotations);
    // Called on every sync of every pod: the running containers are gathered only when a hook acts on them.
    const fail = annotations[SIM_HOOKS.fail] === 'true';
    const complete = !fail && annotations[SIM_HOOKS.complete] === 'true';
    const crash = annotations[SIM_HOOKS.crash];
    const crashNow = crash !== undefined && crash !== 'false' && this.crashed.get(uid) !== crash;
    if (!fail && !complete && !crashNow) return;
    const running = (this.byPod.get(uid) ?? []).filter((c) => c.status.state === 'running' && !c.init);
    if (fail) for (const c of running) this.exit(c, 1, 'Error');
    else if (complete) for (const c of running) this.exit(c, 0, 'Completed');
    if (crashNow) {
      this.crashed.set(uid, crash);
      for (const c of running) if (c.status.state === 'running') this.exit(c, 1, 'Error');
    }
  }

  async restorePod(pod: Obj): Promise<boolean> {
    const ip: string | undefined = pod.status?.podIP;
    const statuses: Obj[] = pod.status?.containerStatuses ?? [];
    if (pod.status?.phase !== 'Running' || !ip || !this.ipam || !statuses.length) return false;
    if (!this.ipam.reserve(ip)) return false;
    const sb: SimSandbox = { id: newId(), podUid: pod.metadata.uid, namespace: pod.metadata.namespace, name: pod.metadata.name, ip, state: 'ready' };
    this.addSandbox(sb);
    for (const cs of statuses) {
      const spec = (pod.spec?.containers ?? []).find((c: Obj) => c.name === cs.name);
      if (!spec) continue;
      const id = String(cs.containerID ?? '').replace(/^[a-z]+:\/\//, '') || newId();
      const startedAt = cs.state?.running?.startedAt ?? nowIso();
      this.add({
        id,
        sandboxId: sb.id,
        podUid: sb.podUid,
        name: cs.name,
        attempt: cs.restartCount ?? 0,
        init: false,
        status: { id, state: 'running', createdAt: startedAt, startedAt, imageRef: imageRef(spec.image ?? '') },
      });
    }
    // The crash already happened before the restart; do not repeat it.
    const crash = pod.metadata.annotations?.[SIM_HOOKS.crash];
    if (crash !== undefined) this.crashed.set(sb.podUid, crash);
    return true;
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }

  // -------------------------------------------------------------------------------------------

  private exit(c: SimContainer, exitCode: number, reason: string): void {
    if (c.status.state !== 'running') return;
    c.status = { ...c.status, state: 'exited', exitCode, reason, finishedAt: nowIso() };
    for (const l of this.listeners) l({ podUid: c.podUid, containerId: c.id });
  }

  private addSandbox(sb: SimSandbox): void {
    this.sandboxes.set(sb.id, sb);
    const of = this.sandboxesOf.get(sb.podUid);
    if (of) of.push(sb);
    else this.sandboxesOf.set(sb.podUid, [sb]);
  }

  private add(c: SimContainer): void {
    this.containers.set(c.id, c);
    const of = this.byPod.get(c.podUid);
    if (of) of.push(c);
    else this.byPod.set(c.podUid, [c]);
  }

  private mustGet(id: string): SimContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`container ${id} not found`);
    return c;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.later(ms, resolve));
  }
}

/** imageRef's answers: a node asks for the same few images for every pod it starts. */
const imageRefs = new Map<string, string>();
const IMAGE_REFS_KEPT = 1024;

/** A digest-pinned reference for an image, as containerd reports imageID (the digest is made up). */
export function imageRef(image: string): string {
  let ref = imageRefs.get(image);
  if (ref === undefined) {
    // Images are few; a cluster that cycles through more than this starts over rather than grow without bound.
    if (imageRefs.size >= IMAGE_REFS_KEPT) imageRefs.clear();
    imageRefs.set(image, (ref = digestRef(image)));
  }
  return ref;
}

function digestRef(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const repo = colon > lastSlash ? image.slice(0, colon) : image;
  const qualified = repo.includes('/') && /[.:]|^localhost/.test(repo.split('/')[0]) ? repo : `docker.io/${repo.includes('/') ? repo : `library/${repo}`}`;
  return `${qualified}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}
