// The probes of one pod, run off the pod worker's sync path as the kubelet's prober manager runs
// them: one worker per container per probe kind, each on its own timer (initialDelaySeconds, then
// every periodSeconds), never two runs of the same worker at once. The pod worker tells the prober
// which container instances exist (update) and reads the published results (started, readiness,
// failure) while it syncs; a worker whose published result changes asks for a sync (changed).
// The decisions live in prober-logic.ts.
import type { Obj } from '../api/resource.ts';
import type { EventRecorder } from '../client/events.ts';
import { log } from '../util/log.ts';
import {
  gate,
  normalizeProbeResult,
  probeSettings,
  quietStop,
  recordResult,
  resultOf,
  stateFor,
  unhealthyMessage,
  type ProbeKind,
  type ProbeSettings,
  type ProbeState,
} from './prober-logic.ts';
import type { Runtime, RuntimeProbeResult } from './runtime/types.ts';

export interface ProberContext {
  runtime: Runtime;
  events: EventRecorder;
  /** The pod as the API has it now (exec/http targets, and the simulated runtime's hooks, read it). */
  pod(): Obj | undefined;
  /** A published result changed: the pod worker should sync. */
  changed(): void;
}

/** A container of the pod as the pod worker last saw it. */
export interface ProbeTarget {
  name: string;
  spec: Obj;
  /** The current instance, when one exists. */
  id?: string;
  running: boolean;
  /** RFC 3339, from the runtime. */
  startedAt?: string;
  /**
   * What the pod worker last concluded about this instance: read only when a worker first meets
   * the instance, so an adopted container (agent restart) keeps its Ready and started until probed.
   */
  ready?: boolean;
  started?: boolean;
}

const KINDS: ProbeKind[] = ['startup', 'readiness', 'liveness'];
const probeOf = (spec: Obj, kind: ProbeKind): Obj | undefined => (kind === 'startup' ? spec.startupProbe : kind === 'readiness' ? spec.readinessProbe : spec.livenessProbe);

/** How much longer than timeoutSeconds a runtime may take before the run counts as timed out anyway. */
const TIMEOUT_SLACK_MS = 2000;

class ProbeWorker {
  readonly kind: ProbeKind;
  readonly container: string;
  readonly probe: Obj;
  readonly settings: ProbeSettings;
  state: ProbeState;
  private readonly owner: PodProber;
  private target: ProbeTarget | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the next periodic run is due (the worker's own ticker). */
  private nextAt = 0;
  private busy = false;
  /** A run was asked for while one was under way. */
  private again = false;
  private stopped = false;

  constructor(owner: PodProber, kind: ProbeKind, container: string, probe: Obj) {
    this.owner = owner;
    this.kind = kind;
    this.container = container;
    this.probe = probe;
    this.settings = probeSettings(kind, probe);
    this.state = stateFor(kind, undefined);
  }

  setTarget(t: ProbeTarget): void {
    if (this.stopped) return;
    const prev = this.target;
    this.target = t;
    if (t.id && t.id !== this.state.containerId) {
      // A new container: fresh results, and the schedule starts over from its start.
      this.state = stateFor(this.kind, t.id);
      if ((this.kind === 'readiness' && t.ready) || (this.kind === 'startup' && t.started)) this.state.result = 'success';
      const startedMs = t.startedAt ? Date.parse(t.startedAt) : Date.now();
      this.nextAt = Math.max(Date.now(), startedMs + this.settings.initialDelaySeconds * 1000);
      this.schedule(this.nextAt);
      return;
    }
    if (t.running && !prev?.running && !this.timer && !this.busy) this.schedule(Math.max(Date.now(), this.nextAt));
  }

  /** Runs now (readiness as soon as the container has started, as upstream's manual trigger). */
  trigger(): void {
    if (this.stopped) return;
    if (this.busy) this.again = true;
    else this.schedule(Date.now());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, Math.max(0, at - Date.now()));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.busy) {
      // A run is still under way (for an older instance, or a trigger): go again when it ends.
      this.again = true;
      return;
    }
    const t = this.target;
    const pod = this.owner.ctx.pod();
    if (!t || !t.id || t.id !== this.state.containerId || !pod) return;
    const startedMs = t.startedAt ? Date.parse(t.startedAt) : Date.now();
    const view = {
      running: t.running,
      secondsSinceStart: Math.floor((Date.now() - startedMs) / 1000),
      started: this.owner.started(t.name, t.id),
      deleting: !!pod.metadata?.deletionTimestamp || this.owner.deleting,
    };
    const g = gate(this.kind, this.state, this.settings, view);
    // Nothing to do until a new container (setTarget wakes the worker then).
    if (g === 'hold' || g === 'idle' || g === 'done') return;
    if (g === 'stop') {
      const before = this.state.result;
      this.state = quietStop(this.state);
      this.stop();
      if (before !== this.state.result) this.owner.ctx.changed();
      return;
    }
    if (g === 'delay') {
      this.schedule(startedMs + this.settings.initialDelaySeconds * 1000);
      return;
    }
    if (g === 'probe') {
      this.busy = true;
      let r: RuntimeProbeResult;
      try {
        r = await this.run(pod, t);
      } finally {
        this.busy = false;
      }
      if (this.stopped) return;
      if (this.state.containerId !== t.id) {
        // The container was replaced meanwhile: this verdict is about the old one; probe the new one on schedule.
        this.again = false;
        this.schedule(Math.max(Date.now(), this.nextAt));
        return;
      }
      const message = unhealthyMessage(this.kind, r);
      if (message) this.owner.ctx.events.event(pod, 'Warning', 'Unhealthy', message);
      const d = recordResult(this.kind, this.settings, this.state, resultOf(r));
      this.state = d.state;
      if (d.changed) this.owner.published(this);
      if (this.again) {
        this.again = false;
        this.schedule(Date.now());
        return;
      }
    }
    // The ticker: the next multiple of the period (ticks missed while probing are dropped).
    const now = Date.now();
    do this.nextAt += this.settings.periodMs;
    while (this.nextAt <= now);
    this.schedule(this.nextAt);
  }

  /** One run through the runtime, bounded by the probe's timeout even if the runtime is not. */
  private async run(pod: Obj, t: ProbeTarget): Promise<RuntimeProbeResult> {
    const target = this.owner.podIP && !pod.status?.podIP ? { ...pod, status: { ...pod.status, podIP: this.owner.podIP } } : pod;
    let timer: NodeJS.Timeout | undefined;
    const limitMs = this.settings.timeoutSeconds * 1000 + TIMEOUT_SLACK_MS;
    const timedOut = new Promise<RuntimeProbeResult>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, output: `probe did not finish within ${this.settings.timeoutSeconds}s` }), limitMs);
    });
    try {
      const probe = this.owner.ctx.runtime.probe(target, t.spec, t.id!, this.kind, this.probe).then(normalizeProbeResult);
      return await Promise.race([probe, timedOut]);
    } catch (err) {
      log('debug', 'prober', 'probe errored', { container: t.name, kind: this.kind, error: String(err) });
      return { ok: false, error: true, output: (err as Error).message ?? String(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}

export class PodProber {
  readonly ctx: ProberContext;
  private readonly workers = new Map<string, ProbeWorker>();
  podIP: string | undefined;
  deleting = false;

  constructor(ctx: ProberContext) {
    this.ctx = ctx;
  }

  private worker(name: string, kind: ProbeKind): ProbeWorker | undefined {
    return this.workers.get(`${name}\u0000${kind}`);
  }

  /** The pod worker's view of its containers after a sync: workers start, and follow new instances. */
  update(targets: ProbeTarget[], opts: { podIP?: string; deleting?: boolean } = {}): void {
    if (opts.podIP) this.podIP = opts.podIP;
    if (opts.deleting && !this.deleting) {
      this.deleting = true;
      // Upstream stops liveness and startup when termination starts (nothing is killed on the way out).
      for (const w of this.workers.values()) if (w.kind !== 'readiness') w.stop();
    }
    for (const t of targets) {
      for (const kind of KINDS) {
        const probe = probeOf(t.spec, kind);
        if (!probe) continue;
        let w = this.worker(t.name, kind);
        if (!w) {
          if (this.deleting && kind !== 'readiness') continue;
          w = new ProbeWorker(this, kind, t.name, probe);
          this.workers.set(`${t.name}\u0000${kind}`, w);
        }
        w.setTarget(t);
      }
    }
  }

  /** Whether the container instance has passed its startup probe (true without one). */
  started(name: string, id: string): boolean {
    const w = this.worker(name, 'startup');
    if (!w) return true;
    return w.state.containerId === id && w.state.result === 'success';
  }

  /** The readiness probe's verdict on the instance, or undefined when the container has no readiness probe. */
  readiness(name: string, id: string): boolean | undefined {
    const w = this.worker(name, 'readiness');
    if (!w) return undefined;
    return w.state.containerId === id && w.state.result === 'success';
  }

  /**
   * Probes readiness again now (upstream's manual trigger): the kubelet does this on every status
   * sync of a started container that is not ready yet, so that a first probe which ran a moment
   * before the server listened costs one sync, not a whole period.
   */
  triggerReadiness(name: string, id: string): void {
    const w = this.worker(name, 'readiness');
    if (w && w.state.containerId === id && w.state.result !== 'success') w.trigger();
  }

  /** Which probe, if any, has condemned the instance (it is to be killed and restarted per the policy). */
  failure(name: string, id: string): 'liveness' | 'startup' | undefined {
    for (const kind of ['startup', 'liveness'] as const) {
      const w = this.worker(name, kind);
      if (w && w.state.containerId === id && w.state.result === 'failure') return kind;
    }
    return undefined;
  }

  /** A worker's published result changed. */
  published(w: ProbeWorker): void {
    // Readiness is probed as soon as the container counts as started, not a period later.
    if (w.kind === 'startup' && w.state.result === 'success') this.worker(w.container, 'readiness')?.trigger();
    this.ctx.changed();
  }

  stop(): void {
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
  }
}
