// A steady set (SyncPlan.steady: Parallel, nothing to do, every slot a live pod of the update
// revision) whose pods then change only in status (triggers.ts) has nothing new to decide: the
// next walk would plan no action and differ only in its counts. At 10,000 pods such walks were
// most of the controller's own CPU while pods became Ready, each one looking at every pod to count
// the few that had changed. So the last walk's slots and counts are kept, and the pods that changed
// since are taken out of the counts as the walk saw them and put back as they are now.
//
// Only for sets without minReadySeconds (availability would depend on the clock) and without
// volumeClaimUpdatePolicy: InPlace (claim growth reads every pod each sync). The controller drops
// this state on any change that is not status-only (see StatefulSetController.touch) and after any
// failed sync, and then walks from scratch.
import type { Obj } from '../../api/resource.ts';
import { addCounts, maxUnavailableOf, type SetStatus, type SyncPlan } from './control.ts';
import type { PodFacts } from './memo.ts';
import { startOrdinal } from './identity.ts';

export class SteadyWalk {
  /** The sorted revisions, current and update revision the walk was made with: any other answer needs a walk. */
  readonly revisions: readonly Obj[];
  readonly current: Obj;
  readonly update: Obj;
  /** The revisions the set's pods name (status changes leave labels alone). */
  readonly podRevisions: Set<string>;
  private readonly slots: Obj[];
  private readonly facts: PodFacts[];
  private readonly start: number;
  private readonly counts: SetStatus;
  private unavailable: number;
  private readonly maxUnavailable: number | undefined;

  private constructor(set: Obj, plan: SyncPlan, revisions: readonly Obj[], current: Obj, update: Obj) {
    this.revisions = revisions;
    this.current = current;
    this.update = update;
    this.podRevisions = plan.podRevisions;
    this.slots = plan.slots as Obj[];
    this.facts = plan.slotFacts;
    this.start = startOrdinal(set);
    this.counts = { ...plan.status };
    this.unavailable = plan.unavailable;
    const strategy = set.spec.updateStrategy ?? {};
    this.maxUnavailable = strategy.type === 'OnDelete' ? undefined : strategy.rollingUpdate ? maxUnavailableOf(strategy.rollingUpdate.maxUnavailable, this.slots.length) : 1;
  }

  /** The walk's state, if later status-only changes may be counted from it. */
  static from(set: Obj, plan: SyncPlan, revisions: readonly Obj[], current: Obj, update: Obj): SteadyWalk | undefined {
    if (!plan.steady || (set.spec?.minReadySeconds ?? 0) !== 0 || set.spec?.volumeClaimUpdatePolicy === 'InPlace') return undefined;
    return new SteadyWalk(set, plan, revisions, current, update);
  }

  /**
   * Counts a newer object of one of the walk's pods in place of the one the walk counted. False
   * (and nothing changed) when it is not in a slot the walk filled with the same pod, or when its
   * facts say it changed more than status: then only a walk can tell what to do.
   */
  replace(pod: Obj, facts: PodFacts): boolean {
    const i = facts.ordinal - this.start;
    const old = this.slots[i];
    const was = this.facts[i];
    if (!old || !was || old.metadata.uid !== pod.metadata.uid) return false;
    if (old === pod) return true;
    // Steady slots hold live pods of the update revision; leaving Pending is the one phase change
    // that is status-only (becoming Pending again would bring back the claim checks).
    if (!facts.created || facts.terminal || facts.terminating || facts.revision !== was.revision || (facts.pending && !was.pending)) return false;
    addCounts(this.counts, was, -1, this.counts.currentRevision, this.counts.updateRevision);
    addCounts(this.counts, facts, 1, this.counts.currentRevision, this.counts.updateRevision);
    this.unavailable += (facts.ready ? 0 : 1) - (was.ready ? 0 : 1);
    this.slots[i] = pod;
    this.facts[i] = facts;
    return true;
  }

  /** The status a walk would report now, for `set` (a newer object of the same set, changed only in status). */
  status(set: Obj): SetStatus {
    return { ...this.counts, observedGeneration: set.metadata.generation, collisionCount: set.status?.collisionCount ?? 0 };
  }

  /** What a walk would say it waits for (for the log). */
  waitingFor(): string {
    if (this.maxUnavailable === undefined) return '';
    if (this.unavailable > this.maxUnavailable) return `${this.unavailable} unavailable pods (maxUnavailable ${this.maxUnavailable})`;
    if (this.unavailable === this.maxUnavailable && this.unavailable > 0) return `${this.unavailable} unavailable pods to update further`;
    return '';
  }
}
