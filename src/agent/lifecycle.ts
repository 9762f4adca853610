// Running container lifecycle hooks, and killing a container the way the kubelet does: preStop
// first (within the grace period), then the stop signal with what is left of it. The decisions
// and texts live in lifecycle-logic.ts; exec and httpGet handlers go through the runtime (the
// simulated one fakes them, as it does probes), sleep is timed here, as the kubelet times it.
import type { Obj } from '../api/resource.ts';
import type { EventRecorder } from '../client/events.ts';
import { log } from '../util/log.ts';
import {
  PRE_STOP_FAILED,
  SLEEP_INTERRUPTED,
  cannotRunMessage,
  handlerType,
  hookFailureMessage,
  hookOf,
  LIFECYCLE_USER_AGENT,
  restopGraceSeconds,
  runsPreStop,
  shortenBudget,
  sleepSeconds,
  stopGraceSeconds,
  type HookKind,
  type KillBudget,
} from './lifecycle-logic.ts';
import { httpGetHook } from './prober-net.ts';
import { probeHeaders, probeURL, resolveProbePort } from './prober-logic.ts';
import type { Runtime, RuntimeHookResult } from './runtime/types.ts';

export type HookOutcome = { ok: true } | { ok: false; message: string; /** Cut short by the caller (the pod is going away). */ aborted: boolean };

/**
 * Runs one hook handler against a container and waits for it (no time limit of its own, as the
 * kubelet's; callers bound it with `signal`). `pod` carries the pod IP httpGet handlers aim at.
 */
export async function runHook(runtime: Runtime, pod: Obj, container: Obj, containerId: string, kind: HookKind, handler: Obj, signal: AbortSignal): Promise<HookOutcome> {
  const name: string = container.name ?? '';
  const type = handlerType(handler);
  if (type === 'sleep') {
    const finished = await abortableSleep(sleepSeconds(handler) * 1000, signal);
    return finished ? { ok: true } : { ok: false, message: hookFailureMessage(handler, name, pod, SLEEP_INTERRUPTED), aborted: true };
  }
  if ((type !== 'exec' && type !== 'httpGet') || !runtime.runHook) return { ok: false, message: cannotRunMessage(handler), aborted: false };
  let aborted = false;
  const cancelled = new Promise<undefined>((resolve) => {
    const onAbort = () => {
      aborted = true;
      resolve(undefined);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const r = await Promise.race([runtime.runHook(pod, container, containerId, kind, handler, signal), cancelled]);
    if (!r) return { ok: false, message: hookFailureMessage(handler, name, pod, 'context canceled'), aborted: true };
    if (r.ok) return { ok: true };
    return { ok: false, message: hookFailureMessage(handler, name, pod, r.error ?? '', r.output ?? ''), aborted };
  } catch (err) {
    return { ok: false, message: hookFailureMessage(handler, name, pod, (err as Error).message ?? String(err)), aborted };
  }
}

/**
 * An httpGet hook from the node (runtimes with real pod networking call this from runHook): the
 * pod IP unless the hook names a host, a named port looked up in the container, the kubelet's
 * lifecycle User-Agent unless the hook sets one.
 */
export function runHttpGetHook(pod: Obj, container: Obj, httpGet: Obj, signal: AbortSignal): Promise<RuntimeHookResult> {
  const port = httpGet.port === '' || httpGet.port === undefined ? { port: 80 } : resolveProbePort(httpGet.port, container);
  if ('error' in port) return Promise.resolve({ ok: false, error: port.error });
  const host: string = httpGet.host || pod.status?.podIP || '';
  if (!host) return Promise.resolve({ ok: false, error: 'failed to find networking container: the pod has no IP' });
  const headers = probeHeaders(httpGet);
  if (!(httpGet.httpHeaders ?? []).some((h: Obj) => String(h?.name ?? '').toLowerCase() === 'user-agent')) headers['user-agent'] = LIFECYCLE_USER_AGENT;
  return httpGetHook(probeURL(httpGet, host, port.port), headers, signal);
}

/** Resolves true after ms, or false as soon as the signal aborts. The timer never holds the process up. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    timer.unref();
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface KillOptions {
  runtime: Runtime;
  events: EventRecorder;
  /** The pod for events and hook targets (with its IP in status.podIP). */
  pod: Obj;
  container: Obj;
  containerId: string;
  /** The grace period the kill starts with (lifecycle-logic killBudgetSeconds). */
  budgetSeconds: number;
  /** The Killing event's message. */
  message: string;
  /** The container is running, so its preStop hook may run (a created-only one just goes). */
  running: boolean;
  /** No preStop, no grace: stop at once (a deletion with grace period 0). */
  immediate?: boolean;
  /** For logs: namespace/name. */
  key: string;
}

/**
 * One container being killed: Killing event, preStop (bounded by the budget), then the stop signal
 * with the rest of the budget (2 s at least). A shorter grace period arriving meanwhile (shorten)
 * cuts the preStop wait and, once the signal was sent, asks the runtime for an earlier SIGKILL.
 * `done` resolves when the runtime has stopped the container (or failed to; that is logged).
 */
export class ContainerKill {
  readonly containerId: string;
  readonly done: Promise<void>;
  private readonly o: KillOptions;
  private budget: KillBudget;
  private phase: 'preStop' | 'stopping' = 'preStop';
  /** Stop with 0 (SIGKILL at once) rather than the 2 s minimum: the pod is gone or its grace period is 0. */
  private immediate: boolean;
  /** Ends the preStop wait early (budget ran out, or was shortened to nothing). */
  private wake: (() => void) | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private stopStartedMs = 0;
  private stopGrace = 0;
  private stopped!: () => void;
  private readonly anyStop = new Promise<void>((resolve) => (this.stopped = resolve));

  constructor(o: KillOptions) {
    this.o = o;
    this.containerId = o.containerId;
    this.immediate = !!o.immediate;
    this.budget = { startMs: Date.now(), seconds: this.immediate ? 0 : Math.max(0, o.budgetSeconds) };
    this.done = this.run();
  }

  /** A new grace period for the pod (its deletion grace shrank, or 0: it is gone, kill now); longer ones change nothing. */
  shorten(graceSeconds: number): void {
    const now = Date.now();
    if (graceSeconds <= 0) this.immediate = true;
    if (this.phase === 'preStop') {
      const next = shortenBudget(this.budget, graceSeconds, now);
      if (next === this.budget) return;
      this.budget = next;
      log('info', 'agent', 'grace period shortened during preStop', { pod: this.o.key, container: this.o.container.name, graceSeconds: next.seconds });
      this.arm();
      return;
    }
    const g = restopGraceSeconds(this.stopStartedMs, this.stopGrace, graceSeconds, now);
    if (g === undefined) return;
    log('info', 'agent', 'grace period shortened, stopping again', { pod: this.o.key, container: this.o.container.name, graceSeconds: g });
    this.issueStop(g);
  }

  private async run(): Promise<void> {
    const { events, pod, container } = this.o;
    events.event(pod, 'Normal', 'Killing', this.o.message);
    const preStop = hookOf(container, 'preStop');
    if (preStop && this.o.running && !this.immediate && runsPreStop(container, this.budget.seconds)) {
      const hook = runHook(this.o.runtime, pod, container, this.containerId, 'preStop', preStop, new AbortController().signal).then((outcome) => {
        // Recorded whenever it fails, even after the kill moved on (an exec cut off by SIGKILL), as upstream's goroutine does.
        if (outcome.ok) return;
        events.event(pod, 'Warning', PRE_STOP_FAILED.reason, PRE_STOP_FAILED.message);
        log('info', 'agent', 'preStop hook failed', { pod: this.o.key, container: container.name, message: outcome.message });
      });
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.arm();
        void hook.then(resolve);
      });
      clearTimeout(this.deadline);
      this.wake = undefined;
    }
    this.phase = 'stopping';
    this.issueStop(this.immediate ? 0 : stopGraceSeconds(this.budget.seconds, Date.now() - this.budget.startMs));
    await this.anyStop;
  }

  /** (Re)sets the preStop wait's deadline to the end of the budget. */
  private arm(): void {
    clearTimeout(this.deadline);
    const wake = this.wake;
    if (!wake) return;
    const endMs = this.budget.startMs + this.budget.seconds * 1000;
    this.deadline = setTimeout(() => {
      log('info', 'agent', 'preStop hook did not finish within the grace period', { pod: this.o.key, container: this.o.container.name });
      wake();
    }, Math.max(0, endMs - Date.now()));
  }

  /** Another stop call with a shorter grace period ends the wait of the one under way with an earlier SIGKILL. */
  private issueStop(graceSeconds: number): void {
    this.stopStartedMs = Date.now();
    this.stopGrace = graceSeconds;
    this.o.runtime
      .stopContainer(this.containerId, graceSeconds)
      .catch((err) => log('warn', 'agent', 'stopping a container failed', { pod: this.o.key, container: this.o.container.name, error: String(err) }))
      .finally(() => this.stopped());
  }
}
