// `kubectl get pods`: the READY / STATUS / RESTARTS summary upstream derives from the pod status.
import type { Obj, TableDef } from '../resource.ts';
import { age } from './age.ts';
import { ageColumn, ageOf, col, doc, nameColumn, nameOf } from './helpers.ts';

// The pod reason the node lifecycle controller sets when a node stops reporting.
const nodeLostReason = 'NodeLost';

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

const isRestartableInit = (c: Obj | undefined): boolean => c?.restartPolicy === 'Always';
const isTerminalPhase = (phase: string | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';
const conditionTrue = (pod: Obj, type: string): boolean =>
  (pod.status?.conditions ?? []).some((c: Obj) => c.type === type && c.status === 'True');

function terminatedAt(cs: Obj): number | undefined {
  const t = cs.lastState?.terminated?.finishedAt;
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The READY, STATUS and RESTARTS cells of one pod, as upstream's pod printer computes them. */
/** The later of two times, either of which may be missing. */
const later = (a: number | undefined, b: number | undefined) => (b !== undefined && (a === undefined || b > a) ? b : a);

/** Init container specs by name: made only for a pod that reports init container statuses. */
function initSpecsByName(initSpecs: Obj[]): Map<string, Obj> {
  return new Map<string, Obj>(initSpecs.map((c) => [c.name, c]));
}

export function summarizePod(pod: Obj, now: number): PodSummary {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const initSpecs: Obj[] = spec.initContainers ?? [];

  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;
  let readyContainers = 0;
  // Sidecars (restartable init containers) count as regular containers for READY.
  let totalContainers = (spec.containers ?? []).length;
  for (const c of initSpecs) if (isRestartableInit(c)) totalContainers++;

  let reason: string = status.reason || status.phase || '';
  if ((status.conditions ?? []).some((c: Obj) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }

  let initializing = false;
  const initStatuses: Obj[] = status.initContainerStatuses ?? [];
  const initByName = initStatuses.length ? initSpecsByName(initSpecs) : undefined;
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, terminatedAt(cs));
    const sidecar = isRestartableInit(initByName!.get(cs.name));
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, terminatedAt(cs));
    }
    const term = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (sidecar && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
      else reason = `Init:${term.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(pod, 'Initialized')) {
    // Once initialized, only sidecar restarts carry over from the init phase.
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses: Obj[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, terminatedAt(cs));
      const waiting = cs.state?.waiting;
      const term = cs.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(pod, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = !!pod.metadata?.deletionTimestamp;
  if (deleting && status.reason === nodeLostReason) reason = 'Unknown';
  else if (deleting && !isTerminalPhase(status.phase)) reason = 'Terminating';

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsText = `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

function readinessGates(pod: Obj): string {
  const gates: Obj[] = pod.spec?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conditions: Obj[] = pod.status?.conditions ?? [];
  const satisfied = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
  return `${satisfied}/${gates.length}`;
}

export const podTable: TableDef = {
  columns: [
    nameColumn(),
    col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn(),
    col('IP', doc('PodStatus.podIP'), { priority: 1 }),
    col('Node', doc('PodSpec.nodeName'), { priority: 1 }),
    col('Nominated Node', doc('PodStatus.nominatedNodeName'), { priority: 1 }),
    col('Readiness Gates', doc('PodSpec.readinessGates'), { priority: 1 }),
  ],
  cells(pod, now) {
    const s = summarizePod(pod, now);
    return [
      nameOf(pod),
      s.ready,
      s.status,
      s.restarts,
      ageOf(pod, now),
      // Conversion to the internal type fills podIPs from podIP when only the latter is set.
      pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      readinessGates(pod),
    ];
  },
};
