// The StatefulSet "control": given a set, its current and update revisions, the pods it owns and
// the claims in its namespace, decide what to create, update or delete next, and the status to
// report. Pure — the controller carries the plan out (see podcontrol.ts) in the order given.
//
// The walk follows upstream's (v1.32) reconcile: replicas in ascending ordinal order, then the
// claims of condemned pods, then condemned pods in descending order, then the rolling update.
// OrderedReady ("monotonic") stops at the first thing to wait for; Parallel ("burst") does every
// slot, and only an error stops it. rollingUpdate.maxUnavailable is honoured as upstream does with
// the MaxUnavailableStatefulSet gate on (v1.35).
import type { Obj } from '../../api/resource.ts';
import {
  applyRevision, claimNamesFor, claimsFor, endOrdinal, getOrdinal, identityMatches, isAvailable,
  isRunningAndReady, isTerminating, newVersionedPod, replicasOf, startOrdinal, storageMatches, updateIdentity, updateStorage,
} from './identity.ts';
import { claimRefUpdates, claimsMatchRetentionPolicy, podClaimIsStale, type ClaimLookup, type ClaimRefUpdate } from './retention.ts';
import { cloneJson } from '../../util/json.ts';
import { factsAvailable, podFacts, type PodFacts, type ReplicaMemo } from './memo.ts';
import { isStuckLeftover, stuckPolicy } from './stuck.ts';

export interface ControlInput {
  set: Obj;
  /** Pods the set owns (after adoption and release). */
  pods: Obj[];
  /** PersistentVolumeClaims of the set's namespace by name (a cache lookup). */
  claims: ClaimLookup;
  currentRevision: Obj;
  updateRevision: Obj;
  collisionCount: number;
  /** ms since epoch, for minReadySeconds. */
  now: number;
  /**
   * Verdicts remembered from earlier walks of this set (see memo.ts). Only for callers whose pod
   * and claim objects are never mutated in place, as an informer's are.
   */
  memo?: ReplicaMemo;
}

/** Claims to create for a pod, and existing claims of the pod that are being deleted (an error: the pod must wait). */
export interface ClaimWork {
  create: Obj[];
  deleting: string[];
}

export type Action =
  /** Delete a pod: a finished one (terminal), an out-of-range one (condemned), or one at an old revision (update). */
  | { type: 'deletePod'; pod: Obj; why: 'terminal' | 'condemned' | 'update' | 'stuck' }
  /** Create the pod's missing claims, then the pod, then fix retention refs of its existing claims. */
  | { type: 'createPod'; pod: Obj; claims: ClaimWork; refs: ClaimRefUpdate[]; conflicts: string[] }
  /** A pending pod: re-create claims someone deleted and fix retention refs. */
  | { type: 'createMissingClaims'; pod: Obj; claims: ClaimWork; refs: ClaimRefUpdate[]; conflicts: string[] }
  /** Restore identity/storage of an existing pod (`desired` is the pod to write) and fix its claims. */
  | { type: 'updatePod'; pod: Obj; desired: Obj; claims: ClaimWork; refs: ClaimRefUpdate[]; conflicts: string[] }
  /** Bring the claims of a condemned pod in line with the retention policy before it goes. */
  | { type: 'updateClaimRefs'; pod: Obj; refs: ClaimRefUpdate[]; conflicts: string[] };

export interface Phase {
  name: 'replicas' | 'condemnedClaims' | 'condemned' | 'update';
  /** Units run in order (OrderedReady, updates) or in slow-start batches (Parallel); the actions of one unit always in order. */
  units: Action[][];
  sequential: boolean;
}

export interface SetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
}

export interface SyncPlan {
  phases: Phase[];
  /** The status at the point the walk ended, assuming every action succeeds (see `restoreOnFailure`). */
  status: SetStatus;
  /** Why the walk stopped early, for logs and tests ('' when it ran to the end). */
  waitingFor: string;
  /**
   * Pods the walk considered: slots and condemned pods. A missing slot holds the new pod the walk
   * built for it, or nothing if the walk never got that far (OrderedReady stops at the first).
   */
  slots: (Obj | undefined)[];
  /** What the walk read of each slot's pod (the facts of the pod in `slots`, where there is one). */
  slotFacts: PodFacts[];
  /** Slots whose pod is not available or is terminating, as maxUnavailable counts them. */
  unavailable: number;
  condemned: Obj[];
  /**
   * A Parallel set with nothing to do, nothing condemned, and every slot holding a live pod of the
   * update revision: until a pod changes more than its status (triggers.ts), a walk can only find
   * new status counts.
   */
  steady: boolean;
  /** The revisions the given pods are labelled with (history truncation keeps them). */
  podRevisions: Set<string>;
}

/** Status counts over pods, as upstream's computeReplicaStatus. */
export function countPods(pods: readonly Obj[], minReadySeconds: number, now: number, currentRevision: string, updateRevision: string) {
  return countFacts(pods.map(podFacts), minReadySeconds, now, currentRevision, updateRevision);
}

type Counts = { replicas: number; readyReplicas: number; availableReplicas: number; currentReplicas: number; updatedReplicas: number };

function countFacts(facts: readonly PodFacts[], minReadySeconds: number, now: number, currentRevision: string, updateRevision: string): Counts {
  const c = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const f of facts) count(c, f, minReadySeconds, now, currentRevision, updateRevision);
  return c;
}

function count(c: Counts, f: PodFacts, minReadySeconds: number, now: number, currentRevision: string, updateRevision: string, n = 1): void {
  if (f.created) c.replicas += n;
  if (f.runningAndReady) {
    c.readyReplicas += n;
    if (factsAvailable(f, minReadySeconds, now)) c.availableReplicas += n;
  }
  if (f.created && !f.terminating) {
    if (f.revision === currentRevision) c.currentReplicas += n;
    if (f.revision === updateRevision) c.updatedReplicas += n;
  }
}

/** Adds one pod's facts to status counts `n` times (-1 takes them out), for a set without minReadySeconds. */
export function addCounts(c: Counts, f: PodFacts, n: number, currentRevision: string, updateRevision: string): void {
  count(c, f, 0, 0, currentRevision, updateRevision, n);
}

/** maxUnavailable as a number of pods: an int, or a percentage of replicas rounded down; at least 1. */
export function maxUnavailableOf(value: unknown, replicas: number): number {
  let n: number;
  if (value === undefined || value === null) n = 1;
  else if (typeof value === 'number') n = value;
  else {
    const m = /^(\d+)%$/.exec(String(value));
    if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
    n = Math.floor((Number(m[1]) * replicas) / 100);
  }
  return Math.max(1, n);
}

function claimWork(set: Obj, ordinal: number, claims: ClaimLookup): ClaimWork {
  const work: ClaimWork = { create: [], deleting: [] };
  const names = claimNamesFor(set, ordinal);
  let missing = false;
  for (const name of names) {
    const existing = claims(name);
    if (!existing) missing = true;
    else if (existing.metadata.deletionTimestamp) work.deleting.push(name);
  }
  // Claims are built (a copy of each template) only when one must be created.
  if (missing) for (const { claim } of claimsFor(set, ordinal)) if (!claims(claim.metadata.name)) work.create.push(claim);
  return work;
}

/** What the walk reads of a slot with no pod yet: the same, for every purpose it is read for, as the facts of the new pod it gets. */
const MISSING: PodFacts = Object.freeze({
  created: false, pending: false, terminal: false, terminating: false, ready: false, runningAndReady: false, readySince: NaN, revision: '', ordinal: -1,
});
/** Stands for a missing slot as the lowest unhealthy pod: never one of the condemned pods it is compared with. */
const MISSING_SLOT: Obj = Object.freeze({ metadata: Object.freeze({ name: '' }) });

export function planSync(input: ControlInput): SyncPlan {
  const { set, pods, claims, currentRevision, updateRevision, now, memo } = input;
  const minReadySeconds: number = set.spec.minReadySeconds ?? 0;
  const currentName: string = currentRevision.metadata.name;
  const updateName: string = updateRevision.metadata.name;
  const currentSet = applyRevision(set, currentRevision);
  const updateSet = applyRevision(set, updateRevision);

  const status: SetStatus = {
    observedGeneration: set.metadata.generation,
    currentRevision: currentName,
    updateRevision: updateName,
    collisionCount: input.collisionCount,
    replicas: 0,
    readyReplicas: 0,
    availableReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
  };

  const monotonic = set.spec.podManagementPolicy !== 'Parallel';
  memo?.begin(set, monotonic, minReadySeconds);
  const factsOf = memo ? (p: Obj) => memo.facts(p) : podFacts;

  // One look at each pod (its facts, remembered per pod object when there is a memo) places it.
  const start = startOrdinal(set);
  const end = endOrdinal(set);
  const slots: Obj[] = new Array(replicasOf(set));
  const slotFacts: PodFacts[] = new Array(slots.length);
  const allFacts: PodFacts[] = new Array(pods.length);
  let outOfRange: { pod: Obj; f: PodFacts }[] = [];
  const podRevisions = new Set<string>();
  let lastRevision: string | undefined;
  for (let i = 0; i < pods.length; i++) {
    const pod = pods[i]!;
    const f = (allFacts[i] = factsOf(pod));
    if (f.revision !== lastRevision) podRevisions.add((lastRevision = f.revision));
    const ordinal = f.ordinal;
    if (ordinal >= start && ordinal <= end) {
      slots[ordinal - start] = pod;
      slotFacts[ordinal - start] = f;
    } else if (ordinal >= 0) outOfRange.push({ pod, f });
  }
  outOfRange = outOfRange.sort((a, b) => b.f.ordinal - a.f.ordinal);
  const condemned = outOfRange.map((c) => c.pod);
  const condemnedFacts = outOfRange.map((c) => c.f);

  // One pass over the slots in order: the lowest unhealthy pod, the status counts, whether all are
  // live pods of the update revision, and how many are unavailable. A missing slot reads as
  // MISSING here, which none of these tell apart from the new pod it gets: that pod is built only
  // when the walk reaches its slot (slotPod).
  const healthy = (f: PodFacts) => f.runningAndReady && !f.terminating;
  let firstUnhealthy: Obj | undefined;
  const counts = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  let allLiveAtUpdate = true;
  let unavailable = 0;
  for (let i = 0; i < slots.length; i++) {
    if (!slots[i]) slotFacts[i] = MISSING;
    const f = slotFacts[i]!;
    if (!firstUnhealthy && !healthy(f)) firstUnhealthy = slots[i] ?? MISSING_SLOT;
    count(counts, f, minReadySeconds, now, currentName, updateName);
    if (allLiveAtUpdate && !(f.created && !f.terminal && !f.terminating && f.revision === updateName)) allLiveAtUpdate = false;
    if (!factsAvailable(f, minReadySeconds, now) || f.terminating) unavailable++;
  }
  // Then condemned from the lowest ordinal up.
  for (let i = condemned.length - 1; i >= 0 && !firstUnhealthy; i--) if (!healthy(condemnedFacts[i]!)) firstUnhealthy = condemned[i];
  for (const f of condemnedFacts) count(counts, f, minReadySeconds, now, currentName, updateName);

  const phases: Phase[] = [];
  const plan: SyncPlan = { phases, status, waitingFor: '', slots, slotFacts, unavailable, condemned, steady: false, podRevisions };
  const finish = (waitingFor = '') => {
    plan.waitingFor = waitingFor;
    Object.assign(status, counts);
    return plan;
  };

  // A set being deleted only reports status (of the pods it has); the garbage collector does the rest.
  if (set.metadata.deletionTimestamp) {
    Object.assign(status, countFacts(allFacts, minReadySeconds, now, currentName, updateName));
    return plan;
  }

  // 1. Replicas, ascending.
  const replicaUnits: Action[][] = [];
  phases.push({ name: 'replicas', units: replicaUnits, sequential: monotonic });
  const stuck = stuckPolicy(set, currentName, updateName);
  const replacing = new Set<Obj>();
  // The new pod of a missing slot, built once, with its own facts (its revision label) from then on.
  const slotPod = (i: number): Obj => {
    let pod = slots[i];
    if (!pod) {
      pod = slots[i] = newVersionedPod(currentSet, updateSet, currentName, updateName, start + i);
      slotFacts[i] = podFacts(pod);
    }
    return pod;
  };
  for (let i = 0; i < slots.length; i++) {
    const pod = slotPod(i);
    const f = slotFacts[i]!;
    // Opt-in (stuck.ts): a leftover of a superseded rollout is replaced instead of waited for.
    if (stuck && isStuckLeftover(stuck, f, i)) {
      replicaUnits.push([{ type: 'deletePod', pod, why: 'stuck' }]);
      replacing.add(pod);
      if (monotonic) return finish(`${pod.metadata.name} (not Ready at superseded revision ${f.revision || '<none>'}) to be replaced`);
      continue;
    }
    // Placeholders are new objects each walk: only pods the API holds can have a remembered verdict.
    let wait = memo && f.created ? memo.verdict(f, claims) : undefined;
    if (wait === undefined) {
      const r = processReplica(set, updateSet, pod, f, claims, monotonic, minReadySeconds, now);
      if (r.actions.length) replicaUnits.push(r.actions);
      else if (memo && f.created) memo.remember(set, pod, f, claims, r.wait);
      wait = r.wait;
    }
    if (monotonic && wait) return finish(wait);
  }

  // 2. Claims of condemned pods get their scale-down owner refs before the pods go.
  const claimUnits: Action[][] = [];
  phases.push({ name: 'condemnedClaims', units: claimUnits, sequential: monotonic });
  for (const pod of condemned) {
    if (claimsMatchRetentionPolicy(updateSet, pod, claims)) continue;
    const { updates, conflicts } = claimRefUpdates(updateSet, pod, claims);
    claimUnits.push([{ type: 'updateClaimRefs', pod, refs: updates, conflicts }]);
  }

  // 3. Condemned pods, highest ordinal first.
  const condemnedUnits: Action[][] = [];
  phases.push({ name: 'condemned', units: condemnedUnits, sequential: monotonic });
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return finish(`${pod.metadata.name} to terminate before scaling down`);
      continue;
    }
    if (monotonic && pod !== firstUnhealthy) {
      if (!isRunningAndReady(pod)) return finish(`${pod.metadata.name} to be Running and Ready before scaling down`);
      if (!isAvailable(pod, minReadySeconds, now)) return finish(`${pod.metadata.name} to be available before scaling down`);
    }
    condemnedUnits.push([{ type: 'deletePod', pod, why: 'condemned' }]);
    if (monotonic) return finish(`${pod.metadata.name} to be gone before scaling down further`);
  }

  finish();
  plan.steady = !monotonic && !condemned.length && !replicaUnits.length && !claimUnits.length && allLiveAtUpdate;

  // 4. Updates. OnDelete leaves replacement to whoever deletes pods.
  const strategy = set.spec.updateStrategy ?? {};
  if (strategy.type === 'OnDelete') return plan;
  const ru = strategy.rollingUpdate;
  const updateMin: number = ru ? (ru.partition ?? 0) : 0;
  const maxUnavailable = ru ? maxUnavailableOf(ru.maxUnavailable, slots.length) : 1;
  if (unavailable > maxUnavailable) {
    plan.waitingFor = `${unavailable} unavailable pods (maxUnavailable ${maxUnavailable})`;
    return plan;
  }
  const updateUnits: Action[][] = [];
  phases.push({ name: 'update', units: updateUnits, sequential: true });
  let budget = maxUnavailable - unavailable;
  for (let target = slots.length - 1; target >= updateMin && budget > 0; target--) {
    const pod = slotPod(target);
    const f = slotFacts[target]!;
    if (f.revision !== updateName && !f.terminating && !replacing.has(pod)) {
      updateUnits.push([{ type: 'deletePod', pod, why: 'update' }]);
      status.currentReplicas--;
      budget--;
    }
  }
  if (budget === 0 && unavailable > 0) plan.waitingFor = `${unavailable} unavailable pods to update further`;
  return plan;
}

/** What one slot needs (upstream's processReplica); `wait` says why OrderedReady must stop here. */
function processReplica(
  set: Obj, updateSet: Obj, pod: Obj, f: PodFacts, claims: ClaimLookup, monotonic: boolean, minReadySeconds: number, now: number,
): { actions: Action[]; wait: string } {
  const name = pod.metadata.name;
  // A finished pod is deleted; its slot is filled again once it is gone from the API.
  if (f.terminal) {
    return { actions: f.terminating ? [] : [{ type: 'deletePod', pod, why: 'terminal' }], wait: `${name} (${pod.status.phase}) to be replaced` };
  }
  if (!f.created) {
    if (podClaimIsStale(set, pod, claims)) return { actions: [], wait: `a claim of ${name} still owned by its previous pod to be deleted` };
    const { updates, conflicts } = claimRefUpdates(set, pod, claims);
    const create: Action = { type: 'createPod', pod, claims: claimWork(set, f.ordinal, claims), refs: updates, conflicts };
    // Burst mode goes on to the next slot; the new pod is looked at again on the next sync.
    return { actions: [create], wait: monotonic ? `${name} to be created` : '' };
  }
  const actions: Action[] = [];
  if (f.pending) {
    const work = claimWork(set, f.ordinal, claims);
    const { updates, conflicts } = claimRefUpdates(set, pod, claims);
    if (work.create.length || work.deleting.length || updates.length || conflicts.length) {
      actions.push({ type: 'createMissingClaims', pod, claims: work, refs: updates, conflicts });
    }
  }
  if (monotonic) {
    if (f.terminating) return { actions, wait: `${name} to terminate` };
    if (!f.runningAndReady) return { actions, wait: `${name} to be Running and Ready` };
    if (!factsAvailable(f, minReadySeconds, now)) return { actions, wait: `${name} to be available (minReadySeconds)` };
  }
  const retentionOk = claimsMatchRetentionPolicy(updateSet, pod, claims);
  if (identityMatches(set, pod) && storageMatches(set, pod) && retentionOk) return { actions, wait: '' };
  actions.push(updatePodAction(set, updateSet, pod, claims));
  return { actions, wait: '' };
}

/** The identity/storage repair of an existing pod (upstream's UpdateStatefulPod), computed from `pod`. */
export function updatePodAction(set: Obj, updateSet: Obj, pod: Obj, claims: ClaimLookup): Action & { type: 'updatePod' } {
  const desired = cloneJson(pod);
  let work: ClaimWork = { create: [], deleting: [] };
  if (!identityMatches(set, desired)) updateIdentity(set, desired);
  if (!storageMatches(set, desired)) {
    updateStorage(set, desired);
    work = claimWork(set, getOrdinal(desired), claims);
  }
  const { updates, conflicts } = claimsMatchRetentionPolicy(updateSet, desired, claims) ? { updates: [], conflicts: [] } : claimRefUpdates(updateSet, desired, claims);
  return { type: 'updatePod', pod, desired, claims: work, refs: updates, conflicts };
}

/** Upstream's completeRollingUpdate: once every replica is updated and ready, the update revision becomes current. */
export function completeRollingUpdate(set: Obj, status: SetStatus): SetStatus {
  const replicas = replicasOf(set);
  if (set.spec.updateStrategy?.type === 'RollingUpdate' && status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas) {
    return { ...status, currentReplicas: status.updatedReplicas, currentRevision: status.updateRevision };
  }
  return status;
}

/** Whether `status` differs from what the set reports in a way worth a write (upstream's inconsistentStatus). */
export function statusNeedsWrite(set: Obj, status: SetStatus): boolean {
  const s = set.status ?? {};
  return (
    (status.observedGeneration ?? 0) > (s.observedGeneration ?? 0) ||
    status.replicas !== (s.replicas ?? 0) ||
    status.currentReplicas !== (s.currentReplicas ?? 0) ||
    status.readyReplicas !== (s.readyReplicas ?? 0) ||
    status.updatedReplicas !== (s.updatedReplicas ?? 0) ||
    status.currentRevision !== (s.currentRevision ?? '') ||
    status.availableReplicas !== (s.availableReplicas ?? 0) ||
    status.updateRevision !== (s.updateRevision ?? '')
  );
}

/** The status as JSON, omitting zero values the way the API types do (replicas and availableReplicas always shown). */
export function statusToJson(status: SetStatus): Obj {
  const out: Obj = {};
  if (status.observedGeneration) out.observedGeneration = status.observedGeneration;
  out.replicas = status.replicas;
  if (status.readyReplicas) out.readyReplicas = status.readyReplicas;
  if (status.currentReplicas) out.currentReplicas = status.currentReplicas;
  if (status.updatedReplicas) out.updatedReplicas = status.updatedReplicas;
  if (status.currentRevision) out.currentRevision = status.currentRevision;
  if (status.updateRevision) out.updateRevision = status.updateRevision;
  out.collisionCount = status.collisionCount;
  out.availableReplicas = status.availableReplicas;
  return out;
}
