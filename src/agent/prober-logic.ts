// The decisions of the kubelet's prober, kept free of timers and I/O so they can be table-tested:
// a probe's settings with upstream's defaults, when a probe worker may probe, how consecutive
// results turn into the published result (failureThreshold / successThreshold), what a published
// liveness or startup failure means, and the texts of the events that go with it.
//
// Upstream model (pkg/kubelet/prober): one worker per container per probe kind. Each worker keeps
// the last raw result and how many times in a row it came; the published result only changes once
// that run reaches the threshold. Readiness starts out failed, liveness succeeded, startup unknown.
// Startup gates the other two; a published liveness or startup failure kills the container, and
// the worker then holds until it sees a new container.
import type { Obj } from '../api/resource.ts';
import type { ProbeKind, RuntimeProbeResult } from './runtime/types.ts';

export type { ProbeKind };
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeSettings {
  initialDelaySeconds: number;
  periodMs: number;
  timeoutSeconds: number;
  failureThreshold: number;
  successThreshold: number;
}

const positive = (v: unknown, dflt: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt);

/** A probe's settings with the API's defaults (period 10 s, timeout 1 s, failure 3, success 1). */
export function probeSettings(kind: ProbeKind, probe: Obj): ProbeSettings {
  const delay = probe.initialDelaySeconds;
  return {
    initialDelaySeconds: typeof delay === 'number' && delay > 0 ? delay : 0,
    periodMs: positive(probe.periodSeconds, 10) * 1000,
    timeoutSeconds: positive(probe.timeoutSeconds, 1),
    failureThreshold: positive(probe.failureThreshold, 3),
    // Validation insists on 1 for liveness and startup; a stored object that says otherwise is read as 1.
    successThreshold: kind === 'readiness' ? positive(probe.successThreshold, 1) : 1,
  };
}

/** One worker's memory about the container it probes. */
export interface ProbeState {
  /** The container instance these results are about. */
  containerId: string | undefined;
  /** What the worker has published (what readiness, start and kill decisions read). */
  result: ProbeResult;
  /** The last raw result and how many times in a row it came. */
  last: ProbeResult | undefined;
  run: number;
  /** After a published liveness/startup failure: no more probing until a new container. */
  onHold: boolean;
}

/** What a worker publishes before its first probe (readiness: not ready; liveness: alive; startup: unknown). */
export function initialResult(kind: ProbeKind): ProbeResult {
  return kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown';
}

export function stateFor(kind: ProbeKind, containerId: string | undefined): ProbeState {
  return { containerId, result: initialResult(kind), last: undefined, run: 0, onHold: false };
}

export interface ProbeTargetView {
  running: boolean;
  /** Whole seconds since the container started (upstream compares int32 seconds). */
  secondsSinceStart: number;
  /** The container has passed its startup probe (or has none). */
  started: boolean;
  /** The pod is being deleted. */
  deleting: boolean;
}

/**
 * What a worker does at one of its ticks:
 *   probe      run the probe now
 *   hold       a liveness/startup failure was published: wait for a new container
 *   idle       the container is not running
 *   delay      initialDelaySeconds has not passed yet
 *   gated      readiness/liveness wait for the startup probe to succeed
 *   done       a startup probe whose container has started needs no more runs (until a new container)
 *   stop       liveness/startup of a pod being deleted: publish success and stop (a quiet shutdown)
 */
export type ProbeGate = 'probe' | 'hold' | 'idle' | 'delay' | 'gated' | 'done' | 'stop';

export function gate(kind: ProbeKind, state: ProbeState, settings: ProbeSettings, c: ProbeTargetView): ProbeGate {
  if (state.onHold) return 'hold';
  if (!c.running) return 'idle';
  if (c.deleting && kind !== 'readiness') return 'stop';
  if (c.secondsSinceStart < settings.initialDelaySeconds) return 'delay';
  if (kind === 'startup') return c.started ? 'done' : 'probe';
  return c.started ? 'probe' : 'gated';
}

export interface RecordDecision {
  state: ProbeState;
  /** The published result changed (the pod worker should sync). */
  changed: boolean;
  /** A liveness or startup failure reached its threshold: kill the container. */
  kill: boolean;
}

/**
 * Folds one probe run into the worker's state. An 'unknown' run (the probe could not be run)
 * is thrown away, as upstream does with prober errors.
 */
export function recordResult(kind: ProbeKind, settings: ProbeSettings, state: ProbeState, result: ProbeResult): RecordDecision {
  if (result === 'unknown') return { state, changed: false, kill: false };
  const run = state.last === result ? state.run + 1 : 1;
  const next: ProbeState = { ...state, last: result, run };
  const threshold = result === 'failure' ? settings.failureThreshold : settings.successThreshold;
  if (run < threshold) return { state: next, changed: false, kill: false };
  const changed = next.result !== result;
  next.result = result;
  if (kind !== 'readiness' && result === 'failure') {
    next.onHold = true;
    next.run = 0;
    return { state: next, changed: true, kill: true };
  }
  return { state: next, changed, kill: false };
}

/** A pod being deleted stops its liveness and startup probes with a last success, so nothing is killed on the way out. */
export function quietStop(state: ProbeState): ProbeState {
  return { ...state, result: 'success' };
}

/** A runtime's answer in one shape (runtimes may still answer a bare boolean). */
export function normalizeProbeResult(r: RuntimeProbeResult | boolean): RuntimeProbeResult {
  return typeof r === 'boolean' ? { ok: r } : r;
}

export function resultOf(r: RuntimeProbeResult): ProbeResult {
  return r.error ? 'unknown' : r.ok ? 'success' : 'failure';
}

const TITLE: Record<ProbeKind, string> = { readiness: 'Readiness', liveness: 'Liveness', startup: 'Startup' };

/** The Warning/Unhealthy event for a run that did not succeed, or undefined for a success. */
export function unhealthyMessage(kind: ProbeKind, r: RuntimeProbeResult): string | undefined {
  if (r.error) return `${TITLE[kind]} probe errored and resulted in unknown state: ${r.output ?? ''}`;
  if (!r.ok) return `${TITLE[kind]} probe failed: ${r.output ?? ''}`;
  return undefined;
}

/** The Normal/Killing event when a failed liveness or startup probe kills a container. */
export function killingMessage(containerName: string, kind: ProbeKind, willRestart: boolean): string {
  return `Container ${containerName} failed ${kind} probe${willRestart ? ', will be restarted' : ''}`;
}

/** The kubelet never gives a container it kills (other than for a deletion) less than this to stop. */
export const MIN_KILL_GRACE_SECONDS = 2;

/**
 * The grace period for killing a container whose liveness or startup probe failed: the probe's
 * own terminationGracePeriodSeconds, else the pod's (default 30), and at least 2 seconds.
 */
export function killGraceSeconds(pod: Obj, container: Obj, kind: ProbeKind): number {
  const probe = kind === 'liveness' ? container.livenessProbe : kind === 'startup' ? container.startupProbe : undefined;
  const own = probe?.terminationGracePeriodSeconds;
  const podGrace = pod.spec?.terminationGracePeriodSeconds;
  const grace = typeof own === 'number' ? own : typeof podGrace === 'number' ? podGrace : 30;
  return Math.max(MIN_KILL_GRACE_SECONDS, grace);
}

/** Whether a killed container comes back (the restart policy; sidecars always do). */
export function restartsAfterKill(pod: Obj, sidecar: boolean): boolean {
  return sidecar || (pod.spec?.restartPolicy ?? 'Always') !== 'Never';
}

/**
 * The port a probe targets: a number, a named port of the container, or a number written as a
 * string; the error texts are upstream's.
 */
export function resolveProbePort(port: unknown, container: Obj): { port: number } | { error: string } {
  let n: number;
  if (typeof port === 'number') n = port;
  else if (typeof port === 'string') {
    const named = (container.ports ?? []).find((p: Obj) => p?.name === port);
    if (named) n = Number(named.containerPort);
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else return { error: `strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax` };
  } else return { error: `invalid port number: ${String(port)}` };
  if (!Number.isInteger(n) || n <= 0 || n >= 65536) return { error: `invalid port number: ${n}` };
  return { port: n };
}

/** host:port as Go's net.JoinHostPort writes it (IPv6 in brackets). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The URL an httpGet probe requests (scheme lower-cased, path as given, "/" when empty). */
export function probeURL(httpGet: Obj, host: string, port: number): string {
  const scheme = String(httpGet.scheme || 'HTTP').toLowerCase();
  let path = String(httpGet.path ?? '');
  if (path && !path.startsWith('/')) path = '/' + path;
  return `${scheme}://${joinHostPort(host, port)}${path}`;
}

/** Request headers of an httpGet probe: upstream's User-Agent and Accept, replaced by any the probe sets. */
export function probeHeaders(httpGet: Obj, version = '1.32'): Record<string, string> {
  const headers: Record<string, string> = {};
  const set = new Set<string>();
  for (const h of httpGet.httpHeaders ?? []) {
    if (!h?.name) continue;
    const key = String(h.name).toLowerCase();
    // Repeated names accumulate, as an http.Header does.
    headers[key] = set.has(key) ? `${headers[key]}, ${h.value ?? ''}` : String(h.value ?? '');
    set.add(key);
  }
  if (!set.has('user-agent')) headers['user-agent'] = `kube-probe/${version}`;
  if (!set.has('accept')) headers['accept'] = '*/*';
  // An empty User-Agent means "send none", as with Go's client.
  if (headers['user-agent'] === '') delete headers['user-agent'];
  return headers;
}

/** Whether an HTTP status is a probe success: 2xx and 3xx. */
export const httpStatusOk = (status: number) => status >= 200 && status < 400;

/** The text upstream shows for a failed dial (Go's net.OpError), from a Node socket error. */
export function dialErrorText(host: string, port: number, err: { code?: string; message?: string }): string {
  const addr = joinHostPort(host, port);
  const why: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ETIMEDOUT: 'i/o timeout',
    ECONNRESET: 'read: connection reset by peer',
  };
  return `dial tcp ${addr}: ${(err.code && why[err.code]) || err.message || String(err.code ?? 'error')}`;
}
