// The status a node agent reports for a pod, computed purely from the pod and what the runtime
// says about its sandbox and containers — phase, conditions, IPs and container statuses as the
// kubelet reports them, so `kubectl get pods` shows the same READY/STATUS/RESTARTS.
import type { Obj } from '../api/resource.ts';
import type { RuntimeContainerStatus } from './runtime/types.ts';

export interface ContainerInput {
  name: string;
  image: string;
  /** An init container (not a sidecar: those count as regular containers for readiness). */
  init?: boolean;
  /** Restartable init container (restartPolicy Always). */
  sidecar?: boolean;
  /** The current instance, as the runtime reports it; undefined before one is created. */
  current?: RuntimeContainerStatus;
  /** The previous (terminated) instance, reported as lastState. */
  previous?: RuntimeContainerStatus;
  restartCount: number;
  ready: boolean;
  started: boolean;
  /** Why the container is waiting (ContainerCreating, PodInitializing, CrashLoopBackOff, ...), overriding the current instance. */
  waiting?: { reason: string; message?: string };
  imageRef?: string;
}

export interface PodStatusInput {
  runtimeName: string;
  hostIP: string;
  podIP?: string;
  /** When the agent first accepted the pod (RFC 3339). */
  startTime?: string;
  /** The sandbox exists and its network is set up. */
  sandboxReady: boolean;
  containers: ContainerInput[];
  /** The pod will not run again (it is being deleted): its phase becomes terminal once everything stopped. */
  podIsTerminal?: boolean;
}

const CONDITION_ORDER = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

export const isTerminalPhase = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';

function terminatedState(s: RuntimeContainerStatus, runtimeName: string): Obj {
  const t: Obj = {
    exitCode: s.exitCode ?? 0,
    reason: s.reason ?? ((s.exitCode ?? 0) === 0 ? 'Completed' : 'Error'),
  };
  if (s.message) t.message = s.message;
  t.startedAt = s.startedAt ?? null;
  t.finishedAt = s.finishedAt ?? null;
  t.containerID = `${runtimeName}://${s.id}`;
  return t;
}

export function containerStatus(c: ContainerInput, runtimeName: string, podIsTerminal = false): Obj {
  let state: Obj;
  if (podIsTerminal && !c.current && !c.waiting) {
    // A container that never ran in a pod that will not run any more, as the kubelet reports it.
    state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: null, finishedAt: null } };
  } else if (c.waiting) state = { waiting: { reason: c.waiting.reason, ...(c.waiting.message ? { message: c.waiting.message } : {}) } };
  else if (c.current?.state === 'running') state = { running: { startedAt: c.current.startedAt } };
  else if (c.current?.state === 'exited') state = { terminated: terminatedState(c.current, runtimeName) };
  else state = { waiting: { reason: c.init ? 'PodInitializing' : 'ContainerCreating' } };
  const out: Obj = {
    name: c.name,
    state,
    lastState: c.previous ? { terminated: terminatedState(c.previous, runtimeName) } : {},
    ready: c.ready,
    restartCount: c.restartCount,
    image: c.image,
    imageID: c.imageRef ?? '',
  };
  if (c.current && !c.waiting) out.containerID = `${runtimeName}://${c.current.id}`;
  out.started = c.started;
  return out;
}

const initDone = (c: ContainerInput) => !c.waiting && c.current?.state === 'exited' && (c.current.exitCode ?? 0) === 0;

/** Init containers proper; sidecars (restartable init containers) count as regular containers. */
const isInit = (c: ContainerInput) => !!c.init && !c.sidecar;

// One pass over the containers, no lists: the status is computed on every sync of every pod.
export function podPhase(restartPolicy: string, input: PodStatusInput): string {
  let pendingInit = false;
  let failedInit = false;
  // How the regular containers count towards the phase, as the kubelet's getPhase counts them.
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of input.containers) {
    if (isInit(c)) {
      if (initDone(c)) continue;
      pendingInit = true;
      if ((!c.waiting && c.current?.state === 'exited') || (c.waiting && c.previous && (c.previous.exitCode ?? 0) !== 0)) failedInit = true;
      continue;
    }
    if (!c.waiting && c.current?.state === 'running') running++;
    else if (!c.waiting && c.current?.state === 'exited') {
      stopped++;
      if ((c.current.exitCode ?? 0) === 0) succeeded++;
    } else if (c.previous) {
      // Waiting to restart after a termination counts as stopped (e.g. CrashLoopBackOff).
      stopped++;
      if ((c.previous.exitCode ?? 0) === 0) succeeded++;
    } else waiting++;
  }
  if (pendingInit) {
    if (input.podIsTerminal) return 'Failed';
    return failedInit && restartPolicy === 'Never' ? 'Failed' : 'Pending';
  }
  if (waiting > 0 && !input.podIsTerminal) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0 && waiting === 0) {
    if (input.podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  if (input.podIsTerminal) return 'Failed';
  return 'Pending';
}

function findCondition(conditions: Obj[], type: string): Obj | undefined {
  for (const c of conditions) if (c.type === type) return c;
  return undefined;
}

function condition(type: string, ok: boolean, now: string, old: Obj[], reason?: string, message?: string): Obj {
  const status = ok ? 'True' : 'False';
  const prev = findCondition(old, type);
  const c: Obj = { type, status, lastProbeTime: null, lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

const listNames = (cs: ContainerInput[]) => `[${cs.map((c) => c.name).join(' ')}]`;

/** The full status to report for `pod`. `now` is an RFC 3339 timestamp (second precision). */
export function computePodStatus(pod: Obj, input: PodStatusInput, now: string): Obj {
  const old: Obj = pod.status ?? {};
  const oldConditions: Obj[] = old.conditions ?? [];
  const restartPolicy: string = pod.spec?.restartPolicy ?? 'Always';
  let phase = podPhase(restartPolicy, input);
  // A pod never leaves a terminal phase.
  if (isTerminalPhase(old.phase)) phase = old.phase;
  const completed = phase === 'Succeeded';

  const notInitialized: ContainerInput[] = [];
  const unready: ContainerInput[] = [];
  for (const c of input.containers) {
    if (isInit(c)) {
      if (!initDone(c)) notInitialized.push(c);
    } else if (!c.ready) unready.push(c);
  }

  const conditions: Obj[] = [];
  conditions.push(condition('PodReadyToStartContainers', input.sandboxReady && !isTerminalPhase(phase), now, oldConditions));
  if (completed) conditions.push(condition('Initialized', true, now, oldConditions, 'PodCompleted'));
  else if (notInitialized.length) conditions.push(condition('Initialized', false, now, oldConditions, 'ContainersNotInitialized', `containers with incomplete status: ${listNames(notInitialized)}`));
  else conditions.push(condition('Initialized', true, now, oldConditions));

  let containersReady: Obj;
  if (completed) containersReady = condition('ContainersReady', false, now, oldConditions, 'PodCompleted');
  else if (notInitialized.length) containersReady = condition('ContainersReady', false, now, oldConditions, 'ContainersNotReady', `containers with unready status: ${listNames(unready)}`);
  else if (unready.length) containersReady = condition('ContainersReady', false, now, oldConditions, 'ContainersNotReady', `containers with unready status: ${listNames(unready)}`);
  else containersReady = condition('ContainersReady', true, now, oldConditions);

  let ready: Obj;
  if (containersReady.status !== 'True') ready = condition('Ready', false, now, oldConditions, containersReady.reason, containersReady.message);
  else {
    // Readiness gates: conditions others set on the pod must be True too.
    const missing: string[] = [];
    const falseGates: string[] = [];
    for (const g of pod.spec?.readinessGates ?? []) {
      const c = findCondition(oldConditions, g.conditionType);
      if (!c) missing.push(g.conditionType);
      else if (c.status !== 'True') falseGates.push(g.conditionType);
    }
    if (missing.length) ready = condition('Ready', false, now, oldConditions, 'ReadinessGatesNotReady', `corresponding condition of pod readiness gate "${missing[0]}" does not exist.`);
    else if (falseGates.length) ready = condition('Ready', false, now, oldConditions, 'ReadinessGatesNotReady', `the status of pod readiness gate "${falseGates[0]}" is not "True", but False`);
    else ready = condition('Ready', true, now, oldConditions);
  }
  conditions.push(ready, containersReady);
  const scheduled = findCondition(oldConditions, 'PodScheduled');
  conditions.push(scheduled ?? condition('PodScheduled', true, now, oldConditions));
  // Conditions other components own (readiness gates, DisruptionTarget, ...) are kept as they are.
  for (const c of oldConditions) if (!CONDITION_ORDER.includes(c.type)) conditions.push(c);

  const status: Obj = { phase, conditions };
  if (old.message) status.message = old.message;
  if (old.reason) status.reason = old.reason;
  status.hostIP = input.hostIP;
  status.hostIPs = [{ ip: input.hostIP }];
  const podIP = input.podIP ?? old.podIP;
  if (podIP) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  const startTime = old.startTime ?? input.startTime;
  if (startTime) status.startTime = startTime;
  const terminal = !!input.podIsTerminal && isTerminalPhase(phase);
  const initStatuses: Obj[] = [];
  const containerStatuses: Obj[] = [];
  for (const c of input.containers) (c.init ? initStatuses : containerStatuses).push(containerStatus(c, input.runtimeName, terminal));
  if (initStatuses.length) status.initContainerStatuses = initStatuses;
  // The kubelet reports container statuses sorted by name.
  if (containerStatuses.length > 1) containerStatuses.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  status.containerStatuses = containerStatuses;
  if (old.qosClass) status.qosClass = old.qosClass;
  return status;
}
