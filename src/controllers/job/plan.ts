// The Job controller's pure decisions, as upstream's pkg/controller/job (1.32): which finished pods
// to count, when the Job has failed (backoffLimit, activeDeadlineSeconds, podFailurePolicy) or
// succeeded, the FailureTarget/SuccessCriteriaMet conditions that come before Failed/Complete,
// how many pods (or which indexes) to create after the failure back-off, and which to delete;
// for Indexed Jobs also the per-index retries (backoffLimitPerIndex, maxFailedIndexes) and the
// successPolicy that may declare success before every index has.
import type { Obj } from '../../api/resource.ts';
import { isPodReady, nowIso, podsToDelete } from '../workloads/pods.ts';

export const TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** How many counted failures an index had before this pod was created (backoffLimitPerIndex). */
export const INDEX_FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';
/** How many failures the podFailurePolicy ignored for the index before this pod was created. */
export const INDEX_IGNORED_FAILURE_COUNT = 'batch.kubernetes.io/job-index-ignored-failure-count';
/** Upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const DEFAULT_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 10 * 60_000;

const isTerminal = (p: Obj) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const hasCond = (job: Obj, type: string) => (job.status?.conditions ?? []).some((c: Obj) => c.type === type && c.status === 'True');
export const isFinished = (job: Obj): boolean => hasCond(job, 'Complete') || hasCond(job, 'Failed');
export const isIndexed = (job: Obj): boolean => job.spec?.completionMode === 'Indexed';
export const hasBackoffLimitPerIndex = (job: Obj): boolean => isIndexed(job) && job.spec?.backoffLimitPerIndex !== undefined && job.spec?.backoffLimitPerIndex !== null;

export function podIndex(pod: Obj): number | undefined {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return parseInt(v, 10);
}

// ---------------------------------------------------------------- index sets ("1,3-5")

export function parseIndexes(text: string | undefined, max = Infinity): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map((x) => parseInt(x, 10));
    for (let i = a; i <= (b ?? a) && i < max; i++) out.add(i);
  }
  return out;
}

export function formatIndexes(set: Iterable<number>): string {
  const sorted = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

// ---------------------------------------------------------------- pod failure policy

export interface PolicyVerdict {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  message?: string;
}

/** The first podFailurePolicy rule matching a failed pod; no rule means Count. */
export function matchPodFailurePolicy(job: Obj, pod: Obj): PolicyVerdict {
  const rules: Obj[] = job.spec?.podFailurePolicy?.rules ?? [];
  for (const [i, rule] of rules.entries()) {
    if (rule.onExitCodes) {
      const r = rule.onExitCodes;
      for (const cs of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
        if (r.containerName && cs.name !== r.containerName) continue;
        const code = cs.state?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        const inValues = (r.values ?? []).includes(code);
        if ((r.operator === 'In' && inValues) || (r.operator === 'NotIn' && !inValues)) {
          return { action: rule.action, message: `Container ${cs.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${code} matching ${rule.action} rule at index ${i}` };
        }
      }
    }
    for (const pattern of rule.onPodConditions ?? []) {
      const c = (pod.status?.conditions ?? []).find((x: Obj) => x.type === pattern.type);
      if (c && c.status === (pattern.status ?? 'True')) {
        return { action: rule.action, message: `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${pattern.type} matching ${rule.action} rule at index ${i}` };
      }
    }
  }
  return { action: 'Count' };
}

// ---------------------------------------------------------------- per-index failures

function countAnnotation(pod: Obj, key: string): number {
  const v = pod.metadata.annotations?.[key];
  return typeof v === 'string' && /^\d+$/.test(v) ? parseInt(v, 10) : 0;
}

/** Whether a failed pod's failure counts (upstream: every one but those the podFailurePolicy ignores). */
function failureCounts(job: Obj, pod: Obj): boolean {
  return !job.spec?.podFailurePolicy || matchPodFailurePolicy(job, pod).action !== 'Ignore';
}

/** The failure counts a pod hands on to the pod that replaces it: its own annotations plus its own failure. */
export function nextIndexFailureCounts(job: Obj, pod: Obj): { failed: number; ignored: number } {
  let failed = countAnnotation(pod, INDEX_FAILURE_COUNT);
  let ignored = countAnnotation(pod, INDEX_IGNORED_FAILURE_COUNT);
  if (pod.status?.phase === 'Failed') {
    if (failureCounts(job, pod)) failed++;
    else ignored++;
  }
  return { failed, ignored };
}

/**
 * Upstream's isIndexFailed: a counted failure of a pod whose index had already failed
 * backoffLimitPerIndex times, or any failure the podFailurePolicy answers with FailIndex.
 */
export function isIndexFailed(job: Obj, pod: Obj): boolean {
  if (pod.status?.phase !== 'Failed') return false;
  if (job.spec?.podFailurePolicy && matchPodFailurePolicy(job, pod).action === 'FailIndex') return true;
  return failureCounts(job, pod) && countAnnotation(pod, INDEX_FAILURE_COUNT) >= (job.spec?.backoffLimitPerIndex ?? 0);
}

export interface IndexFailureRecord {
  failed: number;
  ignored: number;
  /** When the index's latest failure happened (ms), if its latest pod failed. */
  lastFailure?: number;
}

/**
 * Per index, what its next pod starts counting from: the counts handed on by its latest pod (each
 * replacement carries its predecessor's counts forward, so the highest is the latest).
 */
export function indexFailureRecords(job: Obj, pods: Obj[]): Map<number, IndexFailureRecord> {
  const out = new Map<number, IndexFailureRecord>();
  for (const pod of pods) {
    const i = podIndex(pod);
    if (i === undefined) continue;
    const next = nextIndexFailureCounts(job, pod);
    const cur = out.get(i);
    if (cur && cur.failed + cur.ignored >= next.failed + next.ignored) continue;
    out.set(i, { ...next, lastFailure: pod.status?.phase === 'Failed' ? finishedAt(pod) : undefined });
  }
  return out;
}

/** Upstream's per-index back-off: the base delay doubled per earlier failure of the index, capped. */
export function indexBackoffUntil(record: IndexFailureRecord | undefined, baseMs = DEFAULT_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): number | undefined {
  if (!record || record.lastFailure === undefined) return undefined;
  const failures = record.failed + record.ignored;
  return record.lastFailure + Math.min(baseMs * 2 ** Math.max(0, failures - 1), maxMs);
}

// ---------------------------------------------------------------- success policy

/**
 * Upstream's matchSuccessPolicy: the first rule whose succeededIndexes have all succeeded (or at
 * least succeededCount of them), or, without succeededIndexes, once succeededCount indexes have.
 * Returns the condition message, or undefined while no rule is met.
 */
export function matchSuccessPolicy(policy: Obj | undefined, completions: number, succeeded: Set<number>): string | undefined {
  if (!policy || succeeded.size === 0) return undefined;
  const rules: Obj[] = Array.isArray(policy.rules) ? policy.rules : [];
  for (const [i, rule] of rules.entries()) {
    const count = typeof rule.succeededCount === 'number' ? rule.succeededCount : undefined;
    if (typeof rule.succeededIndexes === 'string') {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (required.size === 0) continue;
      let contained = 0;
      for (const x of required) if (succeeded.has(x)) contained++;
      if (contained === required.size || (count !== undefined && contained >= count)) return `Matched rules at index ${i}`;
    } else if (count !== undefined && succeeded.size >= count) return `Matched rules at index ${i}`;
  }
  return undefined;
}

// ---------------------------------------------------------------- accounting

export interface Accounting {
  /** Finished pods whose finalizer still holds them and that are not yet listed as uncounted. */
  newlyFinished: { succeeded: Obj[]; failed: Obj[]; ignored: Obj[] };
  /** A FailJob verdict of the policy, from a newly failed pod. */
  failJob?: string;
}

export function account(job: Obj, pods: Obj[]): Accounting {
  const uncounted = job.status?.uncountedTerminatedPods ?? {};
  const listed = new Set<string>([...(uncounted.succeeded ?? []), ...(uncounted.failed ?? [])]);
  const out: Accounting = { newlyFinished: { succeeded: [], failed: [], ignored: [] } };
  for (const pod of pods) {
    if (!isTerminal(pod) || !(pod.metadata.finalizers ?? []).includes(TRACKING_FINALIZER) || listed.has(pod.metadata.uid)) continue;
    if (pod.status.phase === 'Succeeded') {
      out.newlyFinished.succeeded.push(pod);
      continue;
    }
    const verdict = job.spec?.podFailurePolicy ? matchPodFailurePolicy(job, pod) : { action: 'Count' as const };
    if (verdict.action === 'Ignore') out.newlyFinished.ignored.push(pod);
    else {
      out.newlyFinished.failed.push(pod);
      if (verdict.action === 'FailJob' && !out.failJob) out.failJob = verdict.message;
    }
  }
  return out;
}

function finishedAt(pod: Obj): number {
  let t = 0;
  for (const cs of pod.status?.containerStatuses ?? []) {
    const f = Date.parse(cs.state?.terminated?.finishedAt ?? '');
    if (Number.isFinite(f)) t = Math.max(t, f);
  }
  if (!t) {
    const c = (pod.status?.conditions ?? []).find((x: Obj) => x.type === 'Ready');
    t = Date.parse(c?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? '') || 0;
  }
  return t;
}

/** Upstream's back-off record: failures since the last success, and when the latest one happened. */
export function backoffUntil(job: Obj, pods: Obj[], baseMs = DEFAULT_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): number | undefined {
  const lastSuccess = Math.max(0, ...pods.filter((p) => p.status?.phase === 'Succeeded').map(finishedAt));
  const failures = pods.filter((p) => p.status?.phase === 'Failed' && finishedAt(p) >= lastSuccess && (!job.spec?.podFailurePolicy || matchPodFailurePolicy(job, p).action !== 'Ignore'));
  if (!failures.length) return undefined;
  const last = Math.max(...failures.map(finishedAt));
  const delay = Math.min(baseMs * 2 ** (failures.length - 1), maxMs);
  return last + delay;
}

// ---------------------------------------------------------------- the plan

export interface JobPlan {
  status: Obj;
  /** Pods to create now: NonIndexed as a count, Indexed as the indexes to create. */
  create: number[] | number;
  delete: Obj[];
  /** Events to record on the Job: [type, reason, message]. */
  events: [('Normal' | 'Warning'), string, string][];
  requeueAt?: number;
}

function condition(type: string, status: string, reason: string, message: string, now: number): Obj {
  const t = nowIso(now);
  return { type, status, lastProbeTime: t, lastTransitionTime: t, reason, message };
}

function setCond(conds: Obj[], c: Obj): Obj[] {
  const cur = conds.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return conds;
  if (cur && cur.status === c.status) c = { ...c, lastTransitionTime: cur.lastTransitionTime };
  return [...conds.filter((x) => x.type !== c.type), c];
}

/**
 * Decides one sync. `pods` are the Job's pods; `counted` the status after this sync's accounting
 * (succeeded/failed include uncounted pods, completedIndexes every succeeded index).
 */
export function planJob(job: Obj, pods: Obj[], counted: { succeeded: number; failed: number; completedIndexes: Set<number>; failedIndexes?: Set<number>; failJob?: string }, now: number, backoffMs = DEFAULT_BACKOFF_MS): JobPlan {
  const spec = job.spec ?? {};
  const status: Obj = structuredClone(job.status ?? {});
  let conditions: Obj[] = status.conditions ?? [];
  const events: JobPlan['events'] = [];
  const active = pods.filter((p) => !isTerminal(p) && !p.metadata.deletionTimestamp);
  const terminating = pods.filter((p) => !isTerminal(p) && p.metadata.deletionTimestamp).length;
  const plan: JobPlan = { status, create: 0, delete: [], events };
  const indexed = isIndexed(job);
  const completions: number | undefined = spec.completions ?? undefined;
  status.succeeded = counted.succeeded;
  status.failed = counted.failed;
  if (indexed) {
    const text = formatIndexes(counted.completedIndexes);
    if (text) status.completedIndexes = text;
    else delete status.completedIndexes;
  }
  const perIndex = hasBackoffLimitPerIndex(job);
  const failedIndexes = perIndex ? (counted.failedIndexes ?? new Set<number>()) : new Set<number>();
  // A pointer upstream: "" (not absent) as soon as the Job retries per index.
  if (perIndex) status.failedIndexes = formatIndexes(failedIndexes);

  const finish = (failed: boolean) => {
    // The terminal condition waits until no pod is left running or terminating.
    plan.delete = active;
    if (active.length || terminating) return;
    const target = conditions.find((c) => c.type === (failed ? 'FailureTarget' : 'SuccessCriteriaMet'));
    conditions = setCond(conditions, condition(failed ? 'Failed' : 'Complete', 'True', target?.reason ?? '', target?.message ?? '', now));
    if (!failed) {
      status.completionTime = nowIso(now);
      events.push(['Normal', 'Completed', 'Job completed']);
    } else events.push(['Warning', target?.reason ?? 'Failed', target?.message ?? '']);
  };

  if (isFinished(job)) {
    plan.delete = active;
  } else if (hasCond(job, 'FailureTarget')) {
    finish(true);
  } else if (hasCond(job, 'SuccessCriteriaMet')) {
    finish(false);
  } else {
    let failure: [string, string] | undefined;
    const backoffLimit = spec.backoffLimit ?? 6;
    if (counted.failJob) failure = ['PodFailurePolicy', counted.failJob];
    else if (counted.failed > backoffLimit) failure = ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
    else if (spec.template?.spec?.restartPolicy === 'OnFailure') {
      const restarts = active.reduce((n, p) => n + [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].reduce((m: number, c: Obj) => m + (c.restartCount ?? 0), 0), 0);
      if (backoffLimit === 0 ? restarts > 0 : restarts >= backoffLimit) failure = ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
    }
    const start = status.startTime ? Date.parse(status.startTime) : undefined;
    if (!failure && spec.activeDeadlineSeconds && start !== undefined && !spec.suspend) {
      const deadline = start + spec.activeDeadlineSeconds * 1000;
      if (now >= deadline) failure = ['DeadlineExceeded', 'Job was active longer than specified deadline'];
      else plan.requeueAt = deadline;
    }
    if (!failure && perIndex) {
      const maxFailed = spec.maxFailedIndexes;
      if (maxFailed !== undefined && maxFailed !== null && failedIndexes.size > maxFailed) failure = ['MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes'];
      else if (failedIndexes.size > 0 && failedIndexes.size + counted.completedIndexes.size >= (completions ?? 0)) failure = ['FailedIndexes', 'Job has failed indexes'];
    }
    const policyMet = !failure && indexed ? matchSuccessPolicy(spec.successPolicy, completions ?? 0, counted.completedIndexes) : undefined;
    const succeededEnough = indexed
      ? counted.completedIndexes.size >= (completions ?? 0)
      : completions !== undefined
        ? counted.succeeded >= completions
        : counted.succeeded > 0 && active.length === 0;
    if (failure) {
      conditions = setCond(conditions, condition('FailureTarget', 'True', failure[0], failure[1], now));
      finish(true);
    } else if (policyMet) {
      conditions = setCond(conditions, condition('SuccessCriteriaMet', 'True', 'SuccessPolicy', policyMet, now));
      finish(false);
    } else if (succeededEnough) {
      conditions = setCond(conditions, condition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now));
      finish(false);
    } else if (spec.suspend) {
      plan.delete = active;
      conditions = setCond(conditions, condition('Suspended', 'True', 'JobSuspended', 'Job suspended', now));
    } else {
      if (conditions.some((c) => c.type === 'Suspended' && c.status === 'True')) {
        conditions = setCond(conditions, condition('Suspended', 'False', 'JobResumed', 'Job resumed', now));
        // A resumed Job's active deadline counts from its resumption.
        status.startTime = nowIso(now);
      }
      const parallelism = spec.parallelism ?? 1;
      let want: number;
      if (indexed) want = Math.min(parallelism, (completions ?? 0) - counted.completedIndexes.size - failedIndexes.size);
      else if (completions === undefined) want = counted.succeeded > 0 ? active.length : parallelism;
      else want = Math.min(parallelism, completions - counted.succeeded);
      want = Math.max(0, want);
      // With podReplacementPolicy Failed, a terminating pod holds its place until it has failed.
      const holding = active.length + (spec.podReplacementPolicy === 'Failed' ? terminating : 0);
      if (active.length > want) {
        plan.delete = podsToDelete(active, active, active.length - want, now);
      } else if (holding < want) {
        // Replacements for failed pods wait out the back-off; the first pods never do.
        // Per-index retries wait out each index's own back-off instead of the Job's.
        const until = perIndex ? undefined : backoffUntil(job, pods, backoffMs);
        if (until !== undefined && until > now) plan.requeueAt = Math.min(plan.requeueAt ?? Infinity, until);
        else if (indexed) {
          const busy = new Set(active.map(podIndex));
          const records = perIndex ? indexFailureRecords(job, pods) : undefined;
          const missing: number[] = [];
          for (let i = 0; i < (completions ?? 0) && missing.length < want - holding; i++) {
            if (counted.completedIndexes.has(i) || failedIndexes.has(i) || busy.has(i)) continue;
            const wait = records ? indexBackoffUntil(records.get(i), backoffMs) : undefined;
            if (wait !== undefined && wait > now) {
              plan.requeueAt = Math.min(plan.requeueAt ?? Infinity, wait);
              continue;
            }
            missing.push(i);
          }
          plan.create = missing;
        } else plan.create = want - holding;
      }
    }
  }
  if (!status.startTime && !spec.suspend) status.startTime = nowIso(now);
  status.active = active.length - (Array.isArray(plan.delete) ? plan.delete.length : 0);
  status.ready = active.filter((p) => isPodReady(p) && !plan.delete.includes(p)).length;
  status.terminating = terminating + plan.delete.length;
  if (conditions.length) status.conditions = conditions;
  return plan;
}
