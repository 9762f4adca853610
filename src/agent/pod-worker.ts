// One pod on one node: a level-triggered loop that brings the runtime in line with the pod (sandbox,
// init containers in order, containers, restarts with back-off, probes, graceful stop) and reports
// the resulting status. One worker per pod UID; a worker's syncs never overlap.
import { rm } from 'node:fs/promises';
import type { Obj } from '../api/resource.ts';
import type { Client } from '../client/client.ts';
import type { EventRecorder } from '../client/events.ts';
import { ApiError } from '../apiserver/errors.ts';
import { nowTimestamp } from '../apiserver/resource-store.ts';
import { log } from '../util/log.ts';
import { goDuration, restartDecision, type BackoffEntry } from './backoff.ts';
import { computePodStatus, isTerminalPhase, type ContainerInput } from './pod-status.ts';
import { sameJson } from './json-equal.ts';
import { PodProber } from './prober.ts';
import { killingMessage, normalizeProbeResult, restartsAfterKill } from './prober-logic.ts';
import { ContainerKill, runHook } from './lifecycle.ts';
import { POST_START_FAILED, POST_START_KILL_MESSAGE, POST_START_WAITING_REASON, hookOf, killBudgetSeconds, type KillReason } from './lifecycle-logic.ts';
import type { ImagePullResult, PullPolicy, Runtime, RuntimeContainerStatus, SandboxInfo, SandboxSummary } from './runtime/types.ts';

export interface WorkerContext {
  client: Client;
  runtime: Runtime;
  events: EventRecorder;
  nodeName: string;
  hostIP: string;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Report Succeeded/Failed for pods stopped because they were deleted (the kubelet does since v1.27). */
  terminalPhaseOnDelete: boolean;
  /** The pod with this UID as the API has it now, or undefined once it is gone. */
  currentPod(uid: string): Obj | undefined;
  /** The worker has finished and released everything. */
  finished(uid: string): void;
}

interface ContainerRecord {
  spec: Obj;
  init: boolean;
  sidecar: boolean;
  id?: string;
  status?: RuntimeContainerStatus;
  previous?: RuntimeContainerStatus;
  restartCount: number;
  ready: boolean;
  started: boolean;
  imageRef?: string;
  backoff?: BackoffEntry;
  /** Set while waiting out a crash back-off. */
  restartAtMs?: number;
  /** The instance being killed because its liveness or startup probe failed. */
  killing?: string;
  /** The exited instance already reported, so an exit is announced once. */
  exitReported?: string;
  /** This instance's postStart hook failed: the container shows PostStartHookError until it is restarted. */
  hookError?: { id: string; message: string };
  /** The last image pull failed (runtime errors with reason ErrImagePull/ErrImageNeverPull): retried with back-off. */
  pull?: { reason: string; message: string; failedAtMs: number; retryAtMs: number; delayMs: number };
}

/** How long a failed pull shows ErrImagePull before ImagePullBackOff, as the kubelet's next sync would. */
const ERR_IMAGE_PULL_SHOWN_MS = 1000;

/** One container of a pod as the streaming endpoints (exec, attach, logs) see it. */
export interface ContainerView {
  name: string;
  init: boolean;
  /** The current instance, when one has been created. */
  id?: string;
  status?: RuntimeContainerStatus;
  /** The instance before the last restart (for `logs --previous`). */
  previous?: RuntimeContainerStatus;
  restartCount: number;
  /** Why the status shows it waiting (ContainerCreating, CrashLoopBackOff, ImagePullBackOff, ...), if it does. */
  waiting?: string;
}

const isRunning = (r: ContainerRecord) => r.status?.state === 'running';
const exitedOk = (r: ContainerRecord) => r.status?.state === 'exited' && (r.status.exitCode ?? 0) === 0;

export class PodWorker {
  readonly uid: string;
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  private readonly ctx: WorkerContext;
  /** Whether any container has a probe: without one the prober has nothing to run or tell. */
  private hasProbes = false;
  private sandbox: SandboxInfo | undefined;
  private records: ContainerRecord[] = [];
  /** The init containers (sidecars included) and the regular ones, in spec order: records never change after initialize. */
  private inits: ContainerRecord[] = [];
  private regulars: ContainerRecord[] = [];
  private startTime: string | undefined;
  private initialized = false;
  /** The runtime side is torn down; nothing runs for this pod any more. */
  private done = false;
  private terminal = false;
  private running = false;
  private dirty = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  /** The newest version of the pod we know (our own status writes are newer than the informer for a moment). */
  private latest: Obj | undefined;
  /** The resourceVersions of the worker's last two status writes (a pod's start makes two in a row). */
  private written: [string | undefined, string | undefined] = [undefined, undefined];
  /**
   * Versions the informer delivered while a sync ran, before that sync's own writes had answered
   * (in-process watch events come back ahead of the write's reply): once it is done, only those
   * that are not its own writes ask for another sync.
   */
  private heardDuringSync: string[] = [];
  /** Liveness, readiness and startup probes, run on their own timers; results come back through kick(). */
  private proberOf: PodProber | undefined;
  /**
   * Containers being killed (preStop, then the stop signal), by container ID; a shorter grace period
   * reaches them through kick(). Made with the first kill: most pods run their whole life without one.
   */
  private kills: Map<string, ContainerKill> | undefined;
  /** Ends the wait for a postStart hook under way (the pod is being deleted). */
  private postStartAbort: AbortController | undefined;

  constructor(ctx: WorkerContext, pod: Obj) {
    this.ctx = ctx;
    this.uid = pod.metadata.uid;
    this.namespace = pod.metadata.namespace;
    this.name = pod.metadata.name;
    this.key = `${this.namespace}/${this.name}`;
  }

  /** Made on first use: a pod without probes never needs one. */
  private get prober(): PodProber {
    return (this.proberOf ??= new PodProber({ runtime: this.ctx.runtime, events: this.ctx.events, pod: () => this.pod(), changed: () => this.kick() }));
  }

  isDone(): boolean {
    return this.done;
  }

  /**
   * Whether this version of the pod is one of the worker's own status writes, coming back through
   * the informer: it changes nothing the worker did not already act on, so it needs no sync (as
   * the kubelet's pod config only reconciles status-only updates instead of syncing the pod).
   */
  wroteVersion(pod: Obj): boolean {
    return this.isOwnWrite(pod.metadata.resourceVersion);
  }

  private isOwnWrite(rv: string | undefined): boolean {
    return rv !== undefined && (rv === this.written[0] || rv === this.written[1]);
  }

  /**
   * The informer's add or update of the pod. One heard while a sync runs is most often that sync's
   * own status write, whose version is not known until the write answers: it is weighed when the
   * sync ends instead of asking for a second sync at once. A deletion still acts at once.
   */
  podEvent(pod: Obj): void {
    const rv: string | undefined = pod.metadata.resourceVersion;
    if (this.isOwnWrite(rv)) return;
    if (this.running && rv !== undefined && !this.stopped) {
      this.reactToDeletion();
      this.heardDuringSync.push(rv);
      return;
    }
    this.kick();
  }

  /** Asks for a sync; syncs never overlap, and one asked for during a sync runs right after it. */
  kick(): void {
    if (this.stopped) return;
    this.reactToDeletion();
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    void (async () => {
      do {
        this.dirty = false;
        try {
          await this.sync();
        } catch (err) {
          log('warn', 'agent', 'pod sync failed, retrying', { pod: this.key, error: String(err) });
          this.wakeAt(Date.now() + 1000);
        }
        if (this.heardDuringSync.length) {
          for (const rv of this.heardDuringSync) if (!this.isOwnWrite(rv)) this.dirty = true;
          this.heardDuringSync.length = 0;
        }
      } while (this.dirty && !this.stopped);
      this.running = false;
    })();
  }

  /** Stops the worker's timers (the agent is stopping); the pod's containers keep running. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.proberOf?.stop();
  }

  /**
   * What must not wait for the sync under way: a pod being deleted ends the wait for its postStart
   * hook, and a deletion grace period shorter than a kill's (a second `kubectl delete
   * --grace-period=N`, or the pod gone: 0) cuts that kill short.
   */
  private reactToDeletion(): void {
    if (!this.kills?.size && !this.postStartAbort) return;
    const pod = this.pod();
    if (pod && !pod.metadata.deletionTimestamp) return;
    const grace = pod ? Math.max(0, pod.metadata.deletionGracePeriodSeconds ?? 0) : 0;
    this.postStartAbort?.abort();
    for (const k of this.kills?.values() ?? []) k.shorten(grace);
  }

  private wakeAt(ms: number): void {
    if (ms >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = ms;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.kick();
    }, Math.max(0, ms - Date.now()));
  }

  private pod(): Obj | undefined {
    const p = this.ctx.currentPod(this.uid);
    if (!p) return undefined;
    const l = this.latest;
    if (l) {
      if (l.metadata.uid === p.metadata.uid && Number(l.metadata.resourceVersion) > Number(p.metadata.resourceVersion)) return l;
      // The informer has caught up: the write need not be kept alive beside it.
      this.latest = undefined;
    }
    return p;
  }

  // ------------------------------------------------------------------------- the sync

  private async sync(): Promise<void> {
    const { runtime } = this.ctx;
    let pod = this.pod();
    if (!pod) {
      // Gone from the API (force-deleted, or finished): stop whatever still runs, at once.
      await this.teardown(0);
      this.ctx.finished(this.uid);
      return;
    }
    if (this.done) {
      // Stopped, and still in the API while deleted: the delete that ends it failed (the server
      // went away), or the deletion came after the pod had finished on its own. The kubelet's
      // status manager retries it on every sync; without it the pod would stay Terminating.
      if (pod.metadata.deletionTimestamp) {
        await this.report(pod, this.ctx.terminalPhaseOnDelete);
        await this.finishDeletion(pod);
      }
      return;
    }
    runtime.podUpdated?.(pod);
    if (!this.initialized) await this.initialize(pod);

    if (pod.metadata.deletionTimestamp) {
      await this.terminate(pod);
      return;
    }
    if (this.terminal || isTerminalPhase(pod.status?.phase)) {
      this.terminal = true;
      await this.teardown(0);
      this.done = true;
      return;
    }

    if (!this.sandbox) {
      this.startTime ??= nowTimestamp();
      await this.report(pod);
      const sandbox = await runtime.runPodSandbox(pod);
      this.sandbox = sandbox;
      pod = this.pod();
      // Deleted while the sandbox was being made: the next pass stops it.
      if (!pod || pod.metadata.deletionTimestamp) {
        this.dirty = true;
        return;
      }
    }

    await this.refresh();
    // An exit is reported before anything is restarted, as the kubelet's status shows it.
    let newlyExited = false;
    for (const r of this.records) {
      if (r.status?.state !== 'exited' || r.exitReported === r.id) continue;
      r.exitReported = r.id;
      r.ready = false;
      newlyExited = true;
    }
    if (newlyExited) await this.report(pod);

    const now = Date.now();
    const policy: string = pod.spec?.restartPolicy ?? 'Always';
    // Init containers run one at a time, in order; sidecars start in their turn and keep running.
    let initsDone = true;
    for (const r of this.inits) {
      if (r.sidecar) {
        if (!r.id) await this.startContainer(pod, r);
        else if (r.status?.state === 'exited') await this.maybeRestart(pod, r, 'Always', now);
        continue;
      }
      if (exitedOk(r)) continue;
      initsDone = false;
      if (!r.id) await this.startContainer(pod, r);
      else if (r.status?.state === 'exited') {
        // A failed init container is retried unless the pod never restarts anything.
        if (policy === 'Never') this.terminal = true;
        else await this.maybeRestart(pod, r, 'OnFailure', now);
      }
      break;
    }
    if (initsDone && !this.terminal) {
      for (const r of this.regulars) {
        if (!r.id) await this.startContainer(pod, r);
        else if (r.status?.state === 'exited') await this.maybeRestart(pod, r, policy, now);
      }
    }
    await this.applyProbes(pod);

    // Nothing left to run and nothing will restart: the pod is finished.
    if (!this.terminal && initsDone && allFinishedForGood(this.regulars, policy)) this.terminal = true;
    await this.report(this.pod() ?? pod);
    if (this.terminal) {
      await this.teardown(0);
      this.done = true;
    }
  }

  /** First sync: carry over restart counts, and adopt a sandbox the runtime already has (agent restart). */
  private async initialize(pod: Obj): Promise<void> {
    const { runtime } = this.ctx;
    // A new pod has no statuses to carry over: no list is made for it.
    const reported: Obj[] | undefined = pod.status?.containerStatuses;
    const reportedInit: Obj[] | undefined = pod.status?.initContainerStatuses;
    const statuses: Obj[] = reported?.length || reportedInit?.length ? [...(reported ?? []), ...(reportedInit ?? [])] : [];
    const make = (spec: Obj, init: boolean): ContainerRecord => {
      const old = statuses.length ? statuses.find((s) => s.name === spec.name) : undefined;
      return { spec, init, sidecar: init && spec.restartPolicy === 'Always', restartCount: old?.restartCount ?? 0, ready: false, started: false };
    };
    const initSpecs: Obj[] | undefined = pod.spec?.initContainers;
    this.inits = initSpecs?.length ? initSpecs.map((c: Obj) => make(c, true)) : [];
    this.regulars = (pod.spec?.containers ?? []).map((c: Obj) => make(c, false));
    this.records = this.inits.length ? [...this.inits, ...this.regulars] : this.regulars;
    // Probes are immutable in a pod's spec, as the containers are.
    this.hasProbes = this.records.some((r) => r.spec.startupProbe || r.spec.readinessProbe || r.spec.livenessProbe);
    this.startTime = pod.status?.startTime;
    let sandbox = readySandboxOf(await runtime.listPodSandboxes({ podUid: this.uid }));
    // Only a pod the API shows Running was running before a restart: a new pod has nothing to restore.
    if (!sandbox && runtime.restorePod && pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp && (await runtime.restorePod(pod))) {
      sandbox = readySandboxOf(await runtime.listPodSandboxes({ podUid: this.uid }));
    }
    if (sandbox) {
      this.sandbox = { sandboxId: sandbox.sandboxId, ip: sandbox.ip };
      // The newest instance of each container is the current one.
      const containers = (await runtime.listContainers({ sandboxId: sandbox.sandboxId })).sort((a, b) => a.attempt - b.attempt);
      for (const c of containers) {
        const r = this.records.find((x) => x.spec.name === c.name);
        if (!r) continue;
        r.id = c.id;
        r.restartCount = Math.max(r.restartCount, c.attempt);
        r.exitReported = c.state === 'exited' ? c.id : undefined;
        // What the probes had concluded about this instance before the restart holds until they run again.
        const reported = statuses.find((s) => s.name === c.name && String(s.containerID ?? '').endsWith(`://${c.id}`));
        r.ready = !!reported?.ready;
        r.started = !!reported?.started;
        // So is the image it was reported running: no pull in this life sets it, and without it
        // every adopted pod's status was written again with an empty imageID.
        r.imageRef = reported?.imageID || undefined;
      }
      log('debug', 'agent', 'adopted running pod', { pod: this.key, ip: sandbox.ip });
    }
    this.initialized = true;
  }

  private async refresh(): Promise<void> {
    for (const r of this.records) {
      if (!r.id) continue;
      try {
        r.status = await this.ctx.runtime.containerStatus(r.id);
      } catch {
        // The runtime lost it: start it again.
        r.id = undefined;
        r.status = undefined;
      }
    }
  }

  private async startContainer(pod: Obj, r: ContainerRecord): Promise<void> {
    const { runtime, events } = this.ctx;
    const image: string = r.spec.image ?? '';
    const policy: PullPolicy = r.spec.imagePullPolicy ?? (image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent');
    const now = Date.now();
    if (r.pull && now < r.pull.retryAtMs) {
      this.wakeAt(Math.min(r.pull.retryAtMs, r.pull.failedAtMs + ERR_IMAGE_PULL_SHOWN_MS > now ? r.pull.failedAtMs + ERR_IMAGE_PULL_SHOWN_MS : Infinity));
      return;
    }
    let pullStartedMs = 0;
    let pulled: ImagePullResult;
    try {
      pulled = await runtime.pullImage(image, policy, () => {
        pullStartedMs = performance.now();
        events.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
      });
      r.imageRef = pulled.imageRef;
    } catch (err) {
      const reason = (err as { reason?: unknown }).reason;
      if (reason !== 'ErrImagePull' && reason !== 'ErrImageNeverPull') throw err;
      const message = (err as Error).message;
      const delayMs = r.pull ? Math.min(r.pull.delayMs * 2, this.ctx.backoffMaxMs) : this.ctx.backoffBaseMs;
      r.pull = { reason, message, failedAtMs: now, retryAtMs: now + delayMs, delayMs };
      if (reason === 'ErrImagePull') events.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
      else events.event(pod, 'Warning', 'ErrImageNeverPull', message); // upstream's reason for a Never miss
      this.wakeAt(now + ERR_IMAGE_PULL_SHOWN_MS);
      return;
    }
    r.pull = undefined;
    if (pulled.pulled) {
      // The kubelet's wording; "including waiting" also counts time queued behind other pulls (none here).
      const { durationMs, sizeBytes } = pulled.pulled;
      const total = Math.max(durationMs, pullStartedMs ? performance.now() - pullStartedMs : 0);
      events.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${goDuration(Math.floor(durationMs))} (${goDuration(Math.floor(total))} including waiting). Image size: ${sizeBytes} bytes.`);
    } else events.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
    const id = await runtime.createContainer(this.sandbox!.sandboxId, pod, r.spec, r.restartCount);
    events.event(pod, 'Normal', 'Created', `Created container: ${r.spec.name}`);
    await runtime.startContainer(id);
    events.event(pod, 'Normal', 'Started', `Started container ${r.spec.name}`);
    r.id = id;
    r.status = await runtime.containerStatus(id);
    if (r.spec.stdin && r.spec.stdinOnce && r.status.state === 'running') r.status = await settleInteractiveStart(runtime, id, r.status);
    r.ready = false;
    r.started = false;
    r.restartAtMs = undefined;
    // Most containers have no hook: no promise for them.
    if (hookOf(r.spec, 'postStart')) await this.postStart(pod, r, id);
  }

  /**
   * The postStart hook, waited for here as the kubelet's sync waits for it: nothing else of the pod
   * moves on (no status, no next container) until it returns. A failure kills the container, which
   * then restarts per the restart policy. A deletion ends the wait; its termination stops the container.
   */
  private async postStart(pod: Obj, r: ContainerRecord, id: string): Promise<void> {
    const handler = hookOf(r.spec, 'postStart');
    if (!handler) return;
    // Deleted since this sync began: the termination stops the container, the hook need not run.
    if (this.pod()?.metadata.deletionTimestamp) return;
    const abort = new AbortController();
    this.postStartAbort = abort;
    let outcome;
    try {
      outcome = await runHook(this.ctx.runtime, this.hookTarget(pod), r.spec, id, 'postStart', handler, abort.signal);
    } finally {
      this.postStartAbort = undefined;
    }
    if (outcome.ok) return;
    // The handler's own message stays out of the event (it may hold secrets); the status shows it.
    this.ctx.events.event(pod, 'Warning', POST_START_FAILED.reason, POST_START_FAILED.message);
    log('info', 'agent', 'postStart hook failed', { pod: this.key, container: r.spec.name, message: outcome.message });
    r.hookError = { id, message: outcome.message };
    if (outcome.aborted) return;
    r.killing = id;
    await this.kill(pod, r, 'postStart', POST_START_KILL_MESSAGE);
    r.status = await this.ctx.runtime.containerStatus(id).catch(() => r.status);
  }

  /** The pod as hooks see it: with its IP, which the API may not show yet on a first start. */
  private hookTarget(pod: Obj): Obj {
    const ip = this.sandbox?.ip;
    return ip && !pod.status?.podIP ? { ...pod, status: { ...pod.status, podIP: ip } } : pod;
  }

  /**
   * Kills one container as the kubelet does (Killing event, preStop within the grace period, then
   * the stop signal with the rest, 2 s at least); a kill already under way for it is joined.
   */
  private kill(pod: Obj, r: ContainerRecord, reason: KillReason, message: string): Promise<void> {
    const id = r.id!;
    const kills = (this.kills ??= new Map());
    const existing = kills.get(id);
    if (existing) return existing.done;
    const k = new ContainerKill({
      runtime: this.ctx.runtime,
      events: this.ctx.events,
      pod: this.hookTarget(pod),
      container: r.spec,
      containerId: id,
      budgetSeconds: killBudgetSeconds(pod, r.spec, reason),
      message,
      running: isRunning(r),
      // A deletion with no grace at all stops at once, as before hooks existed (no preStop, no 2 s minimum).
      immediate: reason === 'delete' && killBudgetSeconds(pod, r.spec, reason) === 0,
      key: this.key,
    });
    kills.set(id, k);
    // Deletions are the common case (a whole StatefulSet going): only the unusual kills are logged.
    if (reason !== 'delete') log('info', 'agent', 'killing container', { pod: this.key, container: r.spec.name, reason, graceSeconds: killBudgetSeconds(pod, r.spec, reason) });
    return k.done.finally(() => {
      if (kills.get(id) === k) kills.delete(id);
    });
  }

  private async maybeRestart(pod: Obj, r: ContainerRecord, policy: string, now: number): Promise<void> {
    if (!willRestart(policy, r)) return;
    const finished = r.status?.finishedAt ? Date.parse(r.status.finishedAt) : now;
    const decision = restartDecision(r.backoff, finished, this.ctx.backoffBaseMs, this.ctx.backoffMaxMs);
    if (decision.restartAtMs > now) {
      if (r.restartAtMs === undefined) {
        this.ctx.events.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${r.spec.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${this.uid})`);
      }
      r.restartAtMs = decision.restartAtMs;
      this.wakeAt(decision.restartAtMs);
      return;
    }
    r.backoff = decision.next;
    const old = r.id!;
    // Only the last dead instance's log is kept (for `logs --previous`), as the kubelet keeps it.
    const staleLog = r.previous?.logPath;
    if (staleLog && staleLog !== r.status?.logPath) rm(staleLog, { force: true }).catch(() => {});
    r.previous = r.status;
    r.restartCount++;
    r.id = undefined;
    await this.startContainer(pod, r);
    // The kubelet keeps only the last dead instance (for `logs --previous`); older ones go.
    void this.ctx.runtime.removeContainer(old).catch(() => {});
  }

  /**
   * Brings the probe workers up to date with the containers and reads back their verdicts: a
   * container counts as started once its startup probe passed, is ready per its readiness probe
   * (once started, without one), and is killed when its liveness or startup probe failed. The
   * probes themselves run elsewhere; this never waits for one.
   */
  private async applyProbes(pod: Obj): Promise<void> {
    const { runtime } = this.ctx;
    const probes = this.hasProbes;
    if (probes) {
      this.prober.update(
        this.records.filter((r) => !r.init || r.sidecar).map((r) => ({ name: r.spec.name, spec: r.spec, id: r.id, running: isRunning(r), startedAt: r.status?.startedAt, ready: r.ready, started: r.started })),
        { podIP: this.sandbox?.ip },
      );
    }
    for (const r of this.records) {
      if (!isRunning(r) || !r.id) {
        r.ready = false;
        r.started = false;
        continue;
      }
      // Init containers (not sidecars) have no probes; they only have to run to completion.
      if (r.init && !r.sidecar) {
        r.started = true;
        continue;
      }
      // Without probes the prober has no verdicts: nothing fails, everything counts as started.
      const failed = probes ? this.prober.failure(r.spec.name, r.id) : undefined;
      if (failed && r.killing !== r.id) this.killForProbe(pod, r, failed);
      if (r.killing === r.id) {
        r.ready = false;
        continue;
      }
      r.started = probes ? this.prober.started(r.spec.name, r.id) : true;
      if (!r.started) {
        r.ready = false;
        continue;
      }
      // Without a readiness probe a started container is ready, unless the runtime says otherwise
      // (only the simulated one does, through its test hook; it answers at once).
      r.ready =
        (probes ? this.prober.readiness(r.spec.name, r.id) : undefined) ??
        runtime.readyWithoutProbe?.(pod) ??
        normalizeProbeResult(await runtime.probe(pod, r.spec, r.id, 'readiness', undefined)).ok;
      if (!r.ready && probes) this.prober.triggerReadiness(r.spec.name, r.id);
    }
  }

  /**
   * A failed liveness or startup probe: stop the container with its grace period, in the
   * background so the pod worker keeps serving; its exit brings the next sync, which restarts it
   * per the restart policy (with the usual back-off).
   */
  private killForProbe(pod: Obj, r: ContainerRecord, kind: 'liveness' | 'startup'): void {
    r.killing = r.id!;
    r.ready = false;
    void this.kill(pod, r, kind, killingMessage(r.spec.name, kind, restartsAfterKill(pod, r.sidecar))).finally(() => this.kick());
  }

  /** Graceful stop of a deleted pod, then the final status and the pod's removal from the API. */
  private async terminate(pod: Obj): Promise<void> {
    const { client } = this.ctx;
    const grace = Math.max(0, pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
    // Nothing is killed for a failed probe on the way out; readiness goes on until the end.
    this.proberOf?.update([], { deleting: true });
    const running = this.records.filter((r) => r.id && (isRunning(r) || r.status?.state === 'created'));
    // Each container runs its preStop hook and gets what is left of the grace period; a kill
    // already under way (a failed probe) is held to the deletion's grace period instead.
    await Promise.all(
      running.map((r) => {
        const underway = this.kills?.get(r.id!);
        if (!underway) return this.kill(pod, r, 'delete', `Stopping container ${r.spec.name}`);
        underway.shorten(grace);
        return underway.done;
      }),
    );
    await this.refresh();
    for (const r of this.records) {
      r.ready = false;
      r.restartAtMs = undefined;
    }
    this.terminal = true;
    const current = this.pod();
    if (!current) {
      this.dirty = true;
      return;
    }
    await this.report(current, this.ctx.terminalPhaseOnDelete);
    await this.teardown(0);
    // Stopped: a pod of the same name waiting for this one may start. A failed delete below is
    // tried again by the syncs that follow (see sync).
    this.done = true;
    await this.finishDeletion(current);
  }

  /** Removes the stopped pod from the API (grace period 0, this pod's uid only). */
  private async finishDeletion(pod: Obj): Promise<void> {
    const { client } = this.ctx;
    try {
      await client.delete(client.resource('', 'pods'), pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } });
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }

  /** Stops and removes everything the runtime holds for the pod. */
  private async teardown(graceSeconds: number): Promise<void> {
    const { runtime } = this.ctx;
    this.proberOf?.stop();
    if (!this.sandbox) return;
    const sandboxId = this.sandbox.sandboxId;
    await Promise.all(this.records.filter((r) => r.id && isRunning(r)).map((r) => runtime.stopContainer(r.id!, graceSeconds)));
    await runtime.stopPodSandbox(sandboxId);
    await runtime.removePodSandbox(sandboxId);
    this.sandbox = undefined;
  }

  // ------------------------------------------------------------------------- status

  private inputs(pod: Obj): ContainerInput[] {
    const now = Date.now();
    return this.records.map((r) => {
      let waiting: ContainerInput['waiting'];
      if (r.restartAtMs !== undefined && r.restartAtMs > now && r.status?.state === 'exited') {
        waiting = {
          reason: 'CrashLoopBackOff',
          message: `back-off ${goDuration(r.backoff?.delayMs ?? this.ctx.backoffBaseMs)} restarting failed container=${r.spec.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${this.uid})`,
        };
      } else if (!r.id && !this.terminal && r.pull) {
        const backingOff = r.pull.reason === 'ErrImagePull' && now >= r.pull.failedAtMs + ERR_IMAGE_PULL_SHOWN_MS;
        const image = r.spec.image ?? '';
        waiting = backingOff ? { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ${r.pull.message}` } : { reason: r.pull.reason, message: r.pull.message };
      } else if (!r.id && !this.terminal) {
        // Not created yet: regular containers wait for the init containers first.
        waiting = { reason: r.init || !this.initsComplete() ? 'PodInitializing' : 'ContainerCreating' };
      } else if (r.hookError && r.hookError.id === r.id && r.status?.state === 'exited' && !this.terminal && willRestart(r.sidecar ? 'Always' : (pod.spec?.restartPolicy ?? 'Always'), r)) {
        // Until the restart, the kubelet shows why the last start failed.
        waiting = { reason: POST_START_WAITING_REASON, message: r.hookError.message };
      }
      const inCrashLoop = waiting?.reason === 'CrashLoopBackOff' || waiting?.reason === POST_START_WAITING_REASON;
      return {
        name: r.spec.name,
        image: r.spec.image ?? '',
        init: r.init,
        sidecar: r.sidecar,
        current: inCrashLoop ? undefined : r.status,
        previous: inCrashLoop ? r.status : r.previous,
        restartCount: r.restartCount,
        ready: r.ready,
        started: r.started,
        waiting,
        // Upstream reports the runtime's image reference for the container; the pull's is the same
        // image, and the one known before the container exists.
        imageRef: r.imageRef ?? r.status?.imageRef,
      };
    });
  }

  /** The pod's sandbox and containers, for exec, attach, port-forward and logs. */
  view(): { sandboxId?: string; podIP?: string; containers: ContainerView[] } {
    const pod = this.pod();
    const inputs = pod ? this.inputs(pod) : [];
    return {
      sandboxId: this.sandbox?.sandboxId,
      podIP: this.sandbox?.ip,
      containers: this.records.map((r, i) => ({ name: r.spec.name, init: r.init, id: r.id, status: r.status, previous: r.previous, restartCount: r.restartCount, waiting: inputs[i]?.waiting?.reason })),
    };
  }

  private initsComplete(): boolean {
    for (const r of this.inits) if (!r.sidecar && !exitedOk(r)) return false;
    return true;
  }

  /** Writes the pod's status if it changed. */
  private async report(pod: Obj, podIsTerminal = false): Promise<void> {
    const status = computePodStatus(
      pod,
      {
        runtimeName: this.ctx.runtime.name,
        hostIP: this.ctx.hostIP,
        podIP: this.sandbox?.ip,
        startTime: this.startTime,
        sandboxReady: !!this.sandbox && !this.done,
        containers: this.inputs(pod),
        podIsTerminal: podIsTerminal || (this.terminal && !pod.metadata.deletionTimestamp),
      },
      nowTimestamp(),
    );
    if (sameJson(status, pod.status ?? {})) return;
    const pods = this.ctx.client.resource('', 'pods');
    let target = pod;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const written = await this.ctx.client.update(pods, { ...target, status }, 'status');
        this.latest = written;
        // Ours only when written straight over the version this worker synced on: after a conflict
        // the write sits on changes of others, which must still come to a sync. An update that
        // changed nothing answers the stored version, which is not ours either.
        if (attempt === 0 && written.metadata.resourceVersion !== target.metadata.resourceVersion) this.written = [written.metadata.resourceVersion, this.written[0]];
        return;
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return;
        if (!(err instanceof ApiError && err.code === 409)) throw err;
        const fresh = await this.ctx.client.get(pods, pod.metadata.namespace, pod.metadata.name).catch(() => undefined);
        if (!fresh || fresh.metadata.uid !== this.uid) return;
        target = fresh;
      }
    }
  }
}

/** The first ready sandbox of a pod's, if any. */
function readySandboxOf(sandboxes: SandboxSummary[]): SandboxSummary | undefined {
  for (const s of sandboxes) if (s.state === 'ready') return s;
  return undefined;
}

/** Every container has exited and none will restart (nor waits out a back-off to): the pod is finished. */
function allFinishedForGood(records: ContainerRecord[], policy: string): boolean {
  for (const r of records) if (r.status?.state !== 'exited' || r.restartAtMs !== undefined || willRestart(policy, r)) return false;
  return true;
}

function willRestart(policy: string, r: ContainerRecord): boolean {
  if (r.status?.state !== 'exited') return false;
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return (r.status.exitCode ?? 0) !== 0;
  return false;
}

/**
 * A container started for one attach (`kubectl run -i`: stdin and stdinOnce) is reported Running
 * only once it has run for half a second (the kubelet first sees a start at its next relist, up to
 * a second later). A short command has ended by then: the pod goes straight to Succeeded or
 * Failed, and kubectl prints its logs instead of attaching to a process that is gone and losing
 * what it printed. Longer ones are attached to well before a command that sleeps a second prints.
 */
const INTERACTIVE_SETTLE_MS = 500;

async function settleInteractiveStart(runtime: Runtime, id: string, status: RuntimeContainerStatus): Promise<RuntimeContainerStatus> {
  const deadline = Date.now() + INTERACTIVE_SETTLE_MS;
  while (status.state === 'running' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    status = await runtime.containerStatus(id);
  }
  return status;
}
