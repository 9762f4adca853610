// A visible deadline for StatefulSet rollouts and scale-ups (kubernetes/kubernetes#106054), opt-in.
//
// Deployments have spec.progressDeadlineSeconds and a Progressing condition; StatefulSets have
// neither upstream, and unknown spec fields are refused by kubectl's strict validation, so the
// deadline is an annotation. The semantics follow upstream's Deployment controller (progress.go and
// deployment util): progress is more updated pods, fewer pods at old revisions, or more ready or
// available pods; a new spec (a new revision, or a scale) starts the clock again; a finished
// rollout is not watched until the spec changes; no progress for the deadline turns Progressing
// False with reason ProgressDeadlineExceeded, and the next progress turns it True again.
//
// Two differences, both forced by the API: StatefulSetCondition has no lastUpdateTime, so the time
// of the last progress is kept in an annotation written with the status (so a restarted controller
// keeps counting from it); and "complete" includes a scale (replicas and available pods equal to
// spec.replicas), because Deployments' check, which only compares updated and total pods, misses a
// scale-up whose new pods never become available, which is half of what #106054 asks for.
//
// Pure: the controller writes what `planProgress` returns and emits the event it names.
import type { Obj } from '../../api/resource.ts';
import type { SetStatus } from './control.ts';
import { replicasOf } from './identity.ts';

export const PROGRESS_DEADLINE_ANNOTATION = 'ordinal.dev/progress-deadline-seconds';
export const LAST_PROGRESS_ANNOTATION = 'ordinal.dev/last-progress-time';

export const PROGRESSING = 'Progressing';
export const REASON = {
  /** A new update revision: the rollout starts (upstream NewReplicaSetCreated). */
  created: 'NewRevisionCreated',
  /** The deadline was set on a set with no Progressing condition yet (upstream FoundNewReplicaSet). */
  found: 'FoundNewRevision',
  /** Pods moved towards the spec, or the spec changed without a new revision (upstream ReplicaSetUpdated). */
  progressing: 'RevisionProgressing',
  /** Every pod updated and available (upstream NewReplicaSetAvailable). */
  available: 'NewRevisionAvailable',
  /** No progress for the deadline (upstream's own reason). */
  timedOut: 'ProgressDeadlineExceeded',
} as const;

/** The deadline in seconds from the annotation: a positive integer, else none (an unreadable value is ignored). */
export function progressDeadlineOf(set: Obj): number | undefined {
  const raw = set.metadata?.annotations?.[PROGRESS_DEADLINE_ANNOTATION];
  if (typeof raw !== 'string' || !/^\s*\d+\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

export interface ProgressDecision {
  /** Whether the set's conditions or progress annotation must be written, even if the counts need not. */
  write: boolean;
  /** The status conditions to write; undefined leaves them as the plain status write does (none, as upstream). */
  conditions?: Obj[];
  /** The progress annotation to write (ISO time), null to remove it, undefined to leave it. */
  lastProgress?: string | null;
  /** Progressing is False with ProgressDeadlineExceeded after this decision. */
  exceeded: boolean;
  /** ...and was not before: a Warning event is due once the write succeeded. */
  newlyExceeded: boolean;
  /** The message of the Progressing condition, for the event. */
  message: string;
  /** When to look again (ms from now) so the deadline is noticed without another event; undefined for never. */
  recheckAfterMs?: number;
}

const NONE: ProgressDecision = { write: false, exceeded: false, newlyExceeded: false, message: '' };

/** metav1.Time: RFC 3339 in whole seconds. */
const conditionTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** The rollout is done: the spec is observed, every wanted pod exists and is available, and every pod the strategy updates is updated. */
export function rolloutComplete(set: Obj, status: SetStatus): boolean {
  const replicas = replicasOf(set);
  if ((status.observedGeneration ?? 0) < (set.metadata?.generation ?? 0)) return false;
  if (status.replicas !== replicas || status.availableReplicas < replicas) return false;
  const strategy = set.spec?.updateStrategy ?? {};
  // OnDelete pods change revision only when someone deletes them: not the controller's progress to wait for.
  if (strategy.type === 'OnDelete') return true;
  const partition: number = strategy.rollingUpdate?.partition ?? 0;
  return status.updatedReplicas >= replicas - partition;
}

/**
 * Upstream DeploymentProgressing over StatefulSet counts (more updated, ready or available pods,
 * fewer pods at old revisions), plus the pod count moving towards `wanted`: a StatefulSet scales
 * its own pods one by one, where a Deployment's scaling shows in its ReplicaSets' counts.
 */
export function madeProgress(prev: Obj, next: SetStatus, wanted: number): boolean {
  const before: number = prev.replicas ?? 0;
  const oldAtOld = before - (prev.updatedReplicas ?? 0);
  const newAtOld = next.replicas - next.updatedReplicas;
  return (
    next.updatedReplicas > (prev.updatedReplicas ?? 0) ||
    newAtOld < oldAtOld ||
    next.readyReplicas > (prev.readyReplicas ?? 0) ||
    next.availableReplicas > (prev.availableReplicas ?? 0) ||
    (before < wanted && next.replicas > before) ||
    (before > wanted && next.replicas < before)
  );
}

function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * The Progressing condition and progress annotation for the status `next` the controller is about
 * to report for `set` (whose .status is what it reported last).
 */
export function planProgress(set: Obj, next: SetStatus, now: number): ProgressDecision {
  const prev: Obj = set.status ?? {};
  const conditions: Obj[] = prev.conditions ?? [];
  const cur = conditions.find((c) => c.type === PROGRESSING);
  const annotated = set.metadata?.annotations?.[LAST_PROGRESS_ANNOTATION];
  const deadline = progressDeadlineOf(set);
  if (set.metadata?.deletionTimestamp) return NONE;

  if (deadline === undefined) {
    // Only what this feature wrote is taken back; a set that never had a deadline is left exactly as upstream's.
    if (annotated === undefined) return NONE;
    return { ...NONE, write: true, conditions: conditions.filter((c) => c.type !== PROGRESSING), lastProgress: null };
  }

  const revision = next.updateRevision;
  const name = `StatefulSet "${set.metadata.name}" revision "${revision}"`;
  const specChanged = (set.metadata?.generation ?? 0) > (prev.observedGeneration ?? 0);
  const revisionChanged = revision !== (prev.updateRevision ?? '');
  const settled = cur?.reason === REASON.available && !specChanged && !revisionChanged;
  let last = parseTime(annotated) ?? (cur?.status === 'True' ? parseTime(cur.lastTransitionTime) : undefined) ?? now;

  let want: { status: string; reason: string; message: string } | undefined;
  let progressed = false;
  if (!settled) {
    if (rolloutComplete(set, next)) {
      want = { status: 'True', reason: REASON.available, message: `${name} has successfully progressed.` };
    } else if (revisionChanged) {
      want = { status: 'True', reason: REASON.created, message: `Created new revision "${revision}"` };
      progressed = true;
    } else if (!cur) {
      want = { status: 'True', reason: REASON.found, message: `Found new revision "${revision}"` };
      progressed = true;
    } else if (specChanged || madeProgress(prev, next, replicasOf(set))) {
      want = { status: 'True', reason: REASON.progressing, message: `${name} is progressing.` };
      progressed = true;
    } else if (cur.reason === REASON.timedOut || last + deadline * 1000 < now) {
      want = { status: 'False', reason: REASON.timedOut, message: `${name} has timed out progressing.` };
    }
  }
  // Whole seconds, as the deadline: progress within the same second leaves the annotation as it is,
  // so a burst of pods becoming Ready does not rewrite the set's metadata each time. Rounded up, so
  // the deadline is never reported early.
  if (progressed) last = Math.ceil(now / 1000) * 1000;

  let condition = cur;
  // As upstream's SetDeploymentCondition (the same status keeps its transition time), except that a
  // new message is written too: it names the revision, which a template change replaces.
  if (want && !(cur && cur.status === want.status && cur.reason === want.reason && cur.message === want.message)) {
    const keepTime = cur && cur.status === want.status ? cur.lastTransitionTime : undefined;
    condition = { type: PROGRESSING, status: want.status, lastTransitionTime: keepTime ?? conditionTime(now), reason: want.reason, message: want.message };
  }
  const lastProgress = new Date(last).toISOString().replace('.000Z', 'Z');
  const exceeded = condition?.reason === REASON.timedOut && condition.status === 'False';
  const decision: ProgressDecision = {
    write: condition !== cur || annotated !== lastProgress,
    conditions: [...conditions.filter((c) => c.type !== PROGRESSING), ...(condition ? [condition] : [])],
    lastProgress,
    exceeded,
    newlyExceeded: exceeded && !(cur?.reason === REASON.timedOut && cur.status === 'False'),
    message: condition?.message ?? '',
  };
  // Upstream requeueStuckDeployment: look again a second after the deadline would pass, unless done or already past it.
  if (condition && condition.reason !== REASON.available && !exceeded) decision.recheckAfterMs = Math.max(0, last + deadline * 1000 - now) + 1000;
  return decision;
}

/**
 * The object to PUT to /status: `target` with `statusJson` as its status, the decision's
 * conditions in it and its progress annotation set or removed. `target` is not modified.
 */
export function withProgress(target: Obj, statusJson: Obj, d: ProgressDecision | undefined): Obj {
  if (!d || (d.conditions === undefined && d.lastProgress === undefined)) return { ...target, status: statusJson };
  const status = { ...statusJson };
  if (d.conditions?.length) status.conditions = d.conditions;
  const annotations = { ...(target.metadata?.annotations ?? {}) };
  if (d.lastProgress === null) delete annotations[LAST_PROGRESS_ANNOTATION];
  else if (d.lastProgress !== undefined) annotations[LAST_PROGRESS_ANNOTATION] = d.lastProgress;
  const metadata = { ...target.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...target, metadata, status };
}
