// The decisions around container lifecycle hooks (postStart, preStop), free of timers and I/O so
// they can be table-tested: which handler a hook uses, how long a kill may take and how a preStop
// hook eats into it, and the texts upstream's kubelet writes when a hook fails.
//
// Upstream model (pkg/kubelet/lifecycle/handlers.go, kuberuntime_container.go):
//   - postStart runs right after the container started; the pod's sync waits for it. A failure
//     records Warning FailedPostStartHook "PostStartHook failed" (the handler's output stays out of
//     the event, it may hold secrets), kills the container (Killing "FailedPostStartHook") and the
//     container shows Waiting PostStartHookError with the handler's message until it is restarted.
//   - every kill (deletion, failed probe, failed postStart) first runs preStop, if the container has
//     one and the grace period is above zero, for at most the grace period; what it took (whole
//     seconds, rounded down) comes off the grace period, and the stop signal always gets at least
//     2 seconds before SIGKILL. A failed preStop records Warning FailedPreStopHook
//     "PreStopHook failed" and the kill goes on.
//   - exec, httpGet and sleep are run; a tcpSocket handler is accepted by the API but the kubelet
//     has no runner for it, so such a hook always fails ("Cannot run handler: invalid handler").
//   - an httpGet hook fails only when the request cannot be made: any HTTP status counts as done.
import type { Obj } from '../api/resource.ts';
import { MIN_KILL_GRACE_SECONDS } from './prober-logic.ts';

export { MIN_KILL_GRACE_SECONDS };

export type HookKind = 'postStart' | 'preStop';
export type HandlerType = 'exec' | 'httpGet' | 'sleep' | 'tcpSocket';

export const POST_START_FAILED = { reason: 'FailedPostStartHook', message: 'PostStartHook failed' } as const;
export const PRE_STOP_FAILED = { reason: 'FailedPreStopHook', message: 'PreStopHook failed' } as const;
/** The Killing event's message when a failed postStart hook kills its container. */
export const POST_START_KILL_MESSAGE = 'FailedPostStartHook';
/** The waiting reason a container shows after its postStart hook failed, until it is restarted. */
export const POST_START_WAITING_REASON = 'PostStartHookError';
/** What a sleep hook reports when its container is stopped before the sleep is over. */
export const SLEEP_INTERRUPTED = 'container terminated before sleep hook finished';

/** The container's hook of that kind, if it has one. */
export function hookOf(container: Obj, kind: HookKind): Obj | undefined {
  const h = container?.lifecycle?.[kind];
  return h && typeof h === 'object' ? h : undefined;
}

/** Which handler the hook uses, in the order the kubelet checks them (validation allows only one). */
export function handlerType(handler: Obj): HandlerType | undefined {
  for (const t of ['exec', 'httpGet', 'sleep', 'tcpSocket'] as const) if (handler?.[t] && typeof handler[t] === 'object') return t;
  return undefined;
}

/** The pod as the kubelet names it in messages (format.Pod): name_namespace(uid). */
export function formatPod(pod: Obj): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

/** A string as Go's %q writes it (double quotes; control characters escaped). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** A string slice as Go's %v writes it: [a b c]. */
export const goList = (items: unknown[]): string => `[${items.map(String).join(' ')}]`;

/** An IntOrString as Go's %v writes the struct: {0 80 } for a number, {1 0 http} for a name. */
function goIntOrString(v: unknown): string {
  return typeof v === 'number' ? `{0 ${v} }` : `{1 0 ${String(v ?? '')}}`;
}

/** The message the kubelet gives for a handler it cannot run (a tcpSocket handler, or none at all). */
export function cannotRunMessage(handler: Obj): string {
  const tcp = handler?.tcpSocket;
  const tcpText = tcp && typeof tcp === 'object' ? `&TCPSocketAction{Port:${goIntOrString(tcp.port)},Host:${tcp.host ?? ''},}` : 'nil';
  return `Cannot run handler: invalid handler: &LifecycleHandler{Exec:nil,HTTPGet:nil,TCPSocket:${tcpText},Sleep:nil,}`;
}

/**
 * The handler runner's message for a failed hook (what a container's PostStartHookError shows):
 * `error` is the Go error text, `output` an exec handler's combined output.
 */
export function hookFailureMessage(handler: Obj, containerName: string, pod: Obj, error: string, output = ''): string {
  const where = `for Container ${goQuote(containerName)} in Pod ${goQuote(formatPod(pod))} failed - error: ${error}`;
  switch (handlerType(handler)) {
    case 'exec':
      return `Exec lifecycle hook (${goList(handler.exec.command ?? [])}) ${where}, message: ${goQuote(output)}`;
    case 'httpGet':
      return `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${where}`;
    case 'sleep':
      return `Sleep lifecycle hook (${handler.sleep.seconds ?? 0}) ${where}`;
    default:
      return cannotRunMessage(handler);
  }
}

/** The error an exec handler's non-zero exit gives (the CRI client's ExecSync wording). */
export function execExitError(command: string[], exitCode: number, stderr: string): string {
  return `command '${command.join(' ')}' exited with ${exitCode}: ${stderr}`;
}

/** The User-Agent the kubelet sends with httpGet hooks, unless the hook sets its own. */
export const LIFECYCLE_USER_AGENT = 'kube-lifecycle/1.32';

/** Seconds a sleep handler sleeps (negative counts as none). */
export function sleepSeconds(handler: Obj): number {
  const s = Number(handler?.sleep?.seconds ?? 0);
  return Number.isFinite(s) && s > 0 ? s : 0;
}

export type KillReason = 'delete' | 'liveness' | 'startup' | 'postStart';

/**
 * The grace period a kill starts with, before preStop takes its share (upstream's
 * setTerminationGracePeriod): a pod being deleted gives its deletion grace period; a failed
 * liveness or startup probe its own terminationGracePeriodSeconds if set; otherwise the pod's
 * terminationGracePeriodSeconds (30 by default). No floor yet: a 0 means "no time for preStop".
 */
export function killBudgetSeconds(pod: Obj, container: Obj, reason: KillReason): number {
  const deletion = pod.metadata?.deletionGracePeriodSeconds;
  if (typeof deletion === 'number') return Math.max(0, deletion);
  if (reason === 'liveness' || reason === 'startup') {
    const own = (reason === 'liveness' ? container?.livenessProbe : container?.startupProbe)?.terminationGracePeriodSeconds;
    if (typeof own === 'number') return Math.max(0, own);
  }
  const podGrace = pod.spec?.terminationGracePeriodSeconds;
  return typeof podGrace === 'number' ? Math.max(0, podGrace) : 30;
}

/** preStop runs only when the container has one and the grace period leaves it any time. */
export const runsPreStop = (container: Obj, budgetSeconds: number): boolean => !!hookOf(container, 'preStop') && budgetSeconds > 0;

/**
 * The grace period handed to the stop signal once preStop is done: the budget minus the whole
 * seconds preStop took, never under 2 seconds (even for a budget of 0). Only an immediate kill
 * (the pod force-deleted) skips this and stops with 0.
 */
export function stopGraceSeconds(budgetSeconds: number, preStopElapsedMs: number): number {
  return Math.max(MIN_KILL_GRACE_SECONDS, budgetSeconds - Math.floor(Math.max(0, preStopElapsedMs) / 1000));
}

/**
 * A kill's time budget while it runs: `startMs` + `seconds`. A later, shorter grace period (a
 * second `kubectl delete --grace-period=N`) replaces it when it ends sooner than what is left;
 * it never lengthens.
 */
export interface KillBudget {
  startMs: number;
  seconds: number;
}

export function shortenBudget(current: KillBudget, graceSeconds: number, nowMs: number): KillBudget {
  const g = Math.max(0, graceSeconds);
  const currentEnd = current.startMs + current.seconds * 1000;
  const proposedEnd = nowMs + g * 1000;
  return proposedEnd < currentEnd ? { startMs: nowMs, seconds: g } : current;
}

/**
 * During the stop signal's wait: whether a shorter grace period asks for a new, earlier stop
 * (ending at now + max(2, g), or now for g = 0) than the one under way.
 */
export function restopGraceSeconds(stopStartedMs: number, stopGrace: number, graceSeconds: number, nowMs: number): number | undefined {
  const g = graceSeconds <= 0 ? 0 : Math.max(MIN_KILL_GRACE_SECONDS, graceSeconds);
  return nowMs + g * 1000 < stopStartedMs + stopGrace * 1000 ? g : undefined;
}
