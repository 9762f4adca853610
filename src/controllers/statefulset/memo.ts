// What a sync of a big set can remember from the last one. A sync walks every replica, and while a
// thousand pods start, each walk finds all but a few exactly as the walk before did: the informer
// hands out the same object for a pod (and for a claim) until it changes, and never changes one in
// place. So a replica's verdict is remembered against the objects it was computed from — the pod
// object, the objects its claims lookups returned, and the fields of the set the verdict reads —
// and reused only while every one of them is still the identical object (or equal value).
//
// Only verdicts without actions are remembered: anything that writes is recomputed from scratch
// each time, so a remembered answer can at worst repeat "nothing to do here", never replay a write.
// Callers whose objects may be mutated in place (tests building pods by hand) pass no memo.
import type { Obj } from '../../api/resource.ts';
import { REVISION_LABEL, claimNamesFor, endOrdinal, getOrdinal, startOrdinal } from './identity.ts';
import type { ClaimLookup } from './retention.ts';

/** The per-pod facts a walk reads, all of them functions of the pod object alone. */
export interface PodFacts {
  /** Has a phase: the API holds it (placeholders for missing slots have none). */
  created: boolean;
  pending: boolean;
  /** Failed or Succeeded. */
  terminal: boolean;
  terminating: boolean;
  /** The Ready condition is True. */
  ready: boolean;
  runningAndReady: boolean;
  /** ms since epoch of the Ready condition's lastTransitionTime (NaN if absent or unparsable). */
  readySince: number;
  revision: string;
  /** From the name (-1 if it has none). */
  ordinal: number;
}

export function podFacts(pod: Obj): PodFacts {
  const phase: string | undefined = pod.status?.phase;
  let ready = false;
  let readySince = NaN;
  const conditions: Obj[] | undefined = pod.status?.conditions;
  if (conditions) {
    for (const c of conditions) {
      if (c.type !== 'Ready') continue;
      ready = c.status === 'True';
      readySince = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
      break;
    }
  }
  return {
    created: !!phase,
    pending: phase === 'Pending',
    terminal: phase === 'Failed' || phase === 'Succeeded',
    terminating: !!pod.metadata.deletionTimestamp,
    ready,
    runningAndReady: phase === 'Running' && ready,
    readySince,
    revision: pod.metadata.labels?.[REVISION_LABEL] ?? '',
    ordinal: getOrdinal(pod),
  };
}

/** Upstream's IsPodAvailable over facts: Ready for longer than minReadySeconds. */
export function factsAvailable(f: PodFacts, minReadySeconds: number, now: number): boolean {
  if (!f.ready) return false;
  if (!minReadySeconds) return true;
  return !Number.isNaN(f.readySince) && f.readySince + minReadySeconds * 1000 < now;
}

/** Everything of the set (and of the walk) that a replica's verdict reads, as one comparable value. */
function contextKey(set: Obj, monotonic: boolean, minReadySeconds: number): string {
  const templates: Obj[] = set.spec?.volumeClaimTemplates ?? [];
  return JSON.stringify([
    set.metadata.name,
    set.metadata.namespace,
    set.metadata.uid,
    set.spec?.persistentVolumeClaimRetentionPolicy ?? null,
    templates.map((t) => t.metadata?.name),
    startOrdinal(set),
    endOrdinal(set),
    monotonic,
    minReadySeconds,
  ]);
}

/** What is remembered of one pod object: its facts, and its verdict under `context` (compared by identity). */
class Entry implements PodFacts {
  created: boolean;
  pending: boolean;
  terminal: boolean;
  terminating: boolean;
  ready: boolean;
  runningAndReady: boolean;
  readySince: number;
  revision: string;
  ordinal: number;
  context: object | undefined = undefined;
  /** The pod's claim names under `context`, and what the lookup returned for each. */
  claimNames: string[] = [];
  claims: (Obj | undefined)[] = [];
  /** The verdict: no actions, and this reason to wait ('' for none); undefined when none is remembered. */
  wait: string | undefined = undefined;

  constructor(f: PodFacts) {
    this.created = f.created;
    this.pending = f.pending;
    this.terminal = f.terminal;
    this.terminating = f.terminating;
    this.ready = f.ready;
    this.runningAndReady = f.runningAndReady;
    this.readySince = f.readySince;
    this.revision = f.revision;
    this.ordinal = f.ordinal;
  }
}

export class ReplicaMemo {
  private key = '';
  private context: object = {};
  /** Whether verdicts may be remembered under the current context (they may not when they depend on the clock). */
  private cacheable = false;
  private readonly entries = new WeakMap<Obj, Entry>();

  /** Starts a walk: verdicts remembered under another set (or policy) stop counting. */
  begin(set: Obj, monotonic: boolean, minReadySeconds: number): void {
    const key = contextKey(set, monotonic, minReadySeconds);
    if (key !== this.key) {
      this.key = key;
      this.context = {};
    }
    // OrderedReady with minReadySeconds asks the clock whether a pod is available yet.
    this.cacheable = !(monotonic && minReadySeconds > 0);
  }

  /** The pod's facts, computed once per pod object; pass them back to verdict() and remember(). */
  facts(pod: Obj): PodFacts {
    let e = this.entries.get(pod);
    if (!e) this.entries.set(pod, (e = new Entry(podFacts(pod))));
    return e;
  }

  /** The remembered verdict for `pod` (its wait reason), if nothing it was computed from has changed. */
  verdict(facts: PodFacts, claims: ClaimLookup): string | undefined {
    if (!this.cacheable || !(facts instanceof Entry)) return undefined;
    const e = facts;
    if (e.wait === undefined || e.context !== this.context) return undefined;
    for (let i = 0; i < e.claimNames.length; i++) if (claims(e.claimNames[i]!) !== e.claims[i]) return undefined;
    return e.wait;
  }

  /** Remembers that `pod` (whose facts these are) needs nothing and waits for `wait`, given the claims it sees now. */
  remember(set: Obj, pod: Obj, facts: PodFacts, claims: ClaimLookup, wait: string): void {
    if (!this.cacheable || !(facts instanceof Entry) || this.entries.get(pod) !== facts) return;
    const e = facts;
    if (e.context !== this.context) {
      e.context = this.context;
      e.claimNames = claimNamesFor(set, e.ordinal);
    }
    e.claims = e.claimNames.map((n) => claims(n));
    e.wait = wait;
  }
}
